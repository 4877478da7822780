//===- Quantization.cpp - QuantizeLinear / DequantizeLinear -----*- C++ -*-===//
//
// The ONNX QDQ pair, per tensor (scalar scale), per axis (1-D scale along
// `axis`) and blocked (opset >= 21: scale of the input's rank, `block_size`
// elements of `axis` per scale). One linalg.generic each; the scale and
// zero point are read through an indexing map (constant, d_axis, or
// d_axis floordiv block_size), so nothing is materialised at full size.
//
//   QuantizeLinear:   y = clamp(roundeven(x / scale) + zp, qmin, qmax)
//   DequantizeLinear: y = (x - zp) * scale
//
// DynamicQuantizeLinear computes its uint8 scale and zero point from its
// input at run time (onnxruntime's dynamic quantization).
//
// Integer quantized types of 2 to 32 bits, signed or unsigned. The float8
// and float4 forms are left to a later issue (LLVM has no such types; they
// need arith's software expansion first).
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

/// The indexing map reading a scale (or zero point) of type `scaleType` for
/// an element of a rank-`rank` tensor of shape `shape`.
FailureOr<AffineMap> scaleMap(MLIRContext *ctx, ArrayRef<int64_t> shape,
                              RankedTensorType scaleType, int64_t axis,
                              int64_t blockSize) {
  int64_t rank = shape.size();
  if (scaleType.getRank() == 0 ||
      (scaleType.getRank() == 1 && scaleType.getDimSize(0) == 1 &&
       blockSize == 0 && (axis < 0 || axis >= rank || shape[axis] != 1)))
    return AffineMap::get(
        rank, 0,
        SmallVector<AffineExpr>(scaleType.getRank(),
                                getAffineConstantExpr(0, ctx)),
        ctx);
  if (axis < 0 || axis >= rank)
    return failure();
  if (blockSize == 0) {
    if (scaleType.getRank() != 1 || scaleType.getDimSize(0) != shape[axis])
      return failure();
    return AffineMap::get(rank, 0, getAffineDimExpr(axis, ctx));
  }
  // Blocked: same rank; the axis is divided into blocks.
  if (scaleType.getRank() != rank || blockSize < 0)
    return failure();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = getAffineDimExpr(d, ctx);
    if (d == axis) {
      if (!ShapedType::isDynamic(shape[d]) &&
          scaleType.getDimSize(d) != (shape[d] + blockSize - 1) / blockSize)
        return failure();
      e = e.floorDiv(blockSize);
    } else if (scaleType.getDimSize(d) != shape[d]) {
      return failure();
    }
    exprs.push_back(e);
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Shared structure of the two patterns: operands, maps, and a body that
/// gets the scalar element, scale and (possibly null) zero point.
struct QDQPattern : ONNXPattern {
  QDQPattern(MLIRContext *ctx, StringRef name, bool quantize)
      : ONNXPattern(ctx, name, /*minOpset=*/10), quantize(quantize) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    auto inputs = op.getInputs();
    if (!resultType || inputs.size() < 2)
      return rewriter.notifyMatchFailure(op, "needs x and a scale");
    Value x = inputs[0], scale = inputs[1];
    Value zp = inputs.size() > 2 && !isa<NoneType>(inputs[2].getType())
                   ? inputs[2]
                   : Value();
    auto xType = dyn_cast<RankedTensorType>(x.getType());
    auto scaleType = dyn_cast<RankedTensorType>(scale.getType());
    if (!xType || !scaleType || !isa<FloatType>(scaleType.getElementType()))
      return rewriter.notifyMatchFailure(op, "unranked operands");
    // The integer side: the result of Q, the input of DQ.
    auto intType =
        dyn_cast<IntegerType>((quantize ? resultType : xType).getElementType());
    if (!intType || intType.getWidth() > 32)
      return rewriter.notifyMatchFailure(
          op, "only integer quantized types are supported (not float8/4)");
    if (quantize ? !isa<FloatType>(xType.getElementType())
                 : !isa<FloatType>(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "float side is not a float");
    int64_t rank = xType.getRank();
    int64_t axis = getIntAttr(op, "axis", 1);
    if (axis < 0)
      axis += rank;
    int64_t block = getIntAttr(op, "block_size", 0);
    MLIRContext *ctx = rewriter.getContext();
    FailureOr<AffineMap> sMap =
        scaleMap(ctx, xType.getShape(), scaleType, axis, block);
    if (failed(sMap))
      return rewriter.notifyMatchFailure(op, "scale shape fits no granularity");
    // The zero point has the scale's granularity (a per-tensor one may be
    // rank 0 or 1 independently of the scale).
    FailureOr<AffineMap> zMap = sMap;
    if (zp)
      zMap = scaleMap(ctx, xType.getShape(),
                      cast<RankedTensorType>(zp.getType()), axis, block);
    if (failed(zMap))
      return rewriter.notifyMatchFailure(
          op, "zero point shape fits no granularity");

    Location loc = op.getLoc();
    bool isUnsigned = intType.isUnsigned();
    unsigned width = intType.getWidth();
    SmallVector<Value> ins{toSignless(rewriter, loc, x), scale};
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank), *sMap};
    if (zp) {
      ins.push_back(toSignless(rewriter, loc, zp));
      maps.push_back(*zMap);
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    auto computeType = cast<RankedTensorType>(signlessType(resultType));
    Value init = emptyLike(rewriter, loc, computeType, x);
    Type floatType = scaleType.getElementType();
    auto toFloat = [&](OpBuilder &b, Value v) -> Value {
      if (isa<FloatType>(v.getType()))
        return v.getType() == floatType
                   ? v
                   : arith::ExtFOp::create(b, loc, floatType, v).getResult();
      return isUnsigned
                 ? arith::UIToFPOp::create(b, loc, floatType, v).getResult()
                 : arith::SIToFPOp::create(b, loc, floatType, v).getResult();
    };
    // The quantized range, as floats of the computation type.
    double qmin = isUnsigned ? 0.0 : -std::ldexp(1.0, width - 1);
    double qmax = isUnsigned ? std::ldexp(1.0, width) - 1
                             : std::ldexp(1.0, width - 1) - 1;
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{computeType}, ins, ValueRange{init}, maps,
        iters, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = toFloat(b, args[0]), s = args[1];
          Value z = zp ? toFloat(b, args[2]) : Value();
          Value out;
          if (quantize) {
            Value q = math::RoundEvenOp::create(
                b, l, arith::DivFOp::create(b, l, v, s));
            if (z)
              q = arith::AddFOp::create(b, l, q, z);
            q = arith::MaximumFOp::create(b, l, q,
                                          floatConst(b, l, floatType, qmin));
            q = arith::MinimumFOp::create(b, l, q,
                                          floatConst(b, l, floatType, qmax));
            Type it = computeType.getElementType();
            out = isUnsigned ? arith::FPToUIOp::create(b, l, it, q).getResult()
                             : arith::FPToSIOp::create(b, l, it, q).getResult();
          } else {
            if (z)
              v = arith::SubFOp::create(b, l, v, z);
            out = arith::MulFOp::create(b, l, v, s);
            Type rt = computeType.getElementType();
            if (rt != out.getType())
              out = arith::TruncFOp::create(b, l, rt, out);
          }
          linalg::YieldOp::create(b, l, out);
        });
    rewriter.replaceOp(
        op, fromSignless(rewriter, loc, generic.getResult(0), resultType));
    return success();
  }

  bool quantize;
};

/// DynamicQuantizeLinear: x to uint8 with a scale and zero point computed
/// from x itself, as onnxruntime does:
///   lo = min(0, min x), hi = max(0, max x)
///   scale = hi == lo ? 1 : (hi - lo) / 255
///   zp = roundeven(clamp(-lo / scale, 0, 255))
///   y = clamp(roundeven(x / scale) + zp, 0, 255)
/// Three linalg.generic: the min/max reduction (both from 0, which is the
/// min(0, .) and max(0, .)), the rank-0 parameters, the elementwise rounding.
struct DynamicQuantizeLinearPattern : ONNXPattern {
  DynamicQuantizeLinearPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "DynamicQuantizeLinear", 11) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    if (op.getNumResults() != 3 || op.getInputs().size() != 1)
      return rewriter.notifyMatchFailure(op, "needs x and three results");
    Value x = op.getInputs()[0];
    auto xType = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType yType = getResultType(op, 0),
                     scaleType = getResultType(op, 1),
                     zpType = getResultType(op, 2);
    if (!xType || !xType.getElementType().isF32() || !yType || !scaleType ||
        !zpType || scaleType.getRank() != 0 || zpType.getRank() != 0 ||
        !yType.getElementType().isUnsignedInteger(8))
      return rewriter.notifyMatchFailure(
          op, "needs f32 x, uint8 y and scalar scale and zero point");
    MLIRContext *ctx = rewriter.getContext();
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type(), i8 = rewriter.getI8Type();
    int64_t rank = xType.getRank();
    auto scalarF32 = RankedTensorType::get({}, f32);
    AffineMap all = rewriter.getMultiDimIdentityMap(rank);
    AffineMap none = AffineMap::get(rank, 0, {}, ctx);
    auto zeroInit = [&]() {
      Value empty = tensor::EmptyOp::create(rewriter, loc, scalarF32, {});
      return linalg::FillOp::create(rewriter, loc,
                                    floatConst(rewriter, loc, f32, 0.0), empty)
          .getResult(0);
    };
    auto range = linalg::GenericOp::create(
        rewriter, loc, TypeRange{scalarF32, scalarF32}, ValueRange{x},
        ValueRange{zeroInit(), zeroInit()}, {all, none, none},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value lo = arith::MinNumFOp::create(b, l, args[1], args[0]);
          Value hi = arith::MaxNumFOp::create(b, l, args[2], args[0]);
          linalg::YieldOp::create(b, l, ValueRange{lo, hi});
        });
    // The parameters: scale, zero point as f32 (for y) and as uint8.
    auto scalarI8 = RankedTensorType::get({}, i8);
    AffineMap scalar = AffineMap::get(0, 0, {}, ctx);
    auto params = linalg::GenericOp::create(
        rewriter, loc, TypeRange{scalarF32, scalarF32, scalarI8},
        range.getResults(),
        ValueRange{tensor::EmptyOp::create(rewriter, loc, scalarF32, {}),
                   tensor::EmptyOp::create(rewriter, loc, scalarF32, {}),
                   tensor::EmptyOp::create(rewriter, loc, scalarI8, {})},
        SmallVector<AffineMap>(5, scalar), {},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value lo = args[0], hi = args[1];
          Value same =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, hi, lo);
          Value scale = arith::SelectOp::create(
              b, l, same, floatConst(b, l, f32, 1.0),
              arith::DivFOp::create(b, l, arith::SubFOp::create(b, l, hi, lo),
                                    floatConst(b, l, f32, 255.0)));
          Value zp = arith::NegFOp::create(
              b, l, arith::DivFOp::create(b, l, lo, scale));
          zp = arith::MaximumFOp::create(b, l, zp, floatConst(b, l, f32, 0.0));
          zp =
              arith::MinimumFOp::create(b, l, zp, floatConst(b, l, f32, 255.0));
          zp = math::RoundEvenOp::create(b, l, zp);
          Value zpInt = arith::FPToUIOp::create(b, l, i8, zp);
          linalg::YieldOp::create(b, l, ValueRange{scale, zp, zpInt});
        });
    Value scale = params.getResult(0), zpFloat = params.getResult(1);
    auto yCompute = RankedTensorType::get(xType.getShape(), i8);
    Value yInit = emptyLike(rewriter, loc, yCompute, x);
    auto y = linalg::GenericOp::create(
        rewriter, loc, TypeRange{yCompute}, ValueRange{x, scale, zpFloat},
        ValueRange{yInit}, {all, none, none, all},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value q = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, args[0], args[1]));
          q = arith::AddFOp::create(b, l, q, args[2]);
          q = arith::MaximumFOp::create(b, l, q, floatConst(b, l, f32, 0.0));
          q = arith::MinimumFOp::create(b, l, q, floatConst(b, l, f32, 255.0));
          linalg::YieldOp::create(
              b, l, arith::FPToUIOp::create(b, l, i8, q).getResult());
        });
    rewriter.replaceOp(
        op, {fromSignless(rewriter, loc, y.getResult(0), yType), scale,
             fromSignless(rewriter, loc, params.getResult(2), zpType)});
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXQuantizationPatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<QDQPattern>(ctx, "QuantizeLinear", /*quantize=*/true);
  patterns.add<QDQPattern>(ctx, "DequantizeLinear", /*quantize=*/false);
  patterns.add<DynamicQuantizeLinearPattern>(ctx);
}
