//===- FuseElementwise.cpp - Elementwise fusion, not into reductions -----===//
//
// Implements lowbit-cpu-fuse-elementwise: upstream's elementwise fusion
// patterns with a control function that keeps producers out of consumers
// with reduction loops.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUFUSEELEMENTWISEPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;

namespace {

struct FuseElementwisePass
    : lowbit::impl::LowbitCPUFuseElementwisePassBase<FuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // A consumer with a reduction (a matmul) would recompute its fused
    // producer once per output column.
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *operand) {
          auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
          Operation *producer = operand->get().getDefiningOp();
          return consumer && producer && consumer.getNumReductionLoops() == 0 &&
                 producer->hasOneUse();
        });
    linalg::populateFoldReshapeOpsByExpansionPatterns(
        patterns, [](OpOperand *) { return false; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
