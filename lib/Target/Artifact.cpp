//===- Artifact.cpp - Writing a native artifact -----------------*- C++ -*-===//
//
// Records the entry's interface, runs lowbit-cpu-pipeline, writes
// weights.bin from the outlined weights' values, the GPU kernels' files
// (CUDA targets), the object file and model.so with its C wrapper, and
// manifest.json. What the runtime must agree with comes from
// runtime/include/lowbit/artifact.h.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Artifact.h"
#include "CPU/CWrapper.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Target/CPU/ObjectFile.h"
#include "lowbit/Target/GPU/GPUArtifact.h"
#include "lowbit/Target/OutputFile.h"
#include "lowbit/Target/Targets.h"
#include "lowbit/artifact.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// One tensor of the entry function's interface.
struct TensorInfo {
  std::string name, dtype;
  SmallVector<int64_t> shape;
  uint64_t offset = 0, bytes = 0; // weights only
  ArrayRef<char> data;            // weights only
};

/// A name as a single token of the metadata text.
std::string encodeName(StringRef name) {
  std::string in = name.str();
  std::string out(3 * in.size() + 2, '\0');
  out.resize(lowbit_artifact_encode_name(in.c_str(), &out[0], out.size()));
  return out;
}

LogicalResult collectInterface(func::FuncOp func, bool results,
                               SmallVectorImpl<TensorInfo> &out) {
  ArrayRef<Type> types =
      results ? func.getResultTypes() : func.getArgumentTypes();
  for (auto [i, t] : llvm::enumerate(types)) {
    auto type = dyn_cast<RankedTensorType>(t);
    DictionaryAttr attrs =
        results ? func.getResultAttrDict(i) : func.getArgAttrDict(i);
    auto name = attrs ? attrs.getAs<StringAttr>("onnx.name") : StringAttr();
    std::string label =
        name ? name.str()
             : (results ? "output_" : "input_") + std::to_string(i);
    if (!type || !type.hasStaticShape())
      return func.emitError() << (results ? "output '" : "input '") << label
                              << "' has a dynamic shape " << t
                              << "; compile with --input-shape=NAME:DIMS";
    bool isUnsigned =
        attrs && attrs.get(LowbitDialect::UnsignedAttrHelper::getNameStr());
    std::string dtype = artifactDtype(type.getElementType(), isUnsigned);
    if (dtype.empty())
      return func.emitError() << (results ? "output '" : "input '") << label
                              << "' has element type " << type.getElementType()
                              << ", which artifacts do not support";
    out.push_back({label, dtype, SmallVector<int64_t>(type.getShape())});
  }
  return success();
}

/// The outlined weights: the entry's arguments after the inputs, their
/// values in the module attribute lowbit-cpu-outline-weights wrote.
LogicalResult collectWeights(ModuleOp module,
                             SmallVectorImpl<TensorInfo> &weights) {
  StringRef attrName = LowbitDialect::WeightsAttrHelper::getNameStr();
  auto values = module->getAttrOfType<ArrayAttr>(attrName);
  if (!values)
    return success();
  uint64_t offset = LOWBIT_WEIGHTS_HEADER_BYTES;
  for (auto [i, value] : llvm::enumerate(values)) {
    auto typed = dyn_cast<TypedAttr>(value);
    auto type = typed ? dyn_cast<RankedTensorType>(typed.getType()) : nullptr;
    if (!type)
      return module.emitError() << "weight " << i << " is not a tensor";
    TensorInfo w;
    w.name = "weight_" + std::to_string(i);
    w.dtype = artifactDtype(type.getElementType(), false);
    w.shape.assign(type.getShape().begin(), type.getShape().end());
    if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
      AsmResourceBlob *blob = res.getRawHandle().getBlob();
      if (!blob)
        return module.emitError() << "weight " << i << " has no data";
      w.data = blob->getData();
    } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      if (dense.isSplat() || type.getElementType().isInteger(1))
        return module.emitError()
               << "weight " << i << " is a splat or boolean constant";
      w.data = dense.getRawData();
    } else {
      return module.emitError() << "weight " << i << " has no constant value";
    }
    int64_t elementBytes = lowbit_artifact_dtype_bytes(w.dtype.c_str());
    w.bytes = type.getNumElements() * elementBytes;
    if (elementBytes == 0 || w.data.size() != w.bytes)
      return module.emitError()
             << "weight " << i << " (" << type << ") has " << w.data.size()
             << " bytes of data; expected " << w.bytes;
    w.offset = offset;
    offset = llvm::alignTo(offset + w.bytes, LOWBIT_WEIGHTS_ALIGNMENT);
    weights.push_back(std::move(w));
  }
  return success();
}

class StepTimer {
public:
  explicit StepTimer(raw_ostream &log) : log(log) {}
  void step(StringRef what) {
    auto now = std::chrono::steady_clock::now();
    log << llvm::formatv("  {0,-28} {1,7:f2} s\n", what,
                         std::chrono::duration<double>(now - last).count());
    last = now;
  }

private:
  raw_ostream &log;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

/// The pipeline options for `options`, with the target's notes in `log`.
FailureOr<TargetSpec> pipelineFor(const ArtifactOptions &options,
                                  CPUPipelineOptions &pipeline,
                                  raw_ostream &log, Location loc) {
  std::string error;
  FailureOr<TargetSpec> spec = resolveTarget(options.target, error);
  if (failed(spec))
    return emitError(loc) << error;
  KernelRequest request;
  request.entry = options.entry;
  request.optimize = options.optimize;
  request.prefetchDistance = options.prefetchDistance;
  request.int8Activations = options.int8Activations;
  request.int8OutlierThreshold = options.int8OutlierThreshold;
  request.lutKernels = options.lutKernels;
  std::string notes;
  setCPUPipelineOptions(*spec, request, pipeline, notes);
  log << notes;
  return spec;
}

/// Runs lowbit-cpu-pipeline with `pipeline`, logging its textual form
/// (`quant-opt --lowbit-cpu-pipeline=...` replays it).
LogicalResult runPipeline(ModuleOp module, const CPUPipelineOptions &pipeline,
                          const ArtifactOptions &options, raw_ostream &log) {
  std::string text;
  llvm::raw_string_ostream os(text);
  pipeline.print(os);
  log << "  pipeline: lowbit-cpu-pipeline" << text << "\n";
  PassManager pm(module.getContext());
  buildCPUPipeline(pm, pipeline);
  if (options.configurePassManager && failed(options.configurePassManager(pm)))
    return failure();
  return pm.run(module);
}

} // namespace

std::string mlir::lowbit::artifactDtype(Type t, bool isUnsigned) {
  const lowbit_artifact_dtype *d = nullptr;
  if (t.isBF16())
    d = lowbit_artifact_dtype_of('b', 16);
  else if (isa<FloatType>(t))
    d = lowbit_artifact_dtype_of('f', t.getIntOrFloatBitWidth());
  else if (auto it = dyn_cast<IntegerType>(t))
    d = it.getWidth() == 1
            ? lowbit_artifact_dtype_of('?', 8)
            : lowbit_artifact_dtype_of(
                  isUnsigned || it.isUnsigned() ? 'u' : 'i', it.getWidth());
  return d ? d->name : "";
}

LogicalResult mlir::lowbit::lowerToLLVMDialect(ModuleOp module,
                                               const ArtifactOptions &options,
                                               raw_ostream &log) {
  CPUPipelineOptions pipeline;
  if (failed(pipelineFor(options, pipeline, log, module.getLoc())))
    return failure();
  return runPipeline(module, pipeline, options, log);
}

LogicalResult mlir::lowbit::writeObjectFile(ModuleOp module,
                                            const ArtifactOptions &options,
                                            StringRef path, raw_ostream &log) {
  std::string error;
  FailureOr<TargetSpec> spec = resolveTarget(options.target, error);
  if (failed(spec))
    return emitError(module.getLoc()) << error;
  if (!spec->gpuChip.empty())
    return emitError(module.getLoc())
           << "--emit=obj takes CPU targets: a '" << spec->name
           << "' artifact's kernels go to model.ptx and model.cubin beside "
              "its host object (use --emit=artifact)";
  module->removeAttr(LowbitDialect::WeightsAttrHelper::getNameStr());
  StepTimer timer(log);
  return emitObjectFile(module, *spec, path, "",
                        [&](StringRef step) { timer.step(step); });
}

LogicalResult mlir::lowbit::writeArtifact(ModuleOp module,
                                          const ArtifactOptions &options,
                                          raw_ostream &log) {
  Location loc = module.getLoc();
  StepTimer timer(log);
  auto func = module.lookupSymbol<func::FuncOp>(options.entry);
  if (!func)
    return emitError(loc) << "no entry function @" << options.entry;
  SmallVector<TensorInfo> inputs, outputs, weights;
  if (failed(collectInterface(func, false, inputs)) ||
      failed(collectInterface(func, true, outputs)))
    return failure();

  // The whole pipeline; the weights' values are on the module after it.
  CPUPipelineOptions pipeline;
  FailureOr<TargetSpec> spec = pipelineFor(options, pipeline, log, loc);
  if (failed(spec))
    return failure();
  if (failed(runPipeline(module, pipeline, options, log)))
    return failure();
  timer.step("kernels to LLVM dialect");
  if (failed(collectWeights(module, weights)))
    return failure();

  // weights.bin: a header, then each weight aligned.
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outDir))
    return emitError(loc) << "cannot create " << options.outDir << ": "
                          << ec.message();
  auto path = [&](StringRef file) {
    SmallString<256> p(options.outDir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  uint64_t end =
      weights.empty()
          ? LOWBIT_WEIGHTS_HEADER_BYTES
          : llvm::alignTo(weights.back().offset + weights.back().bytes,
                          LOWBIT_WEIGHTS_ALIGNMENT);
  std::vector<char> weightsFile(end, 0);
  std::string header = llvm::formatv("{0}{1}", LOWBIT_WEIGHTS_MAGIC,
                                     LOWBIT_ARTIFACT_FORMAT_VERSION)
                           .str();
  std::copy(header.begin(), header.end(), weightsFile.begin());
  for (const TensorInfo &w : weights)
    std::copy(w.data.begin(), w.data.end(), weightsFile.begin() + w.offset);
  uint64_t fingerprint =
      lowbit_artifact_fingerprint(weightsFile.data(), weightsFile.size());
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path("weights.bin"), ec);
    if (ec)
      return emitError(loc) << "cannot write weights.bin: " << ec.message();
    os.write(weightsFile.data(), weightsFile.size());
    if (failed(closeChecked(os, path("weights.bin"), loc)))
      return failure();
  }
  size_t weightsBytes = weightsFile.size();
  weightsFile = {};
  module->removeAttr(LowbitDialect::WeightsAttrHelper::getNameStr());
  timer.step("write weights.bin");

  GPUArtifactOptions gpuOptions;
  gpuOptions.chip = spec->gpuChip;
  gpuOptions.keepIntermediates = options.keepIntermediates;
  gpuOptions.ptxas = options.ptxas;
  FailureOr<GPUFiles> gpu = writeGPUFiles(module, gpuOptions, path, log);
  if (failed(gpu))
    return failure();
  if (!spec->gpuChip.empty())
    timer.step("GPU kernels: PTX, cubin");

  std::string objectPath = path("model.o");
  if (failed(emitObjectFile(module, *spec, objectPath,
                            options.keepIntermediates ? path("model.ll")
                                                      : std::string(),
                            [&](StringRef step) { timer.step(step); })))
    return failure();

  std::string featureError;
  FailureOr<SmallVector<std::string>> features =
      compiledCPUFeatures(*spec, featureError);
  if (failed(features))
    return emitError(loc) << "CPU features of " << spec->triple << ": "
                          << featureError;

  // The C wrapper: metadata text and the entry taking descriptor pointers.
  unsigned numArgs = inputs.size() + weights.size() + outputs.size();
  std::string meta;
  llvm::raw_string_ostream m(meta);
  m << "lowbit-artifact " << LOWBIT_ARTIFACT_FORMAT_VERSION << "\n";
  m << "target " << spec->triple << " " << spec->cpu << "\n";
  m << "features";
  for (const std::string &f : *features)
    m << " " << f;
  m << "\n";
  m << "weights weights.bin " << weightsBytes << " " << fingerprint << "\n";
  auto tensorLine = [&](StringRef kind, const TensorInfo &t) {
    m << kind << " " << encodeName(t.name) << " " << t.dtype << " "
      << t.shape.size();
    for (int64_t d : t.shape)
      m << " " << d;
    if (kind == "weight")
      m << " " << t.offset << " " << t.bytes;
    m << "\n";
  };
  for (const TensorInfo &t : inputs)
    tensorLine("input", t);
  for (const TensorInfo &t : outputs)
    tensorLine("output", t);
  for (const TensorInfo &t : weights)
    tensorLine("weight", t);
  m << gpu->metadata;
  std::string wrapper =
      generateCWrapper(options.entry, numArgs, meta, gpu->numKernels > 0);
  std::string wrapperPath = path("lowbit_wrapper.c");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(wrapperPath, ec);
    if (ec)
      return emitError(loc) << "cannot write the wrapper: " << ec.message();
    os << wrapper;
    if (failed(closeChecked(os, wrapperPath, loc)))
      return failure();
  }
  if (failed(linkSharedLibrary(*spec, pipeline.threads, path("model.so"),
                               objectPath, wrapperPath, loc)))
    return failure();
  llvm::sys::fs::remove(objectPath);
  if (!options.keepIntermediates)
    llvm::sys::fs::remove(wrapperPath);
  timer.step("link model.so");

  // manifest.json, for people and tools.
  llvm::json::Array jin, jout;
  auto tensorJson = [](const TensorInfo &t) {
    llvm::json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    return llvm::json::Object{
        {"name", t.name}, {"dtype", t.dtype}, {"shape", std::move(shape)}};
  };
  for (const TensorInfo &t : inputs)
    jin.push_back(tensorJson(t));
  for (const TensorInfo &t : outputs)
    jout.push_back(tensorJson(t));
  uint64_t weightBytes = 0;
  for (const TensorInfo &t : weights)
    weightBytes += t.bytes;
  llvm::json::Array required;
  for (const std::string &f : *features)
    required.push_back(f);
  llvm::json::Object manifest{
      {"format", "lowbit-artifact"},
      {"format_version", LOWBIT_ARTIFACT_FORMAT_VERSION},
      {"source", options.source},
      {"entry", options.entry},
      {"inputs", std::move(jin)},
      {"outputs", std::move(jout)},
      {"target",
       llvm::json::Object{{"name", options.target},
                          {"triple", spec->triple},
                          {"cpu", spec->cpu},
                          {"required_features", std::move(required)}}},
      {"weights",
       llvm::json::Object{
           {"file", "weights.bin"},
           {"count", (int64_t)weights.size()},
           {"bytes", (int64_t)weightBytes},
           {"file_bytes", (int64_t)weightsBytes},
           {"fingerprint", llvm::formatv("{0:x16}", fingerprint).str()}}},
      {"gpu", gpu->manifest(spec->gpuChip)},
      {"scheme", "fp32 (no quantized weights)"},
      {"optimized", options.optimize},
      {"versions", llvm::json::Object{{"llvm", LLVM_VERSION_STRING}}},
  };
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path("manifest.json"), ec);
    if (ec)
      return emitError(loc) << "cannot write manifest.json: " << ec.message();
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)))
       << "\n";
    if (failed(closeChecked(os, path("manifest.json"), loc)))
      return failure();
  }
  return success();
}
