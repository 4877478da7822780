//===- Pooling.cpp - MaxPool, AveragePool, GlobalAveragePool ----*- C++ -*-===//
//
// The pools on 2-D NCHW images: MaxPool (float, its Indices output, and
// int8/uint8 codes) and AveragePool (count_include_pad, ceil_mode) as linalg
// pooling ops after an explicit tensor.pad, and GlobalAveragePool; 1-D pools
// reach them through Lift1D.cpp.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// A 2-D pool's window: kernel, strides, dilations and resolved pads.
struct PoolWindow {
  SmallVector<int64_t> kernel, strides, dilations, pads;
};

/// The window of pooling node `op` over `xt`; std::nullopt if the kernel is
/// not 2-D or the padding cannot be resolved.
std::optional<PoolWindow> getPoolWindow(onnx::NodeOp op, RankedTensorType xt) {
  PoolWindow w;
  w.kernel = intsAttr(op, "kernel_shape", {});
  if (w.kernel.size() != 2)
    return std::nullopt;
  w.strides = intsAttr(op, "strides", {1, 1});
  w.dilations = intsAttr(op, "dilations", {1, 1});
  auto pads = getPads(op, xt, w.kernel, w.strides, w.dilations);
  if (!pads)
    return std::nullopt;
  w.pads = *pads;
  return w;
}

struct PoolPattern : ONNXPattern {
  PoolPattern(MLIRContext *ctx, StringRef name, bool isMax)
      : ONNXPattern(ctx, name), isMax(isMax) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType rt = getResultType(op);
    bool ceil = getIntAttr(op, "ceil_mode", 0);
    if (!xt || !rt || xt.getRank() != 4)
      return rewriter.notifyMatchFailure(op, "2-D pooling");
    std::optional<PoolWindow> pool = getPoolWindow(op, xt);
    if (!pool)
      return rewriter.notifyMatchFailure(op, "2-D kernel, resolvable pads");
    // MaxPool also takes 8-bit integers (opset >= 12), and has Indices.
    bool int8 = isMax && xt.getElementType().isInteger(8);
    if (isMax && op->getNumResults() == 2 &&
        isa<FloatType>(xt.getElementType()) &&
        !isa<NoneType>(op->getResult(1).getType()))
      return rewriteMaxWithIndices(op, rewriter, x, xt, rt, *pool);
    if (op->getNumResults() != 1 ||
        !(isa<FloatType>(xt.getElementType()) || int8) ||
        (ceil && (!xt.hasStaticShape() || !rt.hasStaticShape())))
      return rewriter.notifyMatchFailure(op,
                                         "2-D pooling (static for ceil_mode)");
    if (int8)
      return rewriteInt8Max(op, rewriter, x, xt, rt, *pool);
    const SmallVector<int64_t> &kernel = pool->kernel, &strides = pool->strides,
                               &dilations = pool->dilations;
    const SmallVector<int64_t> &pads = pool->pads;
    Location loc = op.getLoc();
    Type t = xt.getElementType();
    double padValue = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
    Value padded = padSpatial(rewriter, loc, x, pads,
                              floatConst(rewriter, loc, t, padValue));
    // ceil_mode: the last windows run past the padded input; pad it further
    // on the bottom/right (with -inf for max; those elements are not counted
    // in an average either way).
    SmallVector<int64_t> extra(4, 0);
    if (ceil)
      for (int i = 0; i < 2; ++i) {
        int64_t have = xt.getDimSize(2 + i) + pads[i] + pads[2 + i];
        int64_t need = (rt.getDimSize(2 + i) - 1) * strides[i] +
                       (kernel[i] - 1) * dilations[i] + 1;
        extra[2 + i] = std::max<int64_t>(0, need - have);
      }
    padded = padSpatial(rewriter, loc, padded, extra,
                        floatConst(rewriter, loc, t, padValue));
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, t);
    auto stridesAttr = rewriter.getI64TensorAttr(strides);
    auto dilationsAttr = rewriter.getI64TensorAttr(dilations);
    Value acc = filledLike(rewriter, loc, rt, x,
                           floatConst(rewriter, loc, t, padValue));
    Value y;
    if (isMax) {
      y = linalg::PoolingNchwMaxOp::create(
              rewriter, loc, TypeRange{rt}, ValueRange{padded, window},
              ValueRange{acc}, stridesAttr, dilationsAttr)
              .getResult(0);
      rewriter.replaceOp(op, y);
      return success();
    }
    y = linalg::PoolingNchwSumOp::create(
            rewriter, loc, TypeRange{rt}, ValueRange{padded, window},
            ValueRange{acc}, stridesAttr, dilationsAttr)
            .getResult(0);
    // Divisor: the full window, or (count_include_pad = 0) the number of
    // real elements in it, computed by pooling a padded tensor of ones.
    Value divisor;
    bool anyPad = llvm::any_of(pads, [](int64_t p) { return p != 0; });
    bool includePad = getIntAttr(op, "count_include_pad", 0);
    bool anyExtra = llvm::any_of(extra, [](int64_t p) { return p != 0; });
    if ((includePad || !anyPad) && !anyExtra) {
      Value n = floatConst(rewriter, loc, t, kernel[0] * kernel[1]);
      divisor = filledLike(rewriter, loc, rt, x, n);
    } else {
      // Ones over the input (and its explicit pads if they count), zeros
      // over whatever else a window covers.
      Value ones =
          filledLike(rewriter, loc, xt, x, floatConst(rewriter, loc, t, 1.0));
      Value paddedOnes =
          padSpatial(rewriter, loc, ones, pads,
                     floatConst(rewriter, loc, t, includePad ? 1.0 : 0.0));
      paddedOnes = padSpatial(rewriter, loc, paddedOnes, extra,
                              floatConst(rewriter, loc, t, 0));
      Value zeros =
          filledLike(rewriter, loc, rt, x, floatConst(rewriter, loc, t, 0));
      divisor = linalg::PoolingNchwSumOp::create(rewriter, loc, TypeRange{rt},
                                                 ValueRange{paddedOnes, window},
                                                 ValueRange{zeros}, stridesAttr,
                                                 dilationsAttr)
                    .getResult(0);
    }
    FailureOr<Value> avg = buildBroadcastGeneric(
        rewriter, loc, rt, ValueRange{y, divisor},
        [](OpBuilder &b, Location l, ValueRange s) {
          return arith::DivFOp::create(b, l, s[0], s[1]).getResult();
        });
    if (failed(avg))
      return failure();
    rewriter.replaceOp(op, *avg);
    return success();
  }

  /// MaxPool with its Indices output: one linalg.generic reducing each
  /// window to (max, the flat index of its first maximum in the unpadded
  /// input: ((n C + c) H + h) W + w, or with storage_order 1 ((n C + c) W +
  /// w) H + h). Floor mode.
  LogicalResult rewriteMaxWithIndices(onnx::NodeOp op,
                                      PatternRewriter &rewriter, Value x,
                                      RankedTensorType xt, RankedTensorType rt,
                                      const PoolWindow &pool) const {
    auto it = getResultType(op, 1);
    if (!it || !it.getElementType().isInteger(64) ||
        getIntAttr(op, "ceil_mode", 0) || !xt.hasStaticShape() ||
        !rt.hasStaticShape())
      return rewriter.notifyMatchFailure(
          op, "MaxPool indices: 2-D, static, floor mode");
    const SmallVector<int64_t> &kernel = pool.kernel, &strides = pool.strides,
                               &dilations = pool.dilations;
    const SmallVector<int64_t> &pads = pool.pads;
    bool columnMajor = getIntAttr(op, "storage_order", 0) == 1;
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type t = xt.getElementType(), i64 = rewriter.getI64Type();
    Value lowest =
        floatConst(rewriter, loc, t, -std::numeric_limits<double>::infinity());
    Value padded = padSpatial(rewriter, loc, x, pads, lowest);
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    AffineMap in =
        AffineMap::get(6, 0,
                       {d(0), d(1), d(2) * strides[0] + d(4) * dilations[0],
                        d(3) * strides[1] + d(5) * dilations[1]},
                       ctx);
    AffineMap out = AffineMap::get(6, 0, {d(0), d(1), d(2), d(3)}, ctx);
    Value zeroIdx =
        arith::ConstantOp::create(rewriter, loc, rewriter.getI64IntegerAttr(0));
    SmallVector<utils::IteratorType> iters(4, utils::IteratorType::parallel);
    iters.append(2, utils::IteratorType::reduction);
    int64_t c = xt.getDimSize(1), h = xt.getDimSize(2), w = xt.getDimSize(3);
    // The window operand (as linalg's pooling ops have) sizes the window
    // loops, which the input reads only through compound expressions.
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, t);
    AffineMap win = AffineMap::get(6, 0, {d(4), d(5)}, ctx);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{rt, it}, ValueRange{padded, window},
        ValueRange{filledLike(rewriter, loc, rt, x, lowest),
                   filledLike(rewriter, loc, it, x, zeroIdx)},
        SmallVector<AffineMap>{in, win, out, out}, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto idx = [&](unsigned dim) -> Value {
            return arith::IndexCastOp::create(
                b, l, i64, linalg::IndexOp::create(b, l, dim));
          };
          auto cst = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(v));
          };
          auto mul = [&](Value a, int64_t k) -> Value {
            return arith::MulIOp::create(b, l, a, cst(k));
          };
          auto add = [&](Value a, Value bb) -> Value {
            return arith::AddIOp::create(b, l, a, bb);
          };
          // The input position of this window element.
          Value hi = arith::SubIOp::create(
              b, l, add(mul(idx(2), strides[0]), mul(idx(4), dilations[0])),
              cst(pads[0]));
          Value wi = arith::SubIOp::create(
              b, l, add(mul(idx(3), strides[1]), mul(idx(5), dilations[1])),
              cst(pads[1]));
          Value plane = add(mul(idx(0), c), idx(1));
          Value flat = columnMajor ? add(mul(add(mul(plane, w), wi), h), hi)
                                   : add(mul(add(mul(plane, h), hi), w), wi);
          Value better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               args[0], args[2]);
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, better, args[0], args[2]),
                  arith::SelectOp::create(b, l, better, flat, args[3])});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  /// MaxPool on int8 or uint8: a signed max pool padded with -128. uint8 is
  /// mapped to int8 keeping its order by flipping the top bit (u ^ 0x80) and
  /// flipped back after.
  LogicalResult rewriteInt8Max(onnx::NodeOp op, PatternRewriter &rewriter,
                               Value x, RankedTensorType xt,
                               RankedTensorType rt,
                               const PoolWindow &pool) const {
    if (getIntAttr(op, "ceil_mode", 0))
      return rewriter.notifyMatchFailure(op, "int8 max pool: floor mode");
    const SmallVector<int64_t> &kernel = pool.kernel, &strides = pool.strides,
                               &dilations = pool.dilations;
    const SmallVector<int64_t> &pads = pool.pads;
    Location loc = op.getLoc();
    Type i8 = rewriter.getI8Type();
    bool isUnsigned = isUnsignedElement(xt);
    auto flip = [&](Value v, RankedTensorType type) -> Value {
      if (!isUnsigned)
        return v;
      return *buildBroadcastGeneric(
          rewriter, loc, type, ValueRange{v},
          [&](OpBuilder &b, Location l, ValueRange s) -> Value {
            return arith::XOrIOp::create(
                b, l, s[0],
                arith::ConstantOp::create(b, l, b.getIntegerAttr(i8, -128)));
          });
    };
    auto xs = cast<RankedTensorType>(signlessType(xt));
    auto ys = cast<RankedTensorType>(signlessType(rt));
    Value lowest = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getIntegerAttr(i8, -128));
    Value padded = padSpatial(
        rewriter, loc, flip(toSignless(rewriter, loc, x), xs), pads, lowest);
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, i8);
    Value acc = filledLike(rewriter, loc, ys, x, lowest);
    Value y = linalg::PoolingNchwMaxOp::create(
                  rewriter, loc, TypeRange{ys}, ValueRange{padded, window},
                  ValueRange{acc}, rewriter.getI64TensorAttr(strides),
                  rewriter.getI64TensorAttr(dilations))
                  .getResult(0);
    rewriter.replaceOp(op, fromSignless(rewriter, loc, flip(y, ys), rt));
    return success();
  }

  bool isMax;
};

struct GlobalAveragePoolPattern : ONNXPattern {
  GlobalAveragePoolPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "GlobalAveragePool") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType rt = getResultType(op);
    if (!xt || !rt || xt.getRank() < 3 || !isa<FloatType>(xt.getElementType()))
      return failure();
    Location loc = op.getLoc();
    Type t = xt.getElementType();
    int64_t rank = xt.getRank();
    SmallVector<int64_t> dims;
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < rank; ++d) {
      if (d >= 2) {
        dims.push_back(d);
        continue;
      }
      shape.push_back(xt.getDimSize(d));
      if (xt.isDynamicDim(d))
        dyn.push_back(tensor::DimOp::create(rewriter, loc, x, d));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, shape, t, dyn);
    Value zero = floatConst(rewriter, loc, t, 0.0);
    Value acc = linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);
    Value sum =
        linalg::ReduceOp::create(
            rewriter, loc, ValueRange{x}, ValueRange{acc}, dims,
            [](OpBuilder &b, Location l, ValueRange s) {
              linalg::YieldOp::create(
                  b, l, arith::AddFOp::create(b, l, s[0], s[1]).getResult());
            })
            .getResult(0);
    Value n = indexConst(rewriter, loc, 1);
    for (int64_t d : dims)
      n = rewriter.createOrFold<arith::MulIOp>(loc, n,
                                               dimSize(rewriter, loc, x, d));
    Value nf = arith::SIToFPOp::create(
        rewriter, loc, t,
        arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n));
    auto sumType = cast<RankedTensorType>(sum.getType());
    FailureOr<Value> mean = buildBroadcastGeneric(
        rewriter, loc, sumType, ValueRange{sum},
        [&](OpBuilder &b, Location l, ValueRange s) {
          return arith::DivFOp::create(b, l, s[0], nf).getResult();
        });
    if (failed(mean))
      return failure();
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d)
      sizes.push_back(d < 2 ? dimSize(rewriter, loc, x, d)
                            : indexConst(rewriter, loc, 1));
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, *mean, rt, sizes));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXPoolingPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<GlobalAveragePoolPattern>(ctx);
  patterns.add<PoolPattern>(ctx, "MaxPool", true);
  patterns.add<PoolPattern>(ctx, "AveragePool", false);
}
