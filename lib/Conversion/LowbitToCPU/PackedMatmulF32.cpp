//===- PackedMatmulF32.cpp - Packed-matmul kernels, f32 activations -------===//
//
// Per step of `lanes` k: the codes of each column decoded to f32 weights
// (AVX-512: a permute into the group's table of dequantized values;
// otherwise shift, sign-extend or mask, convert, scale), one FMA per row.
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

KernelBuilder::Decoder KernelBuilder::loadDecoder(Value tileIdx, Value group,
                                                  int64_t col) {
  // params[((tile * numGroups + group) * tileCols + col) * perGroup]
  Value base = mul(add(mul(tileIdx, numGroups), group), tile * perGroup);
  base = addc(base, col * perGroup);
  Decoder d;
  Value s = memref::LoadOp::create(b, loc, op.getParams(), base);
  d.scale = vector::BroadcastOp::create(b, loc, vecF32, s);
  if (layout.getZero()) {
    Value z = memref::LoadOp::create(b, loc, op.getParams(), addc(base, 1));
    d.zero = vector::BroadcastOp::create(b, loc, vecF32, z);
  }
  if (usePermute || layout.hasValues()) {
    // Entry i holds the value of code (i mod 2^bits): the permute reads
    // the low 4 bits of each lane, so higher codes' bits do not matter.
    SmallVector<float> values;
    for (int64_t i = 0; i < 16; ++i) {
      int64_t c = i & ((1 << bits) - 1);
      if (layout.hasValues()) {
        ArrayRef<float> table = layout.getValues().asArrayRef();
        values.push_back(c < static_cast<int64_t>(table.size()) ? table[c]
                                                                : 0.0f);
        continue;
      }
      if (layout.getSignedCodes() && c >= (1 << (bits - 1)))
        c -= 1 << bits;
      values.push_back(static_cast<float>(c));
    }
    auto vec16 = VectorType::get({16}, f32);
    Value v = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec16, ArrayRef<float>(values)));
    auto splat16 = [&](Value x) -> Value {
      return vector::BroadcastOp::create(
          b, loc, vec16, vector::ExtractOp::create(b, loc, x, 0));
    };
    if (d.zero)
      v = arith::SubFOp::create(b, loc, v,
                                lanes == 16 ? d.zero : splat16(d.zero));
    d.table = arith::MulFOp::create(b, loc, v,
                                    lanes == 16 ? d.scale : splat16(d.scale));
  }
  return d;
}

/// Without a permute: each lane's table entry read on its own (a
/// correctness path for table-decoded codes on AVX2 and NEON).
static Value lookupLanes(OpBuilder &b, Location loc, Value table, Value indices,
                         VectorType type) {
  SmallVector<Value> lanes;
  for (int64_t l = 0; l < type.getNumElements(); ++l) {
    Value i = vector::ExtractOp::create(b, loc, indices, l);
    Value pos = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), i);
    lanes.push_back(
        vector::ExtractOp::create(b, loc, table, ArrayRef<OpFoldResult>{pos}));
  }
  return vector::FromElementsOp::create(b, loc, type, lanes);
}

Value KernelBuilder::decode(const Decoder &d, Value words, Value blockBase,
                            int64_t step) {
  int64_t j = step % stepsPerBlock;
  Value codes;
  if (bits == 8) {
    auto vecI8 = VectorType::get({lanes}, b.getI8Type());
    Value bytes = vector::LoadOp::create(b, loc, vecI8, op.getCodes(),
                                         addc(blockBase, j * lanes));
    if (layout.getSignedCodes())
      codes = arith::SIToFPOp::create(
          b, loc, vecF32, arith::ExtSIOp::create(b, loc, vecI32, bytes));
    else
      codes = arith::UIToFPOp::create(
          b, loc, vecF32, arith::ExtUIOp::create(b, loc, vecI32, bytes));
  } else {
    auto splat = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vecI32, b.getI32IntegerAttr(v)));
    };
    if (usePermute) {
      Value index = words;
      if (j)
        index = arith::ShRUIOp::create(b, loc, words, splat(j * bits));
      return LLVM::CallIntrinsicOp::create(
                 b, loc, vecF32,
                 b.getStringAttr("llvm.x86.avx512.permvar.sf.512"),
                 ValueRange{d.table, index})
          .getResult(0);
    }
    Value ints;
    if (layout.hasValues()) {
      ints =
          j ? arith::ShRUIOp::create(b, loc, words, splat(j * bits)).getResult()
            : words;
      ints = arith::AndIOp::create(b, loc, ints, splat((1 << bits) - 1));
      return lookupLanes(b, loc, d.table, ints, vecF32);
    }
    if (layout.getSignedCodes()) {
      // Sign-extend bits [j*b, (j+1)*b): left to the top, arithmetic right.
      int64_t left = 32 - (j + 1) * bits;
      ints = left
                 ? arith::ShLIOp::create(b, loc, words, splat(left)).getResult()
                 : words;
      ints = arith::ShRSIOp::create(b, loc, ints, splat(32 - bits));
      codes = arith::SIToFPOp::create(b, loc, vecF32, ints);
    } else {
      ints =
          j ? arith::ShRUIOp::create(b, loc, words, splat(j * bits)).getResult()
            : words;
      ints = arith::AndIOp::create(b, loc, ints, splat((1 << bits) - 1));
      codes = arith::UIToFPOp::create(b, loc, vecF32, ints);
    }
  }
  if (factorScale)
    return codes;
  if (d.zero)
    codes = arith::SubFOp::create(b, loc, codes, d.zero);
  return arith::MulFOp::create(b, loc, codes, d.scale);
}

SmallVector<Value> KernelBuilder::superblock(Value tileIdx, Value super,
                                             ArrayRef<Value> accs, int64_t row0,
                                             int64_t chunk, int64_t split,
                                             bool masked,
                                             SmallVector<Decoder> &decoders) {
  SmallVector<Value> acc(accs);
  // factorScale: the group's partial sums, scaled into acc at its end.
  Value zeroVec;
  if (factorScale)
    zeroVec = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0)));
  bool pending = false;
  prefetch(tileIdx, super);
  // Words of every block of the superblock, per column.
  Value firstBlock = add(mul(tileIdx, numBlocks), mul(super, blocksPerSuper));
  SmallVector<SmallVector<Value>> words(blocksPerSuper);
  SmallVector<Value> blockBase(blocksPerSuper * tile);
  auto vecBytes = VectorType::get({4 * lanes}, b.getI8Type());
  for (int64_t blk = 0; blk < blocksPerSuper; ++blk)
    for (int64_t c = 0; c < tile; ++c) {
      Value base = mul(addc(firstBlock, blk), tile * layout.getBlockBytes());
      base = addc(base, c * layout.getBlockBytes());
      blockBase[blk * tile + c] = base;
      if (bits == 8) {
        words[blk].push_back(Value());
        continue;
      }
      Value raw = vector::LoadOp::create(b, loc, vecBytes, op.getCodes(), base);
      words[blk].push_back(vector::BitCastOp::create(b, loc, vecI32, raw));
    }
  Value kBase = mul(super, superK);
  for (int64_t s = 0; s < stepsPerSuper; ++s) {
    int64_t kStep = s * lanes; // within the superblock
    if (stepsPerGroup && s % stepsPerGroup == 0) {
      Value group = addc(mul(super, groupsPerSuper), s / stepsPerGroup);
      for (int64_t c = 0; c < tile; ++c)
        decoders[c] = loadDecoder(tileIdx, group, c);
    }
    // In the last superblock: steps wholly past K contribute nothing; the
    // one straddling K reads its activations through a mask.
    int64_t remaining = 0;
    if (masked) {
      int64_t kAbs = (k / superK) * superK + kStep;
      if (kAbs >= k)
        break;
      remaining = k - kAbs < lanes ? k - kAbs : 0;
    }
    SmallVector<Value> weights;
    int64_t blk = s / stepsPerBlock;
    for (int64_t c = 0; c < tile; ++c)
      weights.push_back(
          decode(decoders[c], words[blk][c], blockBase[blk * tile + c], s));
    Value kIdx = addc(kBase, kStep);
    for (int64_t r = 0; r < chunk; ++r) {
      Value row = idx(row0 + r);
      Value x;
      if (remaining) {
        SmallVector<bool> bitsOn(lanes, false);
        for (int64_t l = 0; l < remaining; ++l)
          bitsOn[l] = true;
        auto maskType = VectorType::get({lanes}, b.getI1Type());
        Value mask = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(maskType, ArrayRef<bool>(bitsOn)));
        Value zero = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0)));
        x = vector::MaskedLoadOp::create(b, loc, vecF32, op.getInput(),
                                         ValueRange{row, kIdx}, mask, zero);
      } else {
        x = vector::LoadOp::create(b, loc, vecF32, op.getInput(),
                                   ValueRange{row, kIdx});
      }
      for (int64_t c = 0; c < tile; ++c) {
        Value &a = factorScale ? acc[tile * chunk + c * chunk + r]
                               : acc[(c * chunk + r) * split + s % split];
        a = vector::FMAOp::create(b, loc, x, weights[c], a);
      }
    }
    pending = true;
    if (factorScale && stepsPerGroup && (s + 1) % stepsPerGroup == 0) {
      scaleGroupSums(acc, decoders, chunk, zeroVec);
      pending = false;
    }
  }
  // The last superblock's last group ends at K.
  if (factorScale && stepsPerGroup && pending)
    scaleGroupSums(acc, decoders, chunk, zeroVec);
  return acc;
}

void KernelBuilder::scaleGroupSums(MutableArrayRef<Value> acc,
                                   ArrayRef<Decoder> decoders, int64_t chunk,
                                   Value zero) {
  int64_t pairs = tile * chunk;
  for (int64_t c = 0; c < tile; ++c)
    for (int64_t r = 0; r < chunk; ++r) {
      int64_t i = c * chunk + r;
      acc[i] = vector::FMAOp::create(b, loc, acc[pairs + i], decoders[c].scale,
                                     acc[i]);
      if (zero)
        acc[pairs + i] = zero;
    }
}

void KernelBuilder::buildF32(Value tileIdx) {
  int64_t fullSupers = k / superK;
  bool tail = k % superK != 0;
  Value zeroVec = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0)));
  for (int64_t row0 = 0; row0 < rows; row0 += kMaxChunkRows) {
    int64_t chunk = std::min(kMaxChunkRows, rows - row0);
    // Two accumulators per column and row alternate steps when there are
    // few; with factorScale, one scaled sum and one group partial each.
    int64_t split = factorScale ? 1 : tile * chunk <= 4 ? 2 : 1;
    SmallVector<Value> init(tile * chunk * (factorScale ? 2 : split), zeroVec);
    SmallVector<Decoder> decoders(tile);
    if (!stepsPerGroup)
      for (int64_t c = 0; c < tile; ++c)
        decoders[c] = loadDecoder(tileIdx, idx(0), c);
    SmallVector<Value> accs = init;
    if (fullSupers > 0) {
      auto loop =
          scf::ForOp::create(b, loc, idx(0), idx(fullSupers), idx(1), init);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Decoder> inner = decoders;
      SmallVector<Value> next =
          superblock(tileIdx, loop.getInductionVar(),
                     SmallVector<Value>(loop.getRegionIterArgs()), row0, chunk,
                     split, false, inner);
      scf::YieldOp::create(b, loc, next);
      accs = SmallVector<Value>(loop.getResults());
    }
    if (tail) {
      SmallVector<Decoder> inner = decoders;
      accs = superblock(tileIdx, idx(fullSupers), accs, row0, chunk, split,
                        true, inner);
    }
    // Per channel or tensor (one group along K): the partial sums scaled.
    if (factorScale && !stepsPerGroup)
      scaleGroupSums(accs, decoders, chunk, Value());
    // One or two rows: the outliers join the columns' accumulators (more
    // rows add them after the store, one vector load per outlier).
    if (foldsOutliers())
      foldOutliers(tileIdx, op.getInput(), row0, chunk, split, accs);
    // Each accumulator's lanes (and its split partner's) summed.
    storeSums(tileIdx, row0, chunk, [&](int64_t c, int64_t r) -> Value {
      Value v = accs[(c * chunk + r) * split];
      for (int64_t s = 1; s < split; ++s)
        v = arith::AddFOp::create(b, loc, v, accs[(c * chunk + r) * split + s]);
      return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v);
    });
  }
}
