//===- TileAndVectorize.cpp - Threads, register tiles, vectors --*- C++ -*-===//
//
// Implements lowbit-cpu-tile-and-vectorize on tensors:
//
//  1. every linalg op with enough work is tiled along its outer parallel
//     dimensions into an scf.forall of about `thread-chunks` chunks (later
//     scf.parallel, then OpenMP);
//  2. contractions (matmul, batch matmul, and generics that are one) are
//     tiled again to a register block (batch 1, M `tile-m`, N `tile-n`,
//     K 1) inside scf.for loops and vectorized to vector.contract; the
//     accumulator's transfers are hoisted out of the K loop after
//     bufferization (see CPUPipeline.cpp);
//  3. exp, tanh and erf become polynomial approximations.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/CPU/Passes.h"
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
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "lowbit/Target/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

constexpr StringLiteral kRegisterTile = "lowbit.register_tile";

SmallVector<OpFoldResult> asFoldResults(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> out;
  for (int64_t x : v)
    out.push_back(b.getIndexAttr(x));
  return out;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

struct TileAndVectorizePass
    : lowbit::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
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
    int64_t remaining = threadChunks;
    bool any = false;
    for (size_t d = 0; d < ranges.size() && remaining > 1; ++d) {
      if (iters[d] != utils::IteratorType::parallel)
        continue;
      int64_t r = ranges[d];
      int64_t quantum = 1;
      if (succeeded(cdims) && !cdims->m.empty() && d == cdims->m.back())
        quantum = tileM;
      if (succeeded(cdims) && !cdims->n.empty() && d == cdims->n.back())
        quantum = tileN;
      if (r / quantum >= remaining) {
        tiles[d] = std::min(r, roundUp(ceilDiv(r, remaining), quantum));
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
    if (!isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
      return {};
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 1);
    unsigned m = cdims->m.back(), n = cdims->n.back();
    if (ShapedType::isDynamic(ranges[m]) || ShapedType::isDynamic(ranges[n]))
      return {};
    tiles[m] = std::min<int64_t>(tileM, ranges[m]);
    tiles[n] = std::min<int64_t>(tileN, ranges[n]);
    if (ranges[m] % tiles[m] || ranges[n] % tiles[n])
      return {};
    return tiles;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);

    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (!isa<linalg::FillOp>(op.getOperation()) && op.hasPureTensorSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      SmallVector<int64_t> regTiles = registerTiles(op);
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
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(current.getOperation()), options);
      if (failed(tiled))
        continue;
      rewriter.replaceOp(current, tiled->replacements);
      tiled->tiledOps.back()->setAttr(kRegisterTile, UnitAttr::get(ctx));
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

    SmallVector<linalg::LinalgOp> toVectorize;
    func.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kRegisterTile))
        toVectorize.push_back(op);
    });
    for (linalg::LinalgOp op : toVectorize) {
      op->removeAttr(kRegisterTile);
      if (!op.hasPureTensorSemantics() ||
          llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
        continue;
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> result = linalg::vectorize(
          rewriter, op, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
          /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
          /*assumeDynamicDimsMatchVecSizes=*/false,
          /*createNamedContraction=*/false);
      if (succeeded(result))
        rewriter.replaceOp(op, result->replacements);
    }

    // Vector cleanup: drop unit dims, turn contractions into outer products,
    // and polynomial approximations of exp/tanh/erf.
    RewritePatternSet patterns(ctx);
    // With K tiled to 1 the register tile is acc[m][n] += a[m] * b[n]: the
    // unit reduction folds away and what is left is one broadcast-multiply-
    // add per row (FMAs once fp-contraction fuses them).
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    MathPolynomialApproximationOptions approx;
    populateMathPolynomialApproximationPatterns(patterns, approx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
