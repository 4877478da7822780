//===- QuantizeLinear.h - Shared driver of weight quantization --*- C++ -*-===//
//
// What lowbit-quantize-rtn and lowbit-gptq share: choosing the layers,
// reading their weights, quantizing them in parallel (host algorithms of
// lib/Quantization), and rewriting each into lowbit.matmul on the packed
// result with the report attributes.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_DIALECT_LOWBIT_TRANSFORMS_QUANTIZELINEAR_H
#define LOWBIT_LIB_DIALECT_LOWBIT_TRANSFORMS_QUANTIZELINEAR_H

#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Quantization/WeightQuantizer.h"

#include <functional>

namespace mlir::lowbit {

struct LayerJob {
  LinearLayer layer;
  /// The pass's scheme, or the one lowbit-allocate-bits chose for the
  /// layer (its `lowbit.allocation`).
  quant::WeightScheme scheme;
  std::vector<float> weight;                  // K x N
  std::optional<std::vector<double>> hessian; // K x K, if calibrated
  quant::QuantizedWeight result;
  std::string error;   // set by the method on failure
  std::string warning; // reported, not fatal
  double seconds = 0.0;
  /// With outliers: the output error of the same method without them
  /// (quantized again for the report), or negative.
  double plainOutputError = -1.0;
};

struct QuantizeLinearOptions {
  llvm::StringRef passName, method;
  quant::WeightScheme scheme;
  int64_t minSize = 1;
  llvm::StringRef include, exclude;
  bool requireHessian = false;
  /// A progress bar over the layers on stderr.
  bool progress = false;
};

/// The options every weight-quantization pass shares (WeightSchemeOptions in
/// Passes.td), read from `pass` (a friend of it: pass options are protected
/// members of the generated base).
template <typename PassT>
QuantizeLinearOptions schemeOptionsOf(const PassT &pass,
                                      llvm::StringRef method) {
  QuantizeLinearOptions options;
  options.passName = pass.getArgument();
  options.method = method;
  options.scheme = {pass.bits, pass.groupSize, pass.symmetric, pass.clipSearch};
  options.scheme.kind = pass.format;
  options.scheme.scaleRule = pass.scaleRule;
  options.scheme.outlierFraction = pass.outlierFraction;
  options.progress = pass.progress;
  options.minSize = pass.minSize;
  options.include = pass.include;
  options.exclude = pass.exclude;
  return options;
}

/// `scheme` with the bits, group and outlier fraction of the layer's
/// `lowbit.allocation`, if it has one.
quant::WeightScheme schemeForLayer(Operation *op,
                                   const quant::WeightScheme &scheme);

/// Quantizes the selected layers of `module` with `method` (run in
/// parallel; returns false with `job.error` set on failure; it quantizes
/// with `job.scheme`) and rewrites them. Errors name the pass and the
/// layer.
LogicalResult quantizeLinearLayers(ModuleOp module,
                                   const QuantizeLinearOptions &options,
                                   std::function<bool(LayerJob &)> method);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_DIALECT_LOWBIT_TRANSFORMS_QUANTIZELINEAR_H
