//===- Sensitivity.cpp - How much each layer's error matters ----*- C++ -*-===//

#include "lowbit/Calibration/Sensitivity.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Support/Progress.h"
#include "lowbit/Target/Artifact.h"
#include "lowbit/runtime.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::lowbit;

LogicalResult
mlir::lowbit::measureSensitivity(ModuleOp module, const CalibrationData &data,
                                 const SensitivityOptions &options,
                                 raw_ostream &log) {
  auto t0 = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> probed(module.clone());
  {
    PassManager pm(module.getContext());
    LowbitInsertSensitivityProbesPassOptions o;
    o.include = options.include;
    o.exclude = options.exclude;
    o.minSize = options.minSize;
    pm.addPass(createLowbitInsertSensitivityProbesPass(o));
    if (failed(pm.run(*probed)))
      return failure();
  }
  // The probed layers, by index: name and the probe's relative error.
  struct Layer {
    std::string name;
    double probeError = 0;
    double change = 0;
  };
  std::vector<Layer> layers;
  probed->walk([&](Operation *op) {
    auto probe = op->getAttrOfType<DictionaryAttr>(
        LowbitDialect::ProbeAttrHelper::getNameStr());
    if (!probe)
      return;
    std::optional<LinearLayer> layer = matchLinearLayer(op);
    size_t index = probe.getAs<IntegerAttr>("index").getInt();
    if (layers.size() <= index)
      layers.resize(index + 1);
    layers[index].name = layer ? layer->name : "?";
    layers[index].probeError =
        probe.getAs<FloatAttr>("error").getValueAsDouble();
  });

  ArtifactOptions artifact;
  artifact.outDir = options.workDir;
  artifact.source = "sensitivity probes of " + data.source;
  log << "sensitivity: compiling the model with " << layers.size()
      << " layer probes\n";
  std::string compileLog;
  llvm::raw_string_ostream compileOs(compileLog);
  if (failed(writeArtifact(*probed, artifact, compileOs))) {
    log << compileLog;
    return failure();
  }
  probed = nullptr;
  lowbit_model *model = nullptr;
  char err[1024];
  if (lowbit_model_load(options.workDir.c_str(), &model, err, sizeof err))
    return module.emitError() << "sensitivity: " << err;
  llvm::scope_exit release([&] { lowbit_model_free(model); });

  int32_t numInputs = lowbit_model_num_inputs(model);
  if (numInputs != static_cast<int32_t>(data.inputs.size()) + 1)
    return module.emitError()
           << "sensitivity: the probe artifact has " << numInputs
           << " inputs, the data " << data.inputs.size() << " (+ the probe)";
  const lowbit_tensor_info *probeInfo =
      lowbit_model_input(model, numInputs - 1);
  if (std::strcmp(probeInfo->name, "lowbit:probe") != 0 ||
      probeInfo->num_elements != static_cast<int64_t>(layers.size()))
    return module.emitError() << "sensitivity: the last input is '"
                              << probeInfo->name << "', not the probe";
  std::vector<int64_t> sampleBytes;
  for (int32_t i = 0; i + 1 < numInputs; ++i) {
    const lowbit_tensor_info *info = lowbit_model_input(model, i);
    sampleBytes.push_back(info->num_elements * info->element_bytes);
  }
  int32_t numOutputs = lowbit_model_num_outputs(model);
  std::vector<std::vector<char>> base(numOutputs), out(numOutputs);
  std::vector<void *> basePtrs(numOutputs), outPtrs(numOutputs);
  std::vector<bool> isFloat(numOutputs);
  for (int32_t i = 0; i < numOutputs; ++i) {
    const lowbit_tensor_info *info = lowbit_model_output(model, i);
    base[i].resize(info->num_elements * info->element_bytes);
    out[i].resize(base[i].size());
    basePtrs[i] = base[i].data();
    outPtrs[i] = out[i].data();
    isFloat[i] = std::strcmp(info->dtype, "f32") == 0;
  }
  if (llvm::none_of(isFloat, [](bool f) { return f; }))
    return module.emitError() << "sensitivity: the model has no f32 output";

  int64_t samples = std::min(options.samples, data.samples);
  std::vector<float> probe(layers.size(), 0.0f);
  std::vector<const void *> inputs(numInputs);
  inputs.back() = probe.data();
  double baseEnergy = 0;
  {
    Progress progress(options.progress, "sensitivity",
                      samples * (layers.size() + 1), "runs");
    for (int64_t s = 0; s < samples; ++s) {
      for (int32_t i = 0; i + 1 < numInputs; ++i)
        inputs[i] = data.inputs[i].second.data.data() + s * sampleBytes[i];
      std::fill(probe.begin(), probe.end(), 0.0f);
      if (lowbit_model_run(model, inputs.data(), basePtrs.data(),
                           options.threads, err, sizeof err))
        return module.emitError() << "sensitivity: sample " << s << ": " << err;
      progress.advance();
      for (int32_t o = 0; o < numOutputs; ++o)
        if (isFloat[o]) {
          const float *y = reinterpret_cast<const float *>(base[o].data());
          for (size_t e = 0; e < base[o].size() / 4; ++e)
            baseEnergy += static_cast<double>(y[e]) * y[e];
        }
      for (size_t l = 0; l < layers.size(); ++l) {
        probe[l] = 1.0f;
        if (lowbit_model_run(model, inputs.data(), outPtrs.data(),
                             options.threads, err, sizeof err))
          return module.emitError()
                 << "sensitivity: sample " << s << ", layer '" << layers[l].name
                 << "': " << err;
        probe[l] = 0.0f;
        for (int32_t o = 0; o < numOutputs; ++o)
          if (isFloat[o]) {
            const float *y = reinterpret_cast<const float *>(base[o].data());
            const float *z = reinterpret_cast<const float *>(out[o].data());
            for (size_t e = 0; e < base[o].size() / 4; ++e) {
              double d = static_cast<double>(z[e]) - y[e];
              layers[l].change += d * d;
            }
          }
        progress.advance();
      }
    }
  }
  if (!(baseEnergy > 0) || !std::isfinite(baseEnergy))
    return module.emitError()
           << "sensitivity: the model's outputs are zero or not finite";

  // Record on the module's layers, by name.
  llvm::StringMap<const Layer *> byName;
  for (Layer &l : layers) {
    l.change /= baseEnergy;
    byName[l.name] = &l;
  }
  std::string error;
  FailureOr<LayerFilter> all = LayerFilter::create("", "", error);
  Builder b(module.getContext());
  int64_t recorded = 0;
  for (const LinearLayer &layer : collectLinearLayers(module, *all)) {
    auto it = byName.find(layer.name);
    if (it == byName.end())
      continue;
    const Layer &l = *it->second;
    if (!std::isfinite(l.change))
      return layer.op->emitError() << "sensitivity: layer '" << layer.name
                                   << "' changes the output to non-finite "
                                      "values";
    // A probe that did not perturb (an exactly representable weight)
    // says nothing: importance 0, its error counts for nothing either.
    double importance = l.probeError > 0 ? l.change / l.probeError : 0.0;
    layer.op->setAttr(
        LowbitDialect::SensitivityAttrHelper::getNameStr(),
        b.getDictionaryAttr(
            {b.getNamedAttr("importance", b.getF64FloatAttr(importance)),
             b.getNamedAttr("output_change", b.getF64FloatAttr(l.change)),
             b.getNamedAttr("probe_error", b.getF64FloatAttr(l.probeError))}));
    ++recorded;
  }
  log << llvm::formatv(
      "sensitivity: {0} layers x {1} samples in {2:f1} s\n", recorded, samples,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count());
  return success();
}
