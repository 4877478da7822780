//===- AttachCalibration.cpp - Statistics file to the IR --------*- C++ -*-===//

#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITATTACHCALIBRATIONPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct AttachCalibrationPass
    : lowbit::impl::LowbitAttachCalibrationPassBase<AttachCalibrationPass> {
  using Base::Base;

  void runOnOperation() override {
    if (file.empty()) {
      getOperation().emitError() << getArgument() << ": no file= given";
      return signalPassFailure();
    }
    llvm::Expected<CalibrationStats> stats = CalibrationStats::load(file);
    if (!stats) {
      getOperation().emitError()
          << getArgument() << ": " << llvm::toString(stats.takeError());
      return signalPassFailure();
    }
    if (failed(attachStatistics(getOperation(), *stats, file)))
      signalPassFailure();
  }
};

} // namespace
