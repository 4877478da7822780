//===- Lift1D.cpp - 1-D convolutions and pools as 2-D ones -------*- C++
//-*-===//
//
// Conv, ConvTranspose, MaxPool and AveragePool on [N, C, L] tensors are
// the 2-D ops on [N, C, 1, L]: the node is rewritten into its 2-D form (the
// input, and the weight of a convolution, given a unit height by
// tensor.expand_shape; every spatial attribute given a leading entry that
// does nothing: kernel 1, stride 1, dilation 1, pads 0, output_padding 0,
// output_shape 1) and the result collapsed back, so that each op's meaning
// stays in its 2-D pattern.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// `t` ([A, B, L...]) with a 1 inserted before its last dimension.
RankedTensorType withUnitHeight(RankedTensorType t) {
  SmallVector<int64_t> shape(t.getShape());
  shape.insert(shape.end() - 1, 1);
  return RankedTensorType::get(shape, t.getElementType());
}

struct LiftOneDWindowOp : OpRewritePattern<onnx::NodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    StringRef type = op.getOpType();
    bool isConv = type == "Conv" || type == "ConvTranspose";
    if (!op.getDomain().empty() ||
        !(isConv || type == "MaxPool" || type == "AveragePool") ||
        op.getInputs().empty())
      return failure();
    auto xType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    RankedTensorType resultType = getResultType(op);
    if (!xType || xType.getRank() != 3 || !resultType ||
        resultType.getRank() != 3)
      return failure();
    // MaxPool's Indices output is not lifted.
    for (Value r : op->getResults().drop_front())
      if (!r.use_empty())
        return rewriter.notifyMatchFailure(op, "second result used");
    if (isConv) {
      if (op.getInputs().size() < 2)
        return failure();
      auto wType = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
      if (!wType || wType.getRank() != 3)
        return rewriter.notifyMatchFailure(op, "1-D weight");
    }
    // The attributes in their 2-D form; a malformed one leaves the node to
    // be refused by name.
    MLIRContext *ctx = op.getContext();
    SmallVector<NamedAttribute> attrs;
    for (NamedAttribute a : op.getOnnxAttrs()) {
      StringRef name = a.getName().getValue();
      auto ints = dyn_cast<DenseI64ArrayAttr>(a.getValue());
      int64_t lead = name == "kernel_shape" || name == "strides" ||
                             name == "dilations" || name == "output_shape"
                         ? 1
                         : 0;
      bool spatial = name == "kernel_shape" || name == "strides" ||
                     name == "dilations" || name == "output_shape" ||
                     name == "output_padding" || name == "pads";
      if (!spatial) {
        attrs.push_back(a);
        continue;
      }
      if (!ints)
        return rewriter.notifyMatchFailure(op, "spatial attribute type");
      ArrayRef<int64_t> v = ints.asArrayRef();
      SmallVector<int64_t> lifted;
      if (name == "pads") {
        if (v.size() != 2)
          return rewriter.notifyMatchFailure(op, "pads of a 1-D op");
        lifted = {0, v[0], 0, v[1]};
      } else {
        if (v.size() != 1)
          return rewriter.notifyMatchFailure(op, "1-D spatial attribute");
        lifted = {lead, v[0]};
      }
      attrs.push_back(
          NamedAttribute(a.getName(), DenseI64ArrayAttr::get(ctx, lifted)));
    }
    Location loc = op.getLoc();
    SmallVector<ReassociationIndices> reassoc{{0}, {1}, {2, 3}};
    SmallVector<Value> operands(op.getInputs());
    operands[0] = tensor::ExpandShapeOp::create(
        rewriter, loc, withUnitHeight(xType), operands[0], reassoc);
    if (isConv) {
      auto wType = cast<RankedTensorType>(operands[1].getType());
      operands[1] = tensor::ExpandShapeOp::create(
          rewriter, loc, withUnitHeight(wType), operands[1], reassoc);
    }
    SmallVector<Type> types{withUnitHeight(resultType)};
    for (Value r : op->getResults().drop_front())
      types.push_back(r.getType());
    OperationState state(loc, op->getName());
    state.addOperands(operands);
    for (NamedAttribute a : op->getAttrs())
      state.addAttribute(a.getName(), a.getName() == op.getOnnxAttrsAttrName()
                                          ? DictionaryAttr::get(ctx, attrs)
                                          : a.getValue());
    state.addTypes(types);
    Operation *lifted = rewriter.create(state);
    Value back = tensor::CollapseShapeOp::create(rewriter, loc, resultType,
                                                 lifted->getResult(0), reassoc);
    SmallVector<Value> results{back};
    for (Value r : lifted->getResults().drop_front())
      results.push_back(r);
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXLift1DPatterns(RewritePatternSet &patterns) {
  patterns.add<LiftOneDWindowOp>(patterns.getContext());
}
