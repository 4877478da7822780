//===- PackedMatmulLut.cpp - Packed-matmul kernels, table lookups ---------===//
//
// T-MAC-style kernels for 1- to 4-bit codes: per row, the sums of every
// subset of each quad of activations are tabulated once per call (16
// entries, quantized to int8 per group); the weights' bit planes then index
// those tables with byte shuffles (x86 pshufb, ARM tbl), so that a lookup
// replaces four multiply-adds per bit plane.
//
// Per quad q of k and column c with unsigned codes u = sum_p 2^p u_p:
//   sum_{k in q} u_k x_k = sum_p 2^p T_q[plane-p bits of c]
// (planes taken in pairs: one pshufb per pair half, one pmaddubsw with
// weights 2^p, 2^(p+1) per pair)
// and per group g: sum_k w_k x_k = s_w (s_T * sum_q (...) - z * sum_k x_k).
//
//===----------------------------------------------------------------------===//

#include "PackedMatmulKernels.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

/// Bias of the stored table entries (int8 + 128 = unsigned byte, as
/// pmaddubsw's unsigned operand wants).
static constexpr int64_t kTableBias = 128;

KernelBuilder::LutTables KernelBuilder::buildTables() {
  int64_t paddedK = layout.getPaddedK(), group = layout.getGroup();
  int64_t quadsPerGroup = group / 4;
  auto i8 = b.getI8Type();
  LutTables t;
  t.tables = memref::AllocOp::create(
      b, loc, MemRefType::get({rows, paddedK / 4, 16}, i8), ValueRange{},
      b.getI64IntegerAttr(64));
  t.scales =
      memref::AllocOp::create(b, loc, MemRefType::get({rows, numGroups}, f32));
  t.sums =
      memref::AllocOp::create(b, loc, MemRefType::get({rows, numGroups}, f32));
  auto vec16 = VectorType::get({16}, f32);
  auto vec4 = VectorType::get({4}, f32);
  auto splat = [&](VectorType type, Attribute v) -> Value {
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, v));
  };
  // Entry c of a quad's table is sum_i bit_i(c) x_i.
  SmallVector<Value> bitsOf;
  for (int64_t i = 0; i < 4; ++i) {
    SmallVector<float> v;
    for (int64_t c = 0; c < 16; ++c)
      v.push_back(static_cast<float>((c >> i) & 1));
    bitsOf.push_back(arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec16, ArrayRef<float>(v))));
  }
  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  auto rowLoop = scf::ForOp::create(b, loc, idx(0), idx(rows), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rowLoop.getBody());
  Value row = rowLoop.getInductionVar();
  auto groupLoop = scf::ForOp::create(b, loc, idx(0), idx(numGroups), idx(1));
  b.setInsertionPointToStart(groupLoop.getBody());
  Value g = groupLoop.getInductionVar();
  Value firstQuad = mul(g, quadsPerGroup);
  // The quad's activations (0 past K) and its table in f32.
  auto quadTable = [&](Value quad) -> std::pair<Value, Value> {
    Value x = vector::TransferReadOp::create(b, loc, vec4, op.getInput(),
                                             ValueRange{row, mul(quad, 4)},
                                             zeroF, ArrayRef<bool>{false});
    Value table = splat(vec16, b.getF32FloatAttr(0));
    for (int64_t i = 0; i < 4; ++i) {
      Value xi = vector::BroadcastOp::create(
          b, loc, vec16, vector::ExtractOp::create(b, loc, x, i));
      table = vector::FMAOp::create(b, loc, xi, bitsOf[i], table);
    }
    return {x, table};
  };
  // Pass 1: the group's largest |entry| and sum of activations.
  auto scan = scf::ForOp::create(b, loc, idx(0), idx(quadsPerGroup), idx(1),
                                 ValueRange{splat(vec16, b.getF32FloatAttr(0)),
                                            splat(vec4, b.getF32FloatAttr(0))});
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(scan.getBody());
    auto [x, table] = quadTable(add(firstQuad, scan.getInductionVar()));
    Value amax = arith::MaximumFOp::create(b, loc, scan.getRegionIterArgs()[0],
                                           math::AbsFOp::create(b, loc, table));
    Value sum = arith::AddFOp::create(b, loc, scan.getRegionIterArgs()[1], x);
    scf::YieldOp::create(b, loc, ValueRange{amax, sum});
  }
  Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                        scan.getResult(0));
  Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                          scan.getResult(1));
  auto [scale, inv] = int8Scale(m);
  memref::StoreOp::create(b, loc, scale, t.scales, ValueRange{row, g});
  memref::StoreOp::create(b, loc, sum, t.sums, ValueRange{row, g});
  // Pass 2: the quantized, biased tables.
  Value invVec = vector::BroadcastOp::create(b, loc, vec16, inv);
  auto vec16i32 = VectorType::get({16}, b.getI32Type());
  Value bias = splat(vec16i32, b.getI32IntegerAttr(kTableBias));
  auto fill = scf::ForOp::create(b, loc, idx(0), idx(quadsPerGroup), idx(1));
  b.setInsertionPointToStart(fill.getBody());
  Value quad = add(firstQuad, fill.getInductionVar());
  Value table = quadTable(quad).second;
  Value q = math::RoundEvenOp::create(
      b, loc, arith::MulFOp::create(b, loc, table, invVec));
  Value qi = arith::AddIOp::create(
      b, loc, arith::FPToSIOp::create(b, loc, vec16i32, q), bias);
  Value bytes = arith::TruncIOp::create(b, loc, VectorType::get({16}, i8), qi);
  vector::StoreOp::create(b, loc, bytes, t.tables,
                          ValueRange{row, quad, idx(0)});
  return t;
}

Value KernelBuilder::lookupBytes(Value table, Value indices) {
  auto type = cast<VectorType>(indices.getType());
  if (lookup == ByteLookup::Tbl)
    return LLVM::CallIntrinsicOp::create(
               b, loc, type, b.getStringAttr("llvm.aarch64.neon.tbl1.v16i8"),
               ValueRange{table, indices})
        .getResult(0);
  StringRef name = type.getNumElements() == 64 ? "llvm.x86.avx512.pshuf.b.512"
                                               : "llvm.x86.avx2.pshuf.b";
  return LLVM::CallIntrinsicOp::create(b, loc, type, b.getStringAttr(name),
                                       ValueRange{table, indices})
      .getResult(0);
}

Value KernelBuilder::sumPlanes(Value bytes, int64_t shift) {
  auto type = cast<VectorType>(bytes.getType());
  int64_t cols = type.getNumElements() / 2;
  auto i16 = b.getI16Type();
  auto outType = VectorType::get({cols}, i16);
  if (lookup == ByteLookup::Pshufb) {
    SmallVector<int8_t> w;
    for (int64_t i = 0; i < type.getNumElements(); ++i)
      w.push_back(static_cast<int8_t>((i % 2 ? 2 : 1) << shift));
    Value weights = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(w)));
    StringRef name = cols == 32 ? "llvm.x86.avx512.pmaddubs.w.512"
                                : "llvm.x86.avx2.pmadd.ub.sw";
    return LLVM::CallIntrinsicOp::create(b, loc, outType, b.getStringAttr(name),
                                         ValueRange{bytes, weights})
        .getResult(0);
  }
  // Portable: even and odd bytes apart, widened, odd doubled.
  SmallVector<int64_t> even, odd;
  for (int64_t c = 0; c < cols; ++c) {
    even.push_back(2 * c);
    odd.push_back(2 * c + 1);
  }
  Value lo = arith::ExtUIOp::create(
      b, loc, outType, vector::ShuffleOp::create(b, loc, bytes, bytes, even));
  Value hi = arith::ExtUIOp::create(
      b, loc, outType, vector::ShuffleOp::create(b, loc, bytes, bytes, odd));
  auto shl = [&](Value v, int64_t by) -> Value {
    if (!by)
      return v;
    Value amount = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(outType, b.getI16IntegerAttr(by)));
    return arith::ShLIOp::create(b, loc, v, amount);
  };
  return arith::AddIOp::create(b, loc, shl(lo, shift), shl(hi, shift + 1));
}

void KernelBuilder::buildLut(Value tileIdx, const LutTables &t) {
  int64_t cols = tile;          // 2 * lanes
  int64_t partBytes = 2 * cols; // one pair of bit planes of 8 k
  int64_t pairs = bits / 2;     // 1 (2-bit fields) or 2 (4-bit)
  int64_t group = layout.getGroup();
  int64_t blocksPerGroup = group / 8;
  auto i8 = b.getI8Type();
  auto vecBytes = VectorType::get({partBytes}, i8);
  auto vec16B = VectorType::get({16}, i8);
  auto vecI16 = VectorType::get({cols}, b.getI16Type());
  auto vecCI32 = VectorType::get({cols}, b.getI32Type());
  auto vecCF32 = VectorType::get({cols}, f32);
  auto splatBytes = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecBytes, b.getI8IntegerAttr(v)));
  };
  Value low4 = splatBytes(0x0F), four = splatBytes(4);
  Value zero16 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecI16, b.getI16IntegerAttr(0)));
  Value zero32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecCI32, b.getI32IntegerAttr(0)));
  Value zeroF = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecCF32, b.getF32FloatAttr(0)));
  // Per block, two lookups per pair of planes q, each biased by 128 times
  // its weights (1 + 2) 4^q. The i16 sums wrap modulo 2^16; the unbiased
  // sum must fit: |.| <= quads * 127 * (2^bits - 1), so 4-bit sums move to
  // i32 every 8 blocks (16 quads), 2-bit ones at the group's end (<= 64
  // quads).
  int64_t biasPerBlock = 0;
  for (int64_t q = 0; q < pairs; ++q)
    biasPerBlock += 2 * 3 * kTableBias << (2 * q);
  int64_t flushEvery = bits == 4 ? 8 : blocksPerGroup;
  auto bias = [&](int64_t blocks) -> Value {
    int64_t v = (blocks * biasPerBlock) & 0xFFFF;
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(vecI16, b.getI16IntegerAttr(static_cast<int16_t>(
                                           static_cast<uint16_t>(v)))));
  };
  // A quad's 16-byte table, repeated in each 16-byte lane of the vector.
  auto loadTable = [&](Value row, Value quad) -> Value {
    Value t16 = vector::LoadOp::create(b, loc, vec16B, t.tables,
                                       ValueRange{row, quad, idx(0)});
    if (partBytes == 16)
      return t16;
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < partBytes; ++i)
      mask.push_back(i % 16);
    return vector::ShuffleOp::create(b, loc, t16, t16, mask);
  };
  for (int64_t row0 = 0; row0 < rows; row0 += kMaxChunkRows) {
    int64_t chunk = std::min(kMaxChunkRows, rows - row0);
    SmallVector<Value> init(chunk, zeroF);
    auto loop =
        scf::ForOp::create(b, loc, idx(0), idx(numGroups), idx(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value g = loop.getInductionVar();
      prefetch(tileIdx, g);
      SmallVector<Value> acc(chunk, zero16), wide(chunk, zero32);
      int64_t pending = 0; // blocks in `acc` since the last move to i32
      auto flush = [&]() {
        for (int64_t r = 0; r < chunk; ++r) {
          Value sum = arith::SubIOp::create(b, loc, acc[r], bias(pending));
          wide[r] = arith::AddIOp::create(
              b, loc, wide[r], arith::ExtSIOp::create(b, loc, vecCI32, sum));
          acc[r] = zero16;
        }
        pending = 0;
      };
      for (int64_t blk = 0; blk < blocksPerGroup; ++blk) {
        Value block = addc(mul(g, blocksPerGroup), blk);
        Value base =
            mul(add(mul(tileIdx, numBlocks), block), layout.getBlockBytes());
        Value quad = mul(block, 2);
        for (int64_t q = 0; q < pairs; ++q) {
          Value v = vector::LoadOp::create(b, loc, vecBytes, op.getCodes(),
                                           addc(base, q * partBytes));
          Value lo = arith::AndIOp::create(b, loc, v, low4);
          Value hi = arith::AndIOp::create(
              b, loc, arith::ShRUIOp::create(b, loc, v, four), low4);
          for (int64_t r = 0; r < chunk; ++r) {
            Value row = idx(row0 + r);
            Value l0 = lookupBytes(loadTable(row, quad), lo);
            Value l1 = lookupBytes(loadTable(row, addc(quad, 1)), hi);
            Value s = arith::AddIOp::create(b, loc, sumPlanes(l0, 2 * q),
                                            sumPlanes(l1, 2 * q));
            acc[r] = arith::AddIOp::create(b, loc, acc[r], s);
          }
        }
        if (++pending == flushEvery)
          flush();
      }
      if (pending)
        flush();
      // The group's end: convert, scale by the tables' and the weights'
      // scales, subtract the zero-point term.
      Value pbase = mul(add(mul(tileIdx, numGroups), g), cols * perGroup);
      Value scale = vector::LoadOp::create(b, loc, vecCF32, op.getParams(),
                                           ValueRange{pbase});
      Value zero;
      if (layout.getZero())
        zero = vector::LoadOp::create(b, loc, vecCF32, op.getParams(),
                                      ValueRange{addc(pbase, cols)});
      else if (layout.getSignedCodes())
        zero = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(
                vecCF32,
                b.getF32FloatAttr(static_cast<float>(1 << (bits - 1)))));
      SmallVector<Value> next;
      for (int64_t r = 0; r < chunk; ++r) {
        Value row = idx(row0 + r);
        Value f = arith::SIToFPOp::create(b, loc, vecCF32, wide[r]);
        Value sT = memref::LoadOp::create(b, loc, t.scales, ValueRange{row, g});
        Value d = arith::MulFOp::create(
            b, loc, f, vector::BroadcastOp::create(b, loc, vecCF32, sT));
        if (zero) {
          Value xs = memref::LoadOp::create(b, loc, t.sums, ValueRange{row, g});
          Value negXs = vector::BroadcastOp::create(
              b, loc, vecCF32, arith::NegFOp::create(b, loc, xs));
          d = vector::FMAOp::create(b, loc, zero, negXs, d);
        }
        Value a = loop.getRegionIterArgs()[r];
        next.push_back(vector::FMAOp::create(b, loc, scale, d, a));
      }
      scf::YieldOp::create(b, loc, next);
    }
    storeColumns(tileIdx, row0, loop.getResults());
  }
}
