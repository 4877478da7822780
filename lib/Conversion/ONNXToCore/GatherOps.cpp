//===- GatherOps.cpp - GatherElements and GatherND --------------*- C++ -*-===//
//
// Index-driven reads beyond Gather: GatherElements (an index per output
// element along one axis) and GatherND (index tuples into the leading
// axes after `batch_dims`), as linalg.generic over the result with
// tensor.extract from the data. Negative indices count from the end;
// indices outside the axis (an error in ONNX) are clamped to it, so that a
// bad index cannot read outside the tensor.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
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

} // namespace

void mlir::lowbit::populateONNXGatherPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherElementsPattern, GatherNDPattern>(patterns.getContext());
}
