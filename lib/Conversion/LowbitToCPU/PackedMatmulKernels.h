//===- PackedMatmulKernels.h - The packed-matmul kernel builder -*- C++ -*-===//
//
// Internal to lib/Conversion/LowbitToCPU: the builder of one
// lowbit.packed_matmul kernel, shared by the pass (LowbitToCPU.cpp) and the
// four kernel families: f32 activations (PackedMatmulF32.cpp), int8
// activations (PackedMatmulInt8.cpp), AMX tiles (PackedMatmulAmx.cpp) and
// table lookups (PackedMatmulLut.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_LOWBITTOCPU_PACKEDMATMULKERNELS_H
#define LOWBIT_LIB_CONVERSION_LOWBITTOCPU_PACKEDMATMULKERNELS_H

#include "lowbit/Conversion/LowbitToCPU/LowbitToCPU.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::lowbit::detail {

/// Rows of activations sharing one pass over a tile's codes.
constexpr int64_t kMaxChunkRows = 8;

/// Builds the kernel of one op. Names follow the layout's description:
/// a step is `lanes` consecutive k, a block `4 * lanes` bytes of one
/// column, a superblock lcm(block, group) of k.
class KernelBuilder {
public:
  KernelBuilder(PackedMatmulOp op, bool permute, int64_t prefetchDistance,
                DotProduct dot, ByteLookup lookup)
      : op(op), layout(op.getLayout()), loc(op.getLoc()), b(op),
        prefetchDistance(prefetchDistance), dot(dot), lookup(lookup) {
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
    dotLanes = dot == DotProduct::Pmaddubsw ? 8 : 16;
    factorScale = rows <= 2 && !usePermute && !layout.hasValues() &&
                  !layout.getZero() && !layout.getInt8() && !layout.getLut() &&
                  !layout.getAmx();
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
  /// accumulators. `masked`: the last superblock, which runs past K. With
  /// factorScale the accumulators are tile * chunk sums of scaled groups
  /// followed by as many partial sums of the current group's code * x.
  SmallVector<Value> superblock(Value tileIdx, Value super,
                                ArrayRef<Value> accs, int64_t row0,
                                int64_t chunk, int64_t split, bool masked,
                                SmallVector<Decoder> &decoders);
  /// factorScale: each column's group partial sums (acc[tile * chunk + i])
  /// scaled by its decoder's scale into its sums (acc[i]), partials reset
  /// to `zero` when given.
  void scaleGroupSums(MutableArrayRef<Value> acc, ArrayRef<Decoder> decoders,
                      int64_t chunk, Value zero);
  /// The f32-activation kernel of one tile (PackedMatmulF32.cpp).
  void buildF32(Value tileIdx);
  /// Adds the tile's outliers (layouts with `outliers`) times the
  /// activations `x` (M x >= K f32) to its stored results
  /// (PackedMatmulOutliers.cpp); with `xT` (transposeForOutliers of x,
  /// for several rows) one vector per outlier covers every row.
  void addOutliers(Value tileIdx, Value x, Value xT);
  void addOutliersByRows(Value tileIdx, Value xT);
  /// One column's outlier run [begin, end) times rows row0.. of `x`,
  /// added lane-wise to `inits` (one vector per row); returns the sums.
  SmallVector<Value> accumulateRun(Value x, Value begin, Value end,
                                   int64_t row0, ValueRange inits);
  /// Whether the tile kernel adds the outliers to its own accumulators
  /// (foldOutliers) rather than to the stored results (addOutliers): f32
  /// activations with one or two rows; int8 ones (VNNI, pmaddubsw, sdot)
  /// with one row, whose accumulator per column is `lanes` wide.
  bool foldsOutliers() const {
    if (!layout.getOutliers() || layout.getLut() || layout.getAmx())
      return false;
    if (layout.getInt8())
      return rows == 1 && dotLanes == lanes;
    return rows <= 2;
  }
  /// Each column's outliers go into its dense accumulators
  /// (accs[(c * chunk + r) * split], `lanes` wide) before their lanes are
  /// summed, so a column costs no reduction, load or store of its own.
  void foldOutliers(Value tileIdx, Value x, int64_t row0, int64_t chunk,
                    int64_t split, MutableArrayRef<Value> accs);
  /// Per column of the tile whose outlier run is not empty: `rowSums`
  /// builds each row's sum over the run [begin, end), added to the result.
  void forEachOutlierRun(
      Value tileIdx,
      function_ref<SmallVector<Value>(Value begin, Value end)> rowSums);
  /// `x` k-major (K x rows padded to a power of two, f32; allocated).
  Value transposeForOutliers(Value x);
  void prefetch(Value tileIdx, Value super);
  /// Prefetches the outlier words of the tile after `tileIdx` (layouts
  /// with outliers; nothing otherwise).
  void prefetchOutliers(Value tileIdx);
  /// Stores `sum(column, row)` (the finished dot product of a column of the
  /// tile and a row of the chunk) for the columns inside N.
  void storeSums(Value tileIdx, int64_t row0, int64_t chunk,
                 function_ref<Value(int64_t, int64_t)> sum);

  // int8 activations (VNNI vpdpbusd or ARM sdot), PackedMatmulInt8.cpp.
  struct QuantizedInput {
    Value codes;  // M x Kp i8
    Value scales; // M x groups f32: s_x
    Value sums;   // M x groups f32: s_x * sum of the group's codes
    /// Signed weight codes (stored + 2^(bits-1)): M x groups x dotLanes
    /// i32, the start of each group's dot product, -2^(bits-1) * sum of the
    /// group's codes in lane 0, so that the zero point costs nothing per
    /// column.
    Value inits;
    /// Per chunk of rows and group, dotLanes lanes: s_x (and s_x * sum
    /// scaled by 16 / lanes per row) of the row whose segment the lane is in
    /// after the chunk's dot products are folded into one vector (see
    /// buildInt8).
    Value sxRep, xsRep;
    /// With outliers: M x Kp f32, the rounded activations (code * s_x)
    /// that the outliers multiply.
    Value rounded;
  };
  QuantizedInput quantizeActivations();
  /// For a largest magnitude `m`: the int8 scale m / 127 and its inverse
  /// 127 / m (0 when m is 0).
  std::pair<Value, Value> int8Scale(Value m);
  /// Stores one vector of the tile's column results per row, rows from
  /// `row0` (masked past N; element by element for a strided output).
  void storeColumns(Value tileIdx, int64_t row0, ValueRange perRow);
  void replicateScales(QuantizedInput &q);
  /// Rows of a chunk padded to a power of two, and lanes per row once the
  /// chunk's dot products are folded into one vector of dotLanes.
  std::pair<int64_t, int64_t> foldShape(int64_t chunk) const;
  /// Folds the i32 dot products of `chunk` rows (dotLanes each) into one
  /// vector holding row r's partial sums in lanes [r*L, (r+1)*L).
  Value foldRows(ArrayRef<Value> dots, Value zero);
  /// The int8-activation kernel of one tile (PackedMatmulInt8.cpp).
  void buildInt8(Value tileIdx, const QuantizedInput &xq);
  Value vnniDot(Value acc, Value weights, Value activations);
  /// AVX2: `partial` (16 x i16, or null) plus the pair sums of 64 codes
  /// times 64 activations (two vpmaddubsw); lanes mix k of one group.
  Value pairSums(Value partial, Value weights, Value activations);
  /// AVX2: `acc` (8 x i32) plus `partial` widened (vpmaddwd by ones).
  Value widenPairSums(Value acc, Value partial);
  /// The AMX kernel of one tile (PackedMatmulAmx.cpp); `xq.codes` holds
  /// the activation codes + 128.
  /// `scratchB` (slots x 16 * fields x 64 i8) and `scratchC` (slots x M x
  /// 16 i32) are this worker's buffers at `slot`.
  void buildAmx(Value tileIdx, const QuantizedInput &xq, Value scratchB,
                Value scratchC, Value slot);
  /// The parallel loop of the AMX kernel over workers and their buffers.
  void buildAmxWorkers(const QuantizedInput &xq, Value outlierXT);

  // Table lookups (T-MAC style), PackedMatmulLut.cpp.
  struct LutTables {
    /// M x Kp/4 x 16 bytes: per row and quad of k, the 16 partial sums of
    /// the quad's activations over subsets, quantized per group, + 128.
    Value tables;
    Value scales; // M x groups f32: the tables' scale
    Value sums;   // M x groups f32: the group's sum of activations
  };
  LutTables buildTables();
  /// The lookup-table kernel of one tile.
  void buildLut(Value tileIdx, const LutTables &t);
  /// 16-entry byte table lookups of `indices` (4 * lanes bytes).
  Value lookupBytes(Value table, Value indices);
  /// i16 per column: bytes (2c, 2c+1) of `bytes`, as unsigned, summed with
  /// weights 2^shift and 2^(shift+1) (a pair of bit planes).
  Value sumPlanes(Value bytes, int64_t shift);

  PackedMatmulOp op;
  PackedLayoutAttr layout;
  Location loc;
  OpBuilder b;
  int64_t prefetchDistance;
  DotProduct dot;
  ByteLookup lookup;
  int64_t lanes, tile, bits, k, n, rows, stepsPerBlock, superK, stepsPerSuper,
      blocksPerSuper, numBlocks, numGroups, stepsPerGroup, groupsPerSuper,
      perGroup;
  /// i32 lanes of one int8 dot-product accumulator: 16 (64 bytes per
  /// vpdpbusd or four sdot), 8 for pmaddubsw (widened from 16 x i16).
  int64_t dotLanes;
  bool usePermute;
  /// f32 kernel, integer codes without a permute or zero points, 1-2 rows
  /// (where decoding is most of the work): the group's scale multiplies
  /// each group's sum of code * x once instead of every weight (4
  /// operations per step and column instead of 5; 4096 x 4096 on AVX2, 2
  /// threads, in cache: 1 row 0.98 -> 0.57 ms, 2 rows 1.14 -> 0.99; 4 and
  /// 8 rows, whose tiles have twice the accumulators, 7% slower: off).
  bool factorScale;
  Type f32;
  VectorType vecF32, vecI32;
};

} // namespace mlir::lowbit::detail

#endif // LOWBIT_LIB_TARGET_CPU_PACKEDMATMULKERNELS_H
