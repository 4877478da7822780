//===- AllocateBits.cpp - Mixed precision within a budget -------*- C++ -*-===//
//
// The lowbit-allocate-bits pass: measures, for every calibrated linear layer
// and every candidate scheme, the output error the real quantizer leaves
// and the bits the result takes, solves the multiple-choice knapsack
// (lib/Analysis/BitAllocation.cpp) and records each layer's choice as its
// `lowbit.allocation`, which the quantization passes then use.
//
//===----------------------------------------------------------------------===//

#include "QuantizeLinear.h"
#include "lowbit/Analysis/BitAllocation.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Quantization/Budget.h"
#include "lowbit/Support/Progress.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Threading.h"

#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITALLOCATEBITSPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct Candidate {
  quant::WeightScheme scheme;
  double bits = 0.0;  // as stored
  double error = 0.0; // tr(dW^T H dW)
};

struct AllocateBitsPass
    : lowbit::impl::LowbitAllocateBitsPassBase<AllocateBitsPass> {
  using Base::Base;

  /// The candidate schemes the options name, in order.
  FailureOr<std::vector<quant::WeightScheme>> candidateSchemes() {
    std::vector<unsigned> bitsList(candidateBits.begin(), candidateBits.end());
    std::vector<int64_t> groups(candidateGroups.begin(), candidateGroups.end());
    std::vector<double> fractions(candidateOutliers.begin(),
                                  candidateOutliers.end());
    if (bitsList.empty())
      bitsList = {2, 3, 4, 5, 6, 8};
    if (groups.empty())
      groups = {32, 64, 128, 0};
    if (fractions.empty())
      fractions = {0.0};
    std::vector<quant::WeightScheme> schemes;
    for (unsigned bits : bitsList)
      for (int64_t group : groups)
        for (double fraction : fractions) {
          quant::WeightScheme s;
          s.bits = bits;
          s.group = group;
          s.symmetric = symmetric;
          s.scaleRule = scaleRule;
          s.clipSearch = clipSearch;
          s.outlierFraction = fraction;
          // K only bounds the group size, checked per layer.
          std::string why = s.check(std::max<int64_t>(group, 1));
          if (!why.empty()) {
            getOperation().emitError()
                << getArgument() << ": candidate bits " << bits << ", group "
                << group
                << (fraction != 0.0
                        ? llvm::formatv(", outlier fraction {0:f4}", fraction)
                              .str()
                        : std::string())
                << ": " << why;
            return failure();
          }
          schemes.push_back(s);
        }
    return schemes;
  }

  /// Quantizes `job` with `scheme` by the pass's method.
  bool quantize(LayerJob &job, const quant::WeightScheme &scheme,
                quant::QuantizedWeight &result) {
    if (method == "rtn") {
      result = quant::quantizeRtn(job.weight, job.layer.k, job.layer.n, scheme,
                                  *job.hessian);
      return true;
    }
    quant::GptqReport report;
    std::optional<quant::QuantizedWeight> q = quant::quantizeGptq(
        job.weight, job.layer.k, job.layer.n, *job.hessian, scheme,
        {damp, blockSize, actOrder}, report, job.error);
    if (!q)
      return false;
    result = std::move(*q);
    return true;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](Operation *at, const Twine &why) {
      at->emitError() << getArgument() << ": " << why;
      signalPassFailure();
    };
    std::string error;
    std::optional<quant::Budget> budgetValue =
        quant::Budget::parse(budget, error);
    if (!budgetValue)
      return fail(module, error);
    if (method != "gptq" && method != "rtn")
      return fail(module, "method '" + method + "' is not gptq or rtn");
    if (errorMeasure != "sensitivity" && errorMeasure != "relative" &&
        errorMeasure != "absolute")
      return fail(module, "error '" + errorMeasure +
                              "' is not sensitivity, relative or absolute");
    bool relative = errorMeasure != "absolute";
    bool weighted = errorMeasure == "sensitivity";
    if (!(timeLimit > 0))
      return fail(module, "time-limit must be positive");
    FailureOr<std::vector<quant::WeightScheme>> schemes = candidateSchemes();
    if (failed(schemes))
      return signalPassFailure();
    FailureOr<LayerFilter> filter =
        LayerFilter::createFor(module, getArgument(), include, exclude);
    if (failed(filter))
      return signalPassFailure();
    std::vector<LinearLayer> layers =
        collectLinearLayers(module, *filter, minSize);
    if (layers.empty())
      return fail(module, "no linear layer to allocate bits to");

    // Measure every candidate of every layer (layers in parallel, a chunk
    // of weights in memory at a time).
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<Candidate>> candidates(layers.size());
    std::vector<double> importances(layers.size(), 1.0);
    double weights = 0;
    for (const LinearLayer &layer : layers)
      weights += static_cast<double>(layer.k) * layer.n;
    Progress bar(progress, "allocate bits", layers.size(), "layers");
    constexpr size_t kChunk = 8;
    for (size_t begin = 0; begin < layers.size(); begin += kChunk) {
      size_t end = std::min(layers.size(), begin + kChunk);
      std::vector<LayerJob> jobs(end - begin);
      for (size_t i = begin; i < end; ++i) {
        LayerJob &job = jobs[i - begin];
        job.layer = layers[i];
        job.hessian = getInputHessian(layers[i].input);
        if (weighted) {
          auto sensitivity = layers[i].op->getAttrOfType<DictionaryAttr>(
              LowbitDialect::SensitivityAttrHelper::getNameStr());
          auto importance = sensitivity
                                ? sensitivity.getAs<FloatAttr>("importance")
                                : FloatAttr();
          if (!importance || !(importance.getValueAsDouble() >= 0))
            return fail(layers[i].op,
                        "layer '" + layers[i].name +
                            "' has no lowbit.sensitivity importance (error="
                            "sensitivity needs the driver's measurement, or "
                            "use error=relative)");
          importances[i] = importance.getValueAsDouble();
        }
        if (!job.hessian)
          return fail(layers[i].op,
                      "layer '" + layers[i].name +
                          "' has no calibration statistics (run "
                          "lowbit-insert-calibration and calibrate first)");
        std::optional<std::vector<float>> w = readWeightKxN(layers[i]);
        if (!w)
          return fail(layers[i].op, "cannot read the weight of layer '" +
                                        layers[i].name + "'");
        for (float v : *w)
          if (!std::isfinite(v))
            return fail(layers[i].op, "layer '" + layers[i].name +
                                          "': the weight has a non-finite "
                                          "value");
        job.weight = std::move(*w);
      }
      parallelFor(&getContext(), begin, end, [&](size_t i) {
        LayerJob &job = jobs[i - begin];
        // relative: errors over the output's energy tr(W^T H W).
        double energy = 1.0;
        if (relative) {
          energy = quant::outputEnergy(job.weight, job.layer.k, job.layer.n,
                                       *job.hessian);
          if (!(energy > 0))
            energy = 1.0;
        }
        for (const quant::WeightScheme &scheme : *schemes) {
          if (scheme.group > job.layer.k)
            continue;
          quant::QuantizedWeight q;
          if (!quantize(job, scheme, q))
            break;
          std::vector<float> dq = q.dequantize(scheme);
          candidates[i].push_back(
              {scheme,
               quant::storedBits(job.layer.k, job.layer.n, scheme,
                                 static_cast<int64_t>(q.outlierIndex.size())),
               quant::outputErrorEnergy(job.weight, dq, job.layer.k,
                                        job.layer.n, *job.hessian) /
                   energy * importances[i]});
        }
        bar.advance();
      });
      for (LayerJob &job : jobs) {
        if (!job.error.empty())
          return fail(job.layer.op,
                      "layer '" + job.layer.name + "': " + job.error);
      }
    }
    double measureSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();

    AllocationProblem problem;
    problem.budget = budgetValue->bits(weights);
    problem.timeLimitSeconds = timeLimit;
    for (auto [i, layerCandidates] : llvm::enumerate(candidates)) {
      if (layerCandidates.empty())
        return fail(layers[i].op, "layer '" + layers[i].name +
                                      "' (K = " + Twine(layers[i].k) +
                                      ") fits no candidate group size");
      std::vector<AllocationCandidate> options;
      for (const Candidate &c : layerCandidates)
        options.push_back({c.bits, c.error});
      problem.layers.push_back(std::move(options));
    }
    double least = minimumCost(problem);
    if (least > problem.budget)
      return fail(module, "budget '" + budget +
                              "' is below the cheapest "
                              "choice of the candidates: the least feasible "
                              "budget is " +
                              budgetValue->format(least, weights));
    llvm::Expected<AllocationResult> solved = solveAllocation(problem);
    if (!solved)
      return fail(module, llvm::toString(solved.takeError()));
    if (solved->timedOut && !solved->optimal)
      module.emitWarning() << getArgument() << ": the solver stopped at the "
                           << "time limit (" << timeLimit
                           << " s) with the best choice found; optimality "
                           << "gap " << llvm::formatv("{0:e2}", solved->gap);

    Builder b(&getContext());
    for (auto [i, layer] : llvm::enumerate(layers)) {
      const Candidate &c = candidates[i][solved->choice[i]];
      double numel = static_cast<double>(layer.k) * layer.n;
      layer.op->setAttr(
          LowbitDialect::AllocationAttrHelper::getNameStr(),
          b.getDictionaryAttr({
              b.getNamedAttr("bits", b.getI64IntegerAttr(c.scheme.bits)),
              b.getNamedAttr("group", b.getI64IntegerAttr(c.scheme.group)),
              b.getNamedAttr("outlier_fraction",
                             b.getF64FloatAttr(c.scheme.outlierFraction)),
              b.getNamedAttr("error", b.getF64FloatAttr(c.error)),
              b.getNamedAttr("cost", b.getF64FloatAttr(c.bits / numel)),
          }));
    }
    module->setAttr(
        LowbitDialect::AllocationAttrHelper::getNameStr(),
        b.getDictionaryAttr({
            b.getNamedAttr("budget", b.getStringAttr(budget)),
            b.getNamedAttr("method", b.getStringAttr(method)),
            b.getNamedAttr("error_measure", b.getStringAttr(errorMeasure)),
            b.getNamedAttr("layers", b.getI64IntegerAttr(layers.size())),
            b.getNamedAttr("bits_per_weight",
                           b.getF64FloatAttr(solved->cost / weights)),
            b.getNamedAttr("error", b.getF64FloatAttr(solved->error)),
            b.getNamedAttr("bound", b.getF64FloatAttr(solved->bound)),
            b.getNamedAttr("gap", b.getF64FloatAttr(solved->gap)),
            b.getNamedAttr("optimal", b.getBoolAttr(solved->optimal)),
            b.getNamedAttr("candidates", b.getI64IntegerAttr(schemes->size())),
            b.getNamedAttr("undominated",
                           b.getI64IntegerAttr(solved->candidates)),
            b.getNamedAttr("measure_seconds",
                           b.getF64FloatAttr(measureSeconds)),
            b.getNamedAttr("solve_seconds", b.getF64FloatAttr(solved->seconds)),
        }));
  }
};

} // namespace
