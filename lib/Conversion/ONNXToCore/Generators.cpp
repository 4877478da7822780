//===- Generators.cpp - Expand, ConstantOfShape, Trilu ----------*- C++ -*-===//
//
// Ops that build tensors from shapes: Expand (broadcast to a shape),
// ConstantOfShape (a filled tensor) and Trilu (triangular masking).
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

/// Size `d` of a result whose shape is given by the 1-D i64 tensor `shape`.
Value sizeFromShape(OpBuilder &b, Location loc, Value shape, int64_t d) {
  Value e = tensor::ExtractOp::create(b, loc, shape,
                                      ValueRange{indexConst(b, loc, d)});
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), e);
}

struct ExpandPattern : ONNXPattern {
  ExpandPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Expand") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    if (!resultType)
      return failure();
    FailureOr<Value> result = buildBroadcastGeneric(
        rewriter, op.getLoc(), resultType, ValueRange{op.getInputs()[0]},
        [](OpBuilder &, Location, ValueRange s) { return s[0]; });
    if (failed(result))
      return rewriter.notifyMatchFailure(
          op, "a dynamic result dimension comes only from the shape input");
    rewriter.replaceOp(op, *result);
    return success();
  }
};

struct ConstantOfShapePattern : ONNXPattern {
  ConstantOfShapePattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "ConstantOfShape") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    if (!resultType)
      return failure();
    Type elem = resultType.getElementType();
    Attribute value = rewriter.getZeroAttr(elem);
    if (auto v = op.getOnnxAttrs().getAs<DenseElementsAttr>("value")) {
      if (v.getNumElements() != 1 || v.getElementType() != elem)
        return failure();
      value = *v.value_begin<Attribute>();
    }
    Location loc = op.getLoc();
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      if (resultType.isDynamicDim(d))
        dyn.push_back(sizeFromShape(rewriter, loc, op.getInputs()[0], d));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         elem, dyn);
    Value scalar =
        arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(value));
    rewriter.replaceOp(
        op, linalg::FillOp::create(rewriter, loc, scalar, init).getResult(0));
    return success();
  }
};

struct TriluPattern : ONNXPattern {
  TriluPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Trilu") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    if (!type || type.getRank() < 2 || getResultType(op) != type)
      return failure();
    bool upper = getIntAttr(op, "upper", 1);
    Location loc = op.getLoc();
    Value k = i64Const(rewriter, loc, 0);
    if (op.getInputs().size() > 1 &&
        !isa<NoneType>(op.getInputs()[1].getType()))
      k = tensor::ExtractOp::create(rewriter, loc, op.getInputs()[1],
                                    ValueRange{});
    int64_t rank = type.getRank();
    FailureOr<Value> result = buildBroadcastGeneric(
        rewriter, loc, type, ValueRange{x},
        [&](OpBuilder &b, Location l, ValueRange s) {
          auto idx = [&](int64_t d) {
            return arith::IndexCastOp::create(b, l, b.getI64Type(),
                                              linalg::IndexOp::create(b, l, d));
          };
          // Keep x[i, j] when j - i >= k (upper) or j - i <= k (lower).
          Value i = idx(rank - 2);
          Value j = idx(rank - 1);
          Value diff = arith::SubIOp::create(b, l, j, i);
          Value keep = arith::CmpIOp::create(b, l,
                                             upper ? arith::CmpIPredicate::sge
                                                   : arith::CmpIPredicate::sle,
                                             diff, k);
          Value zero =
              arith::ConstantOp::create(b, l, b.getZeroAttr(s[0].getType()));
          return arith::SelectOp::create(b, l, keep, s[0], zero).getResult();
        });
    if (failed(result))
      return failure();
    rewriter.replaceOp(op, *result);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXGeneratorPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpandPattern, ConstantOfShapePattern, TriluPattern>(
      patterns.getContext());
}
