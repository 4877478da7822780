//===- Smooth.cpp - AWQ and SmoothQuant as a pass ---------------*- C++ -*-===//
//
// lowbit-smooth: the equivalence analysis finds the groups and what absorbs
// their scale, quant::searchSmoothingScale chooses the scale from the
// calibration statistics (groups in parallel), ScaleRewriter folds it in.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/ScaleEquivalence.h"
#include "lowbit/Quantization/Smoothing.h"
#include "lowbit/Support/Progress.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Threading.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITSMOOTHPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct GroupJob {
  ScaleGroup *group = nullptr;
  std::vector<std::vector<float>> weights; // K x N per layer
  std::vector<double> hessian;
  std::vector<float> absMax;
  std::optional<quant::SmoothResult> result;
  std::string error;
};

/// The group's layers as "{'a', 'b'}" for messages.
std::string layerList(const ScaleGroup &group) {
  std::string s = "{";
  for (auto [i, layer] : llvm::enumerate(group.layers))
    s += (i ? ", '" : "'") + layer.name + "'";
  return s + "}";
}

struct SmoothPass : lowbit::impl::LowbitSmoothPassBase<SmoothPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<quant::SmoothMethod> smoothMethod =
        quant::parseSmoothMethod(method);
    if (!smoothMethod) {
      module.emitError() << getArgument() << ": method '" << method
                         << "' is not awq or smoothquant";
      return signalPassFailure();
    }
    if (alpha > 1.0) {
      module.emitError() << getArgument() << ": alpha=" << alpha
                         << " is outside [0, 1] (negative: search)";
      return signalPassFailure();
    }
    if (alphaGrid < 1) {
      module.emitError() << getArgument()
                         << ": alpha-grid=" << static_cast<int64_t>(alphaGrid)
                         << " must be at least 1";
      return signalPassFailure();
    }
    if (searchColumns < 0) {
      module.emitError() << getArgument() << ": search-columns="
                         << static_cast<int64_t>(searchColumns)
                         << " is negative";
      return signalPassFailure();
    }
    if (quantizer != "rtn" && quantizer != "gptq") {
      module.emitError() << getArgument() << ": quantizer '" << quantizer
                         << "' is not rtn or gptq";
      return signalPassFailure();
    }
    quant::SmoothOptions options;
    if (quantizer == "gptq") {
      options.gptq.emplace();
      options.gptq->damp = damp;
      options.gptq->actOrder = actOrder;
    }
    options.searchColumns = searchColumns;
    options.method = *smoothMethod;
    options.alpha = alpha;
    options.grid = alphaGrid;
    options.scheme = {bits, groupSize, symmetric, clipSearch};
    options.scheme.kind = format;
    options.scheme.scaleRule = scaleRule;
    // The int8 kernels round activations in blocks of the layout's group.
    options.activationBlock = groupSize;

    FailureOr<LayerFilter> filter =
        LayerFilter::createFor(module, getArgument(), include, exclude);
    if (failed(filter))
      return signalPassFailure();
    std::vector<ScaleGroup> groups = analyzeScaleEquivalence(module, *filter);
    ScaleRewriter rewriter(module);

    // Check every group before changing any.
    std::vector<GroupJob> jobs;
    for (ScaleGroup &group : groups) {
      Operation *first = group.layers.front().op;
      std::string why = group.absorber ? rewriter.check(group)
                                       : "not absorbable: " + group.reason;
      for (const LinearLayer &layer : group.layers)
        if (why.empty() && (layer.k < minSize || layer.n < minSize))
          why = "layer '" + layer.name + "' is below min-size (left in float)";
      if (!why.empty()) {
        first->emitRemark() << getArgument() << ": scale group "
                            << layerList(group) << " not smoothed: " << why;
        continue;
      }
      for (const LinearLayer &layer : group.layers) {
        std::string scheme = options.scheme.check(layer.k);
        if (!scheme.empty()) {
          layer.op->emitError()
              << getArgument() << ": layer '" << layer.name << "': " << scheme;
          return signalPassFailure();
        }
      }
      GroupJob job;
      job.group = &group;
      jobs.push_back(std::move(job));
      bool hasHessian = getInputHessian(group.input).has_value();
      bool hasAbsMax = static_cast<int64_t>(
                           getInputStatistic(group.input, "abs_max").size()) ==
                       group.channels;
      if (!hasHessian ||
          (*smoothMethod == quant::SmoothMethod::SmoothQuant && !hasAbsMax)) {
        first->emitError()
            << getArgument() << ": layer '" << group.layers.front().name
            << "' has no calibration statistics with the channels' "
            << (hasHessian ? "abs_max" : "Hessian")
            << " (its input is not a lowbit.calibrate whose lowbit.stats "
               "has them; run lowbit-insert-calibration and calibrate first)";
        return signalPassFailure();
      }
    }

    // Search in parallel, in chunks (bounded memory), then fold in order.
    MLIRContext *ctx = &getContext();
    constexpr size_t kChunk = 8;
    Progress bar(progress,
                 std::string(quant::stringifySmoothMethod(*smoothMethod)) +
                     " smoothing",
                 jobs.size(), "groups");
    for (size_t begin = 0; begin < jobs.size(); begin += kChunk) {
      size_t end = std::min(jobs.size(), begin + kChunk);
      for (size_t i = begin; i < end; ++i) {
        GroupJob &job = jobs[i];
        for (const LinearLayer &layer : job.group->layers) {
          std::optional<std::vector<float>> w = readWeightKxN(layer);
          if (!w) {
            layer.op->emitError()
                << getArgument() << ": cannot read the weight of layer '"
                << layer.name << "' (missing or short resource blob)";
            return signalPassFailure();
          }
          job.weights.push_back(std::move(*w));
        }
        job.hessian = *getInputHessian(job.group->input);
        job.absMax = getInputStatistic(job.group->input, "abs_max");
      }
      parallelFor(ctx, begin, end, [&](size_t i) {
        GroupJob &job = jobs[i];
        std::vector<quant::SmoothLayer> layers;
        for (auto [layer, w] : llvm::zip_equal(job.group->layers, job.weights))
          layers.push_back({w, layer.n});
        job.result = quant::searchSmoothingScale(layers, job.group->channels,
                                                 job.hessian, job.absMax,
                                                 options, job.error);
        bar.advance();
      });
      for (size_t i = begin; i < end; ++i) {
        GroupJob &job = jobs[i];
        const LinearLayer &first = job.group->layers.front();
        std::string error = job.error;
        if (job.result && job.result->smoothed &&
            failed(rewriter.apply(*job.group, job.result->scale, error)))
          job.result.reset();
        if (!job.result) {
          first.op->emitError()
              << getArgument() << ": layer '" << first.name << "': " << error;
          return signalPassFailure();
        }
        Builder b(ctx);
        SmallVector<NamedAttribute> entries({
            b.getNamedAttr("method", b.getStringAttr(job.result->smoothed
                                                         ? StringRef(method)
                                                         : "none")),
            b.getNamedAttr("alpha", b.getF64FloatAttr(job.result->alpha)),
            b.getNamedAttr("error_before",
                           b.getF64FloatAttr(job.result->errorBefore)),
            b.getNamedAttr("error_after",
                           b.getF64FloatAttr(job.result->errorAfter)),
            b.getNamedAttr("floored_channels",
                           b.getI64IntegerAttr(job.result->flooredChannels)),
        });
        if (job.result->gptqErrorBefore >= 0.0) {
          entries.push_back(
              b.getNamedAttr("gptq_error_before",
                             b.getF64FloatAttr(job.result->gptqErrorBefore)));
          entries.push_back(
              b.getNamedAttr("gptq_error_after",
                             b.getF64FloatAttr(job.result->gptqErrorAfter)));
        }
        DictionaryAttr report = b.getDictionaryAttr(entries);
        for (const LinearLayer &layer : job.group->layers)
          layer.op->setAttr(LowbitDialect::SmoothAttrHelper::getNameStr(),
                            report);
        job.weights.clear();
        job.hessian.clear();
      }
    }
  }
};

} // namespace
