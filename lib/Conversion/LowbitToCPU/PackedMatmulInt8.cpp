//===- PackedMatmulInt8.cpp - Packed-matmul kernels, int8 activations -----===//
//
// The activations quantized per row and group into a buffer, then 64
// unsigned weight codes times 64 int8 activations per vpdpbusd (x86 VNNI),
// four sdot (ARM) or two vpmaddubsw (AVX2, i16 pair sums widened by
// vpmaddwd) into per-group i32 sums, folded across rows, converted and
// scaled at each group's end.
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

std::pair<Value, Value> KernelBuilder::int8Scale(Value m) {
  auto cst = [&](float v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  };
  Value scale = arith::DivFOp::create(b, loc, m, cst(127.0f));
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, m, cst(0.0f));
  Value inv = arith::SelectOp::create(
      b, loc, positive, arith::DivFOp::create(b, loc, cst(127.0f), m),
      cst(0.0f));
  return {scale, inv};
}

/// Per row and group (the layout's group along K): s = max|x| / 127, codes
/// round(x / s) in int8 (zero past K), and s * sum(codes) for the zero-point
/// term. Runs once per call before the threads start (M x K elements).
KernelBuilder::QuantizedInput KernelBuilder::quantizeActivations() {
  int64_t paddedK = layout.getPaddedK(), group = layout.getGroup();
  auto i8 = b.getI8Type();
  QuantizedInput q;
  q.codes =
      memref::AllocOp::create(b, loc, MemRefType::get({rows, paddedK}, i8),
                              ValueRange{}, b.getI64IntegerAttr(64));
  q.scales =
      memref::AllocOp::create(b, loc, MemRefType::get({rows, numGroups}, f32));
  q.sums =
      memref::AllocOp::create(b, loc, MemRefType::get({rows, numGroups}, f32));
  // Outliers multiply the same rounded activations (as the reference
  // lowering's lowbit.fake_quant does at any row count).
  if (layout.getOutliers())
    q.rounded =
        memref::AllocOp::create(b, loc, MemRefType::get({rows, paddedK}, f32),
                                ValueRange{}, b.getI64IntegerAttr(64));
  if (layout.getSignedCodes() && !layout.getAmx())
    q.inits = memref::AllocOp::create(
        b, loc, MemRefType::get({rows, numGroups, dotLanes}, b.getI32Type()),
        ValueRange{}, b.getI64IntegerAttr(64));
  auto vecI8 = VectorType::get({lanes}, i8);
  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value zeroVec = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0)));
  Value zeroI = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecI32, b.getI32IntegerAttr(0)));
  auto rowLoop = scf::ForOp::create(b, loc, idx(0), idx(rows), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rowLoop.getBody());
  Value row = rowLoop.getInductionVar();
  auto groupLoop = scf::ForOp::create(b, loc, idx(0), idx(numGroups), idx(1));
  b.setInsertionPointToStart(groupLoop.getBody());
  Value g = groupLoop.getInductionVar();
  Value k0 = mul(g, group);
  // Activations past K read as 0 (transfer_read pads out-of-bounds lanes).
  SmallVector<Value> xs;
  for (int64_t s = 0; s < group / lanes; ++s) {
    Value kk = addc(k0, s * lanes);
    xs.push_back(vector::TransferReadOp::create(b, loc, vecF32, op.getInput(),
                                                ValueRange{row, kk}, zeroF,
                                                ArrayRef<bool>{false}));
  }
  Value amax = zeroVec;
  for (Value x : xs)
    amax = arith::MaximumFOp::create(b, loc, amax,
                                     math::AbsFOp::create(b, loc, x));
  Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                        amax);
  auto [scale, inv] = int8Scale(m);
  Value invVec = vector::BroadcastOp::create(b, loc, vecF32, inv);
  Value scaleVec =
      q.rounded ? vector::BroadcastOp::create(b, loc, vecF32, scale).getResult()
                : Value();
  Value sum = zeroI;
  for (auto [s, x] : llvm::enumerate(xs)) {
    Value t = math::RoundEvenOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, invVec));
    if (q.rounded)
      vector::StoreOp::create(b, loc,
                              arith::MulFOp::create(b, loc, t, scaleVec),
                              q.rounded, ValueRange{row, addc(k0, s * lanes)});
    Value c = arith::FPToSIOp::create(b, loc, vecI32, t);
    sum = arith::AddIOp::create(b, loc, sum, c);
    Value c8 = arith::TruncIOp::create(b, loc, vecI8, c);
    // AMX multiplies unsigned activation bytes: x + 128.
    if (layout.getAmx())
      c8 = arith::XOrIOp::create(
          b, loc, c8,
          arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(vecI8, b.getI8IntegerAttr(-128))));
    vector::StoreOp::create(b, loc, c8, q.codes,
                            ValueRange{row, addc(k0, s * lanes)});
  }
  Value total =
      vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
  Value totalF = arith::SIToFPOp::create(b, loc, f32, total);
  memref::StoreOp::create(b, loc, scale, q.scales, ValueRange{row, g});
  if (q.inits) {
    Value offset = arith::ConstantOp::create(
        b, loc, b.getI32IntegerAttr(-(1 << (bits - 1))));
    auto vecDot = VectorType::get({dotLanes}, b.getI32Type());
    Value zeroDot = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecDot, b.getI32IntegerAttr(0)));
    Value init = vector::InsertOp::create(
        b, loc, arith::MulIOp::create(b, loc, total, offset), zeroDot,
        ArrayRef<int64_t>{0});
    vector::StoreOp::create(b, loc, init, q.inits, ValueRange{row, g, idx(0)});
  }
  memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, scale, totalF),
                          q.sums, ValueRange{row, g});
  return q;
}

std::pair<int64_t, int64_t> KernelBuilder::foldShape(int64_t chunk) const {
  int64_t padded = 1;
  while (padded < chunk)
    padded *= 2;
  return {padded, dotLanes / padded};
}

void KernelBuilder::replicateScales(QuantizedInput &q) {
  int64_t numChunks = (rows + kMaxChunkRows - 1) / kMaxChunkRows;
  auto repType = MemRefType::get({numChunks, numGroups, dotLanes}, f32);
  auto vecRep = VectorType::get({dotLanes}, f32);
  q.sxRep = memref::AllocOp::create(b, loc, repType, ValueRange{},
                                    b.getI64IntegerAttr(64));
  if (layout.getZero())
    q.xsRep = memref::AllocOp::create(b, loc, repType, ValueRange{},
                                      b.getI64IntegerAttr(64));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  for (int64_t ch = 0; ch < numChunks; ++ch) {
    int64_t row0 = ch * kMaxChunkRows;
    int64_t chunk = std::min(kMaxChunkRows, rows - row0);
    int64_t perRow = foldShape(chunk).second;
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(numGroups), idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value g = loop.getInductionVar();
    auto build = [&](Value src, float factor) -> Value {
      SmallVector<Value> lanes;
      for (int64_t r = 0; r * perRow < dotLanes; ++r) {
        Value v = zero;
        if (r < chunk) {
          v = memref::LoadOp::create(b, loc, src, ValueRange{idx(row0 + r), g});
          if (factor != 1.0f)
            v = arith::MulFOp::create(
                b, loc, v,
                arith::ConstantOp::create(b, loc, b.getF32FloatAttr(factor)));
        }
        lanes.append(perRow, v);
      }
      return vector::FromElementsOp::create(b, loc, vecRep, lanes);
    };
    vector::StoreOp::create(b, loc, build(q.scales, 1.0f), q.sxRep,
                            ValueRange{idx(ch), g, idx(0)});
    if (q.xsRep)
      vector::StoreOp::create(b, loc, build(q.sums, 16.0f / perRow), q.xsRep,
                              ValueRange{idx(ch), g, idx(0)});
  }
}

Value KernelBuilder::foldRows(ArrayRef<Value> dots, Value zero) {
  auto [padded, perRow] = foldShape(dots.size());
  SmallVector<Value> level(dots);
  level.resize(padded, zero);
  // Level j joins vectors of 2^(j-1) rows (lanes per row: lb) pairwise:
  // row s of the result has the two halves of its source row summed.
  for (int64_t rowsIn = 1, lb = dotLanes; rowsIn < padded;
       rowsIn *= 2, lb /= 2) {
    int64_t la = lb / 2;
    SmallVector<int64_t> lo, hi;
    for (int64_t s = 0; s < 2 * rowsIn; ++s)
      for (int64_t t = 0; t < la; ++t) {
        int64_t src = (s < rowsIn ? 0 : dotLanes) + (s % rowsIn) * lb + t;
        lo.push_back(src);
        hi.push_back(src + la);
      }
    SmallVector<Value> next;
    for (size_t i = 0; i < level.size(); i += 2) {
      Value a = vector::ShuffleOp::create(b, loc, level[i], level[i + 1], lo);
      Value c = vector::ShuffleOp::create(b, loc, level[i], level[i + 1], hi);
      next.push_back(arith::AddIOp::create(b, loc, a, c));
    }
    level = std::move(next);
  }
  (void)perRow;
  return level.front();
}

Value KernelBuilder::vnniDot(Value acc, Value weights, Value activations) {
  // acc[i] += sum_{j<4} weights.u8[4i+j] * activations.s8[4i+j]
  auto bytes = VectorType::get({64}, b.getI8Type());
  Value w = vector::BitCastOp::create(b, loc, bytes, weights);
  Value x = vector::BitCastOp::create(b, loc, bytes, activations);
  if (dot == DotProduct::Sdot) {
    // Four 128-bit sdot (s8 x s8; the codes are below 128), one per quarter.
    auto q32 = VectorType::get({4}, b.getI32Type());
    auto q8 = VectorType::get({16}, b.getI8Type());
    Value result = acc;
    for (int64_t q = 0; q < 4; ++q) {
      auto slice = [&](Value v, VectorType t, int64_t width) -> Value {
        return vector::ExtractStridedSliceOp::create(
            b, loc, v, ArrayRef<int64_t>{q * width}, ArrayRef<int64_t>{width},
            ArrayRef<int64_t>{1});
      };
      Value part = LLVM::CallIntrinsicOp::create(
                       b, loc, q32,
                       b.getStringAttr("llvm.aarch64.neon.sdot.v4i32.v16i8"),
                       ValueRange{slice(acc, q32, 4), slice(w, q8, 16),
                                  slice(x, q8, 16)})
                       .getResult(0);
      result = vector::InsertStridedSliceOp::create(
          b, loc, part, result, ArrayRef<int64_t>{q * 4}, ArrayRef<int64_t>{1});
    }
    return result;
  }
  return LLVM::CallIntrinsicOp::create(
             b, loc, acc.getType(),
             b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
             ValueRange{acc, w, x})
      .getResult(0);
}

Value KernelBuilder::pairSums(Value partial, Value weights, Value activations) {
  // Per 32-byte half: i16 lane j = w.u8[2j] x.s8[2j] + w.u8[2j+1] x.s8[2j+1]
  // (at most 2 * 15 * 127 for 4-bit codes: no saturation). The halves are
  // added lane by lane: every lane stays within one row, column and group,
  // whose products are summed in the end anyway.
  auto bytes = VectorType::get({64}, b.getI8Type());
  auto i16x16 = VectorType::get({16}, b.getI16Type());
  Value w = vector::BitCastOp::create(b, loc, bytes, weights);
  Value x = vector::BitCastOp::create(b, loc, bytes, activations);
  Value sum = partial;
  for (int64_t h = 0; h < 2; ++h) {
    auto slice = [&](Value v) -> Value {
      return vector::ExtractStridedSliceOp::create(
          b, loc, v, ArrayRef<int64_t>{h * 32}, ArrayRef<int64_t>{32},
          ArrayRef<int64_t>{1});
    };
    Value p = LLVM::CallIntrinsicOp::create(
                  b, loc, i16x16, b.getStringAttr("llvm.x86.avx2.pmadd.ub.sw"),
                  ValueRange{slice(w), slice(x)})
                  .getResult(0);
    sum = sum ? arith::AddIOp::create(b, loc, sum, p).getResult() : p;
  }
  return sum;
}

Value KernelBuilder::widenPairSums(Value acc, Value partial) {
  auto i16x16 = VectorType::get({16}, b.getI16Type());
  Value ones = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(i16x16, b.getI16IntegerAttr(1)));
  Value wide =
      LLVM::CallIntrinsicOp::create(b, loc, acc.getType(),
                                    b.getStringAttr("llvm.x86.avx2.pmadd.wd"),
                                    ValueRange{partial, ones})
          .getResult(0);
  return arith::AddIOp::create(b, loc, acc, wide);
}

/// One tile: per superblock, per 64-byte block and column, the bit planes
/// (64 unsigned codes each) go through vpdpbusd with 64 activation codes
/// per row into an i32 accumulator per group; at each group's end it is
/// converted and scaled by s_w * s_x into the f32 accumulator, plus the
/// zero-point term (-z s_w / 16) * (s_x * sum codes) spread over 16 lanes.
void KernelBuilder::buildInt8(Value tileIdx, const QuantizedInput &xq) {
  // 64-byte blocks as 16 x i32 whatever the target's vector width (LLVM
  // splits them into 128-bit registers on NEON); accumulators of dotLanes.
  VectorType vecWords = VectorType::get({16}, b.getI32Type());
  VectorType vecI32 = VectorType::get({dotLanes}, b.getI32Type());
  VectorType vecF32 = VectorType::get({dotLanes}, f32);
  // AVX2: planes whose i16 pair sums may add up before they are widened
  // (each adds at most 4 (2^bits - 1) 127 per lane).
  bool pairs = dot == DotProduct::Pmaddubsw;
  int64_t maxPending = 32767 / (4 * ((int64_t{1} << bits) - 1) * 127);
  assert((!pairs || maxPending >= 1) && "codes too wide for pmaddubsw");
  int64_t planes = 8 / bits;
  int64_t planesPerGroup = layout.getGroup() / 64;
  int64_t numSupers = layout.getPaddedK() / superK;
  auto vecBytes = VectorType::get({64}, b.getI8Type());
  Value zeroVec = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0)));
  Value zeroI = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecI32, b.getI32IntegerAttr(0)));
  Value planeMask;
  if (bits < 8) {
    uint32_t m = 0;
    for (int i = 0; i < 4; ++i)
      m |= ((1u << bits) - 1) << (8 * i);
    planeMask = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(vecWords,
                               b.getI32IntegerAttr(static_cast<int32_t>(m))));
  }
  for (int64_t row0 = 0; row0 < rows; row0 += kMaxChunkRows) {
    int64_t chunk = std::min(kMaxChunkRows, rows - row0);
    int64_t perRow = foldShape(chunk).second;
    Value chunkIdx = idx(row0 / kMaxChunkRows);
    // One f32 accumulator per column: row r in lanes [r*perRow, ...).
    SmallVector<Value> init(tile, zeroVec);
    auto loop =
        scf::ForOp::create(b, loc, idx(0), idx(numSupers), idx(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value super = loop.getInductionVar();
      SmallVector<Value> acc(loop.getRegionIterArgs());
      prefetch(tileIdx, super);
      Value firstBlock =
          add(mul(tileIdx, numBlocks), mul(super, blocksPerSuper));
      SmallVector<Value> dots(tile * chunk, zeroI);
      // AVX2: i16 pair sums not yet widened into `dots`, and their planes.
      SmallVector<Value> partial(tile * chunk);
      int64_t pending = 0;
      auto widen = [&]() {
        for (int64_t i = 0; i < tile * chunk && pending; ++i)
          dots[i] = widenPairSums(dots[i], partial[i]);
        partial.assign(tile * chunk, Value());
        pending = 0;
      };
      for (int64_t blk = 0; blk < blocksPerSuper; ++blk) {
        SmallVector<Value> words;
        for (int64_t c = 0; c < tile; ++c) {
          Value base = addc(mul(addc(firstBlock, blk), tile * 64), c * 64);
          Value raw =
              vector::LoadOp::create(b, loc, vecBytes, op.getCodes(), base);
          words.push_back(vector::BitCastOp::create(b, loc, vecWords, raw));
        }
        for (int64_t p = 0; p < planes; ++p) {
          int64_t plane = blk * planes + p; // within the superblock
          Value kIdx = addc(mul(super, superK), plane * 64);
          Value group = addc(mul(super, superK / layout.getGroup()),
                             plane / planesPerGroup);
          if (xq.inits && plane % planesPerGroup == 0)
            for (int64_t r = 0; r < chunk; ++r) {
              Value start = vector::LoadOp::create(
                  b, loc, vecI32, xq.inits,
                  ValueRange{idx(row0 + r), group, idx(0)});
              for (int64_t c = 0; c < tile; ++c)
                dots[c * chunk + r] = start;
            }
          SmallVector<Value> xv;
          for (int64_t r = 0; r < chunk; ++r) {
            Value raw = vector::LoadOp::create(b, loc, vecBytes, xq.codes,
                                               ValueRange{idx(row0 + r), kIdx});
            xv.push_back(vector::BitCastOp::create(b, loc, vecWords, raw));
          }
          for (int64_t c = 0; c < tile; ++c) {
            Value codes = words[c];
            if (p)
              codes = arith::ShRUIOp::create(
                  b, loc, codes,
                  arith::ConstantOp::create(
                      b, loc,
                      DenseElementsAttr::get(vecWords,
                                             b.getI32IntegerAttr(p * bits))));
            if (planeMask)
              codes = arith::AndIOp::create(b, loc, codes, planeMask);
            for (int64_t r = 0; r < chunk; ++r) {
              int64_t i = c * chunk + r;
              if (pairs)
                partial[i] = pairSums(partial[i], codes, xv[r]);
              else
                dots[i] = vnniDot(dots[i], codes, xv[r]);
            }
          }
          if (pairs && ++pending == maxPending)
            widen();
          if ((plane + 1) % planesPerGroup != 0)
            continue;
          if (pairs)
            widen();
          // The group ends: the rows' i32 sums are folded into one vector
          // (shuffles, off the port the dot products use), converted once
          // and scaled by s_w * s_x of each lane's row.
          Value sxVec = vector::LoadOp::create(
              b, loc, vecF32, xq.sxRep, ValueRange{chunkIdx, group, idx(0)});
          Value xsVec;
          if (xq.xsRep)
            xsVec = vector::LoadOp::create(b, loc, vecF32, xq.xsRep,
                                           ValueRange{chunkIdx, group, idx(0)});
          for (int64_t c = 0; c < tile; ++c) {
            Value base =
                addc(mul(add(mul(tileIdx, numGroups), group), tile * perGroup),
                     c * perGroup);
            Value sw = vector::BroadcastOp::create(
                b, loc, vecF32,
                memref::LoadOp::create(b, loc, op.getParams(), base));
            Value nz;
            if (layout.getZero())
              nz = vector::BroadcastOp::create(
                  b, loc, vecF32,
                  memref::LoadOp::create(b, loc, op.getParams(),
                                         addc(base, 1)));
            Value folded =
                foldRows(ArrayRef<Value>(dots).slice(c * chunk, chunk), zeroI);
            Value &a = acc[c];
            Value f = arith::SIToFPOp::create(b, loc, vecF32, folded);
            Value sc = arith::MulFOp::create(b, loc, sw, sxVec);
            a = vector::FMAOp::create(b, loc, f, sc, a);
            if (nz)
              a = vector::FMAOp::create(b, loc, nz, xsVec, a);
            for (int64_t r = 0; r < chunk; ++r)
              dots[c * chunk + r] = zeroI;
          }
        }
      }
      scf::YieldOp::create(b, loc, acc);
    }
    // One row, one accumulator of `lanes` per column: the outliers join it
    // (times the rounded activations) before its lanes are summed.
    SmallVector<Value> sums(loop.getResults());
    if (foldsOutliers())
      foldOutliers(tileIdx, xq.rounded, row0, chunk, /*split=*/1, sums);
    storeSums(tileIdx, row0, chunk, [&](int64_t c, int64_t r) -> Value {
      Value seg = sums[c];
      if (perRow < dotLanes)
        seg = vector::ExtractStridedSliceOp::create(
            b, loc, seg, ArrayRef<int64_t>{r * perRow},
            ArrayRef<int64_t>{perRow}, ArrayRef<int64_t>{1});
      if (perRow == 1)
        return vector::ExtractOp::create(b, loc, seg, ArrayRef<int64_t>{0});
      return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                         seg);
    });
  }
}
