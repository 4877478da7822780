//===- ShapeOps.cpp - Shape, Reshape, Transpose, Gather, ... ----*- C++ -*-===//
//
// Data-movement ops: Shape, Reshape, Unsqueeze, Squeeze, Transpose, Range
// and Gather. Reshapes go through tensor.reshape with a shape computed at
// run time (ONNX's 0 and -1 included), so dynamic batch and sequence
// dimensions work; shape folding can turn them static later.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Result sizes of an op whose result dimension j is input dimension
/// src[j] (or a static size when src[j] < 0).
SmallVector<Value> sizesFromInput(OpBuilder &b, Location loc, Value input,
                                  RankedTensorType resultType,
                                  ArrayRef<int64_t> src) {
  SmallVector<Value> sizes;
  for (int64_t j = 0; j < resultType.getRank(); ++j)
    sizes.push_back(src[j] >= 0 ? dimSize(b, loc, input, src[j])
                                : indexConst(b, loc, resultType.getDimSize(j)));
  return sizes;
}

struct ShapePattern : ONNXPattern {
  ShapePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Shape") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    RankedTensorType resultType = getResultType(op);
    if (!inType || !resultType)
      return failure();
    int64_t rank = inType.getRank();
    auto clamp = [&](int64_t v) {
      if (v < 0)
        v += rank;
      return std::min(std::max<int64_t>(v, 0), rank);
    };
    int64_t start = clamp(getIntAttr(op, "start", 0));
    int64_t end = clamp(getIntAttr(op, "end", rank));
    int64_t n = std::max<int64_t>(end - start, 0);
    // Checked before any op is built: a pattern that fails after creating
    // ops makes the greedy driver loop. A result typed tensor<?xi64> gets
    // the static length and a cast back.
    if (resultType.getRank() != 1 ||
        (!resultType.isDynamicDim(0) && resultType.getDimSize(0) != n))
      return failure();
    Location loc = op.getLoc();
    SmallVector<Value> dims;
    for (int64_t d = start; d < end; ++d)
      dims.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getI64Type(),
          dimSize(rewriter, loc, op.getInputs()[0], d)));
    auto exact = RankedTensorType::get({n}, resultType.getElementType());
    Value shape = tensor::FromElementsOp::create(rewriter, loc, exact, dims);
    if (exact != resultType)
      shape = tensor::CastOp::create(rewriter, loc, resultType, shape);
    rewriter.replaceOp(op, shape);
    return success();
  }
};

struct ReshapePattern : ONNXPattern {
  ReshapePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Reshape", 5) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value input = op.getInputs()[0], shape = op.getInputs()[1];
    auto inType = dyn_cast<RankedTensorType>(input.getType());
    auto shapeType = dyn_cast<RankedTensorType>(shape.getType());
    RankedTensorType resultType = getResultType(op);
    if (!inType || !shapeType || !resultType || !shapeType.hasStaticShape())
      return failure();
    bool allowZero = getIntAttr(op, "allowzero", 0);
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    // total = product of input dims; each entry: 0 -> input dim (unless
    // allowzero), -1 -> total / product of the others.
    Value total = i64Const(rewriter, loc, 1);
    for (int64_t d = 0; d < inType.getRank(); ++d)
      total = arith::MulIOp::create(
          rewriter, loc, total,
          arith::IndexCastOp::create(rewriter, loc, i64,
                                     dimSize(rewriter, loc, input, d)));
    int64_t n = shapeType.getDimSize(0);
    SmallVector<Value> entries;
    Value known = i64Const(rewriter, loc, 1);
    Value zero = i64Const(rewriter, loc, 0),
          minusOne = i64Const(rewriter, loc, -1);
    for (int64_t i = 0; i < n; ++i) {
      Value e = tensor::ExtractOp::create(
          rewriter, loc, shape, ValueRange{indexConst(rewriter, loc, i)});
      if (!allowZero && i < inType.getRank()) {
        Value isZero = arith::CmpIOp::create(rewriter, loc,
                                             arith::CmpIPredicate::eq, e, zero);
        Value inDim = arith::IndexCastOp::create(
            rewriter, loc, i64, dimSize(rewriter, loc, input, i));
        e = arith::SelectOp::create(rewriter, loc, isZero, inDim, e);
      }
      Value isInferred = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, e, minusOne);
      known = arith::MulIOp::create(
          rewriter, loc, known,
          arith::SelectOp::create(rewriter, loc, isInferred,
                                  i64Const(rewriter, loc, 1), e));
      entries.push_back(e);
    }
    Value inferred = arith::DivSIOp::create(rewriter, loc, total, known);
    SmallVector<Value> sizes;
    for (Value e : entries) {
      Value isInferred = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, e, minusOne);
      sizes.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(),
          arith::SelectOp::create(rewriter, loc, isInferred, inferred, e)));
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, input, resultType, sizes));
    return success();
  }
};

/// Unsqueeze and Squeeze: axes from the attribute (opset < 13) or the
/// constant second input; the result type fixes the rest.
struct UnsqueezeSqueezePattern : ONNXPattern {
  UnsqueezeSqueezePattern(MLIRContext *ctx, StringRef name, bool unsqueeze)
      : ONNXPattern(ctx, name), unsqueeze(unsqueeze) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value input = op.getInputs()[0];
    auto inType = dyn_cast<RankedTensorType>(input.getType());
    RankedTensorType resultType = getResultType(op);
    if (!inType || !resultType)
      return failure();
    std::optional<SmallVector<int64_t>> axes;
    if (op.getInputs().size() > 1 &&
        !isa<NoneType>(op.getInputs()[1].getType()))
      axes = constantInts(op.getInputs()[1]);
    else if (auto attr = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>("axes"))
      axes = SmallVector<int64_t>(attr.asArrayRef());
    else if (!unsqueeze) // Squeeze without axes: every static 1
      axes = SmallVector<int64_t>();
    if (!axes)
      return rewriter.notifyMatchFailure(op, "axes are not constant");
    int64_t outRank = resultType.getRank();
    int64_t axesRank = unsqueeze ? outRank : inType.getRank();
    llvm::SmallDenseSet<int64_t> set;
    for (int64_t a : *axes) {
      // Axes outside the rank or repeated would index past the shapes
      // (a heap overflow found by the fuzzer).
      if (a < -axesRank || a >= axesRank ||
          !set.insert(a < 0 ? a + axesRank : a).second)
        return rewriter.notifyMatchFailure(op, "axes out of range or repeated");
    }
    if (!unsqueeze && axes->empty())
      for (int64_t d = 0; d < inType.getRank(); ++d)
        if (inType.getDimSize(d) == 1)
          set.insert(d);
    SmallVector<int64_t> src;
    if (unsqueeze) {
      int64_t next = 0;
      for (int64_t j = 0; j < outRank; ++j)
        src.push_back(set.contains(j) ? -1 : next++);
      if (next != inType.getRank())
        return rewriter.notifyMatchFailure(
            op, "axes do not match the input and result ranks");
    } else {
      for (int64_t d = 0; d < inType.getRank(); ++d)
        if (!set.contains(d))
          src.push_back(d);
    }
    if ((int64_t)src.size() != outRank)
      return rewriter.notifyMatchFailure(op,
                                         "axes do not match the result rank");
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op, reshapeTo(rewriter, loc, input, resultType,
                      sizesFromInput(rewriter, loc, input, resultType, src)));
    return success();
  }
  bool unsqueeze;
};

struct TransposePattern : ONNXPattern {
  TransposePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Transpose") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value input = op.getInputs()[0];
    auto inType = dyn_cast<RankedTensorType>(input.getType());
    RankedTensorType resultType = getResultType(op);
    if (!inType || !resultType)
      return failure();
    SmallVector<int64_t> perm;
    if (auto attr = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>("perm"))
      perm.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    else
      for (int64_t d = inType.getRank() - 1; d >= 0; --d)
        perm.push_back(d);
    // An invalid perm would build a linalg.transpose whose indexing map is
    // null (a crash in the canonicalizations, found by the fuzzer).
    int64_t rank = inType.getRank();
    llvm::SmallBitVector seen(rank);
    bool valid = static_cast<int64_t>(perm.size()) == rank &&
                 resultType.getRank() == rank;
    for (int64_t j = 0; valid && j < static_cast<int64_t>(perm.size()); ++j) {
      int64_t d = perm[j];
      valid = d >= 0 && d < rank && !seen.test(d);
      if (!valid)
        break;
      seen.set(d);
      valid = inType.isDynamicDim(d) || resultType.isDynamicDim(j) ||
              inType.getDimSize(d) == resultType.getDimSize(j);
    }
    if (!valid)
      return rewriter.notifyMatchFailure(
          op, "perm is not a permutation of the input's dimensions that "
              "gives the result's shape");
    Location loc = op.getLoc();
    SmallVector<Value> dyn;
    for (int64_t j = 0; j < resultType.getRank(); ++j)
      if (resultType.isDynamicDim(j))
        dyn.push_back(tensor::DimOp::create(rewriter, loc, input, perm[j]));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType(), dyn);
    rewriter.replaceOp(
        op, linalg::TransposeOp::create(rewriter, loc, input, init, perm)
                .getResult()[0]);
    return success();
  }
};

struct RangePattern : ONNXPattern {
  RangePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Range") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    if (!resultType || resultType.getRank() != 1)
      return failure();
    Type elem = resultType.getElementType();
    Location loc = op.getLoc();
    SmallVector<Value> s;
    for (Value v : op.getInputs())
      s.push_back(tensor::ExtractOp::create(rewriter, loc, v, ValueRange{}));
    Value count;
    if (isa<FloatType>(elem)) {
      Value q = arith::DivFOp::create(
          rewriter, loc, arith::SubFOp::create(rewriter, loc, s[1], s[0]),
          s[2]);
      count = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                      math::CeilOp::create(rewriter, loc, q));
    } else {
      Value diff = arith::SubIOp::create(rewriter, loc, s[1], s[0]);
      count = arith::CeilDivSIOp::create(rewriter, loc, diff, s[2]);
      if (!elem.isInteger(64))
        count =
            arith::ExtSIOp::create(rewriter, loc, rewriter.getI64Type(), count);
    }
    count = arith::MaxSIOp::create(rewriter, loc, count,
                                   i64Const(rewriter, loc, 0));
    SmallVector<Value> dyn;
    if (resultType.isDynamicDim(0))
      dyn.push_back(arith::IndexCastOp::create(rewriter, loc,
                                               rewriter.getIndexType(), count));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         elem, dyn);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value v;
          if (isa<FloatType>(elem)) {
            Value fi = arith::SIToFPOp::create(
                b, l, elem,
                arith::IndexCastOp::create(b, l, b.getI64Type(), i));
            v = arith::AddFOp::create(b, l, s[0],
                                      arith::MulFOp::create(b, l, fi, s[2]));
          } else {
            Value ii = arith::IndexCastOp::create(b, l, elem, i);
            v = arith::AddIOp::create(b, l, s[0],
                                      arith::MulIOp::create(b, l, ii, s[2]));
          }
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct GatherPattern : ONNXPattern {
  GatherPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Gather") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value data = op.getInputs()[0], indices = op.getInputs()[1];
    auto dataType = dyn_cast<RankedTensorType>(data.getType());
    auto idxType = dyn_cast<RankedTensorType>(indices.getType());
    RankedTensorType resultType = getResultType(op);
    if (!dataType || !idxType || !resultType ||
        !isa<IntegerType>(idxType.getElementType()))
      return failure();
    int64_t r = dataType.getRank(), q = idxType.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", 0, r);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    if (resultType.getRank() != q + r - 1)
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    int64_t outRank = resultType.getRank();
    // Output dims: data[0, axis) ++ indices ++ data(axis, r).
    SmallVector<AffineExpr> idxExprs;
    for (int64_t j = 0; j < q; ++j)
      idxExprs.push_back(getAffineDimExpr(axis + j, ctx));
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < outRank; ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      if (d < axis)
        dyn.push_back(tensor::DimOp::create(rewriter, loc, data, d));
      else if (d < axis + q)
        dyn.push_back(tensor::DimOp::create(rewriter, loc, indices, d - axis));
      else
        dyn.push_back(tensor::DimOp::create(rewriter, loc, data, d - q + 1));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType(), dyn);
    Value axisSize = dimSize(rewriter, loc, data, axis);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{indices},
        ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(outRank, 0, idxExprs, ctx),
                               rewriter.getMultiDimIdentityMap(outRank)},
        SmallVector<utils::IteratorType>(outRank,
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          // Negative indices count from the end; out-of-range ones are
          // clamped to the axis.
          Value idx = normalizeIndex(b, l, args[0], axisSize);
          SmallVector<Value> coords;
          for (int64_t d = 0; d < axis; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          coords.push_back(idx);
          for (int64_t d = axis + q; d < outRank; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(
              b, l, tensor::ExtractOp::create(b, l, data, coords).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXShapePatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ShapePattern, ReshapePattern, TransposePattern, RangePattern,
               GatherPattern>(ctx);
  patterns.add<UnsqueezeSqueezePattern>(ctx, "Unsqueeze", true);
  patterns.add<UnsqueezeSqueezePattern>(ctx, "Squeeze", false);
}
