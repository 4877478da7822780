//===- Convolution.cpp - Conv, BatchNormalization, Pad ----------*- C++ -*-===//
//
// The CNN ops on 2-D NCHW images: Conv and ConvTranspose (group 1 and
// depthwise) as linalg convolutions after an explicit tensor.pad (shared
// with ConvInteger and QLinearConv, IntegerConvolution.cpp),
// BatchNormalization (inference) per channel, and Pad; the window helpers
// the pools share (Pooling.cpp).
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

/// Adds a per-channel (axis 1) vector to an NCHW tensor.
Value addChannelBias(OpBuilder &b, Location loc, Value y, Value bias) {
  auto type = cast<RankedTensorType>(y.getType());
  MLIRContext *ctx = b.getContext();
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  AffineMap chan = AffineMap::get(type.getRank(), 0, getAffineDimExpr(1, ctx));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{y, bias}, ValueRange{y},
      SmallVector<AffineMap>{id, chan, id},
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [](OpBuilder &nb, Location l, ValueRange s) {
        linalg::YieldOp::create(
            nb, l, arith::AddFOp::create(nb, l, s[0], s[1]).getResult());
      });
  return generic.getResult(0);
}

struct ConvPattern : ONNXPattern {
  ConvPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Conv") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0], w = op.getInputs()[1];
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto wt = dyn_cast<RankedTensorType>(w.getType());
    RankedTensorType rt = getResultType(op);
    if (!xt || !wt || !rt || xt.getRank() != 4 || wt.getRank() != 4 ||
        !isa<FloatType>(xt.getElementType()) || !wt.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "2-D float convolutions only");
    Location loc = op.getLoc();
    std::string why;
    FailureOr<Value> y =
        buildConv2D(rewriter, op, x, w, rt,
                    floatConst(rewriter, loc, xt.getElementType(), 0), why);
    if (failed(y))
      return rewriter.notifyMatchFailure(op, why);
    Value out = *y;
    if (op.getInputs().size() > 2 &&
        !isa<NoneType>(op.getInputs()[2].getType()))
      out = addChannelBias(rewriter, loc, out, op.getInputs()[2]);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// ConvTranspose (2-D; group 1 or depthwise) as a convolution: the input
/// with stride - 1 zeros between its pixels (a strided tensor.insert_slice
/// into zeros), padded by dilation * (kernel - 1) - pads (cropped where
/// that is negative; output_padding adds to the end), convolved at stride
/// 1 with the kernel flipped and its channel axes swapped.
struct ConvTransposePattern : ONNXPattern {
  ConvTransposePattern(MLIRContext *ctx) : ONNXPattern(ctx, "ConvTranspose") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0], w = op.getInputs()[1];
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto wt = dyn_cast<RankedTensorType>(w.getType());
    if (!xt || !wt || xt.getRank() != 4 || wt.getRank() != 4 ||
        !isa<FloatType>(xt.getElementType()) || !wt.hasStaticShape() ||
        !xt.hasStaticShape())
      return rewriter.notifyMatchFailure(
          op, "2-D float transposed convolutions of static shapes only");
    Type t = xt.getElementType();
    int64_t channels = xt.getDimSize(1), group = getIntAttr(op, "group", 1);
    if (wt.getDimSize(0) != channels)
      return rewriter.notifyMatchFailure(op, "weight's C is not the input's");
    bool depthwise = group > 1 && group == channels && wt.getDimSize(1) == 1;
    if (group != 1 && !depthwise)
      return rewriter.notifyMatchFailure(op, "grouped transposed convolution");
    int64_t outChannels = wt.getDimSize(1) * group;
    SmallVector<int64_t> kernel{wt.getDimSize(2), wt.getDimSize(3)};
    SmallVector<int64_t> strides = intsAttr(op, "strides", {1, 1});
    SmallVector<int64_t> dilations = intsAttr(op, "dilations", {1, 1});
    SmallVector<int64_t> outPad = intsAttr(op, "output_padding", {0, 0});
    SmallVector<int64_t> pads = intsAttr(op, "pads", {0, 0, 0, 0});
    auto autoPad = op.getOnnxAttrs().getAs<StringAttr>("auto_pad");
    auto outputShape =
        op.getOnnxAttrs().getAs<DenseI64ArrayAttr>("output_shape");
    StringRef padMode = autoPad ? autoPad.getValue() : "NOTSET";
    if (strides.size() != 2 || dilations.size() != 2 || outPad.size() != 2 ||
        pads.size() != 4 || (outputShape && outputShape.size() != 2) ||
        (padMode != "NOTSET" && padMode != "VALID" && padMode != "SAME_UPPER" &&
         padMode != "SAME_LOWER"))
      return rewriter.notifyMatchFailure(
          op, "2-D strides, dilations, output_padding, pads, output_shape");
    for (int i = 0; i < 2; ++i)
      if (strides[i] < 1 || dilations[i] < 1 || outPad[i] < 0 ||
          outPad[i] >= std::max(strides[i], dilations[i]) || pads[i] < 0 ||
          pads[2 + i] < 0)
        return rewriter.notifyMatchFailure(op, "bad strides or paddings");
    // With output_shape (or SAME_*: the input's size times the stride) the
    // pads follow from it (ONNX's rule; negative ones add zeros at the
    // border): total = stride * (in - 1) + output_padding + (kernel - 1) *
    // dilation + 1 - out, split in half, the odd one at the end (at the
    // start with SAME_UPPER).
    bool same = padMode.starts_with("SAME");
    if (outputShape || same) {
      for (int i = 0; i < 2; ++i) {
        int64_t in = xt.getDimSize(2 + i);
        int64_t target = outputShape ? outputShape[i] : in * strides[i];
        int64_t total = strides[i] * (in - 1) + outPad[i] +
                        (kernel[i] - 1) * dilations[i] + 1 - target;
        int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); // floor
        bool upper = padMode == "SAME_UPPER";
        pads[i] = upper ? half : total - half;
        pads[2 + i] = upper ? total - half : half;
      }
    }
    SmallVector<int64_t> outShape{xt.getDimSize(0), outChannels, 0, 0};
    for (int i = 0; i < 2; ++i)
      outShape[2 + i] = strides[i] * (xt.getDimSize(2 + i) - 1) + outPad[i] +
                        (kernel[i] - 1) * dilations[i] + 1 - pads[i] -
                        pads[2 + i];
    if (outShape[2] < 1 || outShape[3] < 1)
      return rewriter.notifyMatchFailure(op, "empty output");
    auto rt = RankedTensorType::get(outShape, t);
    if (RankedTensorType declared = getResultType(op))
      if (declared != rt)
        return rewriter.notifyMatchFailure(op, "unexpected result type");
    Location loc = op.getLoc();
    Value zero = floatConst(rewriter, loc, t, 0);

    // Zeros between the pixels.
    SmallVector<int64_t> upShape(xt.getShape());
    for (int i = 0; i < 2; ++i)
      upShape[2 + i] = (xt.getDimSize(2 + i) - 1) * strides[i] + 1;
    Value up = x;
    if (strides[0] > 1 || strides[1] > 1) {
      Value empty = tensor::EmptyOp::create(rewriter, loc, upShape, t);
      Value zeros =
          linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
      SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes, steps;
      for (int64_t d = 0; d < 4; ++d) {
        sizes.push_back(rewriter.getIndexAttr(xt.getDimSize(d)));
        steps.push_back(rewriter.getIndexAttr(d < 2 ? 1 : strides[d - 2]));
      }
      up = tensor::InsertSliceOp::create(rewriter, loc, x, zeros, offsets,
                                         sizes, steps);
    }
    // Padding (positive part), then the crop (negative part).
    SmallVector<int64_t> grow(4), crop(4);
    for (int i = 0; i < 2; ++i) {
      int64_t lo = dilations[i] * (kernel[i] - 1) - pads[i];
      int64_t hi = dilations[i] * (kernel[i] - 1) - pads[2 + i] + outPad[i];
      grow[i] = std::max<int64_t>(lo, 0);
      grow[2 + i] = std::max<int64_t>(hi, 0);
      crop[i] = std::max<int64_t>(-lo, 0);
      crop[2 + i] = std::max<int64_t>(-hi, 0);
    }
    Value padded = padSpatial(rewriter, loc, up, grow, zero);
    if (llvm::any_of(crop, [](int64_t c) { return c > 0; })) {
      auto pt = cast<RankedTensorType>(padded.getType());
      SmallVector<int64_t> offsets{0, 0, crop[0], crop[1]};
      SmallVector<int64_t> sizes(pt.getShape());
      for (int i = 0; i < 2; ++i)
        sizes[2 + i] -= crop[i] + crop[2 + i];
      if (sizes[2] < 1 || sizes[3] < 1)
        return rewriter.notifyMatchFailure(op, "pads larger than the input");
      padded = tensor::ExtractSliceOp::create(
          rewriter, loc, RankedTensorType::get(sizes, t), padded, ValueRange{},
          ValueRange{}, ValueRange{}, rewriter.getDenseI64ArrayAttr(offsets),
          rewriter.getDenseI64ArrayAttr(sizes),
          rewriter.getDenseI64ArrayAttr({1, 1, 1, 1}));
    }

    // The kernel flipped, [C, M, kh, kw] -> [M, C, kh, kw] (depthwise:
    // [C, kh, kw]).
    MLIRContext *ctx = op.getContext();
    AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
    int64_t wRank = depthwise ? 3 : 4;
    AffineExpr kh = getAffineDimExpr(wRank - 2, ctx),
               kw = getAffineDimExpr(wRank - 1, ctx);
    SmallVector<AffineExpr> src =
        depthwise
            ? SmallVector<AffineExpr>{d0, getAffineConstantExpr(0, ctx),
                                      kernel[0] - 1 - kh, kernel[1] - 1 - kw}
            : SmallVector<AffineExpr>{d1, d0, kernel[0] - 1 - kh,
                                      kernel[1] - 1 - kw};
    SmallVector<int64_t> flippedShape =
        depthwise
            ? SmallVector<int64_t>{channels, kernel[0], kernel[1]}
            : SmallVector<int64_t>{outChannels, channels, kernel[0], kernel[1]};
    auto flippedType = RankedTensorType::get(flippedShape, t);
    Value flippedInit = tensor::EmptyOp::create(rewriter, loc, flippedShape, t);
    Value flipped =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{flippedType}, ValueRange{w},
            ValueRange{flippedInit},
            SmallVector<AffineMap>{AffineMap::get(wRank, 0, src, ctx),
                                   rewriter.getMultiDimIdentityMap(wRank)},
            SmallVector<utils::IteratorType>(wRank,
                                             utils::IteratorType::parallel),
            [](OpBuilder &nb, Location l, ValueRange s) {
              linalg::YieldOp::create(nb, l, s[0]);
            })
            .getResult(0);

    Value acc = filledLike(rewriter, loc, rt, x, zero);
    auto ones = rewriter.getI64TensorAttr({1, 1});
    auto dilationsAttr = rewriter.getI64TensorAttr(dilations);
    Value y =
        depthwise
            ? linalg::DepthwiseConv2DNchwChwOp::create(
                  rewriter, loc, TypeRange{rt}, ValueRange{padded, flipped},
                  ValueRange{acc}, ones, dilationsAttr)
                  .getResult(0)
            : linalg::Conv2DNchwFchwOp::create(
                  rewriter, loc, TypeRange{rt}, ValueRange{padded, flipped},
                  ValueRange{acc}, ones, dilationsAttr)
                  .getResult(0);
    if (op.getInputs().size() > 2 &&
        !isa<NoneType>(op.getInputs()[2].getType()))
      y = addChannelBias(rewriter, loc, y, op.getInputs()[2]);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct BatchNormPattern : ONNXPattern {
  BatchNormPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "BatchNormalization", 9) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    if (!xt || xt.getRank() < 2 || getIntAttr(op, "training_mode", 0) ||
        op->getNumResults() != 1 || getResultType(op) != xt ||
        !isa<FloatType>(xt.getElementType()))
      return rewriter.notifyMatchFailure(op, "inference form only");
    Location loc = op.getLoc();
    Type t = xt.getElementType();
    MLIRContext *ctx = op.getContext();
    int64_t rank = xt.getRank();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap chan = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    Value eps =
        floatConst(rewriter, loc, t, getFloatAttr(op, "epsilon", 1e-5f));
    Value init = emptyLike(rewriter, loc, xt, op.getInputs()[0]);
    // inputs: X, scale, B, mean, var
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{xt}, op.getInputs(), ValueRange{init},
        SmallVector<AffineMap>{id, chan, chan, chan, chan, id},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange s) {
          Value inv = math::RsqrtOp::create(
              b, l, arith::AddFOp::create(b, l, s[4], eps));
          Value v = arith::MulFOp::create(
              b, l,
              arith::MulFOp::create(
                  b, l, arith::SubFOp::create(b, l, s[0], s[3]), inv),
              s[1]);
          linalg::YieldOp::create(
              b, l, arith::AddFOp::create(b, l, v, s[2]).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct PadPattern : ONNXPattern {
  PadPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Pad", 11) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType rt = getResultType(op);
    auto modeAttr = op.getOnnxAttrs().getAs<StringAttr>("mode");
    StringRef mode = modeAttr ? modeAttr.getValue() : "constant";
    if (!xt || !rt ||
        (mode != "constant" && mode != "edge" && mode != "reflect" &&
         mode != "wrap"))
      return rewriter.notifyMatchFailure(op, "unknown mode");
    if (mode != "constant" && (!xt.hasStaticShape() || !rt.hasStaticShape()))
      return rewriter.notifyMatchFailure(
          op, "edge/reflect/wrap need static shapes");
    std::optional<SmallVector<int64_t>> pads = constantInts(op.getInputs()[1]);
    int64_t rank = xt.getRank();
    if (!pads)
      return rewriter.notifyMatchFailure(op, "pads are not constant");
    SmallVector<int64_t> axes;
    if (op.getInputs().size() > 3 &&
        !isa<NoneType>(op.getInputs()[3].getType())) {
      auto a = constantInts(op.getInputs()[3]);
      if (!a)
        return failure();
      for (int64_t v : *a)
        axes.push_back(v < 0 ? v + rank : v);
    } else {
      for (int64_t d = 0; d < rank; ++d)
        axes.push_back(d);
    }
    if ((int64_t)pads->size() != 2 * (int64_t)axes.size() ||
        llvm::any_of(*pads, [](int64_t p) { return p < 0; }))
      return rewriter.notifyMatchFailure(op, "negative pads (cropping)");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> lo(rank, rewriter.getIndexAttr(0)),
        hi(rank, rewriter.getIndexAttr(0));
    for (size_t i = 0; i < axes.size(); ++i) {
      lo[axes[i]] = rewriter.getIndexAttr((*pads)[i]);
      hi[axes[i]] = rewriter.getIndexAttr((*pads)[axes.size() + i]);
    }
    if (mode != "constant") {
      // out[i] = x[src(i)] with src the clamped (edge), mirrored without the
      // border (reflect) or periodic (wrap) index of i - pad_begin.
      SmallVector<int64_t> begin(rank, 0);
      for (size_t i = 0; i < axes.size(); ++i)
        begin[axes[i]] = (*pads)[i];
      Value init = tensor::EmptyOp::create(rewriter, loc, rt.getShape(),
                                           rt.getElementType());
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{rt}, ValueRange{}, ValueRange{init},
          SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [&](OpBuilder &b, Location l, ValueRange) {
            SmallVector<Value> src;
            for (int64_t d = 0; d < rank; ++d) {
              Value i = linalg::IndexOp::create(b, l, d);
              int64_t n = xt.getDimSize(d);
              if (begin[d] == 0 && rt.getDimSize(d) == n) {
                src.push_back(i);
                continue;
              }
              Value j =
                  arith::SubIOp::create(b, l, i, indexConst(b, l, begin[d]));
              Value zero = indexConst(b, l, 0), last = indexConst(b, l, n - 1);
              if (mode == "edge") {
                j = arith::MaxSIOp::create(b, l, j, zero);
                j = arith::MinSIOp::create(b, l, j, last);
              } else if (mode == "reflect") {
                // |j|, then 2(n-1) - j past the end (pads < n, as ONNX asks).
                Value neg = arith::SubIOp::create(b, l, zero, j);
                j = arith::MaxSIOp::create(b, l, j, neg);
                Value over = arith::SubIOp::create(
                    b, l, indexConst(b, l, 2 * (n - 1)), j);
                j = arith::MinSIOp::create(b, l, j, over);
              } else {
                Value nn = indexConst(b, l, n);
                j = arith::RemSIOp::create(
                    b, l,
                    arith::AddIOp::create(
                        b, l, arith::RemSIOp::create(b, l, j, nn), nn),
                    nn);
              }
              src.push_back(j);
            }
            linalg::YieldOp::create(
                b, l, tensor::ExtractOp::create(b, l, x, src).getResult());
          });
      rewriter.replaceOp(op, generic.getResult(0));
      return success();
    }
    Value value;
    if (op.getInputs().size() > 2 &&
        !isa<NoneType>(op.getInputs()[2].getType()))
      value = tensor::ExtractOp::create(rewriter, loc, op.getInputs()[2],
                                        ValueRange{});
    else
      value = arith::ConstantOp::create(
          rewriter, loc, rewriter.getZeroAttr(xt.getElementType()));
    rewriter.replaceOpWithNewOp<tensor::PadOp>(op, rt, x, lo, hi, value);
    return success();
  }
};

} // namespace

SmallVector<int64_t> mlir::lowbit::intsAttr(onnx::NodeOp op, StringRef name,
                                            SmallVector<int64_t> defaultValue) {
  if (auto a = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>(name))
    return SmallVector<int64_t>(a.asArrayRef());
  return defaultValue;
}

std::optional<SmallVector<int64_t>>
mlir::lowbit::getPads(onnx::NodeOp op, RankedTensorType in,
                      ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                      ArrayRef<int64_t> dilations) {
  SmallVector<int64_t> pads = intsAttr(op, "pads", {0, 0, 0, 0});
  auto autoPad = op.getOnnxAttrs().getAs<StringAttr>("auto_pad");
  if (!autoPad || autoPad.getValue() == "NOTSET" ||
      autoPad.getValue() == "VALID")
    return pads.size() == 4 ? std::optional(pads) : std::nullopt;
  SmallVector<int64_t> out(4, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t size = in.getDimSize(2 + i);
    if (ShapedType::isDynamic(size))
      return std::nullopt;
    int64_t o = (size + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(
        0, (o - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
    bool upper = autoPad.getValue() == "SAME_UPPER";
    out[i] = upper ? total / 2 : total - total / 2;
    out[2 + i] = total - out[i];
  }
  return out;
}

Value mlir::lowbit::padSpatial(OpBuilder &b, Location loc, Value x,
                               ArrayRef<int64_t> pads, Value value) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  for (int i = 0; i < 2; ++i)
    if (!ShapedType::isDynamic(shape[2 + i]))
      shape[2 + i] += pads[i] + pads[2 + i];
  SmallVector<OpFoldResult> lo{b.getIndexAttr(0), b.getIndexAttr(0),
                               b.getIndexAttr(pads[0]),
                               b.getIndexAttr(pads[1])};
  SmallVector<OpFoldResult> hi{b.getIndexAttr(0), b.getIndexAttr(0),
                               b.getIndexAttr(pads[2]),
                               b.getIndexAttr(pads[3])};
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), x, lo, hi,
      value);
}

Value mlir::lowbit::filledLike(OpBuilder &b, Location loc,
                               RankedTensorType type, Value x, Value scalar) {
  return linalg::FillOp::create(b, loc, scalar, emptyLike(b, loc, type, x))
      .getResult(0);
}

/// The 2-D convolution (group 1 or depthwise) of NCHW `x` by `w` (static
/// [M, C/group, kh, kw]) into `rt`, with the node's strides, dilations and
/// padding; the padding value `padValue`. Failure with `why` set.
FailureOr<Value> mlir::lowbit::buildConv2D(OpBuilder &b, onnx::NodeOp op,
                                           Value x, Value w,
                                           RankedTensorType rt, Value padValue,
                                           std::string &why) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  SmallVector<int64_t> kernel{wt.getDimSize(2), wt.getDimSize(3)};
  SmallVector<int64_t> strides = intsAttr(op, "strides", {1, 1});
  SmallVector<int64_t> dilations = intsAttr(op, "dilations", {1, 1});
  int64_t group = getIntAttr(op, "group", 1);
  auto pads = getPads(op, xt, kernel, strides, dilations);
  if (!pads) {
    why = "unsupported padding";
    return failure();
  }
  Location loc = op.getLoc();
  Type t = rt.getElementType();
  Value padded = padSpatial(b, loc, x, *pads, padValue);
  Value acc = filledLike(b, loc, rt, x,
                         arith::ConstantOp::create(b, loc, b.getZeroAttr(t)));
  auto stridesAttr = b.getI64TensorAttr(strides);
  auto dilationsAttr = b.getI64TensorAttr(dilations);
  if (group == 1)
    return linalg::Conv2DNchwFchwOp::create(
               b, loc, TypeRange{rt}, ValueRange{padded, w}, ValueRange{acc},
               stridesAttr, dilationsAttr)
        .getResult(0);
  if (group == xt.getDimSize(1) && group == wt.getDimSize(0) &&
      wt.getDimSize(1) == 1) {
    // Depthwise: filter [C, 1, kh, kw] -> [C, kh, kw].
    auto w3 = RankedTensorType::get({wt.getDimSize(0), kernel[0], kernel[1]},
                                    wt.getElementType());
    Value wr = tensor::CollapseShapeOp::create(
        b, loc, w3, w, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
    return linalg::DepthwiseConv2DNchwChwOp::create(
               b, loc, TypeRange{rt}, ValueRange{padded, wr}, ValueRange{acc},
               stridesAttr, dilationsAttr)
        .getResult(0);
  }
  why = "grouped convolution";
  return failure();
}

void mlir::lowbit::populateONNXConvolutionPatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ConvPattern, ConvTransposePattern, BatchNormPattern, PadPattern>(
      ctx);
}
