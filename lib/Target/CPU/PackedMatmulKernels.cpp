//===- PackedMatmulKernels.cpp - CPU kernels for lowbit.packed_matmul -----===//
//
// Generates, for one bufferized lowbit.packed_matmul, a weight-streaming
// kernel specialised for its #lowbit.packed layout and shape (see the pass
// description in Passes.td). Everything static is unrolled here, in C++:
// the kernel's IR has one loop over tiles (threads) and one over
// superblocks of K per tile and chunk of rows.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Target/CPU/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWERPACKEDMATMULPASS
#include "lowbit/Target/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Rows of activations sharing one pass over a tile's codes.
constexpr int64_t kMaxChunkRows = 8;

/// Builds the kernel of one op. Names follow the layout's description:
/// a step is `lanes` consecutive k, a block `4 * lanes` bytes of one
/// column, a superblock lcm(block, group) of k.
class KernelBuilder {
public:
  KernelBuilder(PackedMatmulOp op, bool permute, int64_t prefetchDistance,
                StringRef dot)
      : op(op), layout(op.getLayout()), loc(op.getLoc()), b(op),
        prefetchDistance(prefetchDistance), dot(dot) {
    lanes = layout.getLanes();
    tile = layout.getTile();
    bits = layout.getBits();
    k = layout.getK();
    n = layout.getN();
    rows = cast<MemRefType>(op.getInput().getType()).getDimSize(0);
    stepsPerBlock = layout.getBlockK() / lanes;
    superK = layout.getSuperblockK();
    stepsPerSuper = superK / lanes;
    blocksPerSuper = superK / layout.getBlockK();
    numBlocks = layout.getPaddedK() / layout.getBlockK();
    numGroups = layout.getNumGroups();
    stepsPerGroup = layout.getGroup() ? layout.getGroup() / lanes : 0;
    groupsPerSuper = layout.getGroup() ? superK / layout.getGroup() : 0;
    perGroup = layout.getParamsPerGroup();
    usePermute = permute && lanes == 16 && bits <= 4;
    f32 = b.getF32Type();
    vecF32 = VectorType::get({lanes}, f32);
    vecI32 = VectorType::get({lanes}, b.getI32Type());
  }

  void build();

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) {
    return c == 1 ? x : arith::MulIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value addc(Value x, int64_t c) { return c == 0 ? x : add(x, idx(c)); }

  /// The decoder of one column for one group: a table (permute) or the
  /// broadcast scale and zero.
  struct Decoder {
    Value table, scale, zero;
  };
  Decoder loadDecoder(Value tileIdx, Value group, int64_t col);
  /// Step `step`'s weights of one column, from its loaded block words.
  Value decode(const Decoder &d, Value words, Value blockBase, int64_t step);
  /// One superblock of a tile for a chunk of rows: returns the new
  /// accumulators. `masked`: the last superblock, which runs past K.
  SmallVector<Value> superblock(Value tileIdx, Value super,
                                ArrayRef<Value> accs, int64_t row0,
                                int64_t chunk, int64_t split, bool masked,
                                SmallVector<Decoder> &decoders);
  void prefetch(Value tileIdx, Value super);
  /// Stores `sum(column, row)` (the finished dot product of a column of the
  /// tile and a row of the chunk) for the columns inside N.
  void storeSums(Value tileIdx, int64_t row0, int64_t chunk,
                 function_ref<Value(int64_t, int64_t)> sum);

  // int8 activations (VNNI).
  struct QuantizedInput {
    Value codes;  // M x Kp i8
    Value scales; // M x groups f32: s_x
    Value sums;   // M x groups f32: s_x * sum of the group's codes
    /// Signed weight codes (stored + 2^(bits-1)): M x groups x 16 i32, the
    /// start of each group's dot product, -2^(bits-1) * sum of the group's
    /// codes in lane 0, so that the zero point costs nothing per column.
    Value inits;
    /// Per chunk of rows and group, 16 lanes: s_x (and s_x * sum scaled by
    /// 16 / lanes per row) of the row whose segment the lane is in after the
    /// chunk's dot products are folded into one vector (see buildInt8).
    Value sxRep, xsRep;
  };
  QuantizedInput quantizeActivations();
  void replicateScales(QuantizedInput &q);
  /// Folds the i32 dot products of `chunk` rows (16 lanes each) into one
  /// vector holding row r's partial sums in lanes [r*L, (r+1)*L).
  Value foldRows(ArrayRef<Value> dots, Value zero);
  void buildInt8(Value tileIdx, const QuantizedInput &xq);
  Value vnniDot(Value acc, Value weights, Value activations);

  PackedMatmulOp op;
  PackedLayoutAttr layout;
  Location loc;
  OpBuilder b;
  int64_t prefetchDistance;
  StringRef dot;
  int64_t lanes, tile, bits, k, n, rows, stepsPerBlock, superK,
      stepsPerSuper, blocksPerSuper, numBlocks, numGroups, stepsPerGroup,
      groupsPerSuper, perGroup;
  bool usePermute;
  Type f32;
  VectorType vecF32, vecI32;
};

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
  if (usePermute) {
    // Entry i holds the value of code (i mod 2^bits): the permute reads
    // the low 4 bits of each lane, so higher codes' bits do not matter.
    SmallVector<float> values;
    for (int64_t i = 0; i < 16; ++i) {
      int64_t c = i & ((1 << bits) - 1);
      if (layout.getSignedCodes() && c >= (1 << (bits - 1)))
        c -= 1 << bits;
      values.push_back(static_cast<float>(c));
    }
    Value v = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecF32, ArrayRef<float>(values)));
    if (d.zero)
      v = arith::SubFOp::create(b, loc, v, d.zero);
    d.table = arith::MulFOp::create(b, loc, v, d.scale);
  }
  return d;
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
    if (layout.getSignedCodes()) {
      // Sign-extend bits [j*b, (j+1)*b): left to the top, arithmetic right.
      int64_t left = 32 - (j + 1) * bits;
      ints = left ? arith::ShLIOp::create(b, loc, words, splat(left)).getResult()
                  : words;
      ints = arith::ShRSIOp::create(b, loc, ints, splat(32 - bits));
      codes = arith::SIToFPOp::create(b, loc, vecF32, ints);
    } else {
      ints = j ? arith::ShRUIOp::create(b, loc, words, splat(j * bits))
                     .getResult()
               : words;
      ints = arith::AndIOp::create(b, loc, ints, splat((1 << bits) - 1));
      codes = arith::UIToFPOp::create(b, loc, vecF32, ints);
    }
  }
  if (d.zero)
    codes = arith::SubFOp::create(b, loc, codes, d.zero);
  return arith::MulFOp::create(b, loc, codes, d.scale);
}

void KernelBuilder::prefetch(Value tileIdx, Value super) {
  if (prefetchDistance <= 0)
    return;
  int64_t codeBytes = tile * blocksPerSuper * layout.getBlockBytes();
  Value base = mul(add(mul(tileIdx, numBlocks), mul(super, blocksPerSuper)),
                   tile * layout.getBlockBytes());
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
                               addc(pbase, ahead * paramsPerSuper + off),
                               false, 2, true);
}

SmallVector<Value>
KernelBuilder::superblock(Value tileIdx, Value super, ArrayRef<Value> accs,
                          int64_t row0, int64_t chunk, int64_t split,
                          bool masked, SmallVector<Decoder> &decoders) {
  SmallVector<Value> acc(accs);
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
      weights.push_back(decode(decoders[c], words[blk][c],
                               blockBase[blk * tile + c], s));
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
        Value &a = acc[(c * chunk + r) * split + s % split];
        a = vector::FMAOp::create(b, loc, x, weights[c], a);
      }
    }
  }
  return acc;
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
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         col, idx(n));
    scf::IfOp::create(b, loc, inside, [&](OpBuilder &tb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(tb.getInsertionBlock(), tb.getInsertionPoint());
      store(l);
      scf::YieldOp::create(tb, l);
    });
  }
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
  int64_t numTiles = layout.getNumTiles();
  if (layout.getInt8()) {
    QuantizedInput xq = quantizeActivations();
    replicateScales(xq);
    auto parallel = scf::ParallelOp::create(b, loc, ValueRange{idx(0)},
                                            ValueRange{idx(numTiles)},
                                            ValueRange{idx(1)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(parallel.getBody());
      buildInt8(parallel.getInductionVars()[0], xq);
    }
    for (Value v : {xq.codes, xq.scales, xq.sums, xq.inits, xq.sxRep, xq.xsRep})
      if (v)
        memref::DeallocOp::create(b, loc, v);
    return;
  }
  int64_t fullSupers = k / superK;
  bool tail = k % superK != 0;
  Value zeroVec = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0)));
  auto parallel = scf::ParallelOp::create(b, loc, ValueRange{idx(0)},
                                          ValueRange{idx(numTiles)},
                                          ValueRange{idx(1)});
  b.setInsertionPointToStart(parallel.getBody());
  Value tileIdx = parallel.getInductionVars()[0];
  for (int64_t row0 = 0; row0 < rows; row0 += kMaxChunkRows) {
    int64_t chunk = std::min(kMaxChunkRows, rows - row0);
    int64_t split = tile * chunk <= 4 ? 2 : 1;
    SmallVector<Value> init(tile * chunk * split, zeroVec);
    SmallVector<Decoder> decoders(tile);
    if (!stepsPerGroup)
      for (int64_t c = 0; c < tile; ++c)
        decoders[c] = loadDecoder(tileIdx, idx(0), c);
    SmallVector<Value> accs = init;
    if (fullSupers > 0) {
      auto loop = scf::ForOp::create(b, loc, idx(0), idx(fullSupers), idx(1),
                                     init);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Decoder> inner = decoders;
      SmallVector<Value> next =
          superblock(tileIdx, loop.getInductionVar(),
                     SmallVector<Value>(loop.getRegionIterArgs()), row0,
                     chunk, split, false, inner);
      scf::YieldOp::create(b, loc, next);
      accs = SmallVector<Value>(loop.getResults());
    }
    if (tail) {
      SmallVector<Decoder> inner = decoders;
      accs = superblock(tileIdx, idx(fullSupers), accs, row0, chunk, split,
                        true, inner);
    }
    // Each accumulator's lanes (and its split partner's) summed.
    storeSums(tileIdx, row0, chunk, [&](int64_t c, int64_t r) -> Value {
      Value v = accs[(c * chunk + r) * split];
      for (int64_t s = 1; s < split; ++s)
        v = arith::AddFOp::create(b, loc, v, accs[(c * chunk + r) * split + s]);
      return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v);
    });
  }
}

//===----------------------------------------------------------------------===//
// int8 activations
//===----------------------------------------------------------------------===//

/// Per row and group (the layout's group along K): s = max|x| / 127, codes
/// round(x / s) in int8 (zero past K), and s * sum(codes) for the zero-point
/// term. Runs once per call before the threads start (M x K elements).
KernelBuilder::QuantizedInput KernelBuilder::quantizeActivations() {
  int64_t paddedK = layout.getPaddedK(), group = layout.getGroup();
  auto i8 = b.getI8Type();
  QuantizedInput q;
  q.codes = memref::AllocOp::create(
      b, loc, MemRefType::get({rows, paddedK}, i8), ValueRange{},
      b.getI64IntegerAttr(64));
  q.scales = memref::AllocOp::create(
      b, loc, MemRefType::get({rows, numGroups}, f32));
  q.sums = memref::AllocOp::create(
      b, loc, MemRefType::get({rows, numGroups}, f32));
  if (layout.getSignedCodes())
    q.inits = memref::AllocOp::create(
        b, loc, MemRefType::get({rows, numGroups, 16}, b.getI32Type()),
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
    xs.push_back(vector::TransferReadOp::create(
        b, loc, vecF32, op.getInput(), ValueRange{row, kk}, zeroF,
        ArrayRef<bool>{false}));
  }
  Value amax = zeroVec;
  for (Value x : xs)
    amax = arith::MaximumFOp::create(b, loc, amax,
                                     math::AbsFOp::create(b, loc, x));
  Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                        amax);
  auto cst = [&](float v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  };
  Value scale = arith::DivFOp::create(b, loc, m, cst(127.0f));
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, m, zeroF);
  Value inv = arith::SelectOp::create(
      b, loc, positive, arith::DivFOp::create(b, loc, cst(127.0f), m), zeroF);
  Value invVec = vector::BroadcastOp::create(b, loc, vecF32, inv);
  Value sum = zeroI;
  for (auto [s, x] : llvm::enumerate(xs)) {
    Value t = math::RoundEvenOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, invVec));
    Value c = arith::FPToSIOp::create(b, loc, vecI32, t);
    sum = arith::AddIOp::create(b, loc, sum, c);
    Value c8 = arith::TruncIOp::create(b, loc, vecI8, c);
    vector::StoreOp::create(b, loc, c8, q.codes,
                            ValueRange{row, addc(k0, s * lanes)});
  }
  Value total = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                            sum);
  Value totalF = arith::SIToFPOp::create(b, loc, f32, total);
  memref::StoreOp::create(b, loc, scale, q.scales, ValueRange{row, g});
  if (q.inits) {
    Value offset = arith::ConstantOp::create(
        b, loc, b.getI32IntegerAttr(-(1 << (bits - 1))));
    auto vec16 = VectorType::get({16}, b.getI32Type());
    Value zero16 = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec16, b.getI32IntegerAttr(0)));
    Value init = vector::InsertOp::create(
        b, loc, arith::MulIOp::create(b, loc, total, offset), zero16,
        ArrayRef<int64_t>{0});
    vector::StoreOp::create(b, loc, init, q.inits, ValueRange{row, g, idx(0)});
  }
  memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, scale, totalF),
                          q.sums, ValueRange{row, g});
  return q;
}

/// Rows of a chunk padded to a power of two, and lanes per row once folded.
static std::pair<int64_t, int64_t> foldShape(int64_t chunk) {
  int64_t padded = 1;
  while (padded < chunk)
    padded *= 2;
  return {padded, 16 / padded};
}

void KernelBuilder::replicateScales(QuantizedInput &q) {
  int64_t numChunks = (rows + kMaxChunkRows - 1) / kMaxChunkRows;
  auto repType = MemRefType::get({numChunks, numGroups, 16}, f32);
  auto vec16 = VectorType::get({16}, f32);
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
      for (int64_t r = 0; r * perRow < 16; ++r) {
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
      return vector::FromElementsOp::create(b, loc, vec16, lanes);
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
  for (int64_t rowsIn = 1, lb = 16; rowsIn < padded; rowsIn *= 2, lb /= 2) {
    int64_t la = lb / 2;
    SmallVector<int64_t> lo, hi;
    for (int64_t s = 0; s < 2 * rowsIn; ++s)
      for (int64_t t = 0; t < la; ++t) {
        int64_t src = (s < rowsIn ? 0 : 16) + (s % rowsIn) * lb + t;
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
  if (dot == "sdot") {
    // Four 128-bit sdot (s8 x s8; the codes are below 128), one per quarter.
    auto q32 = VectorType::get({4}, b.getI32Type());
    auto q8 = VectorType::get({16}, b.getI8Type());
    Value result = acc;
    for (int64_t q = 0; q < 4; ++q) {
      auto slice = [&](Value v, VectorType t, int64_t width) -> Value {
        return vector::ExtractStridedSliceOp::create(
            b, loc, v, ArrayRef<int64_t>{q * width},
            ArrayRef<int64_t>{width}, ArrayRef<int64_t>{1});
      };
      Value part = LLVM::CallIntrinsicOp::create(
                       b, loc, q32,
                       b.getStringAttr("llvm.aarch64.neon.sdot.v4i32.v16i8"),
                       ValueRange{slice(acc, q32, 4), slice(w, q8, 16),
                                  slice(x, q8, 16)})
                       .getResult(0);
      result = vector::InsertStridedSliceOp::create(
          b, loc, part, result, ArrayRef<int64_t>{q * 4},
          ArrayRef<int64_t>{1});
    }
    return result;
  }
  return LLVM::CallIntrinsicOp::create(
             b, loc, acc.getType(),
             b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
             ValueRange{acc, w, x})
      .getResult(0);
}

/// One tile: per superblock, per 64-byte block and column, the bit planes
/// (64 unsigned codes each) go through vpdpbusd with 64 activation codes
/// per row into an i32 accumulator per group; at each group's end it is
/// converted and scaled by s_w * s_x into the f32 accumulator, plus the
/// zero-point term (-z s_w / 16) * (s_x * sum codes) spread over 16 lanes.
void KernelBuilder::buildInt8(Value tileIdx, const QuantizedInput &xq) {
  // 64-byte blocks as 16 x i32 whatever the target's vector width (LLVM
  // splits them into 128-bit registers on NEON).
  VectorType vecI32 = VectorType::get({16}, b.getI32Type());
  VectorType vecF32 = VectorType::get({16}, f32);
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
        DenseElementsAttr::get(vecI32,
                               b.getI32IntegerAttr(static_cast<int32_t>(m))));
  }
  for (int64_t row0 = 0; row0 < rows; row0 += kMaxChunkRows) {
    int64_t chunk = std::min(kMaxChunkRows, rows - row0);
    int64_t perRow = foldShape(chunk).second;
    Value chunkIdx = idx(row0 / kMaxChunkRows);
    // One f32 accumulator per column: row r in lanes [r*perRow, ...).
    SmallVector<Value> init(tile, zeroVec);
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(numSupers), idx(1),
                                   init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value super = loop.getInductionVar();
      SmallVector<Value> acc(loop.getRegionIterArgs());
      prefetch(tileIdx, super);
      Value firstBlock =
          add(mul(tileIdx, numBlocks), mul(super, blocksPerSuper));
      SmallVector<Value> dots(tile * chunk, zeroI);
      for (int64_t blk = 0; blk < blocksPerSuper; ++blk) {
        SmallVector<Value> words;
        for (int64_t c = 0; c < tile; ++c) {
          Value base = addc(mul(addc(firstBlock, blk), tile * 64), c * 64);
          Value raw =
              vector::LoadOp::create(b, loc, vecBytes, op.getCodes(), base);
          words.push_back(vector::BitCastOp::create(b, loc, vecI32, raw));
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
            Value raw = vector::LoadOp::create(
                b, loc, vecBytes, xq.codes, ValueRange{idx(row0 + r), kIdx});
            xv.push_back(vector::BitCastOp::create(b, loc, vecI32, raw));
          }
          for (int64_t c = 0; c < tile; ++c) {
            Value codes = words[c];
            if (p)
              codes = arith::ShRUIOp::create(
                  b, loc, codes,
                  arith::ConstantOp::create(
                      b, loc,
                      DenseElementsAttr::get(
                          vecI32, b.getI32IntegerAttr(p * bits))));
            if (planeMask)
              codes = arith::AndIOp::create(b, loc, codes, planeMask);
            for (int64_t r = 0; r < chunk; ++r)
              dots[c * chunk + r] = vnniDot(dots[c * chunk + r], codes, xv[r]);
          }
          if ((plane + 1) % planesPerGroup != 0)
            continue;
          // The group ends: the rows' i32 sums are folded into one vector
          // (shuffles, off the port the dot products use), converted once
          // and scaled by s_w * s_x of each lane's row.
          Value sxVec = vector::LoadOp::create(
              b, loc, vecF32, xq.sxRep, ValueRange{chunkIdx, group, idx(0)});
          Value xsVec;
          if (xq.xsRep)
            xsVec = vector::LoadOp::create(
                b, loc, vecF32, xq.xsRep, ValueRange{chunkIdx, group, idx(0)});
          for (int64_t c = 0; c < tile; ++c) {
            Value base = addc(mul(add(mul(tileIdx, numGroups), group),
                                  tile * perGroup),
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
            Value folded = foldRows(
                ArrayRef<Value>(dots).slice(c * chunk, chunk), zeroI);
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
    storeSums(tileIdx, row0, chunk, [&](int64_t c, int64_t r) -> Value {
      Value seg = loop.getResult(c);
      if (perRow < 16)
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

struct LowerPackedMatmulPass
    : lowbit::impl::LowerPackedMatmulPassBase<LowerPackedMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    if (dot != "vpdpbusd" && dot != "sdot") {
      getOperation().emitError()
          << "lowbit-cpu-lower-packed-matmul: dot must be vpdpbusd or sdot";
      return signalPassFailure();
    }
    SmallVector<PackedMatmulOp> ops;
    getOperation().walk([&](PackedMatmulOp op) { ops.push_back(op); });
    for (PackedMatmulOp op : ops) {
      if (op.getNumResults() != 0) {
        op.emitOpError("must be bufferized before kernel generation");
        return signalPassFailure();
      }
      KernelBuilder(op, permute, prefetchDistance, dot).build();
      op.erase();
    }
  }
};

} // namespace
