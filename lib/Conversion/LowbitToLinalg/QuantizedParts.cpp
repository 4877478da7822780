//===- QuantizedParts.cpp - The parts of a quantized value ------*- C++ -*-===//
//
// Role lookup of quantized parts and the keepdims index maps of scales,
// super scales and masks.
//
//===----------------------------------------------------------------------===//

#include "QuantizedParts.h"
#include "ScalarCodec.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AffineExpr.h"

using namespace mlir;
using namespace mlir::lowbit;

QuantizedParts QuantizedParts::getParams(QTensorType type, ValueRange params) {
  QuantizedParts parts;
  size_t next = 0;
  parts.scales = params[next++];
  if (type.getZeroPointsType())
    parts.zeroPoints = params[next++];
  if (type.getCodebookType())
    parts.codebook = params[next++];
  if (type.getSuperScalesType())
    parts.superScales = params[next++];
  return parts;
}

QuantizedParts QuantizedParts::get(QTensorType type, ValueRange all) {
  size_t numParams = type.getParamTypes().size();
  QuantizedParts parts = getParams(type, all.slice(1, numParams));
  parts.codes = all[0];
  size_t next = 1 + numParams;
  size_t numOutliers = type.getOutlierTypes().size();
  llvm::append_range(parts.outliers, all.slice(next, numOutliers));
  next += numOutliers;
  if (type.getSparsity())
    parts.mask = all[next];
  return parts;
}

/// Builds a map over `rank` dims where dimension `axis` is divided by
/// `divisor` (0: broadcast to 0) and the others are kept (`keepOthers`) or
/// broadcast to 0.
static AffineMap buildMap(MLIRContext *ctx, int64_t rank, int64_t axis,
                          int64_t divisor, bool keepOthers) {
  SmallVector<AffineExpr> exprs;
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr dim = getAffineDimExpr(d, ctx);
    if (d == axis)
      exprs.push_back(
          divisor == 0 ? zero : (divisor == 1 ? dim : dim.floorDiv(divisor)));
    else
      exprs.push_back(keepOthers ? dim : zero);
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

AffineMap mlir::lowbit::getScaleMap(QTensorType type) {
  SchemeAttr scheme = type.getScheme();
  MLIRContext *ctx = type.getContext();
  int64_t rank = type.getRank();
  switch (scheme.getGranularity()) {
  case Granularity::Tensor:
    return buildMap(ctx, rank, -1, 0, /*keepOthers=*/false);
  case Granularity::Channel:
    return buildMap(ctx, rank, scheme.getAxis(), 1, /*keepOthers=*/false);
  case Granularity::Group:
    return buildMap(ctx, rank, scheme.getAxis(), scheme.getGroupSize(),
                    /*keepOthers=*/true);
  }
  return {};
}

AffineMap mlir::lowbit::getSuperScaleMap(QTensorType type) {
  SchemeAttr scheme = type.getScheme();
  if (scheme.getSuperGroup() == 0)
    return buildMap(type.getContext(), type.getRank(), -1, 0, false);
  return buildMap(type.getContext(), type.getRank(), scheme.getAxis(),
                  scheme.getGroupSize() * scheme.getSuperGroup(), true);
}

AffineMap mlir::lowbit::getMaskMap(QTensorType type) {
  SparsityAttr sparsity = type.getSparsity();
  int64_t divisor =
      sparsity.getKind() == SparsityKind::Block ? sparsity.getM() : 1;
  return buildMap(type.getContext(), type.getRank(), sparsity.getAxis(),
                  divisor, true);
}

//===----------------------------------------------------------------------===//
// ScaleOperands
//===----------------------------------------------------------------------===//

struct ScaleOperands::Decoders {
  ToF32 scale;
  std::optional<ToF32> zeroPoint, superScale;
};

ScaleOperands::ScaleOperands(OpBuilder &b, Location loc, QTensorType type,
                             const QuantizedParts &parts)
    : type(type), parts(parts) {
  SchemeAttr scheme = type.getScheme();
  decoders.reset(new Decoders{ToF32(b, loc, scheme.getScaleType()), {}, {}});
  if (parts.zeroPoints)
    decoders->zeroPoint.emplace(b, loc, scheme.getZeroPointType());
  if (parts.superScales)
    decoders->superScale.emplace(b, loc, scheme.getSuperScaleType());
}

ScaleOperands::~ScaleOperands() = default;

void ScaleOperands::appendInputs(SmallVectorImpl<Value> &inputs,
                                 SmallVectorImpl<AffineMap> &maps) const {
  inputs.push_back(parts.scales);
  maps.push_back(getScaleMap(type));
  if (parts.zeroPoints) {
    inputs.push_back(parts.zeroPoints);
    maps.push_back(getScaleMap(type));
  }
  if (parts.superScales) {
    inputs.push_back(parts.superScales);
    maps.push_back(getSuperScaleMap(type));
  }
}

unsigned ScaleOperands::getNumInputs() const {
  return 1 + (parts.zeroPoints ? 1 : 0) + (parts.superScales ? 1 : 0);
}

std::pair<Value, Value> ScaleOperands::build(OpBuilder &b, Location loc,
                                             ValueRange args) const {
  unsigned next = 0;
  Value s = decoders->scale(b, loc, args[next++]);
  Value z;
  if (parts.zeroPoints)
    z = (*decoders->zeroPoint)(b, loc, args[next++]);
  if (parts.superScales)
    s = arith::MulFOp::create(b, loc, s,
                              (*decoders->superScale)(b, loc, args[next++]));
  return {s, z};
}
