//===- PackedMatmulAmx.cpp - Packed-matmul kernels on AMX tdpbusd ---------===//
//
// int8 activations times 2/4/8-bit codes for batches of rows with Intel AMX:
// per 64 k of a tile of 16 columns one `tdpbusd` of an M x 64 tile of the
// activations (as unsigned bytes x + 128) and a 16 x 64 tile of the codes
// (the `amx` layout puts four consecutive k of each column side by side, so
// one mask or shift per field and a store to a scratch buffer give the B
// tile; 8-bit codes are loaded as they are), into an M x 16 i32 tile per
// group, converted and scaled per column with AVX-512 at the group's end:
//   y[r][c] += s_w[c] (s_x[r] (C[r][c] - 128 B[c]) - z[c] s_x[r] sum_k x_q)
//
//===----------------------------------------------------------------------===//

#include "PackedMatmulKernels.h"
#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

void KernelBuilder::buildAmx(Value tileIdx, const QuantizedInput &xq,
                             Value scratchB, Value scratchC, Value slot) {
  int64_t fields = 8 / bits;
  int64_t blockK = layout.getBlockK();
  int64_t blockBytes = 16 * 64; // one AMX tile
  auto i8 = b.getI8Type(), i32 = b.getI32Type();
  (void)fields;
  auto aType = amx::TileType::get({rows, 64}, i8);
  auto bType = amx::TileType::get({16, 64}, i8);
  auto cType = amx::TileType::get({rows, 16}, i32);
  auto vecBytes = VectorType::get({64}, i8);
  auto vec16F = VectorType::get({16}, f32);
  auto vec16I = VectorType::get({16}, i32);
  Value zeroF = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vec16F, b.getF32FloatAttr(0)));
  auto splatBytes = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(vecBytes,
                               b.getI8IntegerAttr(static_cast<int8_t>(v))));
  };
  Value mask = splatBytes((1 << bits) - 1);
  SmallVector<Value> init(rows, zeroF);
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(numGroups), idx(1), init);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(loop.getBody());
    Value g = loop.getInductionVar();
    prefetch(tileIdx, g);
    int64_t blocksPerGroup = layout.getGroup() / blockK;
    Value c = amx::TileZeroOp::create(b, loc, cType);
    for (int64_t blk = 0; blk < blocksPerGroup; ++blk) {
      Value block = addc(mul(g, blocksPerGroup), blk);
      Value base = mul(add(mul(tileIdx, numBlocks), block), blockBytes);
      SmallVector<Value> bTiles;
      if (bits == 8) {
        bTiles.push_back(amx::TileLoadOp::create(b, loc, bType, op.getCodes(),
                                                 ValueRange{base}, idx(64)));
      } else {
        for (int64_t r = 0; r < 16; ++r) {
          Value v = vector::LoadOp::create(b, loc, vecBytes, op.getCodes(),
                                           addc(base, r * 64));
          for (int64_t j = 0; j < fields; ++j) {
            Value f = v;
            if (j)
              f = arith::ShRUIOp::create(b, loc, f, splatBytes(j * bits));
            if (j + 1 < fields)
              f = arith::AndIOp::create(b, loc, f, mask);
            vector::StoreOp::create(b, loc, f, scratchB,
                                    ValueRange{slot, idx(j * 16 + r), idx(0)});
          }
        }
        for (int64_t j = 0; j < fields; ++j)
          bTiles.push_back(amx::TileLoadOp::create(
              b, loc, bType, scratchB, ValueRange{slot, idx(j * 16), idx(0)}));
      }
      for (int64_t j = 0; j < fields; ++j) {
        Value k0 = addc(mul(block, blockK), j * 64);
        Value a = amx::TileLoadOp::create(b, loc, aType, xq.codes,
                                          ValueRange{idx(0), k0});
        c = amx::TileMulIOp::create(b, loc, cType, a, bTiles[j], c,
                                    /*isZextLhs=*/true, /*isZextRhs=*/false);
      }
    }
    // The group's end: per row, the 16 columns' sums scaled.
    amx::TileStoreOp::create(b, loc, scratchC, ValueRange{slot, idx(0), idx(0)},
                             c);
    Value pbase = mul(add(mul(tileIdx, numGroups), g), 48);
    Value scale = vector::LoadOp::create(b, loc, vec16F, op.getParams(), pbase);
    Value bsum =
        vector::LoadOp::create(b, loc, vec16F, op.getParams(), addc(pbase, 16));
    Value zero =
        vector::LoadOp::create(b, loc, vec16F, op.getParams(), addc(pbase, 32));
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      Value sums = vector::LoadOp::create(b, loc, vec16I, scratchC,
                                          ValueRange{slot, idx(r), idx(0)});
      Value d = arith::SubFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, vec16F, sums), bsum);
      Value sx =
          memref::LoadOp::create(b, loc, xq.scales, ValueRange{idx(r), g});
      d = arith::MulFOp::create(
          b, loc, d, vector::BroadcastOp::create(b, loc, vec16F, sx));
      Value xs = memref::LoadOp::create(b, loc, xq.sums, ValueRange{idx(r), g});
      Value negXs = vector::BroadcastOp::create(
          b, loc, vec16F, arith::NegFOp::create(b, loc, xs));
      d = vector::FMAOp::create(b, loc, zero, negXs, d);
      next.push_back(
          vector::FMAOp::create(b, loc, scale, d, loop.getRegionIterArgs()[r]));
    }
    scf::YieldOp::create(b, loc, next);
  }
  storeColumns(tileIdx, 0, loop.getResults());
}
