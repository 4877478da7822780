//===- Calibrate.cpp - Running a model on calibration data ------*- C++ -*-===//

#include "lowbit/Calibration/Calibrate.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Support/Progress.h"
#include "lowbit/Target/Artifact.h"
#include "lowbit/runtime.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "," : "") + std::to_string(d);
  return s + "]";
}

} // namespace

/// The index of the first NaN or infinite element of a float array.
static std::optional<int64_t> firstNonFinite(const NpyArray &a) {
  int64_t n = a.numElements();
  const char *p = a.data.data();
  for (int64_t i = 0; i < n; ++i) {
    bool finite = true;
    if (a.dtype == "f32") {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      finite = std::isfinite(v);
    } else if (a.dtype == "f64") {
      double v;
      std::memcpy(&v, p + 8 * i, 8);
      finite = std::isfinite(v);
    } else if (a.dtype == "f16" || a.dtype == "bf16") {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      uint16_t exponent = a.dtype == "f16" ? 0x7c00 : 0x7f80;
      finite = (v & exponent) != exponent;
    } else {
      return std::nullopt;
    }
    if (!finite)
      return i;
  }
  return std::nullopt;
}

FailureOr<CalibrationData>
mlir::lowbit::loadCalibrationData(StringRef path, ModuleOp module,
                                  StringRef entry, std::string &error) {
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func) {
    error = "the model has no entry function '" + entry.str() + "'";
    return failure();
  }
  CalibrationData data;
  data.source = path.str();
  bool isDir = llvm::sys::fs::is_directory(path);
  if (!isDir && func.getNumArguments() != 1) {
    error = path.str() + ": the model has " +
            std::to_string(func.getNumArguments()) +
            " inputs; give a directory with one <input name>.npy per input";
    return failure();
  }
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(i, "onnx.name");
    std::string name = nameAttr ? nameAttr.str() : "arg" + std::to_string(i);
    std::string file = path.str();
    if (isDir) {
      llvm::SmallString<256> p(path);
      llvm::sys::path::append(p, name + ".npy");
      file = p.str().str();
    }
    llvm::Expected<NpyArray> array = readNpy(file);
    if (!array) {
      error = llvm::toString(array.takeError()) +
              " (calibration data of input '" + name + "')";
      return failure();
    }
    auto type = cast<RankedTensorType>(func.getArgumentTypes()[i]);
    bool isUnsigned =
        func.getArgAttr(i, LowbitDialect::UnsignedAttrHelper::getNameStr()) !=
        nullptr;
    std::string want = artifactDtype(type.getElementType(), isUnsigned);
    if (array->dtype != want) {
      error = file + ": input '" + name + "' takes " + want +
              ", the file has " + array->dtype;
      return failure();
    }
    ArrayRef<int64_t> shape = array->shape;
    ArrayRef<int64_t> wantShape = type.getShape();
    bool fits =
        !shape.empty() && (shape.drop_front() == wantShape ||
                           (!wantShape.empty() && wantShape.front() == 1 &&
                            shape.drop_front() == wantShape.drop_front()));
    if (!fits) {
      error =
          file + ": input '" + name + "' has shape " + shapeText(wantShape) +
          "; calibration data must be [samples, ...that shape] (a leading 1 "
          "may be dropped), the file has " +
          shapeText(shape);
      return failure();
    }
    if (shape.front() == 0) {
      error = file + ": the calibration set is empty (0 samples)";
      return failure();
    }
    if (i > 0 && shape.front() != data.samples) {
      error = file + ": " + std::to_string(shape.front()) +
              " samples, input '" + data.inputs.front().first + "' has " +
              std::to_string(data.samples);
      return failure();
    }
    if (std::optional<int64_t> bad = firstNonFinite(*array)) {
      int64_t perSample = array->numElements() / shape.front();
      error = file + ": input '" + name + "' sample " +
              std::to_string(*bad / perSample) +
              " has a NaN or infinite value "
              "(element " +
              std::to_string(*bad) + "); calibration data must be finite";
      return failure();
    }
    data.samples = shape.front();
    data.inputs.emplace_back(name, std::move(*array));
  }
  return data;
}

FailureOr<CalibrationStats>
mlir::lowbit::runCalibration(ModuleOp module, const CalibrationData &data,
                             const CalibrationOptions &options,
                             raw_ostream &log) {
  // Sites: name -> channels, rows per run.
  struct Site {
    std::string name;
    int64_t channels, rows;
  };
  std::vector<Site> sites;
  module.walk([&](CalibrateOp op) {
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t c = type.getDimSize(op.getChannelAxis());
    sites.push_back({op.getSite().str(), c, type.getNumElements() / c});
  });
  if (sites.empty()) {
    module.emitError() << "calibration: the model has no calibration site";
    return failure();
  }
  int64_t maxRowsNeeded = 0, channelsMax = 0;
  for (const Site &s : sites)
    channelsMax = std::max(channelsMax, s.channels);
  int64_t samples = options.maxSamples > 0
                        ? std::min(options.maxSamples, data.samples)
                        : data.samples;
  maxRowsNeeded = sites.front().rows * samples;
  if (maxRowsNeeded < channelsMax)
    log << llvm::formatv(
        "warning: {0} calibration rows for inputs of up to {1} channels: the "
        "Hessians are rank-deficient; GPTQ relies on its damping\n",
        maxRowsNeeded, channelsMax);

  // The instrumented model: statistics as results, compiled.
  OwningOpRef<ModuleOp> instrumented(module.clone());
  PassManager pm(module.getContext());
  LowbitExposeCalibrationPassOptions expose;
  expose.entry = options.entry;
  expose.onlyStatistics = true;
  expose.tokenCap = options.tokenCap;
  pm.addPass(createLowbitExposeCalibrationPass(expose));
  if (failed(pm.run(*instrumented)))
    return failure();
  auto t0 = std::chrono::steady_clock::now();
  ArtifactOptions artifact;
  artifact.outDir = options.workDir;
  artifact.target = options.target;
  artifact.entry = options.entry;
  artifact.source = "calibration of " + data.source;
  log << "calibration: compiling the instrumented model (" << sites.size()
      << " sites)\n";
  std::string compileLog;
  llvm::raw_string_ostream compileOs(compileLog);
  if (failed(writeArtifact(*instrumented, artifact, compileOs))) {
    log << compileLog;
    return failure();
  }
  instrumented = nullptr;

  lowbit_model *model = nullptr;
  char err[1024];
  if (lowbit_model_load(options.workDir.c_str(), &model, err, sizeof err)) {
    module.emitError() << "calibration: " << err;
    return failure();
  }
  llvm::scope_exit release([&] { lowbit_model_free(model); });

  // Outputs: calib:<site>:<stat>, five per site.
  llvm::StringMap<int32_t> outputIndex;
  int32_t numOutputs = lowbit_model_num_outputs(model);
  std::vector<std::vector<char>> outputs(numOutputs);
  std::vector<void *> outputPtrs(numOutputs);
  for (int32_t i = 0; i < numOutputs; ++i) {
    const lowbit_tensor_info *info = lowbit_model_output(model, i);
    outputIndex[info->name] = i;
    outputs[i].resize(info->num_elements * info->element_bytes);
    outputPtrs[i] = outputs[i].data();
  }
  CalibrationStats stats;
  stats.model = data.source;
  std::vector<std::array<const float *, 5>> siteOutputs;
  for (const Site &s : sites) {
    stats.sites.emplace_back(s.name, s.channels);
    std::array<const float *, 5> ptrs;
    static constexpr const char *kStats[] = {"abs_max", "min", "max", "sum",
                                             "hessian"};
    for (auto [j, stat] : llvm::enumerate(kStats)) {
      auto it = outputIndex.find("calib:" + s.name + ":" + stat);
      if (it == outputIndex.end()) {
        module.emitError() << "calibration: the instrumented artifact lacks "
                           << "calib:" << s.name << ":" << stat;
        return failure();
      }
      ptrs[j] = reinterpret_cast<const float *>(outputs[it->second].data());
    }
    siteOutputs.push_back(ptrs);
  }

  int32_t numInputs = lowbit_model_num_inputs(model);
  if (numInputs != static_cast<int32_t>(data.inputs.size())) {
    module.emitError() << "calibration: the artifact has " << numInputs
                       << " inputs, the data " << data.inputs.size();
    return failure();
  }
  std::vector<int64_t> sampleBytes;
  for (int32_t i = 0; i < numInputs; ++i) {
    const lowbit_tensor_info *info = lowbit_model_input(model, i);
    sampleBytes.push_back(info->num_elements * info->element_bytes);
  }
  log << llvm::formatv("calibration: {0} samples, {1} sites\n", samples,
                       sites.size());
  {
    Progress progress(options.progress, "calibrate", samples, "samples");
    std::vector<const void *> inputPtrs(numInputs);
    for (int64_t s = 0; s < samples; ++s) {
      for (int32_t i = 0; i < numInputs; ++i)
        inputPtrs[i] = data.inputs[i].second.data.data() + s * sampleBytes[i];
      if (lowbit_model_run(model, inputPtrs.data(), outputPtrs.data(),
                           options.threads, err, sizeof err)) {
        module.emitError() << "calibration: sample " << s << ": " << err;
        return failure();
      }
      for (auto [k, site] : llvm::enumerate(sites)) {
        const std::array<const float *, 5> &o = siteOutputs[k];
        stats.sites[k].accumulate(site.rows, o[0], o[1], o[2], o[3], o[4]);
      }
      ++stats.samples;
      progress.advance();
    }
  }
  // A site whose statistics are not finite means a model that overflows on
  // this data: say which instead of quantizing with NaN.
  for (const SiteStats &s : stats.sites)
    for (double h : s.hessian)
      if (!std::isfinite(h)) {
        module.emitError() << "calibration: site '" << s.name
                           << "' saw non-finite activations";
        return failure();
      }
  log << llvm::formatv(
      "calibration: {0:f1} s (compile and {1} runs)\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count(),
      samples);
  return stats;
}
