//===- GatherOps.cpp - GatherElements, GatherND, ScatterND ------*- C++ -*-===//
//
// Index-driven reads beyond Gather: GatherElements (an index per output
// element along one axis) and GatherND (index tuples into the leading
// axes after `batch_dims`), as linalg.generic over the result with
// tensor.extract from the data; and ScatterND, their write, as a loop of
// slice inserts. Negative indices count from the end;
// indices outside the axis (an error in ONNX) are clamped to it, so that a
// bad index cannot read outside the tensor.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// A generic over `resultType` (static) whose body returns the element.
Value buildGather(OpBuilder &b, Location loc, RankedTensorType resultType,
                  function_ref<Value(OpBuilder &, Location)> element) {
  int64_t rank = resultType.getRank();
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange) {
               linalg::YieldOp::create(nb, l, element(nb, l));
             })
      .getResult(0);
}

struct GatherElementsPattern : ONNXPattern {
  GatherElementsPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "GatherElements", 11) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value data = op.getInputs()[0], indices = op.getInputs()[1];
    auto dataType = dyn_cast<RankedTensorType>(data.getType());
    auto idxType = dyn_cast<RankedTensorType>(indices.getType());
    RankedTensorType resultType = getResultType(op);
    if (!dataType || !idxType || !resultType || !dataType.hasStaticShape() ||
        !idxType.hasStaticShape() ||
        !isa<IntegerType>(idxType.getElementType()) ||
        idxType.getRank() != dataType.getRank() ||
        resultType != RankedTensorType::get(idxType.getShape(),
                                            dataType.getElementType()))
      return rewriter.notifyMatchFailure(op, "static ranked operands");
    int64_t rank = dataType.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", 0, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op,
        buildGather(rewriter, loc, resultType, [&](OpBuilder &b, Location l) {
          SmallVector<Value> at;
          for (int64_t d = 0; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          Value index = tensor::ExtractOp::create(b, l, indices, at);
          at[axis] = normalizeIndex(
              b, l, index, indexConst(b, l, dataType.getDimSize(axis)));
          return tensor::ExtractOp::create(b, l, data, at).getResult();
        }));
    return success();
  }
};

struct GatherNDPattern : ONNXPattern {
  GatherNDPattern(MLIRContext *ctx) : ONNXPattern(ctx, "GatherND", 11) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value data = op.getInputs()[0], indices = op.getInputs()[1];
    auto dataType = dyn_cast<RankedTensorType>(data.getType());
    auto idxType = dyn_cast<RankedTensorType>(indices.getType());
    RankedTensorType resultType = getResultType(op);
    if (!dataType || !idxType || !resultType || !dataType.hasStaticShape() ||
        !idxType.hasStaticShape() || !resultType.hasStaticShape() ||
        !isa<IntegerType>(idxType.getElementType()) || idxType.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "static ranked operands");
    int64_t r = dataType.getRank(), q = idxType.getRank();
    int64_t batch = getIntAttr(op, "batch_dims", 0);
    int64_t tuple = idxType.getDimSize(q - 1);
    if (batch < 0 || batch >= std::min(r, q) || tuple < 1 || batch + tuple > r)
      return rewriter.notifyMatchFailure(op, "bad batch_dims or index tuple");
    // Result: indices' shape without its last axis, then data's axes after
    // the batch axes and the tuple.
    SmallVector<int64_t> shape(idxType.getShape().drop_back());
    llvm::append_range(shape, dataType.getShape().drop_front(batch + tuple));
    for (int64_t d = 0; d < batch; ++d)
      if (idxType.getDimSize(d) != dataType.getDimSize(d))
        return rewriter.notifyMatchFailure(op, "batch axes differ");
    if (resultType.getShape() != ArrayRef<int64_t>(shape) ||
        resultType.getElementType() != dataType.getElementType())
      return rewriter.notifyMatchFailure(op, "unexpected result type");
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op,
        buildGather(rewriter, loc, resultType, [&](OpBuilder &b, Location l) {
          SmallVector<Value> outer;
          for (int64_t d = 0; d < q - 1; ++d)
            outer.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<Value> at(outer.begin(), outer.begin() + batch);
          for (int64_t j = 0; j < tuple; ++j) {
            SmallVector<Value> where(outer);
            where.push_back(indexConst(b, l, j));
            Value index = tensor::ExtractOp::create(b, l, indices, where);
            at.push_back(normalizeIndex(
                b, l, index, indexConst(b, l, dataType.getDimSize(batch + j))));
          }
          for (int64_t d = q - 1; d < resultType.getRank(); ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          return tensor::ExtractOp::create(b, l, data, at).getResult();
        }));
    return success();
  }
};

/// ScatterND: the data with each index tuple's slice replaced by (or,
/// with `reduction`, combined with) its update, in the order of the updates
/// (a repeated index: the last wins, as onnxruntime does). An scf.for over
/// the updates carries the output tensor; each step extracts the tuple,
/// normalises it like GatherND's (negative from the end, clamped) and
/// inserts the update's slice. Static shapes.
struct ScatterNDPattern : ONNXPattern {
  ScatterNDPattern(MLIRContext *ctx) : ONNXPattern(ctx, "ScatterND", 11) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    if (op.getInputs().size() != 3)
      return failure();
    Value data = op.getInputs()[0], indices = op.getInputs()[1],
          updates = op.getInputs()[2];
    auto dataType = dyn_cast<RankedTensorType>(data.getType());
    auto idxType = dyn_cast<RankedTensorType>(indices.getType());
    auto updType = dyn_cast<RankedTensorType>(updates.getType());
    if (!dataType || !idxType || !updType || getResultType(op) != dataType ||
        !dataType.hasStaticShape() || !idxType.hasStaticShape() ||
        !updType.hasStaticShape() || idxType.getRank() < 1 ||
        !isa<IntegerType>(idxType.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    auto reductionAttr = op.getOnnxAttrs().getAs<StringAttr>("reduction");
    StringRef reduction = reductionAttr ? reductionAttr.getValue() : "none";
    if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, reduction))
      return rewriter.notifyMatchFailure(op, "unknown reduction");
    Type t = dataType.getElementType();
    if (reduction != "none" && !isa<FloatType>(t))
      return rewriter.notifyMatchFailure(op, "reductions on floats only");
    int64_t r = dataType.getRank(), q = idxType.getRank();
    int64_t k = idxType.getDimSize(q - 1);
    if (k < 1 || k > r)
      return rewriter.notifyMatchFailure(op, "index tuple length");
    // updates.shape == indices.shape[:-1] ++ data.shape[k:]
    SmallVector<int64_t> want(idxType.getShape().drop_back());
    llvm::append_range(want, dataType.getShape().drop_front(k));
    if (updType.getShape() != ArrayRef<int64_t>(want))
      return rewriter.notifyMatchFailure(op, "updates shape");
    int64_t count = 1;
    for (int64_t d : idxType.getShape().drop_back())
      count *= d;
    ArrayRef<int64_t> tail = dataType.getShape().drop_front(k);

    Location loc = op.getLoc();
    // indices -> [count, k], updates -> [count, tail...]
    auto flatIdxType =
        RankedTensorType::get({count, k}, idxType.getElementType());
    Value flatIdx = reshapeTo(
        rewriter, loc, indices, flatIdxType,
        {indexConst(rewriter, loc, count), indexConst(rewriter, loc, k)});
    SmallVector<int64_t> flatUpdShape{count};
    llvm::append_range(flatUpdShape, tail);
    SmallVector<Value> flatUpdSizes{indexConst(rewriter, loc, count)};
    for (int64_t d : tail)
      flatUpdSizes.push_back(indexConst(rewriter, loc, d));
    Value flatUpd =
        reshapeTo(rewriter, loc, updates,
                  RankedTensorType::get(flatUpdShape, t), flatUpdSizes);
    auto sliceType = RankedTensorType::get(tail, t);
    auto loop = scf::ForOp::create(
        rewriter, loc, indexConst(rewriter, loc, 0),
        indexConst(rewriter, loc, count), indexConst(rewriter, loc, 1),
        ValueRange{data},
        [&](OpBuilder &b, Location l, Value i, ValueRange args) {
          Value out = args[0];
          SmallVector<OpFoldResult> offsets, sizes, strides;
          for (int64_t j = 0; j < r; ++j) {
            strides.push_back(b.getIndexAttr(1));
            if (j < k) {
              Value e = tensor::ExtractOp::create(
                  b, l, flatIdx, ValueRange{i, indexConst(b, l, j)});
              offsets.push_back(normalizeIndex(
                  b, l, e, indexConst(b, l, dataType.getDimSize(j))));
              sizes.push_back(b.getIndexAttr(1));
            } else {
              offsets.push_back(b.getIndexAttr(0));
              sizes.push_back(b.getIndexAttr(dataType.getDimSize(j)));
            }
          }
          // The update's slice, rank-reduced to `tail`.
          SmallVector<OpFoldResult> uOffsets{i}, uSizes{b.getIndexAttr(1)},
              uStrides{b.getIndexAttr(1)};
          for (int64_t d : tail) {
            uOffsets.push_back(b.getIndexAttr(0));
            uSizes.push_back(b.getIndexAttr(d));
            uStrides.push_back(b.getIndexAttr(1));
          }
          Value upd = tensor::ExtractSliceOp::create(
              b, l, sliceType, flatUpd, uOffsets, uSizes, uStrides);
          if (reduction != "none") {
            Value cur = tensor::ExtractSliceOp::create(b, l, sliceType, out,
                                                       offsets, sizes, strides);
            int64_t rank = sliceType.getRank();
            AffineMap id = b.getMultiDimIdentityMap(rank);
            upd = linalg::GenericOp::create(
                      b, l, TypeRange{sliceType}, ValueRange{cur, upd},
                      ValueRange{cur}, SmallVector<AffineMap>{id, id, id},
                      SmallVector<utils::IteratorType>(
                          rank, utils::IteratorType::parallel),
                      [&](OpBuilder &nb, Location nl, ValueRange s) {
                        Value v;
                        if (reduction == "add")
                          v = arith::AddFOp::create(nb, nl, s[0], s[1]);
                        else if (reduction == "mul")
                          v = arith::MulFOp::create(nb, nl, s[0], s[1]);
                        else if (reduction == "max")
                          v = arith::MaximumFOp::create(nb, nl, s[0], s[1]);
                        else
                          v = arith::MinimumFOp::create(nb, nl, s[0], s[1]);
                        linalg::YieldOp::create(nb, nl, v);
                      })
                      .getResult(0);
          }
          Value next = tensor::InsertSliceOp::create(b, l, upd, out, offsets,
                                                     sizes, strides);
          scf::YieldOp::create(b, l, next);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXGatherPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherElementsPattern, GatherNDPattern, ScatterNDPattern>(
      patterns.getContext());
}
