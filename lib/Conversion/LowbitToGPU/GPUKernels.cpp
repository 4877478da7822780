//===- GPUKernels.cpp - What the GPU packed-matmul kernels share ----------===//
//
// Decoding codes to exact values without conversions, and dequantizing with
// the group's parameters.
//
//===----------------------------------------------------------------------===//

#include "GPUKernels.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

GPUKernelBase::GPUKernelBase(OpBuilder &b, Location loc,
                             PackedLayoutAttr layout, int64_t rows)
    : b(b), loc(loc), layout(layout), rows(rows) {
  bits = layout.getBits();
  tile = layout.getTile();
  k = layout.getK();
  n = layout.getN();
  blockK = layout.getBlockK();
  numBlocks = layout.getPaddedK() / blockK;
  numGroups = layout.getNumGroups();
  perGroup = layout.getParamsPerGroup();
  f32 = b.getF32Type();
  i32 = b.getI32Type();
  vec4F32 = VectorType::get({4}, f32);
  vec4I32 = VectorType::get({4}, i32);
}

Value GPUKernelBase::splat(VectorType type, double v) {
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), v)));
}

Value GPUKernelBase::splatInt(VectorType type, int64_t v) {
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(type, b.getIntegerAttr(type.getElementType(), v)));
}

Value GPUKernelBase::addWorkgroupBuffer(gpu::GPUFuncOp func,
                                        ArrayRef<int64_t> shape, Type element,
                                        int64_t align) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto type =
      MemRefType::get(shape, element, MemRefLayoutAttrInterface(), workgroup);
  Value buffer = func.addWorkgroupAttribution(type, loc);
  if (align)
    func.setWorkgroupAttributionAttr(func.getNumWorkgroupAttributions() - 1,
                                     b.getStringAttr("llvm.align"),
                                     b.getI64IntegerAttr(align));
  return buffer;
}

Value GPUKernelBase::bindArguments(gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  xArg = entry.getArgument(0);
  codesArg = entry.getArgument(1);
  paramsArg = entry.getArgument(2);
  if (func.getNumArguments() == 5) {
    outliersArg = entry.getArgument(3);
    return entry.getArgument(4);
  }
  return entry.getArgument(3);
}

SmallVector<Value> GPUKernelBase::outlierSums(Value col, ArrayRef<Value> rowIdx,
                                              Value first, int64_t step) {
  Type index = b.getIndexType();
  auto word = [&](Value at) -> Value {
    return memref::LoadOp::create(b, loc, outliersArg, at);
  };
  auto offset = [&](Value c) -> Value {
    return arith::IndexCastUIOp::create(b, loc, index, word(c));
  };
  Value begin = add(offset(col), first), end = offset(addc(col, 1));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  SmallVector<Value> init(rowIdx.size(), zero);
  auto loop = scf::ForOp::create(b, loc, begin, end, idx(step), init);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  // (k << 16) | f16 bits: one load, a shift and a conversion.
  Value w = word(loop.getInductionVar());
  Value kIdx = arith::IndexCastUIOp::create(
      b, loc, index,
      arith::ShRUIOp::create(b, loc, w,
                             arith::ConstantIntOp::create(b, loc, i32, 16)));
  Value half = arith::BitcastOp::create(
      b, loc, b.getF16Type(),
      arith::TruncIOp::create(b, loc, b.getI16Type(), w));
  Value value = arith::ExtFOp::create(b, loc, f32, half);
  SmallVector<Value> sums;
  for (auto [r, sum] : llvm::zip(rowIdx, loop.getRegionIterArgs())) {
    Value x = memref::LoadOp::create(b, loc, xArg, ValueRange{r, kIdx});
    sums.push_back(arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, value), sum));
  }
  scf::YieldOp::create(b, loc, sums);
  return SmallVector<Value>(loop.getResults());
}

Value GPUKernelBase::addToFirst(Value v, Value add) {
  Value first = vector::ExtractOp::create(b, loc, v, 0);
  return vector::InsertOp::create(
      b, loc, arith::AddFOp::create(b, loc, first, add), v, 0);
}

Value GPUKernelBase::fields(Value words, Value shift) {
  Value codes = words;
  if (shift)
    codes = arith::ShRUIOp::create(
        b, loc, words, vector::BroadcastOp::create(b, loc, vec4I32, shift));
  return arith::AndIOp::create(b, loc, codes,
                               splatI32((int64_t(1) << bits) - 1));
}

Value GPUKernelBase::byteFields(Value word) {
  Value w4 = vector::BroadcastOp::create(b, loc, vec4I32, word);
  Value shifts = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vec4I32, ArrayRef<int32_t>{0, 8, 16, 24}));
  return arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, w4, shifts), splatI32(0xFF));
}

Value GPUKernelBase::groupOf(Value kq) {
  return layout.getGroup() ? div(kq, layout.getGroup()) : idx(0);
}

Value GPUKernelBase::dequantize(Value codes, Value tileIdx, Value group,
                                Value col) {
  // value(code) exactly, without a conversion: (code ^ sign) in the
  // mantissa of 2^23, minus 2^23 + sign (sign = 2^(bits-1) for two's
  // complement codes).
  int64_t sign = layout.getSignedCodes() ? int64_t(1) << (bits - 1) : 0;
  if (sign)
    codes = arith::XOrIOp::create(b, loc, codes, splatI32(sign));
  codes = arith::OrIOp::create(b, loc, codes, splatI32(0x4B000000));
  Value values = arith::BitcastOp::create(b, loc, vec4F32, codes);
  values = arith::SubFOp::create(
      b, loc, values, splatF32(8388608.0f + static_cast<float>(sign)));
  // params[((tile * numGroups + group) * tileCols + col) * perGroup]
  Value base = mul(add(mul(tileIdx, numGroups), group), tile * perGroup);
  base = add(base, mul(col, perGroup));
  Value scale = memref::LoadOp::create(b, loc, paramsArg, base);
  Value scaleV = vector::BroadcastOp::create(b, loc, vec4F32, scale);
  if (!layout.getZero())
    return arith::MulFOp::create(b, loc, values, scaleV);
  // (value - zero) * scale = value * scale + (-zero * scale)
  Value zero = memref::LoadOp::create(b, loc, paramsArg, addc(base, 1));
  Value offset =
      arith::MulFOp::create(b, loc, arith::NegFOp::create(b, loc, zero), scale);
  return vector::FMAOp::create(
      b, loc, values, scaleV,
      vector::BroadcastOp::create(b, loc, vec4F32, offset));
}

LaunchShape mlir::lowbit::detail::launchShape(PackedLayoutAttr layout,
                                              int64_t rows) {
  if (layout.getMma())
    return rows <= kGemvMaxRows ? mmaGemvShape(layout, rows)
                                : mmaShape(layout, rows);
  return rows <= kGemvMaxRows ? gemvShape(layout, rows)
                              : gemmShape(layout, rows);
}

LaunchShape mlir::lowbit::detail::tiledShape(PackedLayoutAttr layout,
                                             int64_t rows, int64_t tileM,
                                             int64_t tileN, int64_t threads,
                                             LaunchShape::Kind kind) {
  LaunchShape s;
  s.gridX = (layout.getN() + tileN - 1) / tileN;
  s.gridY = (rows + tileM - 1) / tileM;
  s.threads = threads;
  s.kind = kind;
  return s;
}
