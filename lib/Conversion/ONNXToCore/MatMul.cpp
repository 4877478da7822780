//===- MatMul.cpp - MatMul and Gemm to linalg -------------------*- C++ -*-===//
//
// MatMul with numpy batch broadcasting (both operands of rank >= 2) and Gemm
// (transA/transB, alpha, beta, an optional broadcast C), as contractions in
// linalg.generic accumulating in the element type; MatMulInteger (8-bit
// operands minus their zero points, exact in i32) and QLinearMatMul (that,
// requantized in f32 as onnxruntime does).
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

Value zeroOf(OpBuilder &b, Location loc, Type t) {
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
}

/// result[batch..., m, n] = sum_k a[..., m, k] * b[..., k, n], where the
/// operand maps are given over the loops (batch..., m, n, k).
FailureOr<Value>
buildContraction(OpBuilder &b, Location loc, RankedTensorType resultType,
                 Value lhs, Value rhs, AffineMap lhsMap, AffineMap rhsMap,
                 ArrayRef<std::pair<Value, int64_t>> dimSources) {
  int64_t rank = resultType.getRank();
  Type elem = resultType.getElementType();
  SmallVector<Value> dynSizes;
  for (int64_t d = 0; d < rank; ++d)
    if (resultType.isDynamicDim(d)) {
      if (!dimSources[d].first)
        return failure();
      dynSizes.push_back(tensor::DimOp::create(b, loc, dimSources[d].first,
                                               dimSources[d].second));
    }
  Value init =
      tensor::EmptyOp::create(b, loc, resultType.getShape(), elem, dynSizes);
  Value acc =
      linalg::FillOp::create(b, loc, zeroOf(b, loc, elem), init).getResult(0);
  SmallVector<AffineMap> maps{
      lhsMap, rhsMap,
      AffineMap::getMultiDimIdentityMap(rank + 1, b.getContext())
          .getMajorSubMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  bool isFloat = isa<FloatType>(elem);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{lhs, rhs}, ValueRange{acc},
      maps, iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value prod =
            isFloat
                ? arith::MulFOp::create(nb, l, args[0], args[1]).getResult()
                : arith::MulIOp::create(nb, l, args[0], args[1]).getResult();
        Value sum =
            isFloat ? arith::AddFOp::create(nb, l, args[2], prod).getResult()
                    : arith::AddIOp::create(nb, l, args[2], prod).getResult();
        linalg::YieldOp::create(nb, l, sum);
      });
  return generic.getResult(0);
}

/// MatMul of operands of rank >= 2 with numpy batch broadcasting.
FailureOr<Value> buildMatMul(OpBuilder &b, Location loc,
                             RankedTensorType resultType, Value lhs,
                             Value rhs) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = resultType.getRank();
  int64_t batch = rank - 2;
  AffineExpr m = getAffineDimExpr(batch, ctx),
             n = getAffineDimExpr(batch + 1, ctx),
             k = getAffineDimExpr(batch + 2, ctx);
  SmallVector<std::pair<Value, int64_t>> sources(rank, {Value(), 0});
  auto operandMap = [&](Value v, RankedTensorType t, AffineExpr row,
                        AffineExpr col, int64_t rowDim, int64_t colDim) {
    SmallVector<AffineExpr> exprs;
    int64_t offset = batch - (t.getRank() - 2);
    for (int64_t j = 0; j < t.getRank() - 2; ++j) {
      int64_t d = j + offset;
      bool broadcast = t.getDimSize(j) == 1 && resultType.getDimSize(d) != 1;
      exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                : getAffineDimExpr(d, ctx));
      if (!broadcast && !sources[d].first)
        sources[d] = {v, j};
    }
    exprs.push_back(row);
    exprs.push_back(col);
    if (rowDim >= 0)
      sources[rowDim] = {v, t.getRank() - 2};
    if (colDim >= 0)
      sources[colDim] = {v, t.getRank() - 1};
    return AffineMap::get(rank + 1, 0, exprs, ctx);
  };
  AffineMap lhsMap = operandMap(lhs, lhsType, m, k, batch, -1);
  AffineMap rhsMap = operandMap(rhs, rhsType, k, n, -1, batch + 1);
  return buildContraction(b, loc, resultType, lhs, rhs, lhsMap, rhsMap,
                          sources);
}

/// MatMul; a 1-D operand is promoted to a matrix (a row on the left, a
/// column on the right) and the added dimension removed from the result.
struct MatMulPattern : ONNXPattern {
  MatMulPattern(MLIRContext *ctx) : ONNXPattern(ctx, "MatMul") {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    Value lhs = op.getInputs()[0], rhs = op.getInputs()[1];
    auto lhsType = dyn_cast<RankedTensorType>(lhs.getType());
    auto rhsType = dyn_cast<RankedTensorType>(rhs.getType());
    if (!resultType || !lhsType || !rhsType || lhsType.getRank() < 1 ||
        rhsType.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
    // The full result type, with the promoted dimensions; checked against
    // the operands' ranks before any op is built (a result type that
    // disagrees, as a corrupt model may give, is refused).
    int64_t operandRank =
        std::max<int64_t>(std::max<int64_t>(lhsType.getRank(), 2),
                          std::max<int64_t>(rhsType.getRank(), 2));
    if (resultType.getRank() != operandRank - lhsVector - rhsVector)
      return rewriter.notifyMatchFailure(op, "result rank");
    SmallVector<int64_t> shape(resultType.getShape());
    if (lhsVector)
      shape.insert(shape.end() - (rhsVector ? 0 : 1), 1);
    if (rhsVector)
      shape.push_back(1);
    auto promote = [&](Value v, RankedTensorType t, bool asRow) {
      SmallVector<int64_t> shape{1, t.getDimSize(0)};
      SmallVector<Value> sizes{indexConst(rewriter, loc, 1),
                               dimSize(rewriter, loc, v, 0)};
      if (!asRow) {
        std::swap(shape[0], shape[1]);
        std::swap(sizes[0], sizes[1]);
      }
      return reshapeTo(rewriter, loc, v,
                       RankedTensorType::get(shape, t.getElementType()), sizes);
    };
    if (lhsVector)
      lhs = promote(lhs, lhsType, /*asRow=*/true);
    if (rhsVector)
      rhs = promote(rhs, rhsType, /*asRow=*/false);
    auto fullType = RankedTensorType::get(shape, resultType.getElementType());
    FailureOr<Value> result = buildMatMul(rewriter, loc, fullType, lhs, rhs);
    if (failed(result))
      return rewriter.notifyMatchFailure(op, "cannot size the result");
    Value out = *result;
    if (lhsVector || rhsVector) {
      SmallVector<Value> sizes;
      int64_t full = shape.size();
      for (int64_t d = 0; d < full; ++d) {
        bool dropped =
            (rhsVector && d == full - 1) || (lhsVector && d == full - 2);
        if (!dropped)
          sizes.push_back(dimSize(rewriter, loc, out, d));
      }
      out = reshapeTo(rewriter, loc, out, resultType, sizes);
    }
    rewriter.replaceOp(op, out);
    return success();
  }
};

struct GemmPattern : ONNXPattern {
  GemmPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Gemm") {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    auto aType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    auto bType = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
    if (!resultType || !aType || !bType || aType.getRank() != 2 ||
        bType.getRank() != 2 || !isa<FloatType>(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs 2-D float operands");
    bool transA = getIntAttr(op, "transA", 0),
         transB = getIntAttr(op, "transB", 0);
    MLIRContext *ctx = op.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    Value a = op.getInputs()[0], bv = op.getInputs()[1];
    AffineMap aMap = AffineMap::get(3, 0,
                                    transA ? SmallVector<AffineExpr>{k, m}
                                           : SmallVector<AffineExpr>{m, k},
                                    ctx);
    AffineMap bMap = AffineMap::get(3, 0,
                                    transB ? SmallVector<AffineExpr>{n, k}
                                           : SmallVector<AffineExpr>{k, n},
                                    ctx);
    SmallVector<std::pair<Value, int64_t>> sources{{a, transA ? 1 : 0},
                                                   {bv, transB ? 0 : 1}};
    Location loc = op.getLoc();
    FailureOr<Value> ab =
        buildContraction(rewriter, loc, resultType, a, bv, aMap, bMap, sources);
    if (failed(ab))
      return rewriter.notifyMatchFailure(op, "cannot size the result");
    float alpha = getFloatAttr(op, "alpha", 1.0f);
    float beta = getFloatAttr(op, "beta", 1.0f);
    Type elem = resultType.getElementType();
    SmallVector<Value> inputs{*ab};
    bool hasC = op.getInputs().size() > 2 &&
                !isa<NoneType>(op.getInputs()[2].getType());
    if (hasC)
      inputs.push_back(op.getInputs()[2]);
    Value result = *ab;
    if (alpha != 1.0f || hasC) {
      FailureOr<Value> scaled = buildBroadcastGeneric(
          rewriter, loc, resultType, inputs,
          [&](OpBuilder &b, Location l, ValueRange s) {
            Value y = s[0];
            if (alpha != 1.0f)
              y = arith::MulFOp::create(
                  b, l, y,
                  arith::ConstantOp::create(b, l, b.getFloatAttr(elem, alpha)));
            if (s.size() > 1) {
              Value c = s[1];
              if (beta != 1.0f)
                c = arith::MulFOp::create(
                    b, l, c,
                    arith::ConstantOp::create(b, l,
                                              b.getFloatAttr(elem, beta)));
              y = arith::AddFOp::create(b, l, y, c);
            }
            return y;
          });
      if (failed(scaled))
        return rewriter.notifyMatchFailure(op, "C does not broadcast");
      result = *scaled;
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// `v` (8-bit integers, signed or unsigned as its ONNX type says) widened to
/// i32 minus the zero point `zp` (a scalar, or per `lastDim` entries along
/// the last dimension; null: 0). Failure if `zp` has another shape.
FailureOr<Value> widenMinusZeroPoint(OpBuilder &b, Location loc, Value v,
                                     Value zp, bool perLastDimAllowed) {
  auto type = cast<RankedTensorType>(v.getType());
  bool isUnsigned = isUnsignedElement(type);
  SmallVector<Value> inputs{toSignless(b, loc, v)};
  if (zp) {
    auto zType = dyn_cast<RankedTensorType>(zp.getType());
    if (!zType || zType.getElementType() != type.getElementType())
      return failure();
    bool scalar = zType.getNumElements() == 1 && zType.getRank() <= 1;
    bool perLast = perLastDimAllowed && zType.getRank() == 1 &&
                   zType.getDimSize(0) == type.getShape().back();
    if (!scalar && !perLast)
      return failure();
    inputs.push_back(toSignless(b, loc, zp));
  }
  return buildBroadcastGeneric(
      b, loc, RankedTensorType::get(type.getShape(), b.getI32Type()), inputs,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value x = widenToI32(nb, l, args[0], isUnsigned);
        return args.size() > 1
                   ? arith::SubIOp::create(
                         nb, l, x, widenToI32(nb, l, args[1], isUnsigned))
                         .getResult()
                   : x;
      });
}

/// MatMulInteger: int32 result = (A - a_zero_point) x (B - b_zero_point),
/// 8-bit operands of rank >= 2 with MatMul's batch broadcasting; a_zero_point
/// a scalar, b_zero_point a scalar or one per column (N). Exact: products
/// and sums in i32.
struct MatMulIntegerPattern : ONNXPattern {
  MatMulIntegerPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "MatMulInteger", 10) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    auto inputs = op.getInputs();
    auto operand = [&](unsigned i) {
      return i < inputs.size() && !isa<NoneType>(inputs[i].getType())
                 ? inputs[i]
                 : Value();
    };
    Value a = operand(0), bv = operand(1);
    auto aType = a ? dyn_cast<RankedTensorType>(a.getType()) : nullptr;
    auto bType = bv ? dyn_cast<RankedTensorType>(bv.getType()) : nullptr;
    if (!resultType || !aType || !bType || aType.getRank() < 2 ||
        bType.getRank() < 2 || !resultType.getElementType().isInteger(32) ||
        !aType.getElementType().isInteger(8) ||
        !bType.getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(
          op, "needs 8-bit integer operands of rank >= 2 and an i32 result");
    Location loc = op.getLoc();
    FailureOr<Value> lhs =
        widenMinusZeroPoint(rewriter, loc, a, operand(2), false);
    FailureOr<Value> rhs =
        widenMinusZeroPoint(rewriter, loc, bv, operand(3), true);
    if (failed(lhs) || failed(rhs))
      return rewriter.notifyMatchFailure(
          op, "zero points: a scalar (A), a scalar or one per column (B)");
    auto computeType = cast<RankedTensorType>(signlessType(resultType));
    FailureOr<Value> result =
        buildMatMul(rewriter, loc, computeType, *lhs, *rhs);
    if (failed(result))
      return rewriter.notifyMatchFailure(op, "cannot size the result");
    rewriter.replaceOp(op, fromSignless(rewriter, loc, *result, resultType));
    return success();
  }
};

/// QLinearMatMul: MatMulInteger's exact i32 product, requantized as
/// onnxruntime does,
///   y = clamp(roundeven(float(acc) * (a_scale * b_scale / y_scale)) + y_zp)
/// in f32; a's scale and zero point scalars, b's scalars or one per column,
/// y's scalars.
struct QLinearMatMulPattern : ONNXPattern {
  QLinearMatMulPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "QLinearMatMul", 10) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    auto in = op.getInputs();
    if (in.size() != 8 || !resultType ||
        !resultType.getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(op, "needs 8 inputs, 8-bit result");
    for (Value v : in)
      if (isa<NoneType>(v.getType()))
        return rewriter.notifyMatchFailure(op, "every input is required");
    auto aType = dyn_cast<RankedTensorType>(in[0].getType());
    auto bType = dyn_cast<RankedTensorType>(in[3].getType());
    if (!aType || !bType || aType.getRank() < 2 || bType.getRank() < 2 ||
        !aType.getElementType().isInteger(8) ||
        !bType.getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(
          op, "needs 8-bit integer operands of rank >= 2");
    int64_t n = bType.getShape().back();
    auto scalarOrColumns = [&](Value v, bool columns) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      return t && ((t.getNumElements() == 1 && t.getRank() <= 1) ||
                   (columns && t.getRank() == 1 && t.getDimSize(0) == n));
    };
    if (!scalarOrColumns(in[1], false) || !scalarOrColumns(in[4], true) ||
        !scalarOrColumns(in[6], false) || !scalarOrColumns(in[7], false) ||
        !isa<FloatType>(
            cast<RankedTensorType>(in[1].getType()).getElementType()))
      return rewriter.notifyMatchFailure(
          op, "scales and zero points: scalars (b: or one per column)");
    Location loc = op.getLoc();
    FailureOr<Value> lhs =
        widenMinusZeroPoint(rewriter, loc, in[0], in[2], false);
    FailureOr<Value> rhs =
        widenMinusZeroPoint(rewriter, loc, in[3], in[5], true);
    if (failed(lhs) || failed(rhs))
      return rewriter.notifyMatchFailure(op, "zero points");
    auto accType =
        RankedTensorType::get(resultType.getShape(), rewriter.getI32Type());
    FailureOr<Value> acc = buildMatMul(rewriter, loc, accType, *lhs, *rhs);
    if (failed(acc))
      return rewriter.notifyMatchFailure(op, "cannot size the result");
    bool outUnsigned = isUnsignedElement(resultType);
    auto computeType = cast<RankedTensorType>(signlessType(resultType));
    FailureOr<Value> y = buildBroadcastGeneric(
        rewriter, loc, computeType,
        {*acc, in[1], in[4], in[6], toSignless(rewriter, loc, in[7])},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return requantize(b, l, args[0], args[1], args[2], args[3], args[4],
                            outUnsigned);
        });
    if (failed(y))
      return rewriter.notifyMatchFailure(op, "scales do not broadcast");
    rewriter.replaceOp(op, fromSignless(rewriter, loc, *y, resultType));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXMatMulPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulPattern, GemmPattern, MatMulIntegerPattern,
               QLinearMatMulPattern>(patterns.getContext());
}
