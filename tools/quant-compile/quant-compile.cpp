//===- quant-compile.cpp - Lowbit's compiler driver -------------*- C++ -*-===//
//
//   quant-compile model.onnx -o out/ [--input-shape=x:1x512] [--target=host]
//       [--recipe=r.yaml | --method=gptq --bits=4 --group=128 ...]
//       [--calib=data.npy|dir/] [--calib-samples=N] [--calib-cache=stats.lbcal]
//
// Imports an ONNX model (or reads core MLIR), converts it to core dialects,
// optionally calibrates it on sample data and quantizes its linear layers
// (a recipe compiled to lowbit passes), and writes a native artifact
// (model.so, weights.bin, manifest.json, and quant-report.json).
//
//===----------------------------------------------------------------------===//

#include "Report.h"
#include "lowbit/Calibration/Calibrate.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Quantization/Recipe.h"
#include "lowbit/Support/Progress.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "lowbit/Import/ONNX/Importer.h"
#include "lowbit/Target/CPU/Artifact.h"
#include "lowbit/Target/CPU/Passes.h"
#include "lowbit/Target/GPU/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <sys/resource.h>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | core.mlir>"));
static cl::opt<std::string> outDir("o", cl::Required,
                                   cl::desc("output directory of the artifact"));
static cl::list<std::string> inputShapes(
    "input-shape", cl::CommaSeparated,
    cl::desc("static shape of graph inputs, name:1x512[,name2:1x512]; "
             "name: for a scalar"));
static cl::opt<std::string> target(
    "target", cl::init("host"),
    cl::desc("host | x86-64 | x86-64-v2 | x86-64-v3 | x86-64-v4 | aarch64 | "
             "aarch64-dotprod | cuda-sm80 | cuda-sm90 (quantized matmuls on "
             "the GPU, the rest on an x86-64-v3 host)"));
static cl::opt<bool> noOptimize(
    "O0", cl::desc("scalar loops, one thread (the reference lowering)"));
static cl::opt<int64_t> prefetchDistance(
    "prefetch-distance", cl::init(4096),
    cl::desc("bytes ahead the low-bit matmul kernels prefetch weights "
             "(0: no software prefetch)"));
static cl::opt<std::string> activationsFlag(
    "activations", cl::init("f32"),
    cl::desc("activations of low-bit matmuls: f32 (exact) | int8 (quantized "
             "per group at run time; VNNI kernels, AVX-512 VNNI targets); "
             "overrides the recipe's"));
static cl::opt<std::string> kernelsFlag(
    "kernels", cl::init("dequant"),
    cl::desc("low-bit matmul kernels: dequant (decode the codes, multiply) | "
             "lut (1-2-bit codes: table lookups of activation sums, T-MAC "
             "style; AVX2/AVX-512 and ARM NEON targets); overrides the "
             "recipe's"));
static cl::opt<bool> keep("keep-intermediates",
                          cl::desc("also write model.ll and the C wrapper"));

static cl::OptionCategory quantCat("Quantization (a recipe, or flags over it)");
static cl::opt<std::string> recipePath(
    "recipe", cl::desc("quantization recipe (YAML or JSON)"), cl::cat(quantCat));
static cl::opt<std::string> methodFlag("method", cl::desc("rtn | gptq"),
                                       cl::cat(quantCat));
static cl::opt<unsigned> bitsFlag("bits", cl::desc("code bits (2-8)"),
                                  cl::cat(quantCat));
static cl::opt<std::string> formatFlag(
    "format", cl::desc("codes: int | nf4 | fp4 (4-bit, symmetric)"),
    cl::cat(quantCat));
static cl::opt<int64_t> groupFlag(
    "group", cl::desc("weights per scale along K (0: per output channel)"),
    cl::cat(quantCat));
static cl::opt<bool> asymFlag("asym", cl::desc("asymmetric codes (zero points)"),
                              cl::cat(quantCat));
static cl::opt<bool> clipFlag("clip-search",
                              cl::desc("MSE-optimal clipping of group ranges"),
                              cl::cat(quantCat));
static cl::opt<bool> noActOrderFlag(
    "no-act-order", cl::desc("gptq: inputs in order, not by decreasing H_ii"),
    cl::cat(quantCat));
static cl::opt<double> dampFlag("damp", cl::desc("gptq: dampening fraction"),
                                cl::cat(quantCat));
static cl::opt<std::string> includeFlag(
    "include", cl::desc("quantize only layers matching this regex"),
    cl::cat(quantCat));
static cl::opt<std::string> excludeFlag(
    "exclude", cl::desc("leave layers matching this regex in float (default: "
                        "embeddings and output heads)"),
    cl::cat(quantCat));
static cl::opt<std::string> calibPath(
    "calib", cl::desc("calibration inputs: a .npy (one-input models) or a "
                      "directory of <input>.npy, samples first"),
    cl::cat(quantCat));
static cl::opt<int64_t> calibSamples(
    "calib-samples", cl::desc("use at most this many calibration samples"),
    cl::cat(quantCat));
static cl::opt<std::string> calibCache(
    "calib-cache", cl::desc("statistics file: read if it exists, else written "
                            "after calibration"),
    cl::cat(quantCat));
static cl::opt<int> threadsFlag("threads",
                                cl::desc("threads for calibration runs (0: all)"),
                                cl::init(0), cl::cat(quantCat));
static cl::opt<bool> quietFlag("quiet", cl::desc("no progress bars or table"),
                               cl::cat(quantCat));

namespace {

/// The recipe from --recipe with the flags over it; std::nullopt (no
/// quantization) when neither is given.
std::optional<lowbit::Recipe> buildRecipe(std::string &error) {
  bool anyFlag = methodFlag.getNumOccurrences() || bitsFlag.getNumOccurrences() ||
                 formatFlag.getNumOccurrences() ||
                 groupFlag.getNumOccurrences() || asymFlag || clipFlag ||
                 noActOrderFlag || dampFlag.getNumOccurrences() ||
                 includeFlag.getNumOccurrences() || excludeFlag.getNumOccurrences();
  lowbit::Recipe recipe;
  if (!recipePath.empty()) {
    llvm::Expected<lowbit::Recipe> loaded = lowbit::Recipe::load(recipePath);
    if (!loaded) {
      error = llvm::toString(loaded.takeError());
      return std::nullopt;
    }
    recipe = std::move(*loaded);
  } else if (!anyFlag) {
    return std::nullopt;
  }
  lowbit::QuantSettings &s = recipe.settings;
  if (methodFlag.getNumOccurrences())
    s.method = methodFlag;
  if (bitsFlag.getNumOccurrences())
    s.bits = bitsFlag;
  if (formatFlag.getNumOccurrences())
    s.format = formatFlag;
  if (groupFlag.getNumOccurrences())
    s.group = groupFlag;
  if (asymFlag)
    s.symmetric = false;
  if (clipFlag)
    s.clipSearch = true;
  if (noActOrderFlag)
    s.actOrder = false;
  if (dampFlag.getNumOccurrences())
    s.damp = dampFlag;
  if (includeFlag.getNumOccurrences())
    recipe.include = includeFlag;
  if (excludeFlag.getNumOccurrences())
    recipe.exclude = excludeFlag;
  if (calibSamples.getNumOccurrences())
    recipe.calibrationSamples = calibSamples;
  if (llvm::Error e = recipe.validate()) {
    error = llvm::toString(std::move(e));
    return std::nullopt;
  }
  return recipe;
}

/// Adds the recipe's quantization passes to `pm`.
void addQuantizationPasses(OpPassManager &pm, const lowbit::Recipe &recipe) {
  for (const lowbit::Recipe::Pass &p : recipe.passes()) {
    const lowbit::QuantSettings &s = p.settings;
    // The options both passes share (WeightSchemeOptions in Passes.td).
    auto scheme = [&](auto &o) {
      o.bits = *s.bits;
      o.format = *s.format;
      o.groupSize = *s.group;
      o.symmetric = *s.symmetric;
      o.clipSearch = *s.clipSearch;
      o.minSize = *s.minSize;
      o.include = p.include;
      o.exclude = p.exclude;
    };
    if (*s.method == "gptq") {
      lowbit::LowbitGptqPassOptions o;
      scheme(o);
      o.damp = *s.damp;
      o.blockSize = *s.blockSize;
      o.actOrder = *s.actOrder;
      pm.addPass(lowbit::createLowbitGptqPass(o));
    } else {
      lowbit::LowbitQuantizeRtnPassOptions o;
      scheme(o);
      pm.addPass(lowbit::createLowbitQuantizeRtnPass(o));
    }
  }
}

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

/// Calibrates and quantizes `module` as `recipe` says; fills `report`.
LogicalResult quantize(ModuleOp module, const lowbit::Recipe &recipe,
                       llvm::json::Object &report) {
  MLIRContext *ctx = module.getContext();
  // Every rule must name some layer.
  std::string error;
  FailureOr<lowbit::LayerFilter> all = lowbit::LayerFilter::create("", "", error);
  std::vector<lowbit::LinearLayer> layers = lowbit::collectLinearLayers(module, *all);
  if (layers.empty()) {
    llvm::errs() << inputPath << ": the model has no linear layer with a "
                 << "constant f32 weight to quantize\n";
    return failure();
  }
  for (auto [i, rule] : llvm::enumerate(recipe.rules)) {
    llvm::Regex re(rule.match);
    if (llvm::none_of(layers, [&](const lowbit::LinearLayer &l) {
          return re.match(l.name);
        })) {
      llvm::errs() << recipe.source << ": rule " << i + 1 << " (match '"
                   << rule.match << "') matches no layer of " << inputPath
                   << "; layers are named like '" << layers.front().name
                   << "'\n";
      return failure();
    }
  }
  int64_t bytesBefore = lowbit::constantBytes(module);
  lowbit::ReportTimes times;

  bool needStats = recipe.needsCalibration();
  if (needStats || !calibPath.empty() || !calibCache.empty()) {
    PassManager pm(ctx);
    lowbit::LowbitInsertCalibrationPassOptions sites;
    sites.include = "";
    sites.exclude = "";
    pm.addPass(lowbit::createLowbitInsertCalibrationPass(sites));
    if (failed(pm.run(module)))
      return failure();
    auto t0 = std::chrono::steady_clock::now();
    std::optional<lowbit::CalibrationStats> stats;
    if (!calibCache.empty() && llvm::sys::fs::exists(calibCache)) {
      llvm::Expected<lowbit::CalibrationStats> loaded =
          lowbit::CalibrationStats::load(calibCache);
      if (!loaded) {
        llvm::errs() << "error: " << llvm::toString(loaded.takeError()) << "\n";
        return failure();
      }
      llvm::errs() << "calibration: statistics from " << calibCache << " ("
                   << loaded->samples << " samples)\n";
      stats = std::move(*loaded);
    } else if (!calibPath.empty()) {
      FailureOr<lowbit::CalibrationData> data =
          lowbit::loadCalibrationData(calibPath, module, "main", error);
      if (failed(data)) {
        llvm::errs() << "error: " << error << "\n";
        return failure();
      }
      lowbit::CalibrationOptions options;
      options.maxSamples = recipe.calibrationSamples;
      options.threads = threadsFlag;
      options.workDir = outDir + "/calibration.tmp";
      FailureOr<lowbit::CalibrationStats> collected =
          lowbit::runCalibration(module, *data, options, llvm::errs());
      llvm::sys::fs::remove_directories(options.workDir);
      if (failed(collected))
        return failure();
      stats = std::move(*collected);
      if (!calibCache.empty()) {
        if (llvm::Error e = stats->save(calibCache)) {
          llvm::errs() << "error: " << llvm::toString(std::move(e)) << "\n";
          return failure();
        }
        llvm::errs() << "calibration: statistics saved to " << calibCache << "\n";
      }
    } else if (needStats) {
      llvm::errs() << "error: the recipe uses gptq, which needs calibration "
                      "data: give --calib (and optionally --calib-cache)\n";
      return failure();
    }
    if (stats &&
        failed(lowbit::attachStatistics(
            module, *stats, calibCache.empty() ? calibPath : calibCache)))
      return failure();
    times.calibration = secondsSince(t0);
  }

  auto t1 = std::chrono::steady_clock::now();
  PassManager pm(ctx);
  addQuantizationPasses(pm, recipe);
  std::string pipeline;
  llvm::raw_string_ostream pipelineOs(pipeline);
  pm.printAsTextualPipeline(pipelineOs);
  llvm::errs() << "quantization: " << pipeline << "\n";
  if (failed(pm.run(module)))
    return failure();
  times.quantization = secondsSince(t1);
  llvm::json::Object summary = lowbit::printQuantReport(
      module, bytesBefore, times, quietFlag ? llvm::nulls() : llvm::errs());
  report = std::move(summary);
  report["pipeline"] = pipeline;
  return success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "Lowbit compiler: ONNX to a native artifact\n");
  auto start = std::chrono::steady_clock::now();

  DialectRegistry registry;
  registry.insert<lowbit::LowbitDialect, lowbit::onnx::ONNXDialect,
                  affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, index::IndexDialect, linalg::LinalgDialect,
                  LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect,
                  scf::SCFDialect, tensor::TensorDialect,
                  vector::VectorDialect>();
  // Bufferization and tiling models of the upstream dialects.
  lowbit::registerCPUInterfaces(registry);
  lowbit::registerGPUInterfaces(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  // Flags are checked before anything is read.
  lowbit::ONNXImportOptions importOptions;
  for (const std::string &spec : inputShapes)
    if (!lowbit::parseInputShape(spec, importOptions)) {
      llvm::errs() << "error: --input-shape '" << spec
                   << "' is not name:DIMxDIM...\n";
      return 1;
    }
  std::string targetError;
  if (failed(lowbit::resolveTarget(target, targetError))) {
    llvm::errs() << "error: " << targetError << "\n";
    return 1;
  }
  if (prefetchDistance < 0 || prefetchDistance > (1 << 20)) {
    llvm::errs() << "error: --prefetch-distance=" << prefetchDistance
                 << " is outside 0..1048576 bytes\n";
    return 1;
  }
  if (activationsFlag != "f32" && activationsFlag != "int8") {
    llvm::errs() << "error: --activations=" << activationsFlag
                 << " (expected f32 or int8)\n";
    return 1;
  }
  if (kernelsFlag != "dequant" && kernelsFlag != "lut") {
    llvm::errs() << "error: --kernels=" << kernelsFlag
                 << " (expected dequant or lut)\n";
    return 1;
  }
  std::string recipeError;
  std::optional<lowbit::Recipe> recipe = buildRecipe(recipeError);
  if (!recipe && !recipeError.empty()) {
    llvm::errs() << "error: " << recipeError << "\n";
    return 1;
  }
  if (!recipe && (!calibPath.empty() || !calibCache.empty()))
    llvm::errs() << "warning: --calib/--calib-cache without a recipe or "
                    "quantization flags: nothing is quantized\n";
  lowbit::Progress::setEnabled(!quietFlag);

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);
  auto file = llvm::MemoryBuffer::getFile(inputPath, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file) {
    llvm::errs() << inputPath << ": cannot open: " << file.getError().message()
                 << "\n";
    return 1;
  }
  OwningOpRef<ModuleOp> module;
  bool isMLIR = StringRef(inputPath).ends_with(".mlir");
  if (isMLIR) {
    sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &ctx);
    if (!module)
      return 1;
  } else {
    FailureOr<OwningOpRef<ModuleOp>> imported =
        lowbit::importONNXModel(std::move(*file), inputPath, &ctx, importOptions);
    if (failed(imported))
      return 1;
    module = std::move(*imported);
    PassManager pm(&ctx);
    pm.addPass(lowbit::createConvertONNXToCorePass());
    if (failed(pm.run(*module)))
      return 1;
  }
  llvm::json::Object report;
  if (recipe) {
    if (failed(quantize(*module, *recipe, report)))
      return 1;
  }
  llvm::errs() << "quant-compile " << inputPath << " -> " << outDir
               << " (target " << target << ")\n";
  lowbit::ArtifactOptions options;
  options.outDir = outDir;
  options.target = target;
  options.optimize = !noOptimize;
  options.source = inputPath;
  options.keepIntermediates = keep;
  options.prefetchDistance = prefetchDistance;
  options.int8Activations = activationsFlag.getNumOccurrences()
                                ? activationsFlag == "int8"
                                : recipe && recipe->activations == "int8";
  options.lutKernels = kernelsFlag.getNumOccurrences()
                           ? kernelsFlag == "lut"
                           : recipe && recipe->kernels == "lut";
  if (failed(lowbit::writeArtifact(*module, options, llvm::errs()))) {
    // No partial artifact: a failed compile leaves no model.so behind.
    llvm::sys::fs::remove(outDir + "/model.so");
    llvm::sys::fs::remove(outDir + "/manifest.json");
    return 1;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double total = secondsSince(start);
  llvm::errs() << llvm::formatv("  total {0:f2} s, peak memory {1:f0} MB\n",
                                total, usage.ru_maxrss / 1024.0);
  if (recipe) {
    report["total_seconds"] = total;
    report["peak_rss_mb"] = usage.ru_maxrss / 1024.0;
    std::error_code ec;
    llvm::raw_fd_ostream os(outDir + "/quant-report.json", ec);
    if (ec) {
      llvm::errs() << outDir << "/quant-report.json: " << ec.message() << "\n";
      return 1;
    }
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  }
  return 0;
}
