//===- ConcatSplit.cpp - Concat and Split -----------------------*- C++ -*-===//
//
// Concat as insert_slice into one buffer; Split as extract_slice with the
// sizes from the result types, the split input, or an equal split.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct ConcatPattern : ONNXPattern {
  ConcatPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Concat") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    if (!resultType)
      return failure();
    int64_t rank = resultType.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", 0, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    for (Value v : op.getInputs()) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type || type.getRank() != rank)
        return rewriter.notifyMatchFailure(op, "inputs of another rank");
    }
    Location loc = op.getLoc();
    Value first = op.getInputs()[0];
    // Result sizes: the other dims from the first input, the axis summed.
    Value total = indexConst(rewriter, loc, 0);
    for (Value v : op.getInputs())
      total = rewriter.createOrFold<arith::AddIOp>(
          loc, total, dimSize(rewriter, loc, v, axis));
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < rank; ++d)
      if (resultType.isDynamicDim(d))
        dyn.push_back(d == axis ? total : dimSize(rewriter, loc, first, d));
    Value acc = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                        resultType.getElementType(), dyn);
    Value offset = indexConst(rewriter, loc, 0);
    for (Value v : op.getInputs()) {
      // Constant offsets and sizes as attributes, so static shapes stay static.
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes,
          strides(rank, rewriter.getIndexAttr(1));
      offsets[axis] = getAsOpFoldResult(offset);
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(getAsOpFoldResult(dimSize(rewriter, loc, v, d)));
      acc = tensor::InsertSliceOp::create(rewriter, loc, v, acc, offsets, sizes,
                                          strides);
      offset = rewriter.createOrFold<arith::AddIOp>(
          loc, offset, dimSize(rewriter, loc, v, axis));
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

struct SplitPattern : ONNXPattern {
  SplitPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Split", 13) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    if (!type)
      return failure();
    int64_t rank = type.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", 0, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    Value split;
    if (op.getInputs().size() > 1 &&
        !isa<NoneType>(op.getInputs()[1].getType()))
      split = op.getInputs()[1];
    Location loc = op.getLoc();
    int64_t n = op->getNumResults();
    Value axisSize = dimSize(rewriter, loc, x, axis);
    // Equal split (no split input): ceil(size / n) each, the last the rest.
    Value chunk = arith::CeilDivSIOp::create(rewriter, loc, axisSize,
                                             indexConst(rewriter, loc, n));
    Value offset = indexConst(rewriter, loc, 0);
    SmallVector<Value> results;
    for (int64_t i = 0; i < n; ++i) {
      auto outType = dyn_cast<RankedTensorType>(op->getResult(i).getType());
      if (!outType)
        return failure();
      Value size;
      if (!outType.isDynamicDim(axis))
        size = indexConst(rewriter, loc, outType.getDimSize(axis));
      else if (split)
        size = arith::IndexCastOp::create(
            rewriter, loc, rewriter.getIndexType(),
            tensor::ExtractOp::create(
                rewriter, loc, split,
                ValueRange{indexConst(rewriter, loc, i)}));
      else if (i + 1 < n)
        size = chunk;
      else
        size = arith::SubIOp::create(rewriter, loc, axisSize, offset);
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes,
          strides(rank, rewriter.getIndexAttr(1));
      offsets[axis] = getAsOpFoldResult(offset);
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(
            getAsOpFoldResult(d == axis ? size : dimSize(rewriter, loc, x, d)));
      Value slice = tensor::ExtractSliceOp::create(rewriter, loc, outType, x,
                                                   offsets, sizes, strides);
      results.push_back(slice);
      offset = rewriter.createOrFold<arith::AddIOp>(loc, offset, size);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXConcatSplitPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ConcatPattern, SplitPattern>(patterns.getContext());
}
