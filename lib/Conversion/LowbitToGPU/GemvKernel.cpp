//===- GemvKernel.cpp - The GPU decode GEMV on packed weights -------------===//
//
// One warp per tile of columns streams the tile's codes once (16 bytes per
// thread and block), dequantizes in registers, multiplies 1-16 rows of
// activations and reduces with shuffles.
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

/// Warps per thread block (one tile of columns each).
constexpr int64_t kWarpsPerBlock = 4;
/// Bytes one thread loads per block of a column.
constexpr int64_t kBytesPerThread = 16;

/// The decode GEMV: one warp per tile of columns.
class GemvBuilder : public GPUKernelBase {
public:
  using GPUKernelBase::GPUKernelBase;
  /// Emits the kernel body into the entry block of `func`.
  void build(gpu::GPUFuncOp func);

private:
  /// One block of K (`blk`) of the warp's tile: returns the accumulators.
  SmallVector<Value> block(Value blk, Value tileIdx, Value lane,
                           ArrayRef<Value> accs, bool masked);
};

SmallVector<Value> GemvBuilder::block(Value blk, Value tileIdx, Value lane,
                                      ArrayRef<Value> accs, bool masked) {
  SmallVector<Value> acc(accs);
  // The 16 bytes of each column of the tile this thread reads.
  auto vec16I8 = VectorType::get({kBytesPerThread}, b.getI8Type());
  Value laneBytes = mul(lane, kBytesPerThread);
  SmallVector<Value> words;
  for (int64_t c = 0; c < tile; ++c) {
    Value base =
        mul(addc(mul(add(mul(tileIdx, numBlocks), blk), tile), c), 512);
    base = add(base, laneBytes);
    auto load = vector::LoadOp::create(b, loc, vec16I8, codesArg, base);
    load.setAlignment(kBytesPerThread);
    words.push_back(vector::BitCastOp::create(b, loc, vec4I32, load));
  }
  Value blockK0 = mul(blk, blockK);
  // Quads: 2-4-bit fields hold step j's codes (k = 128 j + 4 lane + w) in
  // bits [j*bits, (j+1)*bits) of word w; 8-bit: byte i of word q is
  // k = 16 lane + 4 q + i.
  int64_t quads = bits == 8 ? 4 : 32 / bits;
  for (int64_t q = 0; q < quads; ++q) {
    // In the last block, quads whose first lane is already past K.
    if (masked && (k / blockK) * blockK + (bits == 8 ? 4 * q : 128 * q) >= k)
      break;
    Value kq = bits == 8 ? add(blockK0, addc(mul(lane, 16), 4 * q))
                         : add(blockK0, addc(mul(lane, 4), 128 * q));
    Value group = groupOf(kq);
    SmallVector<Value> weights;
    for (int64_t c = 0; c < tile; ++c) {
      Value codes =
          bits == 8
              ? byteFields(vector::ExtractOp::create(b, loc, words[c], q))
              : fields(words[c],
                       q ? arith::ConstantIntOp::create(b, loc, i32, q * bits)
                               .getResult()
                         : Value());
      weights.push_back(dequantize(codes, tileIdx, group, idx(c)));
    }
    // Past K (last block only): zero activations, read at k = 0.
    Value valid, kRead = kq;
    if (masked) {
      valid =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, kq, idx(k));
      kRead = arith::SelectOp::create(b, loc, valid, kq, idx(0));
    }
    for (int64_t r = 0; r < rows; ++r) {
      auto load = vector::LoadOp::create(b, loc, vec4F32, xArg,
                                         ValueRange{idx(r), kRead});
      load.setAlignment(16);
      Value xv = load;
      if (masked)
        xv = arith::SelectOp::create(b, loc, valid, xv, splatF32(0.0f));
      for (int64_t c = 0; c < tile; ++c) {
        Value &a = acc[r * tile + c];
        a = vector::FMAOp::create(b, loc, xv, weights[c], a);
      }
    }
  }
  return acc;
}

void GemvBuilder::build(gpu::GPUFuncOp func) {
  Value out = bindArguments(func);
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(kWarpSize));
  Value warp = arith::DivUIOp::create(b, loc, tid, idx(kWarpSize));
  Value tileIdx = add(mul(bid, kWarpsPerBlock), warp);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        tileIdx, idx(layout.getNumTiles()));
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());

  SmallVector<Value> accs(rows * tile, splatF32(0.0f));
  int64_t fullBlocks = k / blockK;
  if (fullBlocks > 0) {
    auto loop =
        scf::ForOp::create(b, loc, idx(0), idx(fullBlocks), idx(1), accs);
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next =
        block(loop.getInductionVar(), tileIdx, lane,
              SmallVector<Value>(loop.getRegionIterArgs()), false);
    scf::YieldOp::create(b, loc, next);
    b.setInsertionPointAfter(loop);
    accs = SmallVector<Value>(loop.getResults());
  }
  if (k % blockK != 0)
    accs = block(idx(fullBlocks), tileIdx, lane, accs, true);
  // Outliers: lane l takes entries l, l + 32, ... of each column's run.
  if (outliersArg) {
    SmallVector<Value> rowIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(idx(r));
    for (int64_t c = 0; c < tile; ++c) {
      SmallVector<Value> sums =
          outlierSums(addc(mul(tileIdx, tile), c), rowIdx, lane, kWarpSize);
      for (int64_t r = 0; r < rows; ++r)
        accs[r * tile + c] = addToFirst(accs[r * tile + c], sums[r]);
    }
  }

  // Lanes, then the warp (butterfly: every lane ends with the sum).
  SmallVector<Value> sums;
  for (Value a : accs) {
    Value s =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, a);
    for (int32_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
      auto shuffle = gpu::ShuffleOp::create(b, loc, s, offset, kWarpSize,
                                            gpu::ShuffleMode::XOR);
      s = arith::AddFOp::create(b, loc, s, shuffle.getShuffleResult());
    }
    sums.push_back(s);
  }
  Value first =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0));
  auto store = scf::IfOp::create(b, loc, first, /*withElse=*/false);
  b.setInsertionPointToStart(store.thenBlock());
  Value col0 = mul(tileIdx, tile);
  for (int64_t c = 0; c < tile; ++c) {
    Value col = addc(col0, c);
    // Columns past N exist only in the last tile.
    bool ragged = n % tile != 0;
    Block *storeBlock = nullptr;
    if (ragged) {
      Value inside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, idx(n));
      auto guardIf = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
      storeBlock = guardIf.thenBlock();
    }
    OpBuilder::InsertionGuard colGuard(b);
    if (storeBlock)
      b.setInsertionPointToStart(storeBlock);
    for (int64_t r = 0; r < rows; ++r)
      memref::StoreOp::create(b, loc, sums[r * tile + c], out,
                              ValueRange{idx(r), col});
  }
}

} // namespace

LaunchShape mlir::lowbit::detail::gemvShape(PackedLayoutAttr layout,
                                            int64_t rows) {
  LaunchShape s;
  s.gridX = (layout.getNumTiles() + kWarpsPerBlock - 1) / kWarpsPerBlock;
  s.threads = kWarpsPerBlock * kWarpSize;
  return s;
}

void mlir::lowbit::detail::buildGemvKernel(OpBuilder &b, Location loc,
                                           PackedLayoutAttr layout,
                                           int64_t rows, gpu::GPUFuncOp func) {
  GemvBuilder(b, loc, layout, rows).build(func);
}
