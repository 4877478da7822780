//===- Elementwise.cpp - Elementwise ONNX ops to linalg ---------*- C++ -*-===//
//
// Arithmetic, comparison, logic, Where, Cast, Clip and the unary math and
// activation ops: one linalg.generic each, with numpy broadcasting. Float
// and integer element types; unsigned operands are bitcast to signless and
// take the unsigned arith ops (divui, cmpi ult, maxui, uitofp, ...).
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
bool isSupportedElement(Type t) { return isa<IntegerType, FloatType>(t); }

/// True if the node's first operand is unsigned (ONNX ops take operands of
/// one type, so this decides the signedness of the arithmetic).
bool isUnsignedNode(onnx::NodeOp op) {
  return !op.getInputs().empty() &&
         isUnsignedElement(op.getInputs().front().getType());
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
    // CastLike's second operand only names the type.
    ValueRange operands = op.getInputs();
    if (getOpType() == "CastLike")
      operands = operands.take_front(1);
    for (Value v : operands) {
      if (isa<NoneType>(v.getType()))
        continue; // absent optional input (Clip's min/max)
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t || !isSupportedElement(t.getElementType()))
        return rewriter.notifyMatchFailure(op, "unsupported operand type");
      if (floatOnly && !isa<FloatType>(t.getElementType()))
        return rewriter.notifyMatchFailure(op, "float-only op");
      inputs.push_back(toSignless(rewriter, op.getLoc(), v));
    }
    // Clip needs to know which bounds are present: pass them positionally.
    SmallVector<bool> present;
    for (Value v : operands)
      present.push_back(!isa<NoneType>(v.getType()));
    auto computeType = cast<RankedTensorType>(signlessType(resultType));
    FailureOr<Value> result = buildBroadcastGeneric(
        rewriter, op.getLoc(), computeType, inputs,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          SmallVector<Value> scalars;
          size_t next = 0;
          for (bool p : present)
            scalars.push_back(p ? args[next++] : Value());
          return fn(b, loc, scalars, computeType.getElementType(), op);
        });
    if (failed(result))
      return rewriter.notifyMatchFailure(op, "shapes do not broadcast");
    rewriter.replaceOp(
        op, fromSignless(rewriter, op.getLoc(), *result, resultType));
    return success();
  }

private:
  ScalarFn fn;
  bool floatOnly;
};

/// A binary op with a float, a signed and an unsigned integer form.
template <typename FOp, typename IOp, typename UOp = IOp> ScalarFn binary() {
  return [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp op) {
    if (isa<FloatType>(s[0].getType()))
      return FOp::create(b, loc, s[0], s[1]).getResult();
    if (isUnsignedNode(op))
      return UOp::create(b, loc, s[0], s[1]).getResult();
    return IOp::create(b, loc, s[0], s[1]).getResult();
  };
}

/// A variadic op (Max, Min, Sum): folds the binary form over the operands.
template <typename FOp, typename IOp, typename UOp = IOp> ScalarFn variadic() {
  return [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp op) {
    Value acc = s[0];
    bool isUnsigned = isUnsignedNode(op);
    for (Value v : s.drop_front())
      acc = isa<FloatType>(v.getType())
                ? FOp::create(b, loc, acc, v).getResult()
            : isUnsigned ? UOp::create(b, loc, acc, v).getResult()
                         : IOp::create(b, loc, acc, v).getResult();
    return acc;
  };
}

template <typename Op> ScalarFn unary() {
  return [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return Op::create(b, loc, s[0]).getResult();
  };
}

ScalarFn compare(arith::CmpFPredicate fp, arith::CmpIPredicate ip,
                 arith::CmpIPredicate up) {
  return [=](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp op) {
    if (isa<FloatType>(s[0].getType()))
      return arith::CmpFOp::create(b, loc, fp, s[0], s[1]).getResult();
    return arith::CmpIOp::create(b, loc, isUnsignedNode(op) ? up : ip, s[0],
                                 s[1])
        .getResult();
  };
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value one = constantLike(b, loc, t, 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, e));
}

/// Casts scalar `v` to `to` (both signless); `fromUnsigned` / `toUnsigned`
/// give the ONNX signedness of the two integer types.
Value castScalar(OpBuilder &b, Location loc, Value v, Type to,
                 bool fromUnsigned = false, bool toUnsigned = false) {
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
  bool zeroExtend = from.isInteger(1) || fromUnsigned;
  if (toF)
    return zeroExtend ? arith::UIToFPOp::create(b, loc, to, v).getResult()
                      : arith::SIToFPOp::create(b, loc, to, v).getResult();
  if (fromF)
    return toUnsigned ? arith::FPToUIOp::create(b, loc, to, v).getResult()
                      : arith::FPToSIOp::create(b, loc, to, v).getResult();
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return zeroExtend ? arith::ExtUIOp::create(b, loc, to, v).getResult()
                      : arith::ExtSIOp::create(b, loc, to, v).getResult();
  return arith::TruncIOp::create(b, loc, to, v);
}

} // namespace

void mlir::lowbit::populateONNXElementwisePatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  auto add = [&](StringRef name, ScalarFn fn, bool floatOnly = false,
                 int64_t minOpset = 1) {
    patterns.add<ElementwisePattern>(ctx, name, std::move(fn), floatOnly,
                                     minOpset);
  };
  add("Add", binary<arith::AddFOp, arith::AddIOp>());
  add("Sub", binary<arith::SubFOp, arith::SubIOp>());
  add("Mul", binary<arith::MulFOp, arith::MulIOp>());
  // Div: integer division truncates; a divisor of 0 gives 0 (numpy's
  // result; ONNX leaves it undefined) and INT_MIN / -1 gives INT_MIN, so
  // that no input can trap the process.
  add("Div", [](OpBuilder &b, Location loc, ValueRange s, Type t,
                onnx::NodeOp op) {
    if (isa<FloatType>(t))
      return arith::DivFOp::create(b, loc, s[0], s[1]).getResult();
    Value zero = constantLike(b, loc, t, 0);
    Value byZero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, s[1], zero);
    Value one = constantLike(b, loc, t, 1);
    Value d = arith::SelectOp::create(b, loc, byZero, one, s[1]);
    Value q;
    if (isUnsignedNode(op)) {
      q = arith::DivUIOp::create(b, loc, s[0], d);
    } else {
      unsigned w = t.getIntOrFloatBitWidth();
      Value minValue = arith::ConstantOp::create(
          b, loc, b.getIntegerAttr(t, APInt::getSignedMinValue(w)));
      Value minusOne = arith::ConstantOp::create(
          b, loc, b.getIntegerAttr(t, APInt::getAllOnes(w)));
      Value overflow = arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, s[0],
                                minValue),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, d, minusOne));
      d = arith::SelectOp::create(b, loc, overflow, one, d);
      q = arith::DivSIOp::create(b, loc, s[0], d);
    }
    return arith::SelectOp::create(b, loc, byZero, zero, q).getResult();
  });
  // Pow: the result has the base's type; the exponent may be int or float.
  add("Pow",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        Value base = s[0], exp = s[1];
        bool floatBase = isa<FloatType>(base.getType());
        bool floatExp = isa<FloatType>(exp.getType());
        bool expUnsigned = isUnsignedElement(op.getInputs()[1].getType());
        if (floatBase && floatExp) {
          if (exp.getType() != t)
            exp = castScalar(b, loc, exp, t);
          return math::PowFOp::create(b, loc, base, exp).getResult();
        }
        if (floatBase)
          return math::FPowIOp::create(b, loc, base, exp).getResult();
        if (!floatExp) {
          if (exp.getType() != t)
            exp = castScalar(b, loc, exp, t, expUnsigned);
          return math::IPowIOp::create(b, loc, base, exp).getResult();
        }
        // Integer base, float exponent: computed in the exponent's type.
        Value fb = castScalar(b, loc, base, exp.getType(), isUnsignedNode(op));
        Value r = math::PowFOp::create(b, loc, fb, exp);
        return castScalar(b, loc, r, t, false, isUnsignedNode(op));
      });
  // Mod: fmod = 1 takes the dividend's sign (C's fmod; required for
  // floats), fmod = 0 the divisor's (Python's %). An integer divisor of 0
  // gives 0 (numpy's result) instead of a trap.
  add("Mod", [](OpBuilder &b, Location loc, ValueRange s, Type t,
                onnx::NodeOp op) {
    bool fmod = getIntAttr(op, "fmod", 0) != 0;
    if (isa<FloatType>(t)) {
      Value r = arith::RemFOp::create(b, loc, s[0], s[1]);
      if (fmod)
        return r;
      // numpy's mod: a nonzero remainder whose sign differs from the
      // divisor's moves by one divisor (-3 mod inf = inf), a zero one
      // takes the divisor's sign; NaN stays NaN.
      Value zero = constantLike(b, loc, t, 0);
      Value rNeg =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, r, zero);
      Value dNeg =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, s[1], zero);
      Value isZero =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, r, zero);
      Value differ = arith::AndIOp::create(
          b, loc, arith::XOrIOp::create(b, loc, rNeg, dNeg),
          arith::XOrIOp::create(b, loc, isZero,
                                constantLike(b, loc, b.getI1Type(), 1)));
      r = arith::SelectOp::create(b, loc, differ,
                                  arith::AddFOp::create(b, loc, r, s[1]), r);
      Value signedZero = math::CopySignOp::create(b, loc, zero, s[1]);
      return arith::SelectOp::create(b, loc, isZero, signedZero, r).getResult();
    }
    Value zero = constantLike(b, loc, t, 0);
    Value byZero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, s[1], zero);
    Value d = arith::SelectOp::create(b, loc, byZero,
                                      constantLike(b, loc, t, 1), s[1]);
    Value r;
    if (isUnsignedNode(op)) {
      r = arith::RemUIOp::create(b, loc, s[0], d);
    } else {
      // x % -1 is 0 for every x; as 1 it cannot trap on INT_MIN.
      Value minusOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             d, constantLike(b, loc, t, -1));
      d = arith::SelectOp::create(b, loc, minusOne, constantLike(b, loc, t, 1),
                                  d);
      r = arith::RemSIOp::create(b, loc, s[0], d);
      if (!fmod) {
        // A nonzero remainder whose sign differs from the divisor's
        // moves by one divisor.
        Value rNeg =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, zero);
        Value dNeg =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, d, zero);
        Value nonzero =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, r, zero);
        Value differ = arith::AndIOp::create(
            b, loc, nonzero, arith::XOrIOp::create(b, loc, rNeg, dNeg));
        r = arith::SelectOp::create(b, loc, differ,
                                    arith::AddIOp::create(b, loc, r, d), r);
      }
    }
    return arith::SelectOp::create(b, loc, byZero, zero, r).getResult();
  });
  // BitShift: a shift amount is read as unsigned, so a negative one is past
  // the width. Past the width, LEFT gives 0 and RIGHT the sign fill (0 for
  // unsigned types); RIGHT on signed types is arithmetic.
  add("BitShift", [](OpBuilder &b, Location loc, ValueRange s, Type t,
                     onnx::NodeOp op) {
    auto direction = op.getOnnxAttrs().getAs<StringAttr>("direction");
    bool left = direction && direction.getValue() == "LEFT";
    bool isSigned = !isUnsignedNode(op);
    unsigned width = t.getIntOrFloatBitWidth();
    Value tooFar = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                         s[1], constantLike(b, loc, t, width));
    Value amount = arith::SelectOp::create(
        b, loc, tooFar, constantLike(b, loc, t, width - 1), s[1]);
    if (left) {
      Value shifted = arith::ShLIOp::create(b, loc, s[0], amount);
      return arith::SelectOp::create(b, loc, tooFar, constantLike(b, loc, t, 0),
                                     shifted)
          .getResult();
    }
    if (isSigned)
      return arith::ShRSIOp::create(b, loc, s[0], amount).getResult();
    Value shifted = arith::ShRUIOp::create(b, loc, s[0], amount);
    return arith::SelectOp::create(b, loc, tooFar, constantLike(b, loc, t, 0),
                                   shifted)
        .getResult();
  });
  add("Max", variadic<arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp>());
  add("Min", variadic<arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp>());
  add("Sum", variadic<arith::AddFOp, arith::AddIOp>());
  using P = arith::CmpIPredicate;
  add("Equal", compare(arith::CmpFPredicate::OEQ, P::eq, P::eq));
  add("Less", compare(arith::CmpFPredicate::OLT, P::slt, P::ult));
  add("LessOrEqual", compare(arith::CmpFPredicate::OLE, P::sle, P::ule));
  add("Greater", compare(arith::CmpFPredicate::OGT, P::sgt, P::ugt));
  add("GreaterOrEqual", compare(arith::CmpFPredicate::OGE, P::sge, P::uge));
  add("And", binary<arith::AndIOp, arith::AndIOp>());
  add("Or", binary<arith::OrIOp, arith::OrIOp>());
  add("Xor", binary<arith::XOrIOp, arith::XOrIOp>());
  add("Not", [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
    return arith::XOrIOp::create(b, loc, s[0],
                                 constantLike(b, loc, s[0].getType(), 1))
        .getResult();
  });
  add("Where",
      [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
        return arith::SelectOp::create(b, loc, s[0], s[1], s[2]).getResult();
      });
  add("Neg",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
        if (isa<FloatType>(t))
          return arith::NegFOp::create(b, loc, s[0]).getResult();
        return arith::SubIOp::create(b, loc, constantLike(b, loc, t, 0), s[0])
            .getResult();
      });
  add("Abs",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
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
  add(
      "Reciprocal",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
        return arith::DivFOp::create(b, loc, constantLike(b, loc, t, 1.0), s[0])
            .getResult();
      },
      true);
  add(
      "Sigmoid",
      [](OpBuilder &b, Location loc, ValueRange s, Type, onnx::NodeOp) {
        return sigmoid(b, loc, s[0]);
      },
      true);
  add(
      "Relu",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
        return arith::MaximumFOp::create(b, loc, s[0],
                                         constantLike(b, loc, t, 0.0))
            .getResult();
      },
      true);
  add(
      "LeakyRelu",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        Value zero = constantLike(b, loc, t, 0.0);
        Value alpha = constantLike(b, loc, t, getFloatAttr(op, "alpha", 0.01f));
        Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                          s[0], zero);
        return arith::SelectOp::create(
                   b, loc, pos, s[0],
                   arith::MulFOp::create(b, loc, s[0], alpha))
            .getResult();
      },
      true);
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
  add(
      "HardSigmoid",
      [=](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        return hardSigmoid(b, loc, s[0], t, getFloatAttr(op, "alpha", 0.2f),
                           getFloatAttr(op, "beta", 0.5f));
      },
      true);
  add(
      "HardSwish",
      [=](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp) {
        return arith::MulFOp::create(
                   b, loc, s[0], hardSigmoid(b, loc, s[0], t, 1.0f / 6, 0.5f))
            .getResult();
      },
      true);
  // Gelu (opset 20): exact with erf, or the tanh approximation.
  add(
      "Gelu",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        Value x = s[0];
        Value half = constantLike(b, loc, t, 0.5),
              one = constantLike(b, loc, t, 1.0);
        Value inner;
        auto approx = op.getOnnxAttrs().getAs<StringAttr>("approximate");
        if (approx && approx.getValue() == "tanh") {
          Value x3 = arith::MulFOp::create(b, loc, x,
                                           arith::MulFOp::create(b, loc, x, x));
          Value u = arith::AddFOp::create(
              b, loc, x,
              arith::MulFOp::create(b, loc, x3,
                                    constantLike(b, loc, t, 0.044715)));
          inner = math::TanhOp::create(
              b, loc,
              arith::MulFOp::create(
                  b, loc, u, constantLike(b, loc, t, std::sqrt(2.0 / M_PI))));
        } else {
          inner = math::ErfOp::create(
              b, loc,
              arith::MulFOp::create(b, loc, x,
                                    constantLike(b, loc, t, M_SQRT1_2)));
        }
        return arith::MulFOp::create(b, loc,
                                     arith::MulFOp::create(b, loc, x, half),
                                     arith::AddFOp::create(b, loc, one, inner))
            .getResult();
      },
      true, /*minOpset=*/20);
  // Clip (opset >= 11): optional min and max inputs.
  add(
      "Clip",
      [](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        Value x = s[0];
        bool isFloat = isa<FloatType>(t), isUnsigned = isUnsignedNode(op);
        if (s.size() > 1 && s[1])
          x = isFloat ? arith::MaximumFOp::create(b, loc, x, s[1]).getResult()
              : isUnsigned
                  ? arith::MaxUIOp::create(b, loc, x, s[1]).getResult()
                  : arith::MaxSIOp::create(b, loc, x, s[1]).getResult();
        if (s.size() > 2 && s[2])
          x = isFloat ? arith::MinimumFOp::create(b, loc, x, s[2]).getResult()
              : isUnsigned
                  ? arith::MinUIOp::create(b, loc, x, s[2]).getResult()
                  : arith::MinSIOp::create(b, loc, x, s[2]).getResult();
        return x;
      },
      false, /*minOpset=*/11);
  auto cast = [](OpBuilder &b, Location loc, ValueRange s, Type t,
                 onnx::NodeOp op) {
    return castScalar(b, loc, s[0], t, isUnsignedNode(op),
                      isUnsignedElement(op->getResult(0).getType()));
  };
  add("Cast", cast);
  // CastLike (opset >= 15): the cast to the second operand's type, which
  // is the result type.
  add(
      "CastLike",
      [=](OpBuilder &b, Location loc, ValueRange s, Type t, onnx::NodeOp op) {
        return cast(b, loc, s, t, op);
      },
      false, /*minOpset=*/15);
}
