//===- Reductions.cpp - ReduceX, Softmax, LayerNormalization ----*- C++ -*-===//
//
// Reductions over constant axes (attribute or input, per opset), Softmax,
// LogSoftmax and Hardmax (one axis from opset 13, the 2-D coercion before),
// LayerNormalization over the trailing axes, InstanceNormalization over
// the spatial ones and GroupNormalization over channel groups, as
// linalg.reduce and linalg.generic; statistics in the element type.
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

using Combine = function_ref<Value(OpBuilder &, Location, Value, Value)>;

/// Reduces `input` over the sorted `dims` (removed from the result).
Value buildReduce(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> dims, Value initScalar, Combine combine) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (llvm::is_contained(dims, d))
      continue;
    shape.push_back(type.getDimSize(d));
    if (type.isDynamicDim(d))
      dyn.push_back(tensor::DimOp::create(b, loc, input, d));
  }
  Value init =
      tensor::EmptyOp::create(b, loc, shape, type.getElementType(), dyn);
  Value filled = linalg::FillOp::create(b, loc, initScalar, init).getResult(0);
  auto reduce = linalg::ReduceOp::create(
      b, loc, ValueRange{input}, ValueRange{filled}, dims,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        linalg::YieldOp::create(nb, l, combine(nb, l, args[0], args[1]));
      });
  return reduce.getResult(0);
}

/// Map from the full loop space of rank `rank` to a tensor without `dims`.
AffineMap dropDims(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> dims) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(dims, d))
      exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// An elementwise generic over `like`'s shape; `inputs` use `maps`.
Value buildMapped(OpBuilder &b, Location loc, Value like, ValueRange inputs,
                  ArrayRef<AffineMap> maps,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto type = cast<RankedTensorType>(like.getType());
  Value init = emptyLike(b, loc, type, like);
  SmallVector<AffineMap> all(maps);
  all.push_back(b.getMultiDimIdentityMap(type.getRank()));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, inputs, ValueRange{init}, all,
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        linalg::YieldOp::create(nb, l, body(nb, l, args.drop_back()));
      });
  return generic.getResult(0);
}

/// The number of elements over `dims` of `v`, as a float of type `t`.
Value countOver(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> dims,
                Type t) {
  Value n = indexConst(b, loc, 1);
  for (int64_t d : dims)
    n = arith::MulIOp::create(b, loc, n, dimSize(b, loc, v, d));
  return arith::SIToFPOp::create(
      b, loc, t, arith::IndexCastOp::create(b, loc, b.getI64Type(), n));
}

enum class ReduceKind { Sum, Mean, Max, Min };

struct ReducePattern : ONNXPattern {
  ReducePattern(MLIRContext *ctx, StringRef name, ReduceKind kind,
                int64_t axesInputSince)
      : ONNXPattern(ctx, name), kind(kind), axesInputSince(axesInputSince) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value input = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(input.getType());
    RankedTensorType resultType = getResultType(op);
    if (!type || !resultType || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs ranked float tensors");
    std::optional<SmallVector<int64_t>> axes;
    bool hasAxesInput = op.getInputs().size() > 1 &&
                        !isa<NoneType>(op.getInputs()[1].getType());
    if (static_cast<int64_t>(op.getOpset()) >= axesInputSince) {
      axes = hasAxesInput ? constantInts(op.getInputs()[1])
                          : SmallVector<int64_t>();
    } else if (auto attr = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>("axes")) {
      axes = SmallVector<int64_t>(attr.asArrayRef());
    } else {
      axes = SmallVector<int64_t>();
    }
    if (!axes)
      return rewriter.notifyMatchFailure(op, "axes are not constant");
    int64_t rank = type.getRank();
    SmallVector<int64_t> dims;
    for (int64_t a : *axes)
      dims.push_back(a < 0 ? a + rank : a);
    if (dims.empty()) {
      if (getIntAttr(op, "noop_with_empty_axes", 0)) {
        rewriter.replaceOp(op, input);
        return success();
      }
      for (int64_t d = 0; d < rank; ++d)
        dims.push_back(d);
    }
    llvm::sort(dims);
    Location loc = op.getLoc();
    Type t = type.getElementType();
    double init =
        kind == ReduceKind::Max   ? -std::numeric_limits<double>::infinity()
        : kind == ReduceKind::Min ? std::numeric_limits<double>::infinity()
                                  : 0.0;
    Value r = buildReduce(
        rewriter, loc, input, dims, floatConst(rewriter, loc, t, init),
        [&](OpBuilder &b, Location l, Value in, Value acc) -> Value {
          switch (kind) {
          case ReduceKind::Max:
            return arith::MaximumFOp::create(b, l, in, acc);
          case ReduceKind::Min:
            return arith::MinimumFOp::create(b, l, in, acc);
          default:
            return arith::AddFOp::create(b, l, in, acc);
          }
        });
    if (kind == ReduceKind::Mean) {
      Value n = countOver(rewriter, loc, input, dims, t);
      auto rType = cast<RankedTensorType>(r.getType());
      r = buildMapped(rewriter, loc, r, ValueRange{r},
                      {rewriter.getMultiDimIdentityMap(rType.getRank())},
                      [&](OpBuilder &b, Location l, ValueRange s) {
                        return arith::DivFOp::create(b, l, s[0], n).getResult();
                      });
    }
    if (resultType.getRank() != cast<RankedTensorType>(r.getType()).getRank()) {
      // keepdims: reduced dims become 1.
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(llvm::is_contained(dims, d)
                            ? indexConst(rewriter, loc, 1)
                            : dimSize(rewriter, loc, input, d));
      r = reshapeTo(rewriter, loc, r, resultType, sizes);
    }
    if (r.getType() != resultType)
      r = tensor::CastOp::create(rewriter, loc, resultType, r);
    rewriter.replaceOp(op, r);
    return success();
  }
  ReduceKind kind;
  int64_t axesInputSince;
};

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

/// Softmax, LogSoftmax and Hardmax. From opset 13 over the one axis
/// `axis` (default -1); before, over the input coerced to 2-D at `axis`
/// (default 1), that is over every axis from `axis` on.
struct SoftmaxPattern : ONNXPattern {
  SoftmaxPattern(MLIRContext *ctx, StringRef name, SoftmaxKind kind,
                 int64_t minOpset, int64_t maxOpset)
      : ONNXPattern(ctx, name, minOpset, maxOpset), kind(kind),
        coerced(maxOpset < 13) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    if (!type || !isa<FloatType>(type.getElementType()) ||
        getResultType(op) != type)
      return failure();
    int64_t rank = type.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", coerced ? 1 : -1, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    SmallVector<int64_t> dims{*axisOr};
    for (int64_t d = *axisOr + 1; coerced && d < rank; ++d)
      dims.push_back(d);
    Location loc = op.getLoc();
    Type t = type.getElementType();
    MLIRContext *ctx = op.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap red = dropDims(ctx, rank, dims);
    Value m = buildReduce(
        rewriter, loc, x, dims, floatConst(rewriter, loc, t, -INFINITY),
        [](OpBuilder &b, Location l, Value in, Value acc) {
          return arith::MaximumFOp::create(b, l, in, acc).getResult();
        });
    if (kind == SoftmaxKind::Hardmax) {
      if (!type.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "Hardmax needs static shapes");
      rewriter.replaceOp(op, hardmax(rewriter, loc, x, m, dims, id, red));
      return success();
    }
    Value e =
        buildMapped(rewriter, loc, x, ValueRange{x, m}, {id, red},
                    [](OpBuilder &b, Location l, ValueRange s) {
                      return math::ExpOp::create(
                                 b, l, arith::SubFOp::create(b, l, s[0], s[1]))
                          .getResult();
                    });
    Value sum =
        buildReduce(rewriter, loc, e, dims, floatConst(rewriter, loc, t, 0.0),
                    [](OpBuilder &b, Location l, Value in, Value acc) {
                      return arith::AddFOp::create(b, l, in, acc).getResult();
                    });
    if (kind == SoftmaxKind::LogSoftmax) {
      // x - max - log(sum(exp(x - max))).
      rewriter.replaceOp(
          op, buildMapped(
                  rewriter, loc, x, ValueRange{x, m, sum}, {id, red, red},
                  [](OpBuilder &b, Location l, ValueRange s) {
                    Value shifted = arith::SubFOp::create(b, l, s[0], s[1]);
                    return arith::SubFOp::create(
                               b, l, shifted, math::LogOp::create(b, l, s[2]))
                        .getResult();
                  }));
      return success();
    }
    rewriter.replaceOp(
        op, buildMapped(
                rewriter, loc, e, ValueRange{e, sum}, {id, red},
                [](OpBuilder &b, Location l, ValueRange s) {
                  return arith::DivFOp::create(b, l, s[0], s[1]).getResult();
                }));
    return success();
  }

  /// 1 at the first maximum over `dims` (row-major), 0 elsewhere: the
  /// smallest linear index over `dims` where x equals the maximum `m`,
  /// then a comparison with each element's index.
  Value hardmax(OpBuilder &b, Location loc, Value x, Value m,
                ArrayRef<int64_t> dims, AffineMap id, AffineMap red) const {
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    Type i64 = b.getI64Type();
    // Each element's linear index over `dims` (in a generic body).
    auto linear = [&](OpBuilder &nb, Location l) {
      Value index = arith::ConstantIntOp::create(nb, l, i64, 0);
      for (int64_t d : dims) {
        Value i = arith::IndexCastOp::create(nb, l, i64,
                                             linalg::IndexOp::create(nb, l, d));
        index = arith::AddIOp::create(
            nb, l,
            arith::MulIOp::create(
                nb, l, index,
                arith::ConstantIntOp::create(nb, l, i64, type.getDimSize(d))),
            i);
      }
      return index;
    };
    SmallVector<int64_t> redShape;
    for (int64_t d = 0; d < rank; ++d)
      if (!llvm::is_contained(dims, d))
        redShape.push_back(type.getDimSize(d));
    Value none = arith::ConstantIntOp::create(
        b, loc, i64, std::numeric_limits<int64_t>::max());
    Value empty = tensor::EmptyOp::create(b, loc, redShape, i64);
    Value init = linalg::FillOp::create(b, loc, none, empty).getResult(0);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    for (int64_t d : dims)
      iters[d] = utils::IteratorType::reduction;
    Value first =
        linalg::GenericOp::create(
            b, loc, TypeRange{init.getType()}, ValueRange{x, m},
            ValueRange{init}, ArrayRef<AffineMap>{id, red, red}, iters,
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value isMax = arith::CmpFOp::create(
                  nb, l, arith::CmpFPredicate::OEQ, args[0], args[1]);
              Value candidate =
                  arith::SelectOp::create(nb, l, isMax, linear(nb, l), none);
              linalg::YieldOp::create(
                  nb, l,
                  arith::MinSIOp::create(nb, l, candidate, args[2])
                      .getResult());
            })
            .getResult(0);
    Type t = type.getElementType();
    Value one = floatConst(b, loc, t, 1.0), zero = floatConst(b, loc, t, 0.0);
    return buildMapped(
        b, loc, x, ValueRange{first}, {red},
        [&](OpBuilder &nb, Location l, ValueRange s) {
          Value hit = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                            linear(nb, l), s[0]);
          return arith::SelectOp::create(nb, l, hit, one, zero).getResult();
        });
  }

  SoftmaxKind kind;
  bool coerced;
};

/// The statistics and result of normalising `x` over the sorted `dims`:
/// (x - mean) * rsqrt(var + eps) * scale (+ bias), scale and bias read
/// through their maps from the loop space of `x` (bias may be null).
struct Normalized {
  Value y, sum, var, n; // n: the count over `dims`, as a float
};
Normalized buildNormalized(OpBuilder &b, Location loc, Value x,
                           ArrayRef<int64_t> dims, Value eps, Value scale,
                           AffineMap scaleMap, Value bias, AffineMap biasMap) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  Type t = type.getElementType();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap red = dropDims(b.getContext(), rank, dims);
  Value n = countOver(b, loc, x, dims, t);
  auto add = [](OpBuilder &nb, Location l, Value in, Value acc) {
    return arith::AddFOp::create(nb, l, in, acc).getResult();
  };
  Value zero = floatConst(b, loc, t, 0.0);
  Value sum = buildReduce(b, loc, x, dims, zero, add);
  Value centered = buildMapped(
      b, loc, x, ValueRange{x, sum}, {id, red},
      [&](OpBuilder &nb, Location l, ValueRange s) {
        return arith::SubFOp::create(nb, l, s[0],
                                     arith::DivFOp::create(nb, l, s[1], n))
            .getResult();
      });
  Value sq =
      buildMapped(b, loc, centered, ValueRange{centered}, {id},
                  [](OpBuilder &nb, Location l, ValueRange s) {
                    return arith::MulFOp::create(nb, l, s[0], s[0]).getResult();
                  });
  Value var = buildReduce(b, loc, sq, dims, zero, add);
  SmallVector<Value> inputs{centered, var, scale};
  SmallVector<AffineMap> maps{id, red, scaleMap};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(biasMap);
  }
  Value y = buildMapped(
      b, loc, x, inputs, maps, [&](OpBuilder &nb, Location l, ValueRange s) {
        Value inv = math::RsqrtOp::create(
            nb, l,
            arith::AddFOp::create(nb, l, arith::DivFOp::create(nb, l, s[1], n),
                                  eps));
        Value v = arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, s[0], inv), s[2]);
        if (s.size() > 3)
          v = arith::AddFOp::create(nb, l, v, s[3]);
        return v;
      });
  return {y, sum, var, n};
}

struct LayerNormPattern : ONNXPattern {
  LayerNormPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "LayerNormalization", 17) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0], scale = op.getInputs()[1];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    auto scaleType = dyn_cast<RankedTensorType>(scale.getType());
    if (!type || !scaleType || !isa<FloatType>(type.getElementType()) ||
        getResultType(op) != type)
      return failure();
    Value bias;
    if (op.getInputs().size() > 2 &&
        !isa<NoneType>(op.getInputs()[2].getType()))
      bias = op.getInputs()[2];
    int64_t rank = type.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", -1, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    SmallVector<int64_t> dims;
    for (int64_t d = axis; d < rank; ++d)
      dims.push_back(d);
    Location loc = op.getLoc();
    Type t = type.getElementType();
    MLIRContext *ctx = op.getContext();
    // The optional statistics results are checked before any op is built.
    for (unsigned i = 1; i < op->getNumResults(); ++i) {
      RankedTensorType statType = getResultType(op, i);
      if (!statType || statType.getRank() != rank ||
          statType.getElementType() != t)
        return rewriter.notifyMatchFailure(op, "statistics result type");
    }
    // Scale and bias broadcast (numpy rules) against the normalised dims.
    auto trailing = [&](Value v) {
      auto vt = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> exprs;
      for (int64_t j = 0; j < vt.getRank(); ++j) {
        int64_t d = rank - vt.getRank() + j;
        exprs.push_back(vt.getDimSize(j) == 1 && type.getDimSize(d) != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d, ctx));
      }
      return AffineMap::get(rank, 0, exprs, ctx);
    };
    Value eps =
        floatConst(rewriter, loc, t, getFloatAttr(op, "epsilon", 1e-5f));
    Normalized norm =
        buildNormalized(rewriter, loc, x, dims, eps, scale, trailing(scale),
                        bias, bias ? trailing(bias) : AffineMap());
    Value y = norm.y, sum = norm.sum, var = norm.var, n = norm.n;
    // The optional Mean and InvStdDev results: the statistics with the
    // normalised dimensions kept as 1s.
    SmallVector<Value> results{y};
    for (unsigned i = 1; i < op->getNumResults(); ++i) {
      RankedTensorType statType = getResultType(op, i);
      if (op->getResult(i).use_empty()) {
        results.push_back(Value());
        continue;
      }
      auto redType = cast<RankedTensorType>(sum.getType());
      Value stat = buildMapped(
          rewriter, loc, sum, i == 1 ? ValueRange{sum} : ValueRange{var},
          {rewriter.getMultiDimIdentityMap(redType.getRank())},
          [&](OpBuilder &b, Location l, ValueRange s) -> Value {
            Value v = arith::DivFOp::create(b, l, s[0], n);
            if (i == 1)
              return v;
            return math::RsqrtOp::create(b, l,
                                         arith::AddFOp::create(b, l, v, eps));
          });
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(d < axis ? dimSize(rewriter, loc, x, d)
                                 : indexConst(rewriter, loc, 1));
      results.push_back(reshapeTo(rewriter, loc, stat, statType, sizes));
    }
    for (auto [r, v] : llvm::zip(op->getResults(), results))
      if (v)
        rewriter.replaceAllUsesWith(r, v);
    rewriter.eraseOp(op);
    return success();
  }
};

/// The input, scale and bias of InstanceNormalization and
/// GroupNormalization: x [N, C, ...] (float, rank >= 3, the result's type)
/// and 1-D scale and bias; nullopt otherwise.
struct ChannelNormOperands {
  Value x, scale, bias;
  RankedTensorType type;
  int64_t scaleSize, biasSize;
};
std::optional<ChannelNormOperands> getChannelNormOperands(onnx::NodeOp op) {
  if (op.getInputs().size() != 3)
    return std::nullopt;
  ChannelNormOperands o{
      op.getInputs()[0], op.getInputs()[1], op.getInputs()[2], {}, 0, 0};
  o.type = dyn_cast<RankedTensorType>(o.x.getType());
  auto scaleType = dyn_cast<RankedTensorType>(o.scale.getType());
  auto biasType = dyn_cast<RankedTensorType>(o.bias.getType());
  if (!o.type || o.type.getRank() < 3 ||
      !isa<FloatType>(o.type.getElementType()) || getResultType(op) != o.type ||
      !scaleType || scaleType.getRank() != 1 || !biasType ||
      biasType.getRank() != 1)
    return std::nullopt;
  o.scaleSize = scaleType.getDimSize(0);
  o.biasSize = biasType.getDimSize(0);
  return o;
}

/// InstanceNormalization: each (n, c) normalised over the spatial
/// dimensions, then scale[c] and B[c].
struct InstanceNormPattern : ONNXPattern {
  InstanceNormPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "InstanceNormalization", 6) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    std::optional<ChannelNormOperands> o = getChannelNormOperands(op);
    if (!o)
      return rewriter.notifyMatchFailure(op, "needs N x C x ... floats");
    Value x = o->x, scale = o->scale, bias = o->bias;
    RankedTensorType type = o->type;
    int64_t rank = type.getRank();
    SmallVector<int64_t> dims;
    for (int64_t d = 2; d < rank; ++d)
      dims.push_back(d);
    Location loc = op.getLoc();
    AffineMap channel =
        AffineMap::get(rank, 0, getAffineDimExpr(1, op.getContext()));
    Value eps = floatConst(rewriter, loc, type.getElementType(),
                           getFloatAttr(op, "epsilon", 1e-5f));
    rewriter.replaceOp(op, buildNormalized(rewriter, loc, x, dims, eps, scale,
                                           channel, bias, channel)
                               .y);
    return success();
  }
};

/// GroupNormalization: x [N, C, ...] seen as [N, G, C/G, ...], each (n, g)
/// normalised over its channels and the spatial dimensions; scale and bias
/// per channel (opset 21) or per group (opset 18, as it was defined then).
/// Needs a static C.
struct GroupNormPattern : ONNXPattern {
  GroupNormPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "GroupNormalization", 18) {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    std::optional<ChannelNormOperands> o = getChannelNormOperands(op);
    int64_t groups = getIntAttr(op, "num_groups", 0);
    if (!o || o->type.isDynamicDim(1) || groups <= 0 ||
        o->type.getDimSize(1) % groups)
      return rewriter.notifyMatchFailure(
          op,
          "needs N x C x ... floats, C static and a multiple of num_groups");
    Value x = o->x, scale = o->scale, bias = o->bias;
    RankedTensorType type = o->type;
    bool perChannel = op.getOpset() >= 21;
    int64_t c = type.getDimSize(1), per = c / groups;
    if (o->scaleSize != (perChannel ? c : groups) ||
        o->biasSize != (perChannel ? c : groups))
      return rewriter.notifyMatchFailure(op, "scale/bias length");
    int64_t rank = type.getRank();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    // [N, C, S...] -> [N, G, C/G, S...]
    SmallVector<int64_t> shape{type.getDimSize(0), groups, per};
    SmallVector<Value> sizes{dimSize(rewriter, loc, x, 0),
                             indexConst(rewriter, loc, groups),
                             indexConst(rewriter, loc, per)};
    for (int64_t d = 2; d < rank; ++d) {
      shape.push_back(type.getDimSize(d));
      sizes.push_back(dimSize(rewriter, loc, x, d));
    }
    auto grouped = RankedTensorType::get(shape, type.getElementType());
    Value xg = reshapeTo(rewriter, loc, x, grouped, sizes);
    SmallVector<int64_t> dims;
    for (int64_t d = 2; d < rank + 1; ++d)
      dims.push_back(d);
    AffineExpr g = getAffineDimExpr(1, ctx), k = getAffineDimExpr(2, ctx);
    AffineMap affine =
        AffineMap::get(rank + 1, 0, perChannel ? g * per + k : g, ctx);
    Value eps = floatConst(rewriter, loc, type.getElementType(),
                           getFloatAttr(op, "epsilon", 1e-5f));
    Value y = buildNormalized(rewriter, loc, xg, dims, eps, scale, affine, bias,
                              affine)
                  .y;
    SmallVector<Value> back;
    for (int64_t d = 0; d < rank; ++d)
      back.push_back(dimSize(rewriter, loc, x, d));
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, y, type, back));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXReductionPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ReducePattern>(ctx, "ReduceSum", ReduceKind::Sum, 13);
  patterns.add<InstanceNormPattern, GroupNormPattern>(ctx);
  patterns.add<ReducePattern>(ctx, "ReduceMean", ReduceKind::Mean, 18);
  patterns.add<ReducePattern>(ctx, "ReduceMax", ReduceKind::Max, 18);
  patterns.add<ReducePattern>(ctx, "ReduceMin", ReduceKind::Min, 18);
  for (auto [name, kind] : {std::pair{"Softmax", SoftmaxKind::Softmax},
                            std::pair{"LogSoftmax", SoftmaxKind::LogSoftmax},
                            std::pair{"Hardmax", SoftmaxKind::Hardmax}}) {
    patterns.add<SoftmaxPattern>(ctx, name, kind, 1, 12);
    patterns.add<SoftmaxPattern>(ctx, name, kind, 13, kNewestKnownONNXOpset);
  }
  patterns.add<LayerNormPattern>(ctx);
}
