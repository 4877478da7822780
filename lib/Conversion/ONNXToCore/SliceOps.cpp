//===- SliceOps.cpp - Slice, Flatten, CumSum --------------------*- C++ -*-===//
//
// Slice with constant starts/ends/axes/steps (inputs, opset >= 10), clamped
// at run time against the dimension sizes as ONNX specifies; positive steps
// become tensor.extract_slice, negative steps a gathering linalg.generic.
// Flatten is a reshape; CumSum a sequential scan along its (constant) axis.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Clamps a start/end `v` for a dimension of size `dim` and a step sign, as
/// the ONNX Slice specification does; works on index values.
Value clampIndex(OpBuilder &b, Location loc, int64_t v, Value dim, bool isEnd,
                 bool negativeStep) {
  Value c = indexConst(b, loc, v);
  if (v < 0)
    c = arith::AddIOp::create(b, loc, dim, c); // count from the end
  // Bounds: [0, dim] for positive steps, [-1, dim - 1] for negative ones.
  Value lo = negativeStep ? indexConst(b, loc, -1) : indexConst(b, loc, 0);
  Value hi = negativeStep
                 ? arith::SubIOp::create(b, loc, dim, indexConst(b, loc, 1))
                 : dim;
  if (negativeStep && !isEnd)
    lo = indexConst(b, loc, 0);
  c = arith::MaxSIOp::create(b, loc, c, lo);
  return arith::MinSIOp::create(b, loc, c, hi);
}

struct SlicePattern : ONNXPattern {
  SlicePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Slice", 10) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType resultType = getResultType(op);
    if (!type || !resultType)
      return failure();
    int64_t rank = type.getRank();
    auto input = [&](unsigned i) -> std::optional<SmallVector<int64_t>> {
      if (op.getInputs().size() <= i ||
          isa<NoneType>(op.getInputs()[i].getType()))
        return std::nullopt;
      return constantInts(op.getInputs()[i]);
    };
    std::optional<SmallVector<int64_t>> starts = input(1), ends = input(2);
    if (!starts || !ends || starts->size() != ends->size())
      return rewriter.notifyMatchFailure(op, "starts/ends are not constant");
    SmallVector<int64_t> axes, steps(starts->size(), 1);
    if (op.getInputs().size() > 3 &&
        !isa<NoneType>(op.getInputs()[3].getType())) {
      auto a = input(3);
      if (!a)
        return rewriter.notifyMatchFailure(op, "axes are not constant");
      axes = *a;
    } else {
      for (size_t i = 0; i < starts->size(); ++i)
        axes.push_back(i);
    }
    if (op.getInputs().size() > 4 &&
        !isa<NoneType>(op.getInputs()[4].getType())) {
      auto s = input(4);
      if (!s || llvm::is_contained(*s, 0))
        return rewriter.notifyMatchFailure(op,
                                           "steps are not constant non-zero");
      steps = *s;
    }
    Location loc = op.getLoc();
    SmallVector<Value> offsets, sizes;
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t d = 0; d < rank; ++d) {
      offsets.push_back(indexConst(rewriter, loc, 0));
      sizes.push_back(dimSize(rewriter, loc, x, d));
    }
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t d = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (d < 0 || d >= rank)
        return failure();
      int64_t step = steps[i];
      bool neg = step < 0;
      Value dim = dimSize(rewriter, loc, x, d);
      // Clamp very large/small sentinels (INT64_MAX/MIN) before adding.
      int64_t s = std::clamp<int64_t>((*starts)[i], -(int64_t(1) << 40),
                                      int64_t(1) << 40);
      int64_t e = std::clamp<int64_t>((*ends)[i], -(int64_t(1) << 40),
                                      int64_t(1) << 40);
      Value start = clampIndex(rewriter, loc, s, dim, false, neg);
      Value end = clampIndex(rewriter, loc, e, dim, true, neg);
      // count = max(0, ceil((end - start) / step))
      Value count = arith::CeilDivSIOp::create(
          rewriter, loc, arith::SubIOp::create(rewriter, loc, end, start),
          indexConst(rewriter, loc, step));
      count = arith::MaxSIOp::create(rewriter, loc, count,
                                     indexConst(rewriter, loc, 0));
      offsets[d] = start;
      sizes[d] = count;
      strides[d] = step;
    }
    bool anyNegative = llvm::any_of(strides, [](int64_t s) { return s < 0; });
    if (!anyNegative) {
      SmallVector<OpFoldResult> ofr, sz, st;
      for (int64_t d = 0; d < rank; ++d) {
        ofr.push_back(getAsOpFoldResult(offsets[d]));
        sz.push_back(getAsOpFoldResult(sizes[d]));
        st.push_back(rewriter.getIndexAttr(strides[d]));
      }
      Value slice =
          tensor::ExtractSliceOp::create(rewriter, loc, x, ofr, sz, st);
      if (slice.getType() != resultType)
        slice = tensor::CastOp::create(rewriter, loc, resultType, slice);
      rewriter.replaceOp(op, slice);
      return success();
    }
    // Negative steps: out[i] = x[offset + i * stride] per dimension.
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < rank; ++d)
      if (resultType.isDynamicDim(d))
        dyn.push_back(sizes[d]);
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType(), dyn);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d) {
            Value i = linalg::IndexOp::create(b, l, d);
            coords.push_back(arith::AddIOp::create(
                b, l, offsets[d],
                arith::MulIOp::create(b, l, i, indexConst(b, l, strides[d]))));
          }
          linalg::YieldOp::create(
              b, l, tensor::ExtractOp::create(b, l, x, coords).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct FlattenPattern : ONNXPattern {
  FlattenPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Flatten") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType resultType = getResultType(op);
    if (!type || !resultType || resultType.getRank() != 2)
      return failure();
    FailureOr<int64_t> axisOr =
        getAxisAttr(op, "axis", 1, type.getRank(), /*inclusive=*/true);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    Location loc = op.getLoc();
    Value outer = indexConst(rewriter, loc, 1),
          inner = indexConst(rewriter, loc, 1);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      Value &acc = d < axis ? outer : inner;
      acc = rewriter.createOrFold<arith::MulIOp>(loc, acc,
                                                 dimSize(rewriter, loc, x, d));
    }
    rewriter.replaceOp(op,
                       reshapeTo(rewriter, loc, x, resultType, {outer, inner}));
    return success();
  }
};

struct CumSumPattern : ONNXPattern {
  CumSumPattern(MLIRContext *ctx) : ONNXPattern(ctx, "CumSum") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    std::optional<SmallVector<int64_t>> axisVals =
        constantInts(op.getInputs()[1]);
    if (!type || !axisVals || axisVals->size() != 1 ||
        getResultType(op) != type)
      return rewriter.notifyMatchFailure(op, "needs a constant axis");
    int64_t rank = type.getRank();
    int64_t axis = (*axisVals)[0] < 0 ? (*axisVals)[0] + rank : (*axisVals)[0];
    bool exclusive = getIntAttr(op, "exclusive", 0);
    bool reverse = getIntAttr(op, "reverse", 0);
    Location loc = op.getLoc();
    Type elem = type.getElementType();
    bool isFloat = isa<FloatType>(elem);
    // Scan along the axis with scf.for, carrying the running sum as a slice
    // of the other dimensions: out[.., k, ..] = acc (+ x[.., k, ..]).
    Value n = dimSize(rewriter, loc, x, axis);
    Value out = emptyLike(rewriter, loc, type, x);
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elem));
    // The running sum has the shape of x with the axis dropped.
    SmallVector<int64_t> accShape;
    SmallVector<Value> accDyn;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) {
        accShape.push_back(type.getDimSize(d));
        if (type.isDynamicDim(d))
          accDyn.push_back(tensor::DimOp::create(rewriter, loc, x, d));
      }
    auto accType = RankedTensorType::get(accShape, elem);
    Value accInit =
        tensor::EmptyOp::create(rewriter, loc, accShape, elem, accDyn);
    Value acc0 =
        linalg::FillOp::create(rewriter, loc, zero, accInit).getResult(0);
    auto sliceAt = [&](OpBuilder &b, Location l, Value k) {
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
          strides(rank, b.getIndexAttr(1));
      offsets[axis] = k;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(d == axis ? OpFoldResult(b.getIndexAttr(1))
                                  : getAsOpFoldResult(dimSize(b, l, x, d)));
      return std::make_tuple(offsets, sizes, strides);
    };
    // acc += slice, in place on the loop-carried accumulator (so bufferization
    // keeps one buffer).
    auto accumulate = [&](OpBuilder &b, Location l, Value acc, Value xs) {
      int64_t r = accType.getRank();
      auto generic = linalg::GenericOp::create(
          b, l, TypeRange{accType}, ValueRange{xs}, ValueRange{acc},
          SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(r)),
          SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location nl, ValueRange s) {
            Value v =
                isFloat ? arith::AddFOp::create(nb, nl, s[1], s[0]).getResult()
                        : arith::AddIOp::create(nb, nl, s[1], s[0]).getResult();
            linalg::YieldOp::create(nb, nl, v);
          });
      return generic.getResult(0);
    };
    auto loop = scf::ForOp::create(
        rewriter, loc, indexConst(rewriter, loc, 0), n,
        indexConst(rewriter, loc, 1), ValueRange{out, acc0},
        [&](OpBuilder &b, Location l, Value i, ValueRange args) {
          Value k =
              reverse
                  ? arith::SubIOp::create(
                        b, l,
                        arith::SubIOp::create(b, l, n, indexConst(b, l, 1)), i)
                        .getResult()
                  : i;
          auto [offsets, sizes, strides] = sliceAt(b, l, k);
          Value xs = tensor::ExtractSliceOp::create(b, l, accType, x, offsets,
                                                    sizes, strides);
          Value o = args[0], acc = args[1];
          if (exclusive)
            o = tensor::InsertSliceOp::create(b, l, acc, o, offsets, sizes,
                                              strides);
          acc = accumulate(b, l, acc, xs);
          if (!exclusive)
            o = tensor::InsertSliceOp::create(b, l, acc, o, offsets, sizes,
                                              strides);
          scf::YieldOp::create(b, l, ValueRange{o, acc});
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXSlicePatterns(RewritePatternSet &patterns) {
  patterns.add<SlicePattern, FlattenPattern, CumSumPattern>(
      patterns.getContext());
}
