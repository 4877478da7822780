//===- ReportScaleEquivalence.cpp - Remarks from the analysis ---*- C++ -*-===//
//
// The lowbit-report-scale-equivalence pass: the equivalence analysis as
// remarks, one per group of linear layers, for people and lit tests.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/ScaleEquivalence.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITREPORTSCALEEQUIVALENCEPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct ReportScaleEquivalencePass
    : lowbit::impl::LowbitReportScaleEquivalencePassBase<
          ReportScaleEquivalencePass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<LayerFilter> filter =
        LayerFilter::createFor(getOperation(), getArgument(), include, exclude);
    if (failed(filter))
      return signalPassFailure();
    for (const ScaleGroup &group :
         analyzeScaleEquivalence(getOperation(), *filter)) {
      InFlightDiagnostic remark = group.layers.front().op->emitRemark();
      remark << "scale group {";
      llvm::interleaveComma(group.layers, remark, [&](const LinearLayer &l) {
        remark << "'" << l.name << "'";
      });
      remark << "}, " << group.channels << " channels: ";
      if (group.absorber)
        remark << "absorbed by " << group.absorber->describe();
      else
        remark << "not absorbable: " << group.reason;
    }
  }
};

} // namespace
