//===- PackedMatmulOutliers.cpp - Sparse outliers of a packed matmul ------===//
//
// The outliers of a #lowbit.packed layout with `outliers` (SpQR-style
// sparse f16 weights beside the codes), added to a tile's results: per
// column, its run of `(k << 16) | f16` words is read `lanes` at a time, the
// activations at those k gathered (one vector.gather with 16 lanes, lane
// by lane otherwise; with int8 activations the rounded ones, code * scale,
// as the reference lowering's lowbit.fake_quant defines them) and
// multiplied by the widened values into one vector accumulator per row.
// Where the kernel allows it (foldsOutliers: f32 activations with one or
// two rows, int8 ones with one) those are the column's dense accumulators,
// before their lanes are summed; otherwise a zeroed one whose sum is added
// to the stored result; three or more rows read a k-major copy of the
// activations, one vector per outlier. Each tile prefetches the next
// tile's run.
//
//===----------------------------------------------------------------------===//

#include "PackedMatmulKernels.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

/// f16 bits (low 16 bits of each lane of `words`) as f32, exactly, with
/// integer operations: the magnitude's bits moved to an f32's exponent and
/// mantissa fields give the value times 2^-112 (normal and subnormal f16
/// alike), which one multiplication by 2^112 undoes; the sign moves to bit
/// 31. (No F16C or libcall needed; the packer refuses Inf/NaN values.)
static Value widenHalf(OpBuilder &b, Location loc, Value words) {
  Type type = words.getType();
  auto vecType = dyn_cast<VectorType>(type);
  Type f32Type = vecType
                     ? Type(VectorType::get(vecType.getShape(), b.getF32Type()))
                     : Type(b.getF32Type());
  auto constant = [&](Type t, Attribute scalar) -> Value {
    if (isa<VectorType>(t))
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(cast<ShapedType>(t), scalar));
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(scalar));
  };
  auto splat = [&](int64_t v) {
    return constant(type, b.getI32IntegerAttr(static_cast<int32_t>(v)));
  };
  Value magnitude = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, words, splat(0x7fff)), splat(13));
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, words, splat(0x8000)), splat(16));
  Value bits = arith::OrIOp::create(b, loc, magnitude, sign);
  Value scaled = arith::BitcastOp::create(b, loc, f32Type, bits);
  return arith::MulFOp::create(b, loc, scaled,
                               constant(f32Type, b.getF32FloatAttr(0x1p112f)));
}

/// An i32 offset or coordinate of the outlier array as an index.
static Value asIndex(OpBuilder &b, Location loc, Value v) {
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v);
}

Value KernelBuilder::transposeForOutliers(Value x) {
  int64_t kx = cast<MemRefType>(x.getType()).getDimSize(1);
  int64_t padded = llvm::PowerOf2Ceil(rows);
  auto vecRows = VectorType::get({padded}, f32);
  Value xT = memref::AllocOp::create(b, loc, MemRefType::get({kx, padded}, f32),
                                     ValueRange{}, b.getI64IntegerAttr(64));
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecRows, b.getF32FloatAttr(0.0f)));
  auto loop = scf::ForOp::create(b, loc, idx(0), idx(kx), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value kk = loop.getInductionVar();
  Value column = zero;
  for (int64_t r = 0; r < rows; ++r)
    column = vector::InsertOp::create(
        b, loc, memref::LoadOp::create(b, loc, x, ValueRange{idx(r), kk}),
        column, r);
  vector::StoreOp::create(b, loc, column, xT, ValueRange{kk, idx(0)});
  return xT;
}

void KernelBuilder::forEachOutlierRun(
    Value tileIdx,
    function_ref<SmallVector<Value>(Value begin, Value end)> rowSums) {
  Value words = op.getOutliers();
  auto columns = scf::ForOp::create(b, loc, idx(0), idx(tile), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(columns.getBody());
  Value col = add(mul(tileIdx, tile), columns.getInductionVar());
  Value begin = asIndex(b, loc, memref::LoadOp::create(b, loc, words, col));
  Value end =
      asIndex(b, loc, memref::LoadOp::create(b, loc, words, addc(col, 1)));
  // Most columns have none: no read of the results then (this also keeps
  // the padding columns past N, which have none, from being touched).
  Value any =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, begin, end);
  auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifAny.getThenRegion().front());
  SmallVector<Value> sums = rowSums(begin, end);
  for (auto [r, sum] : llvm::enumerate(sums)) {
    SmallVector<Value> at{idx(r), col};
    Value old = memref::LoadOp::create(b, loc, op.getInit(), at);
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, sum),
                            op.getInit(), at);
  }
}

/// Several rows: per outlier, one vector load of every row's activation at
/// its k (the k-major copy `xT`) times the broadcast value.
void KernelBuilder::addOutliersByRows(Value tileIdx, Value xT) {
  Value words = op.getOutliers();
  int64_t padded = cast<MemRefType>(xT.getType()).getDimSize(1);
  auto vecRows = VectorType::get({padded}, f32);
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecRows, b.getF32FloatAttr(0.0f)));
  Value shift = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(16));
  forEachOutlierRun(tileIdx, [&](Value begin, Value end) {
    auto entries =
        scf::ForOp::create(b, loc, begin, end, idx(1), ValueRange{zero});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(entries.getBody());
      Value w = memref::LoadOp::create(b, loc, words,
                                       ValueRange{entries.getInductionVar()});
      Value k = asIndex(b, loc, arith::ShRUIOp::create(b, loc, w, shift));
      Value v =
          vector::BroadcastOp::create(b, loc, vecRows, widenHalf(b, loc, w));
      Value xk =
          vector::LoadOp::create(b, loc, vecRows, xT, ValueRange{k, idx(0)});
      scf::YieldOp::create(b, loc,
                           ValueRange{vector::FMAOp::create(
                               b, loc, xk, v, entries.getRegionIterArgs()[0])});
    }
    SmallVector<Value> sums;
    for (int64_t r = 0; r < rows; ++r)
      sums.push_back(
          vector::ExtractOp::create(b, loc, entries.getResult(0), r));
    return sums;
  });
}

void KernelBuilder::prefetchOutliers(Value tileIdx) {
  if (!op.getOutliers())
    return;
  Value words = op.getOutliers();
  // The runs are stored tile after tile, so the next tile's begins where
  // this one's ends; its length is about this one's. Without this, every
  // tile's first outlier word is a DRAM miss: the hardware prefetchers
  // stop at page boundaries, and a tile's run is a few hundred bytes
  // beside kilobytes of codes.
  Value col0 = mul(tileIdx, tile);
  Value begin = asIndex(b, loc, memref::LoadOp::create(b, loc, words, col0));
  Value end =
      asIndex(b, loc, memref::LoadOp::create(b, loc, words, addc(col0, tile)));
  Value until = add(end, arith::SubIOp::create(b, loc, end, begin));
  auto lines = scf::ForOp::create(b, loc, end, until, idx(16));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(lines.getBody());
  memref::PrefetchOp::create(b, loc, words, lines.getInductionVar(),
                             /*isWrite=*/false, /*localityHint=*/3,
                             /*isDataCache=*/true);
}

SmallVector<Value> KernelBuilder::accumulateRun(Value x, Value begin, Value end,
                                                int64_t row0,
                                                ValueRange inits) {
  Value words = op.getOutliers();
  auto vecI1 = VectorType::get({lanes}, b.getI1Type());
  Value zeroF = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0.0f)));
  Value shift = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(16));
  // One vector of the run from word `e` into the accumulators; `mask`
  // (the run's last, partial vector) zeroes the lanes past the run, which
  // read the next columns' words or the array's zero padding.
  auto step = [&](Value e, Value mask, ValueRange accs) {
    Value w = vector::LoadOp::create(b, loc, vecI32, words, ValueRange{e});
    Value v = widenHalf(b, loc, w);
    if (mask)
      v = arith::SelectOp::create(b, loc, mask, v, zeroF);
    // Every lane's k is inside the activations (lanes past the run read
    // the next run's words or the zero padding), so no mask is needed.
    // AVX-512 (16 lanes): one unmasked vector.gather, vgatherdps with the
    // 32-bit k (Sapphire Rapids, 4096 x 14336 with 1% outliers in cache:
    // 1.07x the dense kernel against 1.13x for lane loads). Narrower
    // vectors: the lanes loaded one by one with 32-bit indices, each k
    // from a scalar load of its word (a load port, not a lane extract on
    // the shuffle port the inserts use): LLVM scalarizes gathers where
    // they are slow (Zen 3: a branch per lane for a masked one), and
    // there these loads beat vgatherdps (0.53 against 0.70 ns per
    // element, measured). In the masked vector the lanes past the run are
    // zeroed so that a non-finite activation cannot leak in (0 x Inf).
    SmallVector<Value> ks;
    Value kVec;
    if (lanes == 16) {
      kVec = arith::ShRUIOp::create(
          b, loc, w,
          arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(vecI32, b.getI32IntegerAttr(16))));
    } else {
      for (int64_t i = 0; i < lanes; ++i) {
        Value word = memref::LoadOp::create(b, loc, words, addc(e, i));
        ks.push_back(
            asIndex(b, loc, arith::ShRUIOp::create(b, loc, word, shift)));
      }
    }
    Value allOn =
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecI1, true));
    SmallVector<Value> next;
    for (auto [r, acc] : llvm::enumerate(accs)) {
      Value xk = zeroF;
      Value row = idx(row0 + static_cast<int64_t>(r));
      if (kVec)
        xk = vector::GatherOp::create(
            b, loc, vecF32, x, ValueRange{row, idx(0)}, kVec, allOn, zeroF);
      else
        for (int64_t i = 0; i < lanes; ++i)
          xk = vector::InsertOp::create(
              b, loc, memref::LoadOp::create(b, loc, x, ValueRange{row, ks[i]}),
              xk, i);
      if (mask)
        xk = arith::SelectOp::create(b, loc, mask, xk, zeroF);
      next.push_back(vector::FMAOp::create(b, loc, xk, v, acc));
    }
    return next;
  };
  // Whole vectors, then the partial one (if any) under a mask.
  Value count = arith::SubIOp::create(b, loc, end, begin);
  Value whole =
      add(begin, arith::MulIOp::create(
                     b, loc, arith::DivUIOp::create(b, loc, count, idx(lanes)),
                     idx(lanes)));
  auto full = scf::ForOp::create(b, loc, begin, whole, idx(lanes), inits);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(full.getBody());
    scf::YieldOp::create(
        b, loc,
        step(full.getInductionVar(), Value(), full.getRegionIterArgs()));
  }
  Value partial =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, whole, end);
  auto tail =
      scf::IfOp::create(b, loc, TypeRange(ValueRange(full.getResults())),
                        partial, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(&tail.getThenRegion().front());
    Value left = arith::SubIOp::create(b, loc, end, whole);
    Value mask = vector::CreateMaskOp::create(b, loc, vecI1, ValueRange{left});
    scf::YieldOp::create(b, loc, step(whole, mask, full.getResults()));
    b.setInsertionPointToStart(&tail.getElseRegion().front());
    scf::YieldOp::create(b, loc, full.getResults());
  }
  return SmallVector<Value>(tail.getResults());
}

void KernelBuilder::foldOutliers(Value tileIdx, Value x, int64_t row0,
                                 int64_t chunk, int64_t split,
                                 MutableArrayRef<Value> accs) {
  Value words = op.getOutliers();
  // The offsets of the tile's columns, then each column's run into its
  // first accumulator of each row (an empty run leaves it as it was).
  Value col0 = mul(tileIdx, tile);
  SmallVector<Value> offsets;
  for (int64_t c = 0; c <= tile; ++c)
    offsets.push_back(
        asIndex(b, loc, memref::LoadOp::create(b, loc, words, addc(col0, c))));
  for (int64_t c = 0; c < tile; ++c) {
    SmallVector<Value> inits;
    for (int64_t r = 0; r < chunk; ++r)
      inits.push_back(accs[(c * chunk + r) * split]);
    SmallVector<Value> sums =
        accumulateRun(x, offsets[c], offsets[c + 1], row0, inits);
    for (int64_t r = 0; r < chunk; ++r)
      accs[(c * chunk + r) * split] = sums[r];
  }
}

void KernelBuilder::addOutliers(Value tileIdx, Value x, Value xT) {
  if (!op.getOutliers())
    return;
  if (xT)
    return addOutliersByRows(tileIdx, xT);
  Value zeroF = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0.0f)));
  forEachOutlierRun(tileIdx, [&](Value begin, Value end) {
    SmallVector<Value> accs = accumulateRun(x, begin, end, /*row0=*/0,
                                            SmallVector<Value>(rows, zeroF));
    SmallVector<Value> sums;
    for (Value acc : accs)
      // Any order of the lanes' sum is fine (the f32 bound): a tree.
      sums.push_back(
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc,
                                      Value(), arith::FastMathFlags::reassoc));
    return sums;
  });
}
