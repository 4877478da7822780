//===- MmaKernel.cpp - The mma.sync GEMM on the Marlin-style layout -------===//
//
// Prefill on an `mma` layout: 64 x 64 output tiles per block of 4 warps
// (2 x 2, 32 x 32 each), 128 k per stage.
//
// - Weights: the block's 8 tiles of 8 columns are copied global -> shared
//   with cp.async (16 bytes per copy) one stage ahead of their use (two
//   buffers). Each thread then reads, per tile of its warp, the 16 bytes
//   the layout made its own: the codes of its B fragments for 8 (4-bit) or
//   4 (8-bit) MMAs. A pair of codes becomes an f16x2 with a mask and an OR
//   (1024 + code), one subtraction of 1024 + zero gives value - zero
//   exactly (zero points are integers), one multiply applies the scale.
// - Activations: f32 from global, converted to f16 into shared memory
//   (a row pitch of 136 halves keeps ldmatrix free of bank conflicts), read
//   as A fragments with ldmatrix.x4.
// - mma.sync m16n8k16 (f16 operands, f32 accumulators); the accumulators
//   go straight from registers to the output, guarded at M and N.
//
//===----------------------------------------------------------------------===//

#include "GPUKernels.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

namespace {

constexpr int64_t kTileM = 64, kTileN = 64, kTileK = 128;
constexpr int64_t kThreads = 128;
/// Row pitch (f16) of the staged activations: 128 + 8, so that the 8 rows
/// one ldmatrix reads start in different banks.
constexpr int64_t kPitch = kTileK + 8;
/// Tiles of 8 columns per block, and per warp.
constexpr int64_t kBlockTiles = kTileN / 8, kWarpTiles = 4;

class MmaBuilder : public GPUKernelBase {
public:
  using GPUKernelBase::GPUKernelBase;
  void build(gpu::GPUFuncOp func);

private:
  /// Starts the cp.async copies of stage `kt`'s codes of the block's tiles
  /// into buffer `buf` of sW, and closes their group (returned).
  Value copyWeights(Value kt, Value buf);
  /// Converts stage `kt`'s activations of the block's rows to f16 in sA,
  /// zero past M and K.
  void stageActivations(Value kt);
  /// Loads the f16x2 scale of group `group` of this thread's column in tile
  /// j of its warp, and with zero points the f16x2 `1024 + zero`.
  void loadParams(Value group, int64_t j);
  /// The B fragment (vector<2x2xf16>) of step s of this thread's 16 bytes
  /// `words` (vector<4xi32>) of tile j.
  Value bFragment(Value words, int64_t s, int64_t j);
  /// An f16x2 from an i32.
  Value asHalf2(Value i) {
    auto v1 = vector::BroadcastOp::create(b, loc, VectorType::get({1}, i32), i);
    return vector::BitCastOp::create(b, loc, half2, v1);
  }
  Value i32c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }

  Type f16;
  VectorType half2;
  Value tid, lane, warp, bm, bn, sA, sW;
  /// Bytes of one tile's codes per stage (128 k), and blocks per stage.
  int64_t stageTileBytes = 0, blocksPerStage = 0;
  /// Per tile of the warp: its index (clamped into the weight), the current
  /// group's f16x2 scale and (zero points) `1024 + zero`.
  Value tileOf[kWarpTiles], scale[kWarpTiles], bias[kWarpTiles];
};

Value MmaBuilder::copyWeights(Value kt, Value buf) {
  auto token = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  SmallVector<Value> tokens;
  // 16-byte chunks q = tid + 128 r: tile q / chunksPerTile, byte
  // 16 * (q % chunksPerTile) of the tile's stage.
  int64_t chunksPerTile = stageTileBytes / 16;
  for (int64_t r = 0; r < kBlockTiles * chunksPerTile / kThreads; ++r) {
    Value q = addc(tid, kThreads * r);
    Value j = div(q, chunksPerTile), off = mul(rem(q, chunksPerTile), 16);
    // The last block's tiles past N read the last tile (not stored).
    Value t = arith::MinUIOp::create(b, loc, add(mul(bn, kBlockTiles), j),
                                     idx(layout.getNumTiles() - 1));
    // A stage past the padded K (8-bit codes, odd block count) re-reads
    // the last block; its activations are zero.
    Value blk = arith::MinUIOp::create(
        b, loc, add(mul(kt, blocksPerStage), div(off, 512)),
        idx(numBlocks - 1));
    Value src = add(mul(add(mul(t, numBlocks), blk), 512), rem(off, 512));
    Value dst = add(mul(add(mul(buf, kBlockTiles), j), stageTileBytes), off);
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, loc, token, sW, ValueRange{dst}, codesArg, ValueRange{src},
        b.getIndexAttr(16), /*srcElements=*/Value(),
        /*bypassL1=*/b.getUnitAttr()));
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, token, tokens);
}

void MmaBuilder::stageActivations(Value kt) {
  auto vec4F16 = VectorType::get({4}, f16);
  Value k0 = mul(kt, kTileK);
  // Vector q = tid + 128 i: row warp + 4 i, k = 4 * lane (a warp reads one
  // row's 512 bytes).
  Value kq = mul(lane, 4);
  Value kIn = ult(add(k0, kq), idx(k));
  Value kRead = arith::SelectOp::create(b, loc, kIn, add(k0, kq), idx(0));
  for (int64_t i = 0; i < kTileM * (kTileK / 4) / kThreads; ++i) {
    Value r = addc(warp, 4 * i);
    Value row = add(mul(bm, kTileM), r);
    Value inside = arith::AndIOp::create(b, loc, kIn, ult(row, idx(rows)));
    auto load = vector::LoadOp::create(b, loc, vec4F32, xArg,
                                       ValueRange{minc(row, rows - 1), kRead});
    load.setAlignment(16);
    Value xv = arith::SelectOp::create(b, loc, inside, load, splatF32(0.0f));
    Value x16 = arith::TruncFOp::create(b, loc, vec4F16, xv);
    auto store = vector::StoreOp::create(b, loc, x16, sA, ValueRange{r, kq});
    store.setAlignment(8);
  }
}

void MmaBuilder::loadParams(Value group, int64_t j) {
  Value g = div(lane, 4);
  group = minc(group, numGroups - 1);
  Value base =
      mul(add(mul(add(mul(tileOf[j], numGroups), group), 8), g), perGroup);
  Value s = memref::LoadOp::create(b, loc, paramsArg, base);
  scale[j] = vector::BroadcastOp::create(
      b, loc, half2, arith::TruncFOp::create(b, loc, f16, s));
  if (!layout.getZero())
    return;
  // Zero points are integers (i8 in the scheme), so 1024 + zero is exact
  // in f16 and so is the subtraction in bFragment.
  Value z = memref::LoadOp::create(b, loc, paramsArg, addc(base, 1));
  Value c = arith::AddFOp::create(
      b, loc, z, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1024.0f)));
  bias[j] = vector::BroadcastOp::create(
      b, loc, half2, arith::TruncFOp::create(b, loc, f16, c));
}

Value MmaBuilder::bFragment(Value words, int64_t s, int64_t j) {
  int64_t perWord = 16 / bits;
  int64_t pairMask = ((int64_t(1) << bits) - 1) * 0x10001;
  int64_t sign = layout.getSignedCodes() ? int64_t(1) << (bits - 1) : 0;
  auto fragType = VectorType::get({2, 2}, f16);
  Value frag = splat(fragType, 0.0);
  for (int64_t h = 0; h < 2; ++h) {
    int64_t q = 2 * (s % (32 / bits)) + h, p = q % perWord;
    Value w = vector::ExtractOp::create(b, loc, words, q / perWord);
    if (p)
      w = arith::ShRUIOp::create(b, loc, w, i32c(bits * p));
    w = arith::AndIOp::create(b, loc, w, i32c(pairMask));
    // 1024 + code in both halves, then exactly value(code) - zero (sign:
    // signed codes are stored + 2^(bits-1); zero points are unsigned).
    w = arith::OrIOp::create(b, loc, w, i32c(0x64006400));
    Value v = arith::SubFOp::create(
        b, loc, asHalf2(w),
        layout.getZero() ? bias[j] : splat(half2, 1024.0 + double(sign)));
    v = arith::MulFOp::create(b, loc, v, scale[j]);
    frag = vector::InsertOp::create(b, loc, v, frag, h);
  }
  return frag;
}

void MmaBuilder::build(gpu::GPUFuncOp func) {
  f16 = b.getF16Type();
  half2 = VectorType::get({2}, f16);
  blocksPerStage = kTileK / blockK;
  stageTileBytes = 512 * blocksPerStage;
  MLIRContext *ctx = b.getContext();
  // ldmatrix rows and cp.async destinations are 16 bytes.
  sA = addWorkgroupBuffer(func, {kTileM, kPitch}, f16, 16);
  sW = addWorkgroupBuffer(func, {2 * kBlockTiles * stageTileBytes},
                          b.getI8Type(), 16);
  Value out = bindArguments(func);

  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  bn = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  bm = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  warp = div(tid, lowbit::detail::kWarpSize);
  lane = rem(tid, lowbit::detail::kWarpSize);
  Value wm = div(warp, 2), wn = rem(warp, 2);
  for (int64_t j = 0; j < kWarpTiles; ++j)
    tileOf[j] = arith::MinUIOp::create(
        b, loc, add(mul(bn, kBlockTiles), addc(mul(wn, kWarpTiles), j)),
        idx(layout.getNumTiles() - 1));
  int64_t group = layout.getGroup();
  if (group == 0)
    for (int64_t j = 0; j < kWarpTiles; ++j)
      loadParams(idx(0), j);

  int64_t stages = (layout.getPaddedK() + kTileK - 1) / kTileK;
  auto accType = VectorType::get({2, 2}, f32);
  Value zeroAcc = splat(accType, 0.0);
  SmallVector<Value> init(2 * kWarpTiles, zeroAcc);
  copyWeights(idx(0), idx(0));
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(stages), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    Value buf = rem(kt, 2);
    // Everyone is done with sA and with the buffer the next copy fills.
    gpu::BarrierOp::create(b, loc);
    Value copies =
        copyWeights(minc(addc(kt, 1), stages - 1), rem(addc(kt, 1), 2));
    stageActivations(kt);
    // This stage's copies (all but the newest group) have landed.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, copies, b.getI32IntegerAttr(1));
    gpu::BarrierOp::create(b, loc);

    SmallVector<Value> acc(loop.getRegionIterArgs());
    auto vec16I8 = VectorType::get({16}, b.getI8Type());
    auto fragAType = VectorType::get({4, 2}, f16);
    Value words[kWarpTiles];
    int64_t stepsPerLoad = 32 / bits; // MMAs one 16-byte load feeds
    for (int64_t s = 0; s < kTileK / 16; ++s) {
      // The group's parameters where a group starts.
      if (group) {
        bool load = kTileK % group == 0   ? (16 * s) % group == 0
                    : group % kTileK == 0 ? s == 0
                                          : true;
        if (load) {
          Value g = div(addc(mul(kt, kTileK), 16 * s), group);
          for (int64_t j = 0; j < kWarpTiles; ++j)
            loadParams(g, j);
        }
      }
      if (s % stepsPerLoad == 0)
        for (int64_t j = 0; j < kWarpTiles; ++j) {
          // sW[buf][tile of the block][512-byte block of the stage][lane]
          Value tileInBlock = addc(mul(wn, kWarpTiles), j);
          Value at =
              add(mul(add(mul(buf, kBlockTiles), tileInBlock), stageTileBytes),
                  addc(mul(lane, 16), (s / stepsPerLoad) * 512));
          auto load = vector::LoadOp::create(b, loc, vec16I8, sW, at);
          load.setAlignment(16);
          words[j] = vector::BitCastOp::create(b, loc, vec4I32, load);
        }
      Value frags[2];
      for (int64_t i = 0; i < 2; ++i) {
        // Lanes 0-15 address rows 0-15 at k, lanes 16-31 at k + 8.
        Value row = add(addc(mul(wm, 32), 16 * i), rem(lane, 16));
        Value col = addc(mul(div(lane, 16), 8), 16 * s);
        frags[i] = nvgpu::LdMatrixOp::create(b, loc, fragAType, sA,
                                             ValueRange{row, col},
                                             /*transpose=*/false,
                                             /*numTiles=*/4);
      }
      for (int64_t j = 0; j < kWarpTiles; ++j) {
        Value frag = bFragment(words[j], s, j);
        for (int64_t i = 0; i < 2; ++i)
          acc[i * kWarpTiles + j] = nvgpu::MmaSyncOp::create(
              b, loc, frags[i], frag, acc[i * kWarpTiles + j],
              ArrayRef<int64_t>{16, 8, 16});
      }
    }
    scf::YieldOp::create(b, loc, acc);
  }
  // The last (clamped, unused) copies finish before the block exits: an
  // empty group to wait on, and a wait for none pending.
  Value none = nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(ctx), ValueRange{});
  nvgpu::DeviceAsyncWaitOp::create(b, loc, none, b.getI32IntegerAttr(0));

  // Thread (g, t) holds rows g and g + 8, columns 2t and 2t + 1 of each
  // 16 x 8 accumulator.
  Value g = div(lane, 4), t2 = mul(rem(lane, 4), 2);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < kWarpTiles; ++j)
      for (int64_t half = 0; half < 2; ++half) {
        Value row =
            add(mul(bm, kTileM), add(addc(mul(wm, 32), 16 * i + 8 * half), g));
        Value col =
            add(mul(bn, kTileN), add(mul(addc(mul(wn, kWarpTiles), j), 8), t2));
        Value pair = vector::ExtractOp::create(
            b, loc, loop.getResult(i * kWarpTiles + j), half);
        Value inside = arith::AndIOp::create(b, loc, ult(row, idx(rows)),
                                             ult(col, idx(n)));
        auto rowIf = scf::IfOp::create(b, loc, inside, false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(rowIf.thenBlock());
        // Outliers (a stated fallback: per output, the column's whole run;
        // col + 1 < tiles * 8, an empty run past N).
        if (outliersArg) {
          Value sums[2];
          for (int64_t e = 0; e < 2; ++e)
            sums[e] = outlierSums(addc(col, e), row, idx(0), 1).front();
          pair = arith::AddFOp::create(
              b, loc, pair,
              vector::FromElementsOp::create(b, loc, pair.getType(),
                                             ValueRange{sums[0], sums[1]}));
        }
        if (n % 2 == 0) {
          auto store =
              vector::StoreOp::create(b, loc, pair, out, ValueRange{row, col});
          store.setAlignment(8);
          continue;
        }
        memref::StoreOp::create(b, loc,
                                vector::ExtractOp::create(b, loc, pair, 0), out,
                                ValueRange{row, col});
        Value col1 = addc(col, 1);
        auto colIf = scf::IfOp::create(b, loc, ult(col1, idx(n)), false);
        b.setInsertionPointToStart(colIf.thenBlock());
        memref::StoreOp::create(b, loc,
                                vector::ExtractOp::create(b, loc, pair, 1), out,
                                ValueRange{row, col1});
      }
}

} // namespace

LaunchShape mlir::lowbit::detail::mmaShape(PackedLayoutAttr layout,
                                           int64_t rows) {
  return tiledShape(layout, rows, kTileM, kTileN, kThreads, LaunchShape::Mma);
}

void mlir::lowbit::detail::buildMmaKernel(OpBuilder &b, Location loc,
                                          PackedLayoutAttr layout, int64_t rows,
                                          gpu::GPUFuncOp func) {
  MmaBuilder(b, loc, layout, rows).build(func);
}
