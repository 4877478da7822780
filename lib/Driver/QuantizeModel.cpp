//===- QuantizeModel.cpp - Calibrate and quantize a module ------*- C++ -*-===//
//
// Checks that every recipe rule names a layer, calibrates (an instrumented
// artifact run on the calibration data, or a statistics cache), attaches the
// statistics and runs lowbit-quantization-pipeline.
//
//===----------------------------------------------------------------------===//

#include "QuantizeModel.h"
#include "lowbit/Calibration/Calibrate.h"
#include "lowbit/Calibration/Sensitivity.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Driver/QuantReport.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <chrono>

using namespace mlir;
using namespace mlir::lowbit;

static double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

/// A pass manager with the driver's configuration applied.
static FailureOr<std::unique_ptr<PassManager>>
makePassManager(MLIRContext *ctx, const CompileOptions &options) {
  auto pm = std::make_unique<PassManager>(ctx);
  if (options.configurePassManager && failed(options.configurePassManager(*pm)))
    return failure();
  return pm;
}

/// Statistics of `module`'s calibration sites on `data`: the instrumented
/// artifact compiled into a scratch directory and run.
static FailureOr<CalibrationStats> calibrateOn(ModuleOp module,
                                               const CalibrationData &data,
                                               const CompileOptions &options,
                                               raw_ostream &log) {
  CalibrationOptions calibration;
  calibration.maxSamples = options.recipe->calibrationSamples;
  calibration.tokenCap = options.recipe->calibrationTokenCap;
  calibration.threads = options.threads;
  // The instrumented artifact goes to a directory of its own, whatever the
  // compile's output is (a file for the --emit phases before the artifact).
  SmallString<128> workDir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("lowbit-calibration", workDir))
    return module.emitError()
           << "cannot create a directory for calibration: " << ec.message();
  calibration.workDir = workDir.str().str();
  calibration.progress = options.progress;
  FailureOr<CalibrationStats> collected =
      runCalibration(module, data, calibration, log);
  llvm::sys::fs::remove_directories(calibration.workDir);
  return collected;
}

/// What the statistics depend on besides the model file: the rotation and
/// the Hessians' token cap (named only when set, so that older caches match).
static std::string rotationTag(const Recipe &recipe) {
  std::string tag = "rotation: none";
  if (recipe.rotate) {
    tag = "rotation: " + recipe.rotate->kind + " seed " +
          std::to_string(recipe.rotate->seed);
    for (const std::string &what : recipe.rotate->online)
      tag += " online " + what;
  }
  if (recipe.calibrationTokenCap > 0.0)
    tag += llvm::formatv(", token cap {0}",
                         llvm::format("%g", recipe.calibrationTokenCap))
               .str();
  return tag;
}

/// The statistics: from the cache, or collected on the calibration data
/// (and then saved to the cache). std::nullopt when there is neither.
static FailureOr<std::optional<CalibrationStats>>
collectStatistics(ModuleOp module, const CompileOptions &options,
                  raw_ostream &log) {
  const std::string &cache = options.calibCache;
  std::string tag = rotationTag(*options.recipe);
  if (!cache.empty() && llvm::sys::fs::exists(cache)) {
    llvm::Expected<CalibrationStats> loaded = CalibrationStats::load(cache);
    if (!loaded)
      return module.emitError() << llvm::toString(loaded.takeError());
    // Caches written before rotation existed name no rotation.
    std::string cachedTag = "rotation: none";
    if (size_t at = loaded->model.rfind("rotation: "); at != std::string::npos)
      cachedTag = loaded->model.substr(at);
    if (cachedTag != tag)
      return module.emitError()
             << cache << ": the statistics are of the model with '" << cachedTag
             << "', this compile's has '" << tag
             << "': give another --calib-cache or delete this one";
    log << "calibration: statistics from " << cache << " (" << loaded->samples
        << " samples)\n";
    return std::optional<CalibrationStats>(std::move(*loaded));
  }
  if (options.calibPath.empty())
    return std::optional<CalibrationStats>();
  std::string error;
  FailureOr<CalibrationData> data =
      loadCalibrationData(options.calibPath, module, "main", error);
  if (failed(data))
    return module.emitError() << error;
  FailureOr<CalibrationStats> collected =
      calibrateOn(module, *data, options, log);
  if (failed(collected))
    return failure();
  collected->model =
      llvm::sys::path::filename(options.input).str() + "; " + tag;
  if (!cache.empty()) {
    if (llvm::Error e = collected->save(cache))
      return module.emitError() << llvm::toString(std::move(e));
    log << "calibration: statistics saved to " << cache << "\n";
  }
  return std::optional<CalibrationStats>(std::move(*collected));
}

/// Calibration passes 2.. of the recipe (returns how many passes ran):
/// each quantizes a copy of `module`
/// with the statistics attached to it, runs that quantized model on the
/// calibration data and attaches its statistics to `module` in place of the
/// previous ones. The layers are then quantized from their float weights
/// with inputs as the quantized model sees them (closer to GPTQ's
/// sequential calibration than statistics of the float model are; see
/// docs/quantization.md). These statistics are not cached: they depend on
/// the recipe.
static FailureOr<int64_t>
recalibrate(ModuleOp module, const CompileOptions &options, raw_ostream &log) {
  const Recipe &recipe = *options.recipe;
  int64_t passes = recipe.calibrationPassCount();
  if (passes <= 1)
    return int64_t(1);
  if (options.calibPath.empty()) {
    if (recipe.calibrationPasses)
      return module.emitError()
             << recipe.source << ": calibration passes = " << passes
             << " needs the calibration data (--calib), not only statistics";
    log << "calibration: one pass (statistics only, no --calib for the "
           "second)\n";
    return int64_t(1);
  }
  std::string error;
  FailureOr<CalibrationData> data =
      loadCalibrationData(options.calibPath, module, "main", error);
  if (failed(data))
    return module.emitError() << error;
  for (int64_t pass = 2; pass <= passes; ++pass) {
    OwningOpRef<ModuleOp> quantized(module.clone());
    FailureOr<std::unique_ptr<PassManager>> pm =
        makePassManager(module.getContext(), options);
    if (failed(pm))
      return failure();
    buildQuantizationPipeline(**pm, recipe, /*progress=*/false);
    if (failed((*pm)->run(*quantized)))
      return failure();
    log << "calibration: pass " << pass << " of " << passes
        << ", on the model quantized with the statistics of pass " << pass - 1
        << "\n";
    FailureOr<CalibrationStats> stats =
        calibrateOn(*quantized, *data, options, log);
    if (failed(stats))
      return failure();
    std::string source = "calibration pass " + std::to_string(pass);
    if (failed(attachStatistics(module, *stats, source)))
      return failure();
  }
  return passes;
}

/// Each layer's sensitivity (Calibration/Sensitivity.h) on the first
/// calibration samples, for the allocation's weighting.
static LogicalResult measureLayerSensitivity(ModuleOp module,
                                             const CompileOptions &options,
                                             raw_ostream &log) {
  const Recipe &recipe = *options.recipe;
  if (options.calibPath.empty())
    return module.emitError()
           << recipe.source
           << ": the allocation weighs layers by their sensitivity, measured "
              "on the calibration data: give --calib (statistics alone are "
              "not enough), or set allocate: {sensitivity_samples: 0}";
  std::string error;
  FailureOr<CalibrationData> data =
      loadCalibrationData(options.calibPath, module, "main", error);
  if (failed(data))
    return module.emitError() << error;
  SmallString<128> workDir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("lowbit-sensitivity", workDir))
    return module.emitError()
           << "cannot create a directory for the sensitivity probes: "
           << ec.message();
  SensitivityOptions sensitivity;
  sensitivity.samples = recipe.allocate->sensitivitySamples;
  sensitivity.threads = options.threads;
  sensitivity.workDir = workDir.str().str();
  std::vector<Recipe::Pass> passes = recipe.passes();
  sensitivity.include = passes.back().include;
  sensitivity.exclude = passes.back().exclude;
  sensitivity.minSize = *passes.back().settings.minSize;
  sensitivity.progress = options.progress;
  LogicalResult measured = measureSensitivity(module, *data, sensitivity, log);
  llvm::sys::fs::remove_directories(sensitivity.workDir);
  return measured;
}

/// The allocation lowbit-allocate-bits recorded on `module`, logged, as
/// the report's "allocation" (with the recipe that replays it, as YAML).
static FailureOr<llvm::json::Object>
describeAllocation(ModuleOp module, const Recipe &recipe, raw_ostream &log) {
  auto summary = module->getAttrOfType<DictionaryAttr>(
      LowbitDialect::AllocationAttrHelper::getNameStr());
  if (!summary)
    return module.emitError() << "lowbit-allocate-bits left no summary";
  auto number = [&](StringRef key) {
    auto f = summary.getAs<FloatAttr>(key);
    return f ? f.getValueAsDouble() : 0.0;
  };
  auto integer = [&](StringRef key) -> int64_t {
    auto i = summary.getAs<IntegerAttr>(key);
    return i ? i.getInt() : 0;
  };
  auto optimal = summary.getAs<BoolAttr>("optimal");
  std::string error;
  FailureOr<LayerFilter> all = LayerFilter::create("", "", error);
  std::vector<Recipe::LayerScheme> chosen;
  for (const LinearLayer &layer : collectLinearLayers(module, *all))
    if (auto a = layer.op->getAttrOfType<DictionaryAttr>(
            LowbitDialect::AllocationAttrHelper::getNameStr()))
      chosen.push_back(
          {layer.name,
           static_cast<unsigned>(a.getAs<IntegerAttr>("bits").getInt()),
           a.getAs<IntegerAttr>("group").getInt(),
           a.getAs<FloatAttr>("outlier_fraction").getValueAsDouble()});
  log << llvm::formatv(
      "allocation: {0} layers within {1}: {2:f4} bits per weight, summed "
      "output error {3:e3}, {4} (gap {5:e2}); {6} candidates per layer "
      "measured in {7:f1} s, solved in {8:f2} s\n",
      integer("layers"), recipe.allocate->budget, number("bits_per_weight"),
      number("error"),
      optimal && optimal.getValue() ? "optimal" : "not proven optimal",
      number("gap"), integer("candidates"), number("measure_seconds"),
      number("solve_seconds"));
  return llvm::json::Object{{"budget", recipe.allocate->budget},
                            {"layers", integer("layers")},
                            {"bits_per_weight", number("bits_per_weight")},
                            {"error", number("error")},
                            {"bound", number("bound")},
                            {"gap", number("gap")},
                            {"optimal", optimal && optimal.getValue()},
                            {"candidates", integer("candidates")},
                            {"undominated_candidates", integer("undominated")},
                            {"measure_seconds", number("measure_seconds")},
                            {"solve_seconds", number("solve_seconds")},
                            {"recipe", recipe.toYaml(chosen)}};
}

LogicalResult mlir::lowbit::quantizeModel(ModuleOp module,
                                          const CompileOptions &options,
                                          llvm::json::Object &report,
                                          raw_ostream &log) {
  MLIRContext *ctx = module.getContext();
  const Recipe &recipe = *options.recipe;
  // Every rule must name some layer.
  std::string error;
  FailureOr<LayerFilter> all = LayerFilter::create("", "", error);
  std::vector<LinearLayer> layers = collectLinearLayers(module, *all);
  // A float compile (--method=none) of a model without linear layers (a
  // CNN: its convolutions are not quantized yet) has nothing to do here.
  bool allFloat = llvm::all_of(recipe.passes(), [](const Recipe::Pass &p) {
    return *p.settings.method == "none";
  });
  if (layers.empty() && allFloat && !recipe.smooth && !recipe.rotate) {
    log << "  no linear layer to quantize: the model stays in float\n";
    return success();
  }
  if (layers.empty())
    return module.emitError()
           << options.input << ": the model has no linear layer with a "
           << "constant f32 weight to quantize";
  for (auto [i, rule] : llvm::enumerate(recipe.rules)) {
    llvm::Regex re(rule.match);
    if (llvm::none_of(layers,
                      [&](const LinearLayer &l) { return re.match(l.name); }))
      return module.emitError()
             << recipe.source << ": rule " << i + 1 << " (match '" << rule.match
             << "') matches no layer of " << options.input
             << "; layers are named like '" << layers.front().name << "'";
  }
  int64_t bytesBefore = constantBytes(module);
  ReportTimes times;

  // Rotation: data-free, on the float model, before calibration.
  if (recipe.rotate) {
    auto tr = std::chrono::steady_clock::now();
    FailureOr<std::unique_ptr<PassManager>> pm = makePassManager(ctx, options);
    if (failed(pm))
      return failure();
    buildRotationPipeline(**pm, recipe);
    if (failed((*pm)->run(module)))
      return failure();
    times.rotation = secondsSince(tr);
    if (auto info = module->getAttrOfType<DictionaryAttr>(
            LowbitDialect::RotationAttrHelper::getNameStr()))
      log << llvm::formatv(
          "rotation: {0} ({1} channels; {2} layers read the residual stream, "
          "{3} write it; {5} inputs rotated online) in {4:f1} s\n",
          cast<StringAttr>(info.get("kind")).getValue(),
          cast<IntegerAttr>(info.get("dim")).getInt(),
          cast<IntegerAttr>(info.get("readers")).getInt(),
          cast<IntegerAttr>(info.get("writers")).getInt(), times.rotation,
          cast<IntegerAttr>(info.get("online")).getInt());
  }

  bool needStats = recipe.needsCalibration();
  int64_t calibrationPasses = 0; // for the report
  if (needStats || !options.calibPath.empty() || !options.calibCache.empty()) {
    FailureOr<std::unique_ptr<PassManager>> pm = makePassManager(ctx, options);
    if (failed(pm))
      return failure();
    LowbitInsertCalibrationPassOptions sites;
    sites.include = "";
    sites.exclude = "";
    (*pm)->addPass(createLowbitInsertCalibrationPass(sites));
    if (failed((*pm)->run(module)))
      return failure();
    auto t0 = std::chrono::steady_clock::now();
    FailureOr<std::optional<CalibrationStats>> stats =
        collectStatistics(module, options, log);
    if (failed(stats))
      return failure();
    if (!*stats && needStats)
      return module.emitError()
             << "the recipe uses "
             << (recipe.usesGptq() ? "gptq"
                 : recipe.smooth   ? "smoothing"
                 : recipe.allocate ? "bit allocation (a budget)"
                                   : "activation outlier channels (a "
                                     "threshold)")
             << ", which needs calibration data: give --calib (and "
                "optionally --calib-cache)";
    if (*stats && failed(attachStatistics(module, **stats,
                                          options.calibCache.empty()
                                              ? options.calibPath
                                              : options.calibCache)))
      return failure();
    if (*stats && recipe.smooth) {
      // Once, on the float model with the first statistics: the later
      // calibration passes see the smoothed model.
      auto ts = std::chrono::steady_clock::now();
      FailureOr<std::unique_ptr<PassManager>> pm =
          makePassManager(ctx, options);
      if (failed(pm))
        return failure();
      buildSmoothingPipeline(**pm, recipe, options.progress);
      if (failed((*pm)->run(module)))
        return failure();
      times.smoothing = secondsSince(ts);
      log << llvm::formatv("smoothing: {0} in {1:f1} s\n",
                           recipe.smooth->method, times.smoothing);
    }
    if (*stats && recipe.allocate) {
      // Once, on the first statistics (of the smoothed model): the later
      // calibration passes and the quantization use its choice.
      auto ta = std::chrono::steady_clock::now();
      if (recipe.allocate->sensitivitySamples > 0 &&
          failed(measureLayerSensitivity(module, options, log)))
        return failure();
      FailureOr<std::unique_ptr<PassManager>> pm =
          makePassManager(ctx, options);
      if (failed(pm))
        return failure();
      buildAllocationPipeline(**pm, recipe, options.progress);
      if (failed((*pm)->run(module)))
        return failure();
      times.allocation = secondsSince(ta);
      FailureOr<llvm::json::Object> allocation =
          describeAllocation(module, recipe, log);
      if (failed(allocation))
        return failure();
      report["allocation"] = std::move(*allocation);
    }
    if (*stats) {
      FailureOr<int64_t> passes = recalibrate(module, options, log);
      if (failed(passes))
        return failure();
      calibrationPasses = *passes;
    }
    times.calibration = secondsSince(t0) - times.smoothing - times.allocation;
  }

  auto t1 = std::chrono::steady_clock::now();
  FailureOr<std::unique_ptr<PassManager>> pm = makePassManager(ctx, options);
  if (failed(pm))
    return failure();
  buildQuantizationPipeline(**pm, recipe, options.progress);
  std::string pipeline;
  llvm::raw_string_ostream pipelineOs(pipeline);
  (*pm)->printAsTextualPipeline(pipelineOs);
  log << "quantization: " << pipeline << "\n";
  if (failed((*pm)->run(module)))
    return failure();
  times.quantization = secondsSince(t1);
  llvm::json::Object quantReport = printQuantReport(
      module, bytesBefore, times, options.progress ? log : llvm::nulls(),
      options.artifact.int8Activations ? options.artifact.int8OutlierThreshold
                                       : 0.0);
  if (llvm::json::Value *allocation = report.get("allocation"))
    quantReport["allocation"] = std::move(*allocation);
  report = std::move(quantReport);
  report["pipeline"] = pipeline;
  report["calibration_passes"] = calibrationPasses;
  if (auto info = module->getAttrOfType<DictionaryAttr>(
          LowbitDialect::RotationAttrHelper::getNameStr()))
    report["rotation"] = llvm::json::Object{
        {"kind", cast<StringAttr>(info.get("kind")).getValue().str()},
        {"seed", cast<IntegerAttr>(info.get("seed")).getInt()},
        {"dim", cast<IntegerAttr>(info.get("dim")).getInt()},
        {"readers", cast<IntegerAttr>(info.get("readers")).getInt()},
        {"writers", cast<IntegerAttr>(info.get("writers")).getInt()},
        {"online", cast<IntegerAttr>(info.get("online")).getInt()},
        {"seconds", times.rotation}};
  if (recipe.smooth) {
    llvm::json::Object smooth{{"method", recipe.smooth->method},
                              {"alpha_grid", recipe.smooth->alphaGrid}};
    if (recipe.smooth->alpha)
      smooth["alpha"] = *recipe.smooth->alpha;
    report["smooth"] = std::move(smooth);
  }
  return success();
}
