//===- PackedMatmulKernels.cpp - CPU kernels for lowbit.packed_matmul -----===//
//
// Generates, for one bufferized lowbit.packed_matmul, a weight-streaming
// kernel specialised for its #lowbit.packed layout and shape (see the pass
// description in Passes.td). Everything static is unrolled here, in C++:
// the kernel's IR has one loop over tiles (threads) and one over
// superblocks of K per tile and chunk of rows. This file has what the
// kernel families share (the tile loop, prefetch, stores); the pass is in
// LowbitToCPU.cpp.
//
//===----------------------------------------------------------------------===//

#include "PackedMatmulKernels.h"
#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

void KernelBuilder::prefetch(Value tileIdx, Value super) {
  if (prefetchDistance <= 0)
    return;
  int64_t codeBytes = blocksPerSuper * layout.getTileBlockBytes();
  Value base = mul(add(mul(tileIdx, numBlocks), mul(super, blocksPerSuper)),
                   layout.getTileBlockBytes());
  // Two prefetches per line: into L2 (prefetcht1) `prefetch-distance`
  // ahead, whose miss queue holds the many lines in flight a DRAM stream
  // needs, and into L1 (prefetcht0) an eighth of that ahead, so that the
  // loads hit L1. (W4A8, 4096x14336, 2 threads, DRAM: 26.0 GB/s with the
  // L2 prefetch alone, 29.5 with both.)
  int64_t nearDistance = std::max<int64_t>(64, prefetchDistance / 8);
  for (int64_t line = 0; line < std::max<int64_t>(1, codeBytes / 64); ++line) {
    memref::PrefetchOp::create(b, loc, op.getCodes(),
                               addc(base, prefetchDistance + line * 64),
                               /*isWrite=*/false, /*localityHint=*/2,
                               /*isDataCache=*/true);
    memref::PrefetchOp::create(b, loc, op.getCodes(),
                               addc(base, nearDistance + line * 64),
                               /*isWrite=*/false, /*localityHint=*/3,
                               /*isDataCache=*/true);
  }
  if (!stepsPerGroup)
    return;
  // The parameters of the superblock as far ahead (in superblocks).
  int64_t paramsPerSuper = tile * groupsPerSuper * perGroup;
  int64_t ahead = std::max<int64_t>(1, prefetchDistance / codeBytes);
  Value pbase = mul(add(mul(tileIdx, numGroups), mul(super, groupsPerSuper)),
                    tile * perGroup);
  for (int64_t off = 0; off < paramsPerSuper; off += 16)
    memref::PrefetchOp::create(b, loc, op.getParams(),
                               addc(pbase, ahead * paramsPerSuper + off), false,
                               2, true);
}

void KernelBuilder::storeSums(Value tileIdx, int64_t row0, int64_t chunk,
                              function_ref<Value(int64_t, int64_t)> sum) {
  for (int64_t c = 0; c < tile; ++c) {
    Value col = addc(mul(tileIdx, tile), c);
    auto store = [&](Location l) {
      for (int64_t r = 0; r < chunk; ++r)
        memref::StoreOp::create(b, l, sum(c, r), op.getInit(),
                                ValueRange{idx(row0 + r), col});
    };
    // Only the last tile can run past N.
    if (n % tile == 0 || c < n % tile) {
      store(loc);
      continue;
    }
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, idx(n));
    scf::IfOp::create(b, loc, inside, [&](OpBuilder &tb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(tb.getInsertionBlock(), tb.getInsertionPoint());
      store(l);
      scf::YieldOp::create(tb, l);
    });
  }
}

void KernelBuilder::storeColumns(Value tileIdx, int64_t row0,
                                 ValueRange perRow) {
  // Columns [tile * T, min(N, (tile + 1) * T)) of each row.
  auto initType = cast<MemRefType>(op.getInit().getType());
  if (!initType.isLastDimUnitStride())
    return storeSums(tileIdx, row0, perRow.size(),
                     [&](int64_t c, int64_t r) -> Value {
                       return vector::ExtractOp::create(b, loc, perRow[r], c);
                     });
  Value col0 = mul(tileIdx, tile);
  Value left = arith::SubIOp::create(b, loc, idx(n), col0);
  Value count = arith::MinSIOp::create(b, loc, left, idx(tile));
  Value mask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({tile}, b.getI1Type()), ValueRange{count});
  for (auto [r, v] : llvm::enumerate(perRow))
    vector::MaskedStoreOp::create(b, loc, op.getInit(),
                                  ValueRange{idx(row0 + r), col0}, mask, v);
}

void KernelBuilder::build() {
  // Vector loads need unit stride along K: a strided view of the
  // activations (small: M x K) is copied first.
  auto inputType = cast<MemRefType>(op.getInput().getType());
  if (!inputType.isLastDimUnitStride()) {
    auto contiguous = MemRefType::get(inputType.getShape(), f32);
    Value copy = memref::AllocOp::create(b, loc, contiguous);
    memref::CopyOp::create(b, loc, op.getInput(), copy);
    op.getInputMutable().assign(copy);
    OpBuilder after(op);
    after.setInsertionPointAfter(op);
    memref::DeallocOp::create(after, loc, copy);
  }
  // int8 activations are quantized once per call, before the threads.
  std::optional<QuantizedInput> xq;
  if (layout.getInt8()) {
    xq = quantizeActivations();
    if (!layout.getAmx())
      replicateScales(*xq);
  }
  std::optional<LutTables> tables;
  if (layout.getLut())
    tables = buildTables();
  // Outliers of 3 or more rows read every row's activation at a k with one
  // vector load from a k-major copy (the rounded activations with int8).
  Value outlierX = xq ? xq->rounded : op.getInput();
  Value outlierXT = layout.getOutliers() && rows > 2
                        ? transposeForOutliers(outlierX)
                        : Value();
  if (layout.getAmx()) {
    buildAmxWorkers(*xq, outlierXT);
    if (outlierXT)
      memref::DeallocOp::create(b, loc, outlierXT);
    for (Value v : {xq->codes, xq->scales, xq->sums, xq->rounded})
      if (v)
        memref::DeallocOp::create(b, loc, v);
    return;
  }
  auto parallel = scf::ParallelOp::create(b, loc, ValueRange{idx(0)},
                                          ValueRange{idx(layout.getNumTiles())},
                                          ValueRange{idx(1)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(parallel.getBody());
    Value tileIdx = parallel.getInductionVars()[0];
    prefetchOutliers(tileIdx);
    if (xq)
      buildInt8(tileIdx, *xq);
    else if (tables)
      buildLut(tileIdx, *tables);
    else
      buildF32(tileIdx);
    if (!foldsOutliers())
      addOutliers(tileIdx, outlierX, outlierXT);
  }
  if (outlierXT)
    memref::DeallocOp::create(b, loc, outlierXT);
  if (tables)
    for (Value v : {tables->tables, tables->scales, tables->sums})
      memref::DeallocOp::create(b, loc, v);
  if (xq)
    for (Value v : {xq->codes, xq->scales, xq->sums, xq->inits, xq->sxRep,
                    xq->xsRep, xq->rounded})
      if (v)
        memref::DeallocOp::create(b, loc, v);
}

void KernelBuilder::buildAmxWorkers(const QuantizedInput &xq, Value outlierXT) {
  // AMX tiles are loaded from memory: each worker (a contiguous run of
  // column tiles) unpacks codes into, and stores sums from, its own slot
  // of two buffers allocated once per call.
  int64_t numTiles = layout.getNumTiles();
  int64_t workers = std::min<int64_t>(numTiles, 64);
  int64_t fields = 8 / bits;
  auto scratchB = memref::AllocOp::create(
      b, loc, MemRefType::get({workers, 16 * fields, 64}, b.getI8Type()),
      ValueRange{}, b.getI64IntegerAttr(64));
  auto scratchC = memref::AllocOp::create(
      b, loc, MemRefType::get({workers, rows, 16}, b.getI32Type()),
      ValueRange{}, b.getI64IntegerAttr(64));
  auto parallel = scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(workers)}, ValueRange{idx(1)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(parallel.getBody());
    Value w = parallel.getInductionVars()[0];
    // Tiles [w * T / W, (w + 1) * T / W).
    auto bound = [&](Value v) {
      return arith::DivUIOp::create(b, loc, mul(v, numTiles), idx(workers));
    };
    auto tiles =
        scf::ForOp::create(b, loc, bound(w), bound(addc(w, 1)), idx(1));
    b.setInsertionPointToStart(tiles.getBody());
    prefetchOutliers(tiles.getInductionVar());
    buildAmx(tiles.getInductionVar(), xq, scratchB, scratchC, w);
    addOutliers(tiles.getInductionVar(), xq.rounded, outlierXT);
  }
  memref::DeallocOp::create(b, loc, scratchB);
  memref::DeallocOp::create(b, loc, scratchC);
}
