//===- QuantizeRtn.cpp - Round-to-nearest weight quantization ---*- C++ -*-===//
//
// The lowbit-quantize-rtn pass: quantizes constant weights of linear layers
// at compile time with abs-max (symmetric) or min/max (asymmetric) group
// scales, optionally clipped to least squared error, and rewrites each layer
// into lowbit.matmul on the packed result.
//
//===----------------------------------------------------------------------===//

#include "QuantizeLinear.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITQUANTIZERTNPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct QuantizeRtnPass
    : lowbit::impl::LowbitQuantizeRtnPassBase<QuantizeRtnPass> {
  using Base::Base;
  friend QuantizeLinearOptions
  mlir::lowbit::schemeOptionsOf<>(const QuantizeRtnPass &, llvm::StringRef);

  void runOnOperation() override {
    QuantizeLinearOptions options = schemeOptionsOf(*this, "rtn");
    auto rtn = [](LayerJob &job) {
      // Calibration statistics, when there are any, weigh the outliers.
      job.result =
          quant::quantizeRtn(job.weight, job.layer.k, job.layer.n, job.scheme,
                             job.hessian ? llvm::ArrayRef<double>(*job.hessian)
                                         : llvm::ArrayRef<double>());
      return true;
    };
    if (failed(quantizeLinearLayers(getOperation(), options, rtn)))
      signalPassFailure();
  }
};

} // namespace
