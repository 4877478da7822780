//===- Resize.cpp - ONNX Resize (nearest, linear) ---------------*- C++ -*-===//
//
// Resize with mode nearest or linear (n-linear over every resized axis),
// scales or sizes given as constants, the `axes` and
// `keep_aspect_ratio_policy` attributes (opset 18) and the coordinate
// transformations half_pixel, half_pixel_symmetric, pytorch_half_pixel,
// align_corners and asymmetric. One linalg.generic over the output that
// computes each source coordinate from linalg.index and reads the input with
// tensor.extract (indices clamped to the edge, as ONNX's reference pads).
//
// Not handled (the pattern fails, and the node is reported): cubic mode,
// antialias, tf_crop_and_resize, run-time scales or sizes.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// A non-empty constant operand `i` of the node, or nothing.
Value presentInput(onnx::NodeOp op, unsigned i) {
  if (i >= op.getInputs().size())
    return {};
  Value v = op.getInputs()[i];
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getNumElements() == 0)
    return {};
  return v;
}

struct ResizePattern : ONNXPattern {
  ResizePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Resize", 11) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    RankedTensorType resultType = getResultType(op);
    Value x = op.getInputs()[0];
    auto xType = dyn_cast<RankedTensorType>(x.getType());
    if (!resultType || !xType || !resultType.hasStaticShape() ||
        !xType.hasStaticShape() || !isa<FloatType>(xType.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs static float shapes");
    auto attrs = op.getOnnxAttrs();
    auto str = [&](StringRef name, StringRef def) {
      auto a = attrs.getAs<StringAttr>(name);
      return a ? a.getValue() : def;
    };
    StringRef mode = str("mode", "nearest");
    StringRef coord = str("coordinate_transformation_mode", "half_pixel");
    StringRef nearestMode = str("nearest_mode", "round_prefer_floor");
    StringRef policy = str("keep_aspect_ratio_policy", "stretch");
    if ((mode != "nearest" && mode != "linear") ||
        getIntAttr(op, "antialias", 0) != 0 || coord == "tf_crop_and_resize")
      return rewriter.notifyMatchFailure(op, "unsupported mode");
    int64_t rank = xType.getRank();
    SmallVector<int64_t> axes;
    if (auto a = attrs.getAs<DenseI64ArrayAttr>("axes")) {
      for (int64_t ax : a.asArrayRef())
        axes.push_back(ax < 0 ? ax + rank : ax);
    } else {
      for (int64_t d = 0; d < rank; ++d)
        axes.push_back(d);
    }
    // Per-dimension scale (output / input); sizes win over scales.
    SmallVector<double> scale(rank, 1.0);
    ArrayRef<int64_t> in = xType.getShape(), out = resultType.getShape();
    Value scalesV = presentInput(op, 2), sizesV = presentInput(op, 3);
    if (sizesV) {
      auto sizes = constantInts(sizesV);
      if (!sizes || sizes->size() != axes.size())
        return rewriter.notifyMatchFailure(op, "sizes not constant");
      for (auto [i, d] : llvm::enumerate(axes))
        scale[d] = double((*sizes)[i]) / double(in[d]);
      if (policy != "stretch") {
        double s = scale[axes[0]];
        for (int64_t d : axes)
          s = policy == "not_larger" ? std::min(s, scale[d])
                                     : std::max(s, scale[d]);
        for (int64_t d : axes)
          scale[d] = s;
      }
    } else if (scalesV) {
      auto scales = constantFloats(scalesV);
      if (!scales || scales->size() != axes.size())
        return rewriter.notifyMatchFailure(op, "scales not constant");
      for (auto [i, d] : llvm::enumerate(axes))
        scale[d] = (*scales)[i];
    } else {
      return rewriter.notifyMatchFailure(op, "neither scales nor sizes");
    }

    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    Value init = tensor::EmptyOp::create(rewriter, loc, out,
                                         resultType.getElementType());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)}, iters,
        [&](OpBuilder &b, Location l, ValueRange) {
          auto fc = [&](double v) { return floatConst(b, l, f32, v); };
          // Source coordinate (float) along each dimension.
          SmallVector<Value> coords(rank);
          SmallVector<Value> index(rank);
          for (int64_t d = 0; d < rank; ++d) {
            index[d] = linalg::IndexOp::create(b, l, d);
            if (in[d] == out[d] && scale[d] == 1.0)
              continue;
            Value xr = arith::UIToFPOp::create(
                b, l, f32,
                arith::IndexCastUIOp::create(b, l, b.getI64Type(), index[d]));
            // ONNX takes the resized length as scale * length (not the
            // rounded output size) in the coordinate formulas.
            double s = scale[d], lo = in[d], lr = s * lo;
            Value c;
            if (coord == "asymmetric") {
              c = arith::DivFOp::create(b, l, xr, fc(s));
            } else if (coord == "align_corners") {
              c = lr == 1
                      ? fc(0)
                      : arith::MulFOp::create(b, l, xr, fc((lo - 1) / (lr - 1)))
                            .getResult();
            } else {
              // (x + 0.5) / scale - 0.5, plus the symmetric offset.
              c = arith::SubFOp::create(
                  b, l,
                  arith::DivFOp::create(
                      b, l, arith::AddFOp::create(b, l, xr, fc(0.5)), fc(s)),
                  fc(0.5));
              if (coord == "half_pixel_symmetric") {
                double adjustment = double(out[d]) / lr;
                double offset = lo / 2 * (1 - adjustment);
                c = arith::AddFOp::create(b, l, c, fc(offset));
              } else if (coord == "pytorch_half_pixel" && lr <= 1) {
                c = fc(0);
              }
            }
            coords[d] = c;
          }
          auto clampIndex = [&](Value f, int64_t d) -> Value {
            Value i = arith::FPToSIOp::create(b, l, b.getI64Type(), f);
            i = arith::MaxSIOp::create(b, l, i, i64Const(b, l, 0));
            i = arith::MinSIOp::create(b, l, i, i64Const(b, l, in[d] - 1));
            return arith::IndexCastOp::create(b, l, b.getIndexType(), i);
          };
          Value result;
          if (mode == "nearest") {
            SmallVector<Value> src(index);
            for (int64_t d = 0; d < rank; ++d) {
              if (!coords[d])
                continue;
              Value c = coords[d], r;
              if (nearestMode == "floor") {
                r = math::FloorOp::create(b, l, c);
              } else if (nearestMode == "ceil") {
                r = math::CeilOp::create(b, l, c);
              } else {
                // Round to nearest; a tie goes down (prefer_floor) or up.
                Value fl = math::FloorOp::create(b, l, c);
                Value frac = arith::SubFOp::create(b, l, c, fl);
                bool preferCeil = nearestMode == "round_prefer_ceil";
                Value up = arith::CmpFOp::create(
                    b, l,
                    preferCeil ? arith::CmpFPredicate::OGE
                               : arith::CmpFPredicate::OGT,
                    frac, fc(0.5));
                r = arith::SelectOp::create(
                    b, l, up, arith::AddFOp::create(b, l, fl, fc(1)), fl);
              }
              src[d] = clampIndex(r, d);
            }
            result = tensor::ExtractOp::create(b, l, x, src);
          } else {
            // n-linear: every corner of the cell around the coordinate.
            SmallVector<int64_t> dims;
            SmallVector<Value> lo(rank), hi(rank), w(rank);
            for (int64_t d = 0; d < rank; ++d) {
              if (!coords[d])
                continue;
              dims.push_back(d);
              Value fl = math::FloorOp::create(b, l, coords[d]);
              w[d] = arith::SubFOp::create(b, l, coords[d], fl);
              lo[d] = clampIndex(fl, d);
              hi[d] = clampIndex(arith::AddFOp::create(b, l, fl, fc(1)), d);
            }
            Type et = xType.getElementType();
            Value acc = floatConst(b, l, f32, 0.0);
            for (unsigned corner = 0; corner < (1u << dims.size()); ++corner) {
              SmallVector<Value> src(index);
              Value weight = fc(1.0);
              for (auto [k, d] : llvm::enumerate(dims)) {
                bool high = corner & (1u << k);
                src[d] = high ? hi[d] : lo[d];
                Value wd =
                    high ? w[d]
                         : arith::SubFOp::create(b, l, fc(1), w[d]).getResult();
                weight = arith::MulFOp::create(b, l, weight, wd);
              }
              Value v = tensor::ExtractOp::create(b, l, x, src);
              if (et != f32)
                v = arith::ExtFOp::create(b, l, f32, v);
              acc = arith::AddFOp::create(
                  b, l, acc, arith::MulFOp::create(b, l, v, weight));
            }
            result = et == f32
                         ? acc
                         : arith::TruncFOp::create(b, l, et, acc).getResult();
          }
          linalg::YieldOp::create(b, l, result);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXResizePatterns(RewritePatternSet &patterns) {
  patterns.add<ResizePattern>(patterns.getContext());
}
