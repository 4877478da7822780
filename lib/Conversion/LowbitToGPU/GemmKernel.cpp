//===- GemmKernel.cpp - The GPU tensor-core GEMM on packed weights --------===//
//
// Prefill (more than 16 rows): 64 x 64 output tiles per block of 4 warps
// (2 x 2, 32 x 32 each). Per 64 k, the block dequantizes its 64 columns'
// codes into f16 in workgroup memory (fused: the weights never exist in f16
// in global memory), converts its 64 rows of activations to f16 beside
// them, and each warp multiplies with 16 WMMA m16n16k16 ops (f32
// accumulators). The tile goes through workgroup memory to the output,
// guarded at M and N.
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

constexpr int64_t kTileM = 64, kTileN = 64, kTileK = 64;
constexpr int64_t kThreads = 128;
/// Row pitch (f16) of the staged operands: 64 + 8, so that rows start in
/// different banks and every 16-row fragment stays 32-byte aligned.
constexpr int64_t kPitch = kTileK + 8;

class GemmBuilder : public GPUKernelBase {
public:
  using GPUKernelBase::GPUKernelBase;
  void build(gpu::GPUFuncOp func);

private:
  /// Stages the weights of k [k0, k0 + 64) of the block's columns, as f16
  /// `sB[column][k]`: thread (c = tid / 2, h = tid % 2) decodes 32 k.
  void stageWeights(Value k0, Value bn, Value tid, Value sB);
  /// Stages the activations of k [k0, k0 + 64) of the block's rows, as f16
  /// `sA[row][k]`, zero past M and K.
  void stageActivations(Value k0, Value bm, Value tid, Value sA);

  Type f16;
  VectorType vec4F16;
};

void GemmBuilder::stageWeights(Value k0, Value bn, Value tid, Value sB) {
  Value c = div(tid, 2), h = rem(tid, 2);
  // Columns past N (last block) read column N - 1; their results are not
  // stored.
  Value col = minc(add(mul(bn, kTileN), c), n - 1);
  Value t = div(col, tile), ct = rem(col, tile);
  Value blk = div(k0, blockK), within = rem(k0, blockK);
  Value blockBase = mul(add(mul(add(mul(t, numBlocks), blk), tile), ct), 512);
  auto vec16I8 = VectorType::get({16}, b.getI8Type());
  auto load16 = [&](Value byteOffset) -> Value {
    auto load = vector::LoadOp::create(b, loc, vec16I8, codesArg,
                                       add(blockBase, byteOffset));
    load.setAlignment(16);
    return vector::BitCastOp::create(b, loc, vec4I32, load);
  };
  Value kLocal0 = mul(h, 32); // this thread's first k within the 64
  auto emit = [&](Value codes, Value kLocal) {
    Value group = groupOf(add(k0, kLocal));
    Value w = dequantize(codes, t, group, ct);
    Value w16 = arith::TruncFOp::create(b, loc, vec4F16, w);
    auto store =
        vector::StoreOp::create(b, loc, w16, sB, ValueRange{c, kLocal});
    store.setAlignment(8);
  };
  if (bits == 8) {
    // Bytes [within + 32 h, +32) hold k in order.
    for (int64_t q = 0; q < 2; ++q) {
      Value words = load16(addc(add(within, kLocal0), 16 * q));
      for (int64_t w = 0; w < 4; ++w)
        emit(byteFields(vector::ExtractOp::create(b, loc, words, w)),
             addc(kLocal0, 16 * q + 4 * w));
    }
    return;
  }
  // Words i = within % 128 + 32 h + 4 q + w hold k = k0 + 32 h + 4 q + w in
  // field j = within / 128.
  Value shift =
      arith::IndexCastOp::create(b, loc, i32, mul(div(within, 128), bits));
  Value word0 = add(rem(within, 128), kLocal0);
  for (int64_t q = 0; q < 8; ++q) {
    Value words = load16(mul(addc(word0, 4 * q), 4));
    emit(fields(words, shift), addc(kLocal0, 4 * q));
  }
}

void GemmBuilder::stageActivations(Value k0, Value bm, Value tid, Value sA) {
  Value r = div(tid, 2), h = rem(tid, 2);
  Value row = add(mul(bm, kTileM), r);
  Value rowIn = ult(row, idx(rows));
  Value rowRead = minc(row, rows - 1);
  for (int64_t q = 0; q < 8; ++q) {
    Value kLocal = addc(mul(h, 32), 4 * q);
    Value kq = add(k0, kLocal);
    Value inside = arith::AndIOp::create(b, loc, rowIn, ult(kq, idx(k)));
    Value kRead = arith::SelectOp::create(b, loc, inside, kq, idx(0));
    auto load = vector::LoadOp::create(b, loc, vec4F32, xArg,
                                       ValueRange{rowRead, kRead});
    load.setAlignment(16);
    Value xv = arith::SelectOp::create(b, loc, inside, load, splatF32(0.0f));
    Value x16 = arith::TruncFOp::create(b, loc, vec4F16, xv);
    auto store =
        vector::StoreOp::create(b, loc, x16, sA, ValueRange{r, kLocal});
    store.setAlignment(8);
  }
}

void GemmBuilder::build(gpu::GPUFuncOp func) {
  f16 = b.getF16Type();
  vec4F16 = VectorType::get({4}, f16);
  // WMMA fragments must start 32-byte aligned.
  Value sA = addWorkgroupBuffer(func, {kTileM, kPitch}, f16, 32);
  Value sB = addWorkgroupBuffer(func, {kTileM, kPitch}, f16, 32);
  Value sC = addWorkgroupBuffer(func, {kTileM, kTileN}, f32, 32);
  Value out = bindArguments(func);

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bn = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value bm = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value warp = div(tid, kWarpSize);
  Value warpRow = mul(div(warp, 2), 32), warpCol = mul(rem(warp, 2), 32);

  auto aType = gpu::MMAMatrixType::get({16, 16}, f16, "AOp");
  auto bType = gpu::MMAMatrixType::get({16, 16}, f16, "BOp");
  auto cType = gpu::MMAMatrixType::get({16, 16}, f32, "COp");
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value zeroTile =
      gpu::SubgroupMmaConstantMatrixOp::create(b, loc, cType, zero);
  SmallVector<Value> init(4, zeroTile);
  int64_t steps = (k + kTileK - 1) / kTileK;
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(steps), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value k0 = mul(loop.getInductionVar(), kTileK);
    stageWeights(k0, bn, tid, sB);
    stageActivations(k0, bm, tid, sA);
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> acc(loop.getRegionIterArgs());
    for (int64_t kk = 0; kk < kTileK; kk += 16) {
      SmallVector<Value> as, bs;
      for (int64_t i = 0; i < 2; ++i)
        as.push_back(gpu::SubgroupMmaLoadMatrixOp::create(
            b, loc, aType, sA, ValueRange{addc(warpRow, 16 * i), idx(kk)},
            b.getIndexAttr(kPitch), /*transpose=*/UnitAttr()));
      // sB holds B (K x N) column by column: a transposed load.
      for (int64_t j = 0; j < 2; ++j)
        bs.push_back(gpu::SubgroupMmaLoadMatrixOp::create(
            b, loc, bType, sB, ValueRange{addc(warpCol, 16 * j), idx(kk)},
            b.getIndexAttr(kPitch), b.getUnitAttr()));
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 2; ++j)
          acc[2 * i + j] = gpu::SubgroupMmaComputeOp::create(
              b, loc, cType, as[i], bs[j], acc[2 * i + j],
              /*a_transpose=*/UnitAttr(), /*b_transpose=*/b.getUnitAttr());
    }
    // The next step overwrites the staged operands.
    gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, acc);
  }
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      gpu::SubgroupMmaStoreMatrixOp::create(
          b, loc, loop.getResult(2 * i + j), sC,
          ValueRange{addc(warpRow, 16 * i), addc(warpCol, 16 * j)},
          b.getIndexAttr(kTileN), /*transpose=*/UnitAttr());
  gpu::BarrierOp::create(b, loc);

  // Thread (r = tid / 2, h) writes 32 outputs of row r, inside M and N.
  Value r = div(tid, 2), h = rem(tid, 2);
  Value row = add(mul(bm, kTileM), r);
  Value col0 = add(mul(bn, kTileN), mul(h, 32));
  auto rowIf = scf::IfOp::create(b, loc, ult(row, idx(rows)), false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rowIf.thenBlock());
  for (int64_t e = 0; e < 32; ++e) {
    Value col = addc(col0, e);
    OpBuilder::InsertionGuard colGuard(b);
    if (n % kTileN != 0) {
      auto colIf = scf::IfOp::create(b, loc, ult(col, idx(n)), false);
      b.setInsertionPointToStart(colIf.thenBlock());
    }
    Value v =
        memref::LoadOp::create(b, loc, sC, ValueRange{r, addc(mul(h, 32), e)});
    // Outliers (a stated fallback: per output, the column's whole run).
    if (outliersArg)
      v = arith::AddFOp::create(b, loc, v,
                                outlierSums(col, row, idx(0), 1).front());
    memref::StoreOp::create(b, loc, v, out, ValueRange{row, col});
  }
}

} // namespace

LaunchShape mlir::lowbit::detail::gemmShape(PackedLayoutAttr layout,
                                            int64_t rows) {
  return tiledShape(layout, rows, kTileM, kTileN, kThreads, LaunchShape::Gemm);
}

void mlir::lowbit::detail::buildGemmKernel(OpBuilder &b, Location loc,
                                           PackedLayoutAttr layout,
                                           int64_t rows, gpu::GPUFuncOp func) {
  GemmBuilder(b, loc, layout, rows).build(func);
}
