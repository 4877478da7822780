//===- Artifact.cpp - Writing a native CPU artifact -------------*- C++ -*-===//
//
// Runs the CPU pipeline in two halves (weights are read between them),
// writes weights.bin, translates to LLVM IR, optimises and emits an object
// with a TargetMachine, generates the C wrapper and links model.so with the
// system C compiler, and writes manifest.json.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/CPU/Artifact.h"
#include "CWrapper.h"
#include "lowbit/Target/CPU/Passes.h"
#include "lowbit/Target/GPU/GPUArtifact.h"
#include "lowbit/Target/GPU/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

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

/// The artifact's dtype name of an element type.
std::string dtypeName(Type t, bool isUnsigned) {
  if (t.isF32())
    return "f32";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (t.isF64())
    return "f64";
  if (auto it = dyn_cast<IntegerType>(t)) {
    if (it.getWidth() == 1)
      return "bool";
    return (isUnsigned || it.isUnsigned() ? "u" : "i") +
           std::to_string(it.getWidth());
  }
  return "";
}

/// Bytes per element of the dtypes the runtime knows (0: unknown).
int64_t dtypeBytes(StringRef dtype) {
  return llvm::StringSwitch<int64_t>(dtype)
      .Cases({"f32", "i32", "u32"}, 4)
      .Cases({"f16", "bf16", "i16", "u16"}, 2)
      .Cases({"f64", "i64", "u64"}, 8)
      .Cases({"i8", "u8", "bool"}, 1)
      .Default(0);
}

/// Names in the metadata text are single tokens: whitespace and '%' are
/// percent-encoded.
std::string encodeName(StringRef name) {
  std::string out;
  for (char c : name) {
    if (c == '%' || c <= ' ' || c == 127)
      out += llvm::formatv("%{0:X2}", (unsigned)(unsigned char)c).str();
    else
      out += c;
  }
  return out.empty() ? "_" : out;
}

/// 64-bit FNV-1a over the first and last 4 KiB and the size: a cheap check
/// that weights.bin belongs to this model.so.
uint64_t weightsFingerprint(ArrayRef<char> bytes) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](ArrayRef<char> part) {
    for (char c : part) {
      h ^= (unsigned char)c;
      h *= 1099511628211ull;
    }
  };
  size_t n = bytes.size(), k = std::min<size_t>(n, 4096);
  mix(bytes.take_front(k));
  mix(bytes.take_back(k));
  for (int i = 0; i < 8; ++i)
    mix(ArrayRef<char>{(char)((n >> (8 * i)) & 0xff)});
  return h;
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
    bool isUnsigned = attrs && attrs.get("lowbit.unsigned");
    std::string dtype = dtypeName(type.getElementType(), isUnsigned);
    if (dtypeBytes(dtype) == 0)
      return func.emitError() << (results ? "output '" : "input '") << label
                              << "' has element type " << type.getElementType()
                              << ", which artifacts do not support";
    out.push_back({label, dtype, SmallVector<int64_t>(type.getShape())});
  }
  return success();
}

LogicalResult runCommand(StringRef program, ArrayRef<StringRef> args,
                         raw_ostream &log, Location loc) {
  auto path = llvm::sys::findProgramByName(program);
  if (!path)
    return emitError(loc) << "cannot find '" << program << "' to link model.so";
  SmallVector<StringRef> argv{*path};
  argv.append(args.begin(), args.end());
  std::string message;
  int rc =
      llvm::sys::ExecuteAndWait(*path, argv, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return emitError(loc) << "'" << program << "' failed (exit " << rc << ") "
                          << message;
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

} // namespace

FailureOr<TargetSpec> mlir::lowbit::resolveTarget(StringRef target,
                                                  std::string &error) {
  TargetSpec spec;
  auto x86 = [&](StringRef cpu, ArrayRef<const char *> required) {
    spec.triple = "x86_64-unknown-linux-gnu";
    spec.cpu = cpu.str();
    for (const char *f : required)
      spec.required.push_back(f);
  };
  if (target == "host") {
    spec.triple = llvm::sys::getDefaultTargetTriple();
    spec.cpu = llvm::sys::getHostCPUName().str();
    SmallVector<std::string> enabled;
    for (auto &f : llvm::sys::getHostCPUFeatures())
      if (f.second)
        enabled.push_back("+" + f.first().str());
    llvm::sort(enabled);
    spec.features = llvm::join(enabled, ",");
    // What the runtime checks: the SIMD features code generation may use.
    static const char *checked[] = {
        "avx",        "avx2",     "fma",      "f16c",     "avx512f",
        "avx512bw",   "avx512cd", "avx512dq", "avx512vl", "avx512vnni",
        "avx512bf16", "neon",     "dotprod",  "fullfp16", "i8mm",
        "amx-tile",   "amx-int8"};
    for (const char *f : checked)
      if (llvm::is_contained(enabled, std::string("+") + f))
        spec.required.push_back(f);
  } else if (target == "x86-64") {
    x86("x86-64", {});
  } else if (target == "x86-64-v2") {
    x86("x86-64-v2", {});
  } else if (target == "x86-64-v3") {
    x86("x86-64-v3", {"avx", "avx2", "fma", "f16c"});
  } else if (target == "x86-64-v4") {
    x86("x86-64-v4", {"avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
                      "avx512cd", "avx512dq", "avx512vl"});
  } else if (target == "aarch64" || target == "aarch64-dotprod") {
    spec.triple = "aarch64-unknown-linux-gnu";
    spec.cpu = "generic";
    spec.features = "+neon";
    spec.required.push_back("neon");
    if (target == "aarch64-dotprod") {
      // ARMv8.2 dot products (sdot/udot): the int8-activation kernels.
      spec.features += ",+dotprod";
      spec.required.push_back("dotprod");
    }
  } else if (!cudaChip(target).empty()) {
    // The host side of a CUDA artifact runs on any x86-64 server CPU of
    // the last decade.
    x86("x86-64-v3", {"avx", "avx2", "fma", "f16c"});
    spec.gpuChip = cudaChip(target);
  } else {
    error = "unknown --target '" + target.str() +
            "' (expected host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4, "
            "aarch64, aarch64-dotprod, cuda-sm80 or cuda-sm90)";
    return failure();
  }
  return spec;
}

LogicalResult mlir::lowbit::writeArtifact(ModuleOp module,
                                          const ArtifactOptions &options,
                                          raw_ostream &log) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  StepTimer timer(log);
  std::string error;
  FailureOr<TargetSpec> spec = resolveTarget(options.target, error);
  if (failed(spec))
    return emitError(loc) << error;
  auto func = module.lookupSymbol<func::FuncOp>(options.entry);
  if (!func)
    return emitError(loc) << "no entry function @" << options.entry;
  SmallVector<TensorInfo> inputs, outputs, weights;
  if (failed(collectInterface(func, false, inputs)) ||
      failed(collectInterface(func, true, outputs)))
    return failure();
  unsigned numInputs = func.getNumArguments();
  // The interface is recorded; its attributes have no LLVM meaning.
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    func.setArgAttrs(i, DictionaryAttr::get(ctx));
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    func.setResultAttrs(i, DictionaryAttr::get(ctx));

  // Front half: to linalg, fused, weights outlined.
  CPUPipelineOptions pipeline;
  pipeline.entry = options.entry;
  pipeline.optimize = options.optimize;
  auto has = [&](StringRef f) { return llvm::is_contained(spec->required, f); };
  pipeline.vectorBits = has("avx512f") ? 512 : has("avx2") ? 256 : 128;
  // Threads through LLVM's OpenMP runtime, which exists for the host only.
  bool cross =
      StringRef(spec->triple).starts_with("aarch64") &&
      !StringRef(llvm::sys::getDefaultTargetTriple()).starts_with("aarch64");
  pipeline.threads = options.optimize && !cross;
  pipeline.cachingAllocator = true;
  pipeline.prefetchDistance = options.prefetchDistance;
  pipeline.int8Activations =
      options.int8Activations && (has("avx512vnni") || has("dotprod"));
  pipeline.armDot = has("dotprod") && !has("avx512vnni");
  bool arm = StringRef(spec->triple).starts_with("aarch64");
  pipeline.arm = arm;
  pipeline.lutMaxBits = options.lutKernels && (arm || has("avx2")) ? 4 : 0;
  pipeline.gpuChip = spec->gpuChip;
  if (!spec->gpuChip.empty()) {
    if (options.lutKernels || options.int8Activations)
      log << "  note: --kernels=lut and --activations=int8 apply to CPU "
             "targets; target '"
          << options.target << "' runs quantized matmuls on GPU kernels\n";
    pipeline.lutMaxBits = 0;
    pipeline.int8Activations = false;
    if (!options.optimize)
      log << "  note: --O0 keeps the reference lowering: nothing runs on the "
             "GPU\n";
  }
  // AMX tdpbusd for int8-activation matmuls of 4 or more rows.
  if (pipeline.int8Activations && has("amx-int8") && has("amx-tile") &&
      has("avx512bw"))
    pipeline.amxMinRows = 4;
  if (options.lutKernels && !pipeline.lutMaxBits)
    log << "  note: table-lookup kernels need AVX2, AVX-512 or NEON, which "
           "target '"
        << options.target << "' does not promise: dequantizing kernels\n";
  if (options.int8Activations && !pipeline.int8Activations)
    log << "  note: int8 activations need AVX-512 VNNI or ARM dot products, "
           "which target '"
        << options.target << "' does not promise: f32-activation kernels\n";
  PassManager front(ctx);
  buildCPUPipelineFront(front, pipeline);
  if (failed(front.run(module)))
    return failure();
  func = module.lookupSymbol<func::FuncOp>(options.entry);
  uint64_t offset = 64; // after the header
  for (unsigned i = numInputs; i < func.getNumArguments(); ++i) {
    auto type = cast<RankedTensorType>(func.getArgumentTypes()[i]);
    Attribute value = func.getArgAttr(i, "lowbit.weight");
    TensorInfo w;
    w.name = "weight_" + std::to_string(i - numInputs);
    w.dtype = dtypeName(type.getElementType(), false);
    w.shape.assign(type.getShape().begin(), type.getShape().end());
    if (auto res = dyn_cast_or_null<DenseResourceElementsAttr>(value)) {
      AsmResourceBlob *blob = res.getRawHandle().getBlob();
      if (!blob)
        return func.emitError() << "weight " << i << " has no data";
      w.data = blob->getData();
    } else if (auto dense = dyn_cast_or_null<DenseElementsAttr>(value)) {
      if (dense.isSplat() || type.getElementType().isInteger(1))
        return func.emitError()
               << "weight " << i << " is a splat or boolean constant";
      w.data = dense.getRawData();
    } else {
      return func.emitError() << "weight " << i << " has no constant value";
    }
    w.bytes = type.getNumElements() * dtypeBytes(w.dtype);
    if (dtypeBytes(w.dtype) == 0 || w.data.size() != w.bytes)
      return func.emitError()
             << "weight " << i << " (" << type << ") has " << w.data.size()
             << " bytes of data; expected " << w.bytes;
    w.offset = offset;
    offset = llvm::alignTo(offset + w.bytes, 64);
    weights.push_back(std::move(w));
    func.removeArgAttr(i, "lowbit.weight");
  }
  timer.step("lower, fuse, outline weights");

  // weights.bin: a 64-byte header, then each weight 64-byte aligned.
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outDir))
    return emitError(loc) << "cannot create " << options.outDir << ": "
                          << ec.message();
  auto path = [&](StringRef file) {
    SmallString<256> p(options.outDir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  std::vector<char> weightsFile(offset, 0);
  std::string header =
      llvm::formatv("LOWBITW{0}", kArtifactFormatVersion).str();
  std::copy(header.begin(), header.end(), weightsFile.begin());
  for (const TensorInfo &w : weights)
    std::copy(w.data.begin(), w.data.end(), weightsFile.begin() + w.offset);
  uint64_t fingerprint = weightsFingerprint(weightsFile);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path("weights.bin"), ec);
    if (ec)
      return emitError(loc) << "cannot write weights.bin: " << ec.message();
    os.write(weightsFile.data(), weightsFile.size());
  }
  size_t weightsBytes = weightsFile.size();
  weightsFile = {};
  timer.step("write weights.bin");

  // Back half: kernels, bufferization, loops/vectors, LLVM dialect.
  PassManager back(ctx);
  buildCPUPipelineBack(back, pipeline);
  if (failed(back.run(module)))
    return failure();
  timer.step("kernels to LLVM dialect");
  FailureOr<GPUFiles> gpu = writeGPUFiles(module, spec->gpuChip, path,
                                          options.keepIntermediates, log);
  if (failed(gpu))
    return failure();
  if (!spec->gpuChip.empty())
    timer.step("GPU kernels: PTX, cubin");

  // LLVM IR, optimised for the target, to an object file.
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "lowbit_model");
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(llvm::Triple(spec->triple), error);
  if (!target)
    return emitError(loc) << "target " << spec->triple << ": " << error;
  llvm::TargetOptions targetOptions;
  // Multiply-adds fuse into FMAs (as onnxruntime's kernels do).
  targetOptions.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      llvm::Triple(spec->triple), spec->cpu, spec->features, targetOptions,
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return emitError(loc) << "cannot create a target machine for "
                          << spec->triple;
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", spec->cpu);
    if (!spec->features.empty())
      f.addFnAttr("target-features", spec->features);
  }
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions tuning;
    tuning.LoopVectorization = true;
    tuning.SLPVectorization = true;
    llvm::PassBuilder pb(tm.get(), tuning);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*llvmModule, mam);
  }
  timer.step("LLVM -O3");
  if (options.keepIntermediates) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path("model.ll"), ec);
    if (!ec)
      llvmModule->print(os, nullptr);
  }
  std::string objectPath = path("model.o");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return emitError(loc) << "cannot write model.o: " << ec.message();
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return emitError(loc) << "the target cannot emit object files";
    codegen.run(*llvmModule);
  }
  timer.step("code generation");

  // The C wrapper: metadata text and the entry taking descriptor pointers.
  unsigned numArgs = inputs.size() + weights.size() + outputs.size();
  std::string meta;
  llvm::raw_string_ostream m(meta);
  m << "lowbit-artifact " << kArtifactFormatVersion << "\n";
  m << "target " << spec->triple << " " << spec->cpu << "\n";
  m << "features";
  for (const std::string &f : spec->required)
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
  }
  StringRef cc = cross ? "aarch64-linux-gnu-gcc" : "cc";
  std::string soPath = path("model.so");
  SmallVector<StringRef> linkArgs{"-shared", "-fPIC",    "-O2",       "-o",
                                  soPath,    objectPath, wrapperPath, "-lm"};
  std::string ompDir = LOWBIT_OPENMP_LIBRARY_DIR;
  std::string ompLink = "-L" + ompDir, ompRpath = "-Wl,-rpath," + ompDir;
  if (pipeline.threads) {
    linkArgs.push_back(ompLink);
    linkArgs.push_back(ompRpath);
    linkArgs.push_back("-lomp");
  }
  if (failed(runCommand(cc, linkArgs, log, loc)))
    return failure();
  llvm::sys::fs::remove(objectPath);
  if (!options.keepIntermediates)
    llvm::sys::fs::remove(wrapperPath);
  timer.step("link model.so");

  // manifest.json, for people and tools.
  llvm::json::Array jin, jout, jw;
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
  for (const std::string &f : spec->required)
    required.push_back(f);
  llvm::json::Object manifest{
      {"format", "lowbit-artifact"},
      {"format_version", kArtifactFormatVersion},
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
  }
  return success();
}
