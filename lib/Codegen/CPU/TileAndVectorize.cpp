//===- TileAndVectorize.cpp - Threads, register tiles, vectors --*- C++ -*-===//
//
// Implements lowbit-cpu-tile-and-vectorize on tensors:
//
//  1. every linalg op with enough work is tiled along its outer parallel
//     dimensions into an scf.forall of about `thread-chunks` chunks (later
//     scf.parallel, then OpenMP);
//  2. contractions (matmul, batch matmul, and generics that are one, f32)
//     are tiled again to register blocks (batch 1, M `tile-m`, N `tile-n`,
//     all of K) and each block becomes a microkernel: M accumulator vectors
//     carried through an scf.for over K, one row of B loaded, one element of
//     A broadcast per row, M vector FMAs per step;
//  3. exp, tanh and erf become polynomial approximations.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>
#include <numeric>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUTILEANDVECTORIZEPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

constexpr StringLiteral kRegisterTile = "lowbit.register_tile";
constexpr StringLiteral kPackB = "lowbit.pack_b";
/// The contraction's accumulator starts at zero (its fill was dropped): the
/// microkernel initialises registers instead of reading C.
constexpr StringLiteral kZeroAcc = "lowbit.zero_acc";

SmallVector<OpFoldResult> asFoldResults(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> out;
  for (int64_t x : v)
    out.push_back(b.getIndexAttr(x));
  return out;
}

/// True if `op` is a contraction the microkernel handles: body acc + a * b
/// (f32, or i32: the exact integer matmuls of MatMulInteger and
/// QLinearMatMul), A indexed (..., m, k), B (..., k, n), C (..., m, n),
/// batch dims as plain dims or broadcast (constant 0).
bool isMicrokernelForm(linalg::LinalgOp op,
                       const linalg::ContractionDimensions &dims) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return false;
  Type elem = getElementTypeOrSelf(op->getResult(0).getType());
  if (!elem.isF32() && !elem.isInteger(32))
    return false;
  for (OpOperand &o : op->getOpOperands())
    if (getElementTypeOrSelf(o.get().getType()) != elem)
      return false;
  unsigned m = dims.m.back(), n = dims.n.back(), k = dims.k[0];
  auto lastTwo = [](AffineMap map, unsigned row, unsigned col) {
    unsigned r = map.getNumResults();
    return r >= 2 &&
           map.getResult(r - 2) == getAffineDimExpr(row, map.getContext()) &&
           map.getResult(r - 1) == getAffineDimExpr(col, map.getContext());
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return lastTwo(maps[0], m, k) && lastTwo(maps[1], k, n) &&
         lastTwo(maps[2], m, n);
}

/// Indices into an operand read through `map` with the loop values `loops`
/// (index values; constants where a dim is fixed).
SmallVector<Value> indicesFor(OpBuilder &b, Location loc, AffineMap map,
                              ArrayRef<Value> loops) {
  SmallVector<Value> out;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      out.push_back(loops[d.getPosition()]);
    else
      out.push_back(arith::ConstantIndexOp::create(
          b, loc, cast<AffineConstantExpr>(e).getValue()));
  }
  return out;
}

/// Replaces a register tile (static, M x N rows of C, all of K) by explicit
/// vector code: the M accumulator rows (vector<N x f32>) live in scf.for
/// iter_args across K; each step loads one row of B, broadcasts one element
/// of A per row and issues M fused multiply-adds.
FailureOr<Value> buildMicrokernel(RewriterBase &b, linalg::LinalgOp op) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() ||
      dims->k.size() != 1 || !isMicrokernelForm(op, *dims))
    return failure();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned mDim = dims->m.back(), nDim = dims->n.back(), kDim = dims->k[0];
  int64_t M = ranges[mDim], N = ranges[nDim], K = ranges[kDim];
  for (unsigned d = 0; d < ranges.size(); ++d)
    if (d != mDim && d != nDim && d != kDim && ranges[d] != 1)
      return failure();
  Location loc = op.getLoc();
  Type elem = getElementTypeOrSelf(op->getResult(0).getType());
  bool isFloat = isa<FloatType>(elem);
  auto vecType = VectorType::get({N}, elem);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elem));
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Value A = op.getDpsInputs()[0], B = op.getDpsInputs()[1];
  Value C = op.getDpsInits()[0];
  auto loopValues = [&](Value m, Value k) {
    SmallVector<Value> loops(ranges.size(), zero);
    loops[mDim] = m;
    loops[kDim] = k;
    return loops;
  };
  auto minorMap = [&](Value source) {
    int64_t rank = cast<ShapedType>(source.getType()).getRank();
    return AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, b.getContext()));
  };
  SmallVector<Value> acc;
  bool zeroAcc = op->hasAttr(kZeroAcc);
  Value zeros = arith::ConstantOp::create(b, loc, b.getZeroAttr(vecType));
  for (int64_t i = 0; i < M; ++i) {
    Value mi = arith::ConstantIndexOp::create(b, loc, i);
    if (zeroAcc) {
      acc.push_back(zeros);
      continue;
    }
    acc.push_back(vector::TransferReadOp::create(
        b, loc, vecType, C, indicesFor(b, loc, maps[2], loopValues(mi, zero)),
        AffineMapAttr::get(minorMap(C)), pad, Value(),
        b.getBoolArrayAttr({true})));
  }
  Value kUpper = arith::ConstantIndexOp::create(b, loc, K);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, zero, kUpper, one, acc,
      [&](OpBuilder &lb, Location l, Value k, ValueRange iter) {
        Value row = vector::TransferReadOp::create(
            lb, l, vecType, B, indicesFor(lb, l, maps[1], loopValues(zero, k)),
            AffineMapAttr::get(minorMap(B)), pad, Value(),
            lb.getBoolArrayAttr({true}));
        SmallVector<Value> next;
        for (int64_t i = 0; i < M; ++i) {
          Value mi = arith::ConstantIndexOp::create(lb, l, i);
          Value a = tensor::ExtractOp::create(
              lb, l, A, indicesFor(lb, l, maps[0], loopValues(mi, k)));
          Value splat = vector::BroadcastOp::create(lb, l, vecType, a);
          next.push_back(isFloat
                             ? vector::FMAOp::create(lb, l, splat, row, iter[i])
                                   .getResult()
                             : arith::AddIOp::create(
                                   lb, l, iter[i],
                                   arith::MulIOp::create(lb, l, splat, row))
                                   .getResult());
        }
        scf::YieldOp::create(lb, l, next);
      });
  Value result = C;
  for (int64_t i = 0; i < M; ++i) {
    Value mi = arith::ConstantIndexOp::create(b, loc, i);
    result = vector::TransferWriteOp::create(
                 b, loc, loop.getResult(i), result,
                 indicesFor(b, loc, maps[2], loopValues(mi, zero)),
                 AffineMapAttr::get(minorMap(C)), b.getBoolArrayAttr({true}))
                 .getResult();
  }
  return result;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// True for contractions whose B operand (K x N) is larger than A (M x K
/// over all M dims), like an output head: B should then be streamed once,
/// with N outermost, instead of once per row block of A.
bool streamsB(linalg::LinalgOp op) {
  if (!linalg::isaContractionOpInterface(op))
    return false;
  FailureOr<linalg::ContractionDimensions> d = linalg::inferContractionDims(op);
  if (failed(d))
    return false;
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  if (llvm::any_of(r, ShapedType::isDynamic))
    return false;
  int64_t m = 1, n = 1, k = 1;
  for (unsigned x : d->m)
    m *= r[x];
  for (unsigned x : d->n)
    n *= r[x];
  for (unsigned x : d->k)
    k *= r[x];
  return n * k > m * k;
}

/// For a register tile whose N loop is outside its M loop: copies the
/// K x tile-n panel of B into a contiguous buffer once per N tile (before
/// the M loop), so the microkernel reads consecutive rows instead of rows a
/// whole B row apart (an output head's rows are 196 KB apart: one page per
/// K step). Packing at run time costs one read of B.
void packB(RewriterBase &rewriter, linalg::LinalgOp op) {
  auto slice = op.getDpsInputs()[1].getDefiningOp<tensor::ExtractSliceOp>();
  auto mLoop = op->getParentOfType<scf::ForOp>();
  if (!slice || !mLoop || !slice.getType().hasStaticShape() ||
      !llvm::all_of(slice->getOperands(),
                    [&](Value v) { return mLoop.isDefinedOutsideOfLoop(v); }))
    return;
  rewriter.setInsertionPoint(mLoop);
  auto outside = cast<tensor::ExtractSliceOp>(rewriter.clone(*slice));
  Value empty =
      tensor::EmptyOp::create(rewriter, op.getLoc(), slice.getType().getShape(),
                              slice.getType().getElementType());
  Value panel =
      linalg::CopyOp::create(rewriter, op.getLoc(), outside.getResult(), empty)
          .getResult(0);
  rewriter.modifyOpInPlace(op, [&] { op->setOperand(1, panel); });
}

struct TileAndVectorizePass
    : lowbit::impl::LowbitCPUTileAndVectorizePassBase<TileAndVectorizePass> {
  using Base::Base;

  /// Tile sizes splitting the outer parallel dims of `op` into about
  /// `threadChunks` chunks; empty if the op is too small or has no static
  /// parallel dims. Contraction M dims are chunked in multiples of tileM.
  SmallVector<int64_t> threadTiles(linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
    SmallVector<int64_t> tiles(ranges.size(), 0);
    if (threadChunks <= 1 || ranges.empty())
      return {};
    int64_t work = 1;
    for (auto [r, it] : llvm::zip(ranges, iters)) {
      if (ShapedType::isDynamic(r))
        return {};
      if (it == utils::IteratorType::parallel)
        work *= r;
    }
    if (work < minParallelElements)
      return {};
    FailureOr<linalg::ContractionDimensions> cdims =
        linalg::isaContractionOpInterface(op)
            ? linalg::inferContractionDims(op)
            : FailureOr<linalg::ContractionDimensions>(failure());
    // A tiled op keeps its maps: `(off + i) floordiv G` (the group scales of
    // a dequantization) is `i floordiv G` of the slice only when `off` is a
    // multiple of G. Dims under a floordiv/ceildiv/mod by c are chunked in
    // multiples of c.
    SmallVector<int64_t> align(ranges.size(), 1);
    for (AffineMap map : op.getIndexingMapsArray())
      for (AffineExpr e : map.getResults())
        e.walk([&](AffineExpr sub) {
          auto bin = dyn_cast<AffineBinaryOpExpr>(sub);
          if (!bin || (bin.getKind() != AffineExprKind::FloorDiv &&
                       bin.getKind() != AffineExprKind::CeilDiv &&
                       bin.getKind() != AffineExprKind::Mod))
            return;
          auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
          bin.getLHS().walk([&](AffineExpr leaf) {
            if (auto dim = dyn_cast<AffineDimExpr>(leaf))
              align[dim.getPosition()] =
                  c ? std::lcm(align[dim.getPosition()], c.getValue())
                    : std::numeric_limits<int64_t>::max() / 4;
          });
        });
    int64_t remaining = threadChunks;
    bool any = false;
    bool nFirst = succeeded(cdims) && !cdims->n.empty() && streamsB(op);
    for (size_t d = 0; d < ranges.size() && remaining > 1; ++d) {
      if (iters[d] != utils::IteratorType::parallel || align[d] > ranges[d])
        continue;
      // Streaming B: chunk only along N, so each thread reads its part once.
      if (nFirst && d != cdims->n.back())
        continue;
      int64_t r = ranges[d];
      int64_t quantum = 1;
      if (succeeded(cdims) && !cdims->m.empty() && d == cdims->m.back())
        quantum = tileM;
      if (succeeded(cdims) && !cdims->n.empty() && d == cdims->n.back())
        quantum = tileN;
      quantum = std::lcm(quantum, align[d]);
      if (r / quantum >= remaining) {
        // Equal chunks: a last, shorter chunk would have a dynamic size and
        // miss the static register tiles (576 rows in 16 chunks of 40: the
        // whole contraction ran scalar). Grow the chunk to a divisor of r.
        int64_t t = roundUp(ceilDiv(r, remaining), quantum);
        while (t < r && r % t != 0)
          t += quantum;
        tiles[d] = std::min(r, t);
        any = true;
        break;
      }
      if (quantum == 1 || r % quantum == 0) {
        tiles[d] = quantum;
        remaining = ceilDiv(remaining, std::max<int64_t>(1, r / quantum));
        any = true;
      }
    }
    return any ? tiles : SmallVector<int64_t>{};
  }

  /// The register tile of a contraction, or empty if its dims are not static
  /// multiples of the tile.
  SmallVector<int64_t> registerTiles(linalg::LinalgOp op) {
    if (!linalg::isaContractionOpInterface(op))
      return {};
    FailureOr<linalg::ContractionDimensions> cdims =
        linalg::inferContractionDims(op);
    if (failed(cdims) || cdims->m.empty() || cdims->n.empty() ||
        cdims->k.empty())
      return {};
    Type elem = getElementTypeOrSelf(op->getResult(0).getType());
    if (!isa<FloatType>(elem) && !elem.isInteger(32))
      return {};
    // Outer M and N dims (a 3-D activation times a 2-D weight; the image
    // index of an im2col'd convolution) tile like batch dims, to 1; the
    // microkernel runs over the innermost M, N and K.
    if (cdims->k.size() != 1 || !isMicrokernelForm(op, *cdims))
      return {};
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 1);
    unsigned m = cdims->m.back(), n = cdims->n.back(), k = cdims->k.back();
    if (ShapedType::isDynamic(ranges[m]) || ShapedType::isDynamic(ranges[n]) ||
        ShapedType::isDynamic(ranges[k]))
      return {};
    tiles[m] = std::min<int64_t>(tileM, ranges[m]);
    tiles[n] = std::min<int64_t>(tileN, ranges[n]);
    // The microkernel loops over K. A long K is cut into blocks (the
    // outermost tile loop, see runOnOperation) so that a block of B stays in
    // L2 across the M tiles: 1536 x 384 f32 (2.4 MB) would stream from L3
    // once per M tile.
    tiles[k] = 0;
    for (int64_t block : {256, 128})
      if (ranges[k] > 2 * block && ranges[k] % block == 0) {
        tiles[k] = block;
        break;
      }
    if (ranges[m] % tiles[m] || ranges[n] % tiles[n] || tiles[n] % 4)
      return {};
    return tiles;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);

    // 2-D convolutions become im2col + a contraction, which the matmul
    // microkernel then handles (the weight is the A operand, the image
    // columns are B, contiguous along output pixels).
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    func.walk([&](linalg::Conv2DNchwFchwOp op) { convs.push_back(op); });
    for (linalg::Conv2DNchwFchwOp conv : convs) {
      rewriter.setInsertionPoint(conv);
      (void)linalg::rewriteInIm2Col(rewriter, conv);
    }

    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (!isa<linalg::FillOp>(op.getOperation()) &&
          op.hasPureTensorSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      SmallVector<int64_t> regTiles = registerTiles(op);
      bool nOuter = streamsB(op);
      // C = 0 + A B in one pass over K: drop the fill of C and start the
      // accumulators at zero (saves a memset and a read of C).
      if (!regTiles.empty()) {
        auto cdims = linalg::inferContractionDims(op);
        auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
        if (fill && fill->hasOneUse() && regTiles[cdims->k.back()] == 0 &&
            matchPattern(fill.getInputs()[0], m_AnyZeroFloat())) {
          rewriter.modifyOpInPlace(op, [&] {
            op.getDpsInitsMutable()[0].set(fill.getOutputs()[0]);
            op->setAttr(kZeroAcc, UnitAttr::get(ctx));
          });
          rewriter.eraseOp(fill);
        }
      }
      linalg::LinalgOp current = op;
      SmallVector<int64_t> tTiles = threadTiles(op);
      if (!tTiles.empty()) {
        scf::SCFTilingOptions options;
        options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
        rewriter.setInsertionPoint(current);
        options.setTileSizes(asFoldResults(rewriter, tTiles));
        FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(current.getOperation()), options);
        if (succeeded(tiled)) {
          rewriter.replaceOp(current, tiled->replacements);
          current = cast<linalg::LinalgOp>(tiled->tiledOps.back());
        }
      }
      if (regTiles.empty())
        continue;
      // The chunk is a multiple of the register tile (threadTiles rounds).
      scf::SCFTilingOptions options;
      rewriter.setInsertionPoint(current);
      options.setTileSizes(asFoldResults(rewriter, regTiles));
      {
        // Loop order: the K block outermost (when K is blocked), then N
        // tiles outside M tiles when B is streamed (a K x tile-n panel of B
        // stays in cache while every row block of A passes over it), else
        // M outside N.
        auto cdims = linalg::inferContractionDims(current);
        SmallVector<int64_t> order =
            llvm::to_vector(llvm::seq<int64_t>(0, regTiles.size()));
        if (nOuter)
          std::swap(order[cdims->m.back()], order[cdims->n.back()]);
        unsigned k = cdims->k.back();
        if (regTiles[k] != 0) {
          order.erase(llvm::find(order, (int64_t)k));
          order.insert(order.begin(), k);
        }
        options.setInterchange(order);
      }
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(current.getOperation()), options);
      if (failed(tiled))
        continue;
      rewriter.replaceOp(current, tiled->replacements);
      tiled->tiledOps.back()->setAttr(kRegisterTile, UnitAttr::get(ctx));
      if (nOuter)
        tiled->tiledOps.back()->setAttr(kPackB, UnitAttr::get(ctx));
    }

    // Clean up the tiled IR so the register tiles have static shapes.
    {
      RewritePatternSet patterns(ctx);
      linalg::populateLinalgTilingCanonicalizationPatterns(patterns);
      scf::ForallOp::getCanonicalizationPatterns(patterns, ctx);
      tensor::populateFoldTensorEmptyPatterns(patterns);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    SmallVector<linalg::LinalgOp> tiles;
    func.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kRegisterTile))
        tiles.push_back(op);
    });
    for (linalg::LinalgOp op : tiles) {
      op->removeAttr(kRegisterTile);
      if (!op.hasPureTensorSemantics() ||
          llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
        continue;
      if (op->hasAttr(kPackB)) {
        op->removeAttr(kPackB);
        packB(rewriter, op);
      }
      rewriter.setInsertionPoint(op);
      FailureOr<Value> result = buildMicrokernel(rewriter, op);
      if (succeeded(result)) {
        rewriter.replaceOp(op, *result);
      } else if (op->hasAttr(kZeroAcc)) {
        // Its fill is gone: without the microkernel it would read garbage.
        op.emitError("internal: zero-initialised contraction without a "
                     "microkernel");
        return signalPassFailure();
      }
    }

    // Every contraction whose fill was dropped got its microkernel.
    WalkResult leftover = func.walk([&](linalg::LinalgOp op) {
      if (!op->hasAttr(kZeroAcc))
        return WalkResult::advance();
      op.emitError("internal: zero-initialised contraction was not tiled");
      return WalkResult::interrupt();
    });
    if (leftover.wasInterrupted())
      return signalPassFailure();

    // Polynomial approximations of exp/tanh/erf.
    RewritePatternSet patterns(ctx);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    MathPolynomialApproximationOptions approx;
    populateMathPolynomialApproximationPatterns(patterns, approx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
