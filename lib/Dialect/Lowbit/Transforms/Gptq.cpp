//===- Gptq.cpp - GPTQ weight quantization pass -----------------*- C++ -*-===//
//
// The lowbit-gptq pass: GPTQ on every selected linear layer whose input is a
// calibrated lowbit.calibrate (the Hessian X^T X of its input).
//
//===----------------------------------------------------------------------===//

#include "QuantizeLinear.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITGPTQPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct GptqPass : lowbit::impl::LowbitGptqPassBase<GptqPass> {
  using Base::Base;
  friend QuantizeLinearOptions mlir::lowbit::schemeOptionsOf<>(const GptqPass &,
                                                               llvm::StringRef);

  void runOnOperation() override {
    QuantizeLinearOptions options = schemeOptionsOf(*this, "gptq");
    options.requireHessian = true;
    if (damp <= 0.0 || blockSize <= 0) {
      getOperation().emitError()
          << getArgument() << ": damp and block-size must be positive";
      return signalPassFailure();
    }
    quant::GptqOptions gptq{damp, blockSize, actOrder};
    auto method = [gptq](LayerJob &job) {
      quant::GptqReport report;
      std::optional<quant::QuantizedWeight> q = quant::quantizeGptq(
          job.weight, job.layer.k, job.layer.n, *job.hessian, job.scheme, gptq,
          report, job.error);
      if (!q)
        return false;
      job.result = std::move(*q);
      if (report.retries > 0)
        job.warning = llvm::formatv("the Hessian is singular; dampened with "
                                    "{0} x mean(diag H) instead of {1}",
                                    report.damp, gptq.damp);
      if (report.deadInputs > 0) {
        if (!job.warning.empty())
          job.warning += "; ";
        job.warning += llvm::formatv("{0} of {1} inputs were always zero on "
                                     "the calibration data (weights set to 0)",
                                     report.deadInputs, job.layer.k)
                           .str();
      }
      return true;
    };
    if (failed(quantizeLinearLayers(getOperation(), options, method)))
      signalPassFailure();
  }
};

} // namespace
