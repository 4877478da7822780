//===- quant-compile.cpp - Lowbit's compiler driver -------------*- C++ -*-===//
//
//   quant-compile model.onnx -o out/ [--input-shape=x:1x512] [--target=host]
//       [--recipe=r.yaml | --method=gptq --bits=4 --group=128 ...]
//       [--smooth=awq|smoothquant]
//       [--calib=data.npy|dir/] [--calib-samples=N] [--calib-cache=stats.lbcal]
//       [--emit=mlir|core|lowbit|llvm|obj|artifact]
//
// Parses its flags into lowbit::CompileOptions and calls the library
// (lib/Driver): import, conversion, calibration, quantization, the CPU
// pipeline and the artifact. The pass manager's standard options
// (--mlir-print-ir-after-all, --mlir-timing, ...) apply to every pipeline
// of the compile.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "lowbit/Codegen/GPU/Passes.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Driver/Compile.h"
#include "lowbit/Target/Targets.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | core.mlir>"));
static cl::opt<std::string> outPath(
    "o", cl::Required,
    cl::desc("output: the artifact's directory, or for --emit=mlir|core|"
             "lowbit|llvm|obj a file ('-': stdout)"));
static cl::opt<std::string> emitFlag(
    "emit", cl::init("artifact"),
    cl::desc("where to stop: mlir (imported) | core (converted) | lowbit "
             "(quantized) | llvm (LLVM dialect) | obj (object file, CPU "
             "targets) | artifact"));
static cl::list<std::string> inputShapes(
    "input-shape", cl::CommaSeparated,
    cl::desc("static shape of graph inputs, name:1x512[,name2:1x512]; "
             "name: for a scalar"));
static cl::list<std::string> inputValues(
    "input-value",
    cl::desc("a graph input given at compile time (a shape argument such as "
             "Slice starts), name:v1,v2,...; repeatable"));
static cl::opt<std::string> target(
    "target", cl::init("host"),
    cl::desc("host | x86-64 | x86-64-v2 | x86-64-v3 | x86-64-v4 | aarch64 | "
             "aarch64-dotprod | cuda-sm80 | cuda-sm90 (quantized matmuls on "
             "the GPU, the rest on an x86-64-v3 host)"));
static cl::opt<bool>
    noOptimize("O0",
               cl::desc("scalar loops, one thread (the reference lowering)"));
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
static cl::opt<std::string>
    ptxasFlag("ptxas", cl::desc("CUDA targets: the ptxas to run (default: "
                                "$LOWBIT_PTXAS, $CUDA_HOME/bin/ptxas, "
                                "/usr/local/cuda/bin/ptxas, PATH)"));

static cl::OptionCategory quantCat("Quantization (a recipe, or flags over it)");
static cl::opt<std::string>
    recipePath("recipe", cl::desc("quantization recipe (YAML or JSON)"),
               cl::cat(quantCat));
static cl::opt<std::string>
    methodFlag("method",
               cl::desc("rtn | gptq | none (float; with --smooth, the "
                        "smoothed float model)"),
               cl::cat(quantCat));
static cl::opt<unsigned> bitsFlag("bits", cl::desc("code bits (2-8)"),
                                  cl::cat(quantCat));
static cl::opt<std::string>
    formatFlag("format", cl::desc("codes: int | nf4 | fp4 (4-bit, symmetric)"),
               cl::cat(quantCat));
static cl::opt<int64_t>
    groupFlag("group",
              cl::desc("weights per scale along K (0: per output channel)"),
              cl::cat(quantCat));
static cl::opt<bool> asymFlag("asym",
                              cl::desc("asymmetric codes (zero points)"),
                              cl::cat(quantCat));
static cl::opt<std::string> scaleRuleFlag(
    "scale-rule",
    cl::desc("symmetric scales: extreme (s = m / -2^(b-1)) | absmax "
             "(s = max|w| / (2^(b-1) - 1))"),
    cl::cat(quantCat));
static cl::opt<bool> clipFlag("clip-search",
                              cl::desc("MSE-optimal clipping of group ranges"),
                              cl::cat(quantCat));
static cl::opt<bool>
    noActOrderFlag("no-act-order",
                   cl::desc("gptq: inputs in order, not by decreasing H_ii"),
                   cl::cat(quantCat));
static cl::opt<double> dampFlag("damp", cl::desc("gptq: dampening fraction"),
                                cl::cat(quantCat));
static cl::opt<double> outlierFlag(
    "outlier-fraction",
    cl::desc("keep this fraction of each layer's weights (largest w^2 H_ii) "
             "out of the grid, in f16 beside the codes (SpQR-style)"),
    cl::cat(quantCat));
static cl::opt<double> activationOutlierFlag(
    "activation-outlier-threshold",
    cl::desc("with --activations=int8: input channels whose calibrated "
             "abs-max exceeds this stay f32 in a side matmul (LLM.int8(); "
             "needs --calib)"),
    cl::cat(quantCat));
static cl::opt<std::string> budgetFlag(
    "budget",
    cl::desc("mixed precision: choose each layer's bits, group and outlier "
             "fraction (lowbit-allocate-bits) within bpw:<bits per weight> "
             "or size:<bytes>[kB|MB|GB]; the choice is written to "
             "recipe.allocated.yaml in the artifact"),
    cl::cat(quantCat));
static cl::opt<std::string>
    includeFlag("include", cl::desc("quantize only layers matching this regex"),
                cl::cat(quantCat));
static cl::opt<std::string>
    excludeFlag("exclude",
                cl::desc("leave layers matching this regex in float (default: "
                         "embeddings and output heads)"),
                cl::cat(quantCat));
static cl::opt<std::string> smoothFlag(
    "smooth",
    cl::desc("smooth before quantizing: awq | smoothquant | none (overrides "
             "the recipe's smooth: method)"),
    cl::cat(quantCat));
static cl::opt<std::string> rotateFlag(
    "rotate",
    cl::desc("rotate the residual stream before calibrating: hadamard | "
             "random | none (overrides the recipe's rotate: kind)"),
    cl::cat(quantCat));
static cl::opt<uint64_t>
    rotateSeedFlag("rotate-seed",
                   cl::desc("seed of the rotation's random signs or matrix"),
                   cl::cat(quantCat));
static cl::opt<std::string> rotateOnlineFlag(
    "rotate-online",
    cl::desc("rotate these layers' inputs at run time (lowbit.hadamard): "
             "down | none"),
    cl::cat(quantCat));
static cl::opt<double> smoothAlphaFlag(
    "smooth-alpha",
    cl::desc("fixed smoothing alpha in [0, 1] (default: searched per "
             "group)"),
    cl::cat(quantCat));
static cl::opt<int64_t>
    smoothGridFlag("smooth-alpha-grid",
                   cl::desc("alpha grid points of the search (default 20)"),
                   cl::cat(quantCat));
static cl::opt<std::string>
    calibPath("calib",
              cl::desc("calibration inputs: a .npy (one-input models) or a "
                       "directory of <input>.npy, samples first"),
              cl::cat(quantCat));
static cl::opt<int64_t>
    calibSamples("calib-samples",
                 cl::desc("use at most this many calibration samples"),
                 cl::cat(quantCat));
static cl::opt<int64_t> calibPasses(
    "calib-passes",
    cl::desc("calibration passes (1..4): 2 calibrates again on the model the "
             "first statistics quantized, then quantizes the float weights "
             "with the new statistics"),
    cl::cat(quantCat));
static cl::opt<double> calibTokenCap(
    "calib-token-cap",
    cl::desc("Hessians: count each token's squared norm at most this many "
             "times the geometric mean of its sample's (attention-sink "
             "tokens; 0: plain X^T X)"),
    cl::cat(quantCat));
static cl::opt<std::string>
    calibCache("calib-cache",
               cl::desc("statistics file: read if it exists, else written "
                        "after calibration"),
               cl::cat(quantCat));
static cl::opt<int>
    threadsFlag("threads", cl::desc("threads for calibration runs (0: all)"),
                cl::init(0), cl::cat(quantCat));
static cl::opt<bool> quietFlag("quiet", cl::desc("no progress bars or table"),
                               cl::cat(quantCat));
static cl::opt<std::string> reportFlag(
    "report",
    cl::desc("write the quantization report (JSON) here (default: "
             "quant-report.json in the artifact; other --emit phases write "
             "none unless given)"),
    cl::cat(quantCat));

namespace {

/// The recipe from --recipe with the flags over it; std::nullopt (no
/// quantization) when neither is given.
std::optional<lowbit::Recipe> buildRecipe(std::string &error) {
  bool anyFlag =
      methodFlag.getNumOccurrences() || bitsFlag.getNumOccurrences() ||
      formatFlag.getNumOccurrences() || groupFlag.getNumOccurrences() ||
      asymFlag || scaleRuleFlag.getNumOccurrences() || clipFlag ||
      noActOrderFlag || dampFlag.getNumOccurrences() ||
      outlierFlag.getNumOccurrences() || includeFlag.getNumOccurrences() ||
      activationOutlierFlag.getNumOccurrences() ||
      budgetFlag.getNumOccurrences() || excludeFlag.getNumOccurrences() ||
      (smoothFlag.getNumOccurrences() && smoothFlag != "none") ||
      (rotateFlag.getNumOccurrences() && rotateFlag != "none");
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
  if (scaleRuleFlag.getNumOccurrences())
    s.scaleRule = scaleRuleFlag;
  if (clipFlag)
    s.clipSearch = true;
  if (noActOrderFlag)
    s.actOrder = false;
  if (dampFlag.getNumOccurrences())
    s.damp = dampFlag;
  if (outlierFlag.getNumOccurrences())
    s.outlierFraction = outlierFlag;
  if (activationOutlierFlag.getNumOccurrences())
    recipe.activationOutlierThreshold = activationOutlierFlag;
  if (budgetFlag.getNumOccurrences()) {
    if (!recipe.allocate)
      recipe.allocate.emplace();
    recipe.allocate->budget = budgetFlag;
  }
  if (includeFlag.getNumOccurrences())
    recipe.include = includeFlag;
  if (excludeFlag.getNumOccurrences())
    recipe.exclude = excludeFlag;
  if (calibSamples.getNumOccurrences())
    recipe.calibrationSamples = calibSamples;
  if (calibPasses.getNumOccurrences())
    recipe.calibrationPasses = calibPasses;
  if (calibTokenCap.getNumOccurrences())
    recipe.calibrationTokenCap = calibTokenCap;
  if (smoothFlag.getNumOccurrences()) {
    if (smoothFlag == "none") {
      recipe.smooth.reset();
    } else {
      if (!recipe.smooth)
        recipe.smooth.emplace();
      recipe.smooth->method = smoothFlag;
    }
  }
  if (rotateFlag.getNumOccurrences()) {
    if (rotateFlag == "none") {
      recipe.rotate.reset();
    } else {
      if (!recipe.rotate)
        recipe.rotate.emplace();
      recipe.rotate->kind = rotateFlag;
    }
  }
  if (rotateSeedFlag.getNumOccurrences()) {
    if (!recipe.rotate) {
      error = "--rotate-seed needs --rotate (or a recipe's rotate:)";
      return std::nullopt;
    }
    recipe.rotate->seed = rotateSeedFlag;
  }
  if (rotateOnlineFlag.getNumOccurrences()) {
    if (!recipe.rotate) {
      error = "--rotate-online needs --rotate (or a recipe's rotate:)";
      return std::nullopt;
    }
    recipe.rotate->online.clear();
    if (rotateOnlineFlag != "none")
      recipe.rotate->online.push_back(rotateOnlineFlag);
  }
  if ((smoothAlphaFlag.getNumOccurrences() ||
       smoothGridFlag.getNumOccurrences()) &&
      !recipe.smooth) {
    error = "--smooth-alpha and --smooth-alpha-grid need --smooth (or a "
            "recipe's smooth:)";
    return std::nullopt;
  }
  if (smoothAlphaFlag.getNumOccurrences())
    recipe.smooth->alpha = smoothAlphaFlag;
  if (smoothGridFlag.getNumOccurrences())
    recipe.smooth->alphaGrid = smoothGridFlag;
  if (llvm::Error e = recipe.validate()) {
    error = llvm::toString(std::move(e));
    return std::nullopt;
  }
  return recipe;
}

/// The ptxas: the flag, else the environment (the library reads none).
std::string ptxasPath() {
  if (!ptxasFlag.empty())
    return ptxasFlag;
  if (const char *p = std::getenv("LOWBIT_PTXAS"))
    return p;
  if (const char *home = std::getenv("CUDA_HOME"))
    return std::string(home) + "/bin/ptxas";
  return "";
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Lowbit's passes by name, for --mlir-print-ir-after=<pass> and friends.
  lowbit::registerLowbitConversionPasses();
  lowbit::registerLowbitPasses();
  lowbit::registerLowbitCPUPasses();
  lowbit::registerLowbitGPUPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::ParseCommandLineOptions(argc, argv,
                              "Lowbit compiler: ONNX to a native artifact\n");

  // Flags are checked before anything is read.
  lowbit::CompileOptions options;
  options.input = inputPath;
  options.output = outPath;
  std::optional<lowbit::EmitPhase> emit = lowbit::parseEmitPhase(emitFlag);
  if (!emit) {
    llvm::errs() << "error: --emit=" << emitFlag
                 << " (expected mlir, core, lowbit, llvm, obj or artifact)\n";
    return 1;
  }
  options.emit = *emit;
  for (const std::string &spec : inputShapes)
    if (!lowbit::parseInputShape(spec, options.import)) {
      llvm::errs() << "error: --input-shape '" << spec
                   << "' is not name:DIMxDIM...\n";
      return 1;
    }
  for (const std::string &spec : inputValues)
    if (!lowbit::parseInputValue(spec, options.import)) {
      llvm::errs() << "error: --input-value '" << spec
                   << "' is not name:v1,v2,...\n";
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
  options.recipe = buildRecipe(recipeError);
  if (!options.recipe && !recipeError.empty()) {
    llvm::errs() << "error: " << recipeError << "\n";
    return 1;
  }
  if (!options.recipe && (!calibPath.empty() || !calibCache.empty()))
    llvm::errs() << "warning: --calib/--calib-cache without a recipe or "
                    "quantization flags: nothing is quantized\n";
  options.calibPath = calibPath;
  options.calibCache = calibCache;
  options.threads = threadsFlag;
  options.progress = !quietFlag;
  options.reportPath = reportFlag;
  lowbit::ArtifactOptions &artifact = options.artifact;
  artifact.target = target;
  artifact.optimize = !noOptimize;
  artifact.keepIntermediates = keep;
  artifact.prefetchDistance = prefetchDistance;
  const std::optional<lowbit::Recipe> &recipe = options.recipe;
  artifact.int8Activations = activationsFlag.getNumOccurrences()
                                 ? activationsFlag == "int8"
                                 : recipe && recipe->activations == "int8";
  artifact.int8OutlierThreshold =
      recipe ? recipe->activationOutlierThreshold : 0.0;
  if (artifact.int8OutlierThreshold > 0 && !artifact.int8Activations) {
    llvm::errs() << "error: an activation outlier threshold ("
                 << artifact.int8OutlierThreshold
                 << ") needs int8 activations (--activations=int8 or "
                    "activations: int8 in the recipe)\n";
    return 1;
  }
  artifact.lutKernels = kernelsFlag.getNumOccurrences()
                            ? kernelsFlag == "lut"
                            : recipe && recipe->kernels == "lut";
  artifact.ptxas = ptxasPath();
  options.configurePassManager = [](PassManager &pm) -> LogicalResult {
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    applyDefaultTimingPassManagerCLOptions(pm);
    return success();
  };

  DialectRegistry registry;
  lowbit::registerCompileDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // Errors name the file, the layer and the reason; a dump of the whole
  // model after them (MLIR's default for errors on an op) buries them.
  ctx.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);
  return failed(lowbit::compileModel(ctx, options, llvm::errs())) ? 1 : 0;
}
