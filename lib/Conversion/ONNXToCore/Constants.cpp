//===- Constants.cpp - Constant and Identity --------------------*- C++ -*-===//
//
// Constant (value tensor, or value_float(s) / value_int(s)) becomes
// arith.constant; Identity forwards its operand.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct ConstantPattern : ONNXPattern {
  ConstantPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Constant") {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType type = getResultType(op);
    if (!type)
      return failure();
    DictionaryAttr attrs = op.getOnnxAttrs();
    TypedAttr value;
    if (auto t = attrs.getAs<ElementsAttr>("value")) {
      value = cast<TypedAttr>(t);
    } else if (auto f = attrs.getAs<FloatAttr>("value_float")) {
      value = DenseElementsAttr::get(type, f.getValue());
    } else if (auto i = attrs.getAs<IntegerAttr>("value_int")) {
      value = DenseElementsAttr::get(type, i.getValue());
    } else if (auto fs = attrs.getAs<DenseF32ArrayAttr>("value_floats")) {
      value = DenseElementsAttr::get(type, fs.asArrayRef());
    } else if (auto is = attrs.getAs<DenseI64ArrayAttr>("value_ints")) {
      value = DenseElementsAttr::get(type, is.asArrayRef());
    }
    if (!value || value.getType() != type)
      return rewriter.notifyMatchFailure(op, "unsupported constant form");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

struct IdentityPattern : ONNXPattern {
  IdentityPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Identity") {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    if (op.getInputs().size() != 1 ||
        op.getInputs()[0].getType() != op->getResult(0).getType())
      return failure();
    rewriter.replaceOp(op, op.getInputs()[0]);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXConstantPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantPattern, IdentityPattern>(patterns.getContext());
}
