//===- Elementwise.cpp - Elementwise ONNX ops to linalg ---------*- C++ -*-===//
//
// Arithmetic, comparison, logic, Where, Cast, Clip and the unary math and
// activation ops: one linalg.generic each, with numpy broadcasting. Float
// and signless-integer element types; unsigned types are not handled yet.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Builds one scalar result from the scalar operands.
using ScalarFn = std::function<Value(OpBuilder &, Location, ValueRange,
                                     Type resultElem, onnx::NodeOp)>;

/// True for element types the elementwise patterns handle.
bool isSupportedElement(Type t) {
  if (auto it = dyn_cast<IntegerType>(t))
    return it.isSignless();
  return isa<FloatType>(t);
}

Value constantLike(OpBuilder &b, Location loc, Type type, double value) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, value));
  return arith::ConstantOp::create(b, loc,
                                   b.getIntegerAttr(type, (int64_t)value));
}

class ElementwisePattern : public ONNXPattern {
public:
  ElementwisePattern(MLIRContext *ctx, StringRef opType, ScalarFn fn,
                     bool floatOnly = false, int64_t minOpset = 1)
      : ONNXPattern(ctx, opType, minOpset), fn(std::move(fn)),
        floatOnly(floatOnly) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    if (!resultType || op->getNumResults() != 1 ||
        !isSupportedElement(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "unsupported result type");
    SmallVector<Value> inputs;
    for (Value v : op.getInputs()) {
      if (isa<NoneType>(v.getType()))
        continue; // absent optional input (Clip's min/max)
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t || !isSupportedElement(t.getElementType()))
        return rewriter.notifyMatchFailure(op, "unsupported operand type");
      if (floatOnly && !isa<FloatType>(t.getElementType()))
        return rewriter.notifyMatchFailure(op, "float-only op");
      inputs.push_back(v);
    }
    // Clip needs to know which bounds are present: pass them positionally.
    SmallVector<bool> present;
    for (Value v : op.getInputs())
      present.push_back(!isa<NoneType>(v.getType()));
    FailureOr<Value> result = buildBroadcastGeneric(
        rewriter, op.getLoc(), resultType, inputs,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          SmallVector<Value> scalars;
          size_t next = 0;
          for (bool p : present)
            scalars.push_back(p ? args[next++] : Value());
          return fn(b, loc, scalars, resultType.getElementType(), op);
        });
    if (failed(result))
      return rewriter.notifyMatchFailure(op, "shapes do not broadcast");
    rewriter.replaceOp(op, *result);
    return success();
  }

private:
  ScalarFn fn;
  bool floatOnly;
};

/// A binary op with a float and an integer form.
template <typename FOp, typename IOp>
ScalarFn binary() {
  return [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    if (isa<FloatType>(s[0].getType()))
      return FOp::create(b, loc, s[0], s[1]).getResult();
    return IOp::create(b, loc, s[0], s[1]).getResult();
  };
}

/// A variadic op (Max, Min, Sum): folds the binary form over the operands.
template <typename FOp, typename IOp>
ScalarFn variadic() {
  return [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    Value acc = s[0];
    for (Value v : s.drop_front())
      acc = isa<FloatType>(v.getType()) ? FOp::create(b, loc, acc, v).getResult()
                                        : IOp::create(b, loc, acc, v).getResult();
    return acc;
  };
}

template <typename Op>
ScalarFn unary() {
  return [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return Op::create(b, loc, s[0]).getResult();
  };
}

ScalarFn compare(arith::CmpFPredicate fp, arith::CmpIPredicate ip) {
  return [=](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    if (isa<FloatType>(s[0].getType()))
      return arith::CmpFOp::create(b, loc, fp, s[0], s[1]).getResult();
    return arith::CmpIOp::create(b, loc, ip, s[0], s[1]).getResult();
  };
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value one = constantLike(b, loc, t, 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one, arith::AddFOp::create(b, loc, one, e));
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  if (fromF && toF)
    return fromF.getWidth() < toF.getWidth()
               ? arith::ExtFOp::create(b, loc, to, v).getResult()
               : arith::TruncFOp::create(b, loc, to, v).getResult();
  if (to.isInteger(1)) {
    if (fromF)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                   constantLike(b, loc, from, 0.0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 constantLike(b, loc, from, 0));
  }
  bool fromBool = from.isInteger(1);
  if (toF)
    return fromBool ? arith::UIToFPOp::create(b, loc, to, v).getResult()
                    : arith::SIToFPOp::create(b, loc, to, v).getResult();
  if (fromF)
    return arith::FPToSIOp::create(b, loc, to, v);
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return fromBool ? arith::ExtUIOp::create(b, loc, to, v).getResult()
                    : arith::ExtSIOp::create(b, loc, to, v).getResult();
  return arith::TruncIOp::create(b, loc, to, v);
}

} // namespace

void mlir::lowbit::populateONNXElementwisePatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  auto add = [&](StringRef name, ScalarFn fn, bool floatOnly = false,
                 int64_t minOpset = 1) {
    patterns.add<ElementwisePattern>(ctx, name, std::move(fn), floatOnly,
                                     minOpset);
  };
  add("Add", binary<arith::AddFOp, arith::AddIOp>());
  add("Sub", binary<arith::SubFOp, arith::SubIOp>());
  add("Mul", binary<arith::MulFOp, arith::MulIOp>());
  add("Div", binary<arith::DivFOp, arith::DivSIOp>());
  add("Pow", [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return math::PowFOp::create(b, loc, s[0], s[1]).getResult();
  }, /*floatOnly=*/true);
  add("Max", variadic<arith::MaximumFOp, arith::MaxSIOp>());
  add("Min", variadic<arith::MinimumFOp, arith::MinSIOp>());
  add("Sum", variadic<arith::AddFOp, arith::AddIOp>());
  add("Equal", compare(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq));
  add("Less", compare(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt));
  add("LessOrEqual",
      compare(arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle));
  add("Greater", compare(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt));
  add("GreaterOrEqual",
      compare(arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge));
  add("And", binary<arith::AndIOp, arith::AndIOp>());
  add("Or", binary<arith::OrIOp, arith::OrIOp>());
  add("Xor", binary<arith::XOrIOp, arith::XOrIOp>());
  add("Not", [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return arith::XOrIOp::create(b, loc, s[0],
                                 constantLike(b, loc, s[0].getType(), 1))
        .getResult();
  });
  add("Where", [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return arith::SelectOp::create(b, loc, s[0], s[1], s[2]).getResult();
  });
  add("Neg", [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
    if (isa<FloatType>(t))
      return arith::NegFOp::create(b, loc, s[0]).getResult();
    return arith::SubIOp::create(b, loc, constantLike(b, loc, t, 0), s[0])
        .getResult();
  });
  add("Abs", [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
    if (isa<FloatType>(t))
      return math::AbsFOp::create(b, loc, s[0]).getResult();
    return math::AbsIOp::create(b, loc, s[0]).getResult();
  });
  add("Exp", unary<math::ExpOp>(), true);
  add("Log", unary<math::LogOp>(), true);
  add("Sqrt", unary<math::SqrtOp>(), true);
  add("Tanh", unary<math::TanhOp>(), true);
  add("Erf", unary<math::ErfOp>(), true);
  add("Sin", unary<math::SinOp>(), true);
  add("Cos", unary<math::CosOp>(), true);
  add("Floor", unary<math::FloorOp>(), true);
  add("Ceil", unary<math::CeilOp>(), true);
  add("Reciprocal",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
        return arith::DivFOp::create(b, loc, constantLike(b, loc, t, 1.0), s[0])
            .getResult();
      }, true);
  add("Sigmoid", [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return sigmoid(b, loc, s[0]);
  }, true);
  add("Relu", [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
    return arith::MaximumFOp::create(b, loc, s[0], constantLike(b, loc, t, 0.0))
        .getResult();
  }, true);
  add("LeakyRelu",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        Value zero = constantLike(b, loc, t, 0.0);
        Value alpha = constantLike(b, loc, t, getFloatAttr(op, "alpha", 0.01f));
        Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                          s[0], zero);
        return arith::SelectOp::create(b, loc, pos, s[0],
                                       arith::MulFOp::create(b, loc, s[0], alpha))
            .getResult();
      }, true);
  // HardSigmoid: max(0, min(1, alpha x + beta)); HardSwish: x * HardSigmoid
  // with alpha = 1/6, beta = 1/2.
  auto hardSigmoid = [](OpBuilder &b, Location loc, Value x, Type t, float a,
                        float c) {
    Value y = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, constantLike(b, loc, t, a)),
        constantLike(b, loc, t, c));
    y = arith::MinimumFOp::create(b, loc, y, constantLike(b, loc, t, 1.0));
    return arith::MaximumFOp::create(b, loc, y, constantLike(b, loc, t, 0.0))
        .getResult();
  };
  add("HardSigmoid", [=](OpBuilder &b, Location loc, ValueRange s, Type t,
                         onnx::NodeOp op) {
    return hardSigmoid(b, loc, s[0], t, getFloatAttr(op, "alpha", 0.2f),
                       getFloatAttr(op, "beta", 0.5f));
  }, true);
  add("HardSwish", [=](OpBuilder &b, Location loc, ValueRange s, Type t,
                       onnx::NodeOp) {
    return arith::MulFOp::create(
               b, loc, s[0], hardSigmoid(b, loc, s[0], t, 1.0f / 6, 0.5f))
        .getResult();
  }, true);
  // Gelu (opset 20): exact with erf, or the tanh approximation.
  add("Gelu", [](OpBuilder &b, Location loc, ValueRange s, Type t,
                 onnx::NodeOp op) {
    Value x = s[0];
    Value half = constantLike(b, loc, t, 0.5), one = constantLike(b, loc, t, 1.0);
    Value inner;
    auto approx = op.getOnnxAttrs().getAs<StringAttr>("approximate");
    if (approx && approx.getValue() == "tanh") {
      Value x3 = arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
      Value u = arith::AddFOp::create(
          b, loc, x,
          arith::MulFOp::create(b, loc, x3, constantLike(b, loc, t, 0.044715)));
      inner = math::TanhOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, u,
                                constantLike(b, loc, t, std::sqrt(2.0 / M_PI))));
    } else {
      inner = math::ErfOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, x, constantLike(b, loc, t, M_SQRT1_2)));
    }
    return arith::MulFOp::create(
               b, loc, arith::MulFOp::create(b, loc, x, half),
               arith::AddFOp::create(b, loc, one, inner))
        .getResult();
  }, true, /*minOpset=*/20);
  // Clip (opset >= 11): optional min and max inputs.
  add("Clip", [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
    Value x = s[0];
    bool isFloat = isa<FloatType>(t);
    if (s.size() > 1 && s[1])
      x = isFloat ? arith::MaximumFOp::create(b, loc, x, s[1]).getResult()
                  : arith::MaxSIOp::create(b, loc, x, s[1]).getResult();
    if (s.size() > 2 && s[2])
      x = isFloat ? arith::MinimumFOp::create(b, loc, x, s[2]).getResult()
                  : arith::MinSIOp::create(b, loc, x, s[2]).getResult();
    return x;
  }, false, /*minOpset=*/11);
  add("Cast", [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
    return castScalar(b, loc, s[0], t);
  });
}
