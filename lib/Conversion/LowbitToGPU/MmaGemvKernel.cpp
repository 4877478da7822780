//===- MmaGemvKernel.cpp - The decode GEMV on the Marlin-style layout -----===//
//
// Decode (1-16 rows) on an `mma` layout, so that one packed weight serves
// decode and prefill: a block of 4 warps per tile of 8 columns, the warps
// taking every 4th 512-byte block of K (split-K), one 16-byte load per
// thread and block (a warp reads 512 consecutive bytes once). Thread
// (g = lane / 4, t = lane % 4) holds column g's codes at k = 16 s + 2 t +
// {0, 1, 8, 9}: per pair of codes one shift and mask into the mantissa of
// 2^23 and one f32 subtraction give value - zero exactly; FMAs with 8-byte
// activation loads accumulate per group, and the group's scale is applied
// once per group (one FMA per row). The 4 lanes of a column reduce with
// shuffles, the 4 warps through workgroup memory.
//
//===----------------------------------------------------------------------===//

#include "GPUKernels.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

namespace {

constexpr int64_t kWarps = 4;

class MmaGemvBuilder : public GPUKernelBase {
public:
  using GPUKernelBase::GPUKernelBase;
  void build(gpu::GPUFuncOp func);

private:
  /// One 512-byte block `blk` of the tile: adds to tmp and, with groups
  /// along K, folds each group's tmp into acc (tmp is zero again at the
  /// end). `partial`: the block that holds the end of K (static).
  void block(Value blk, bool partial);
  /// Loads the scale (and `2^23 + zero`) of group `group` of the column.
  void loadParams(Value group);
  /// acc += tmp * scale; tmp = 0.
  void flush();
  /// What a block changes: with groups along K the rows' acc, per channel
  /// (one scale for all of K) the rows' tmp.
  SmallVector<Value> &carried() { return layout.getGroup() ? acc : tmp; }

  VectorType vec2F32, vec2I32;
  Value lane, g, t, tileIdx;
  Value scale, bias; // f32x2 splats of the current group
  /// Per row: the sum so far, and the current group's unscaled sum.
  SmallVector<Value> acc, tmp;
};

void MmaGemvBuilder::loadParams(Value group) {
  group = minc(group, numGroups - 1);
  Value base =
      mul(add(mul(add(mul(tileIdx, numGroups), group), 8), g), perGroup);
  Value s = memref::LoadOp::create(b, loc, paramsArg, base);
  scale = vector::BroadcastOp::create(b, loc, vec2F32, s);
  int64_t sign = layout.getSignedCodes() ? int64_t(1) << (bits - 1) : 0;
  if (!layout.getZero()) {
    bias = splat(vec2F32, 8388608.0 + double(sign));
    return;
  }
  // Zero points are integers: 2^23 + zero is exact in f32, and so is the
  // subtraction that gives value - zero.
  Value z = memref::LoadOp::create(b, loc, paramsArg, addc(base, 1));
  Value c = arith::AddFOp::create(
      b, loc, z,
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(8388608.0f)));
  bias = vector::BroadcastOp::create(b, loc, vec2F32, c);
}

void MmaGemvBuilder::flush() {
  for (int64_t r = 0; r < rows; ++r) {
    acc[r] = vector::FMAOp::create(b, loc, tmp[r], scale, acc[r]);
    tmp[r] = splat(vec2F32, 0.0);
  }
}

void MmaGemvBuilder::block(Value blk, bool partial) {
  auto vec16I8 = VectorType::get({16}, b.getI8Type());
  Value at = add(mul(add(mul(tileIdx, numBlocks), blk), 512), mul(lane, 16));
  auto load = vector::LoadOp::create(b, loc, vec16I8, codesArg, at);
  load.setAlignment(16);
  Value words = vector::BitCastOp::create(b, loc, vec4I32, load);
  int64_t group = layout.getGroup(), steps = blockK / 16;
  int64_t perWord = 16 / bits;
  int64_t fieldMask = (int64_t(1) << bits) - 1;
  Value blockK0 = mul(blk, blockK), t2 = mul(t, 2);
  // With groups along K a block starts from zero group sums (in its own
  // region: what the previous block left is not visible here).
  if (group)
    tmp.assign(rows, splat(vec2F32, 0.0));
  int64_t partialBase = (k / blockK) * blockK;
  for (int64_t s = 0; s < steps; ++s) {
    if (partial && partialBase + 16 * s >= k)
      break;
    // A new group (always at s = 0): the previous one's scale applies to
    // what it summed.
    if (group) {
      bool starts = blockK % group == 0   ? (16 * s) % group == 0
                    : group % blockK == 0 ? s == 0
                                          : true;
      if (starts) {
        if (s > 0)
          flush();
        loadParams(div(addc(blockK0, 16 * s), group));
      }
    }
    for (int64_t h = 0; h < 2; ++h) {
      int64_t q = 2 * s + h, p = q % perWord;
      int64_t first = partialBase + 16 * s + 8 * h; // this (s, h)'s least k
      if (partial && first >= k)
        break;
      // The pair's codes: bits [bits p, ...) and [16 + bits p, ...).
      Value w = vector::BroadcastOp::create(
          b, loc, vec2I32,
          vector::ExtractOp::create(b, loc, words, q / perWord));
      Value shifts = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              vec2I32,
              ArrayRef<int32_t>{int32_t(bits * p), int32_t(16 + bits * p)}));
      Value codes = arith::AndIOp::create(
          b, loc, arith::ShRUIOp::create(b, loc, w, shifts),
          splatInt(vec2I32, fieldMask));
      codes =
          arith::OrIOp::create(b, loc, codes, splatInt(vec2I32, 0x4B000000));
      Value v = arith::SubFOp::create(
          b, loc, arith::BitcastOp::create(b, loc, vec2F32, codes), bias);
      Value kk = add(addc(blockK0, 16 * s + 8 * h), t2);
      // The end of K inside these 8 k (K is a multiple of 4): lanes past it
      // read zero activations at k = 0.
      Value valid;
      if (partial && first + 8 > k) {
        valid = ult(kk, idx(k));
        kk = arith::SelectOp::create(b, loc, valid, kk, idx(0));
      }
      for (int64_t r = 0; r < rows; ++r) {
        auto x = vector::LoadOp::create(b, loc, vec2F32, xArg,
                                        ValueRange{idx(r), kk});
        x.setAlignment(8);
        Value xv = x;
        if (valid)
          xv = arith::SelectOp::create(b, loc, valid, xv, splat(vec2F32, 0.0));
        tmp[r] = vector::FMAOp::create(b, loc, xv, v, tmp[r]);
      }
    }
  }
  // Groups along K end with the block or inside it: nothing crosses blocks.
  if (group)
    flush();
}

void MmaGemvBuilder::build(gpu::GPUFuncOp func) {
  vec2F32 = VectorType::get({2}, f32);
  vec2I32 = VectorType::get({2}, i32);
  // Per warp, row and column of the tile: the warp's partial sum.
  Value red = addWorkgroupBuffer(func, {kWarps, rows, 8}, f32);
  Value out = bindArguments(func);

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  tileIdx = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value warp = div(tid, lowbit::detail::kWarpSize);
  lane = rem(tid, lowbit::detail::kWarpSize);
  g = div(lane, 4);
  t = rem(lane, 4);
  acc.assign(rows, splat(vec2F32, 0.0));
  tmp.assign(rows, splat(vec2F32, 0.0));
  if (layout.getGroup() == 0)
    loadParams(idx(0));

  // Warp w takes the whole blocks w, w + 4, ...; the partial block (if K
  // is not a multiple of the block) goes to the warp next in turn.
  int64_t fullBlocks = k / blockK;
  auto take = [&](ValueRange v) { llvm::copy(v, carried().begin()); };
  if (fullBlocks > 0) {
    auto loop = scf::ForOp::create(b, loc, warp, idx(fullBlocks), idx(kWarps),
                                   carried());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    take(loop.getRegionIterArgs());
    block(loop.getInductionVar(), /*partial=*/false);
    scf::YieldOp::create(b, loc, carried());
    b.setInsertionPointAfter(loop);
    take(loop.getResults());
  }
  if (k % blockK != 0) {
    Value mine = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, warp,
                                       idx(fullBlocks % kWarps));
    SmallVector<Value> before = carried();
    auto ifOp = scf::IfOp::create(b, loc, ValueRange(before).getTypes(), mine,
                                  /*withElse=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      block(idx(fullBlocks), /*partial=*/true);
      scf::YieldOp::create(b, loc, carried());
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, before);
    }
    take(ifOp.getResults());
  }
  // Per channel: the one scale, once.
  if (layout.getGroup() == 0)
    flush();
  // Outliers: the 16 threads (warp w, t) of column g take entries 4 w + t,
  // + 16, ... of its run.
  if (outliersArg) {
    SmallVector<Value> rowIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(idx(r));
    SmallVector<Value> sums =
        outlierSums(add(mul(tileIdx, 8), g), rowIdx, add(mul(warp, 4), t), 16);
    for (int64_t r = 0; r < rows; ++r)
      acc[r] = addToFirst(acc[r], sums[r]);
  }

  // The 4 lanes of a column, then the warps through workgroup memory.
  for (int64_t r = 0; r < rows; ++r) {
    Value s =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc[r]);
    for (int32_t offset : {1, 2}) {
      auto shuffle = gpu::ShuffleOp::create(
          b, loc, s, offset, lowbit::detail::kWarpSize, gpu::ShuffleMode::XOR);
      s = arith::AddFOp::create(b, loc, s, shuffle.getShuffleResult());
    }
    acc[r] = s;
  }
  Value lead =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, idx(0));
  auto writeIf = scf::IfOp::create(b, loc, lead, /*withElse=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(writeIf.thenBlock());
    for (int64_t r = 0; r < rows; ++r)
      memref::StoreOp::create(b, loc, acc[r], red, ValueRange{warp, idx(r), g});
  }
  gpu::BarrierOp::create(b, loc);
  // Thread (r, c) = (tid / 8, tid % 8) sums and stores, inside N.
  Value r = div(tid, 8), c = rem(tid, 8);
  Value col = add(mul(tileIdx, 8), c);
  Value inside =
      arith::AndIOp::create(b, loc, ult(tid, idx(rows * 8)), ult(col, idx(n)));
  auto storeIf = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(storeIf.thenBlock());
  Value sum = memref::LoadOp::create(b, loc, red, ValueRange{idx(0), r, c});
  for (int64_t w = 1; w < kWarps; ++w)
    sum = arith::AddFOp::create(
        b, loc, sum,
        memref::LoadOp::create(b, loc, red, ValueRange{idx(w), r, c}));
  memref::StoreOp::create(b, loc, sum, out, ValueRange{r, col});
}

} // namespace

LaunchShape mlir::lowbit::detail::mmaGemvShape(PackedLayoutAttr layout,
                                               int64_t rows) {
  LaunchShape s;
  s.gridX = layout.getNumTiles();
  s.threads = kWarps * lowbit::detail::kWarpSize;
  s.kind = LaunchShape::MmaGemv;
  return s;
}

void mlir::lowbit::detail::buildMmaGemvKernel(OpBuilder &b, Location loc,
                                              PackedLayoutAttr layout,
                                              int64_t rows,
                                              gpu::GPUFuncOp func) {
  MmaGemvBuilder(b, loc, layout, rows).build(func);
}
