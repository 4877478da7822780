//===- IntegerConvolution.cpp - ConvInteger and QLinearConv -----*- C++ -*-===//
//
// The integer convolutions onnxruntime's quantizers write (quantize_dynamic:
// ConvInteger; quantize_static in QOperator form: QLinearConv), exact in
// i32 on the 2-D convolutions of Convolution.cpp.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// How an element of a rank-`rank` tensor reads a quantization parameter
/// `p`: one value (rank 0 or [1]), or one per index of dimension `axis`
/// (-1: not allowed). std::nullopt otherwise.
std::optional<AffineMap> paramMap(MLIRContext *ctx, Value p, int64_t rank,
                                  int64_t axis, int64_t axisSize) {
  auto t = dyn_cast<RankedTensorType>(p.getType());
  if (!t)
    return std::nullopt;
  if (t.getRank() == 0)
    return AffineMap::get(rank, 0, {}, ctx);
  if (t.getRank() == 1 && t.getDimSize(0) == 1)
    return AffineMap::get(rank, 0, getAffineConstantExpr(0, ctx));
  if (axis >= 0 && t.getRank() == 1 && t.getDimSize(0) == axisSize)
    return AffineMap::get(rank, 0, getAffineDimExpr(axis, ctx));
  return std::nullopt;
}

/// 8-bit `v` widened to i32 minus its zero point `zp` (null: 0), read
/// through `zpMap`.
Value widenMinusZeroPoint(OpBuilder &b, Location loc, Value v, Value zp,
                          AffineMap zpMap) {
  auto type = cast<RankedTensorType>(v.getType());
  bool isUnsigned = isUnsignedElement(type);
  int64_t rank = type.getRank();
  auto i32 = b.getI32Type();
  auto outType = RankedTensorType::get(type.getShape(), i32);
  SmallVector<Value> ins{toSignless(b, loc, v)};
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  if (zp) {
    ins.push_back(toSignless(b, loc, zp));
    maps.push_back(zpMap);
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ins,
             ValueRange{emptyLike(b, loc, outType, v)}, maps,
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = widenToI32(nb, l, args[0], isUnsigned);
               if (args.size() > 2)
                 x = arith::SubIOp::create(
                     nb, l, x, widenToI32(nb, l, args[1], isUnsigned));
               linalg::YieldOp::create(nb, l, x);
             })
      .getResult(0);
}

/// ConvInteger (10) and QLinearConv (10): 8-bit NCHW x and [M, C, kh, kw]
/// w minus their zero points (x's a scalar, w's a scalar or one per output
/// channel), convolved exactly in i32 (padding is x's zero point, i.e. 0
/// after the subtraction). QLinearConv then adds its int32 bias and
/// requantizes as onnxruntime does, per output channel:
///   y = clamp(roundeven(float(acc + bias) * (x_scale * w_scale / y_scale))
///             + y_zp)
struct IntegerConvPattern : ONNXPattern {
  IntegerConvPattern(MLIRContext *ctx, StringRef name, bool qlinear)
      : ONNXPattern(ctx, name, 10), qlinear(qlinear) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    auto in = op.getInputs();
    auto operand = [&](unsigned i) {
      return i < in.size() && !isa<NoneType>(in[i].getType()) ? in[i] : Value();
    };
    // Operand positions: x, [x_scale,] x_zp, w, [w_scale,] w_zp, ...
    Value x = operand(0), w = operand(qlinear ? 3 : 1);
    Value xZp = operand(qlinear ? 2 : 2), wZp = operand(qlinear ? 5 : 3);
    RankedTensorType rt = getResultType(op);
    auto xt = x ? dyn_cast<RankedTensorType>(x.getType()) : nullptr;
    auto wt = w ? dyn_cast<RankedTensorType>(w.getType()) : nullptr;
    if (!xt || !wt || !rt || xt.getRank() != 4 || wt.getRank() != 4 ||
        !wt.hasStaticShape() || !xt.getElementType().isInteger(8) ||
        !wt.getElementType().isInteger(8) ||
        !rt.getElementType().isInteger(qlinear ? 8 : 32))
      return rewriter.notifyMatchFailure(op, "2-D 8-bit convolutions only");
    MLIRContext *ctx = rewriter.getContext();
    int64_t m = wt.getDimSize(0);
    std::optional<AffineMap> xZpMap =
        xZp ? paramMap(ctx, xZp, 4, -1, 0) : AffineMap();
    std::optional<AffineMap> wZpMap =
        wZp ? paramMap(ctx, wZp, 4, 0, m) : AffineMap();
    if (!xZpMap || !wZpMap)
      return rewriter.notifyMatchFailure(
          op, "zero points: a scalar (x), a scalar or one per channel (w)");
    Location loc = op.getLoc();
    Value xi = widenMinusZeroPoint(rewriter, loc, x, xZp, *xZpMap);
    Value wi = widenMinusZeroPoint(rewriter, loc, w, wZp, *wZpMap);
    auto i32 = rewriter.getI32Type();
    auto accType = RankedTensorType::get(rt.getShape(), i32);
    std::string why;
    FailureOr<Value> acc = buildConv2D(
        rewriter, op, xi, wi, accType,
        arith::ConstantOp::create(rewriter, loc, rewriter.getI32IntegerAttr(0)),
        why);
    if (failed(acc))
      return rewriter.notifyMatchFailure(op, why);
    if (!qlinear) {
      rewriter.replaceOp(op, fromSignless(rewriter, loc, *acc, rt));
      return success();
    }
    // Requantize: acc, x_scale, w_scale, y_scale, y_zp[, bias].
    Value yZp = operand(7), bias = operand(8);
    SmallVector<Value> ins{*acc, operand(1), operand(4), operand(6),
                           yZp ? toSignless(rewriter, loc, yZp) : Value()};
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(4)};
    const int64_t axes[] = {-1, 1, -1, -1}; // w_scale may be per channel
    for (auto [v, axis] : llvm::zip_equal(ArrayRef(ins).drop_front(), axes)) {
      std::optional<AffineMap> map =
          v ? paramMap(ctx, v, 4, axis, m) : std::nullopt;
      if (!map)
        return rewriter.notifyMatchFailure(
            op, "scales and y's zero point: scalars (w_scale: or per channel)");
      maps.push_back(*map);
    }
    if (bias) {
      std::optional<AffineMap> map = paramMap(ctx, bias, 4, 1, m);
      if (!map)
        return rewriter.notifyMatchFailure(op, "bias: one int32 per channel");
      ins.push_back(bias);
      maps.push_back(*map);
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(4));
    bool outUnsigned = isUnsignedElement(rt);
    auto computeType =
        RankedTensorType::get(rt.getShape(), rewriter.getI8Type());
    auto y = linalg::GenericOp::create(
        rewriter, loc, TypeRange{computeType}, ins,
        ValueRange{emptyLike(rewriter, loc, computeType, x)}, maps,
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value a = args[0];
          if (bias)
            a = arith::AddIOp::create(b, l, a, args[5]);
          linalg::YieldOp::create(b, l,
                                  requantize(b, l, a, args[1], args[2], args[3],
                                             args[4], outUnsigned));
        });
    rewriter.replaceOp(op, fromSignless(rewriter, loc, y.getResult(0), rt));
    return success();
  }

  bool qlinear;
};

} // namespace

void mlir::lowbit::populateONNXIntegerConvolutionPatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<IntegerConvPattern>(ctx, "ConvInteger", /*qlinear=*/false);
  patterns.add<IntegerConvPattern>(ctx, "QLinearConv", /*qlinear=*/true);
}
