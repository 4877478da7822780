//===- quant-compile.cpp - Lowbit's compiler driver -------------*- C++ -*-===//
//
//   quant-compile model.onnx -o out/ [--input-shape=x:1x512] [--target=host]
//
// Imports an ONNX model (or reads core MLIR), converts it to core dialects
// and writes a native artifact (model.so, weights.bin, manifest.json).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "lowbit/Import/ONNX/Importer.h"
#include "lowbit/Target/CPU/Artifact.h"
#include "lowbit/Target/CPU/Passes.h"
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
    cl::desc("host | x86-64 | x86-64-v2 | x86-64-v3 | x86-64-v4 | aarch64"));
static cl::opt<bool> noOptimize(
    "O0", cl::desc("scalar loops, one thread (the reference lowering)"));
static cl::opt<bool> keep("keep-intermediates",
                          cl::desc("also write model.ll and the C wrapper"));

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
  llvm::errs() << "quant-compile " << inputPath << " -> " << outDir
               << " (target " << target << ")\n";
  lowbit::ArtifactOptions options;
  options.outDir = outDir;
  options.target = target;
  options.optimize = !noOptimize;
  options.source = inputPath;
  options.keepIntermediates = keep;
  if (failed(lowbit::writeArtifact(*module, options, llvm::errs()))) {
    // No partial artifact: a failed compile leaves no model.so behind.
    llvm::sys::fs::remove(outDir + "/model.so");
    llvm::sys::fs::remove(outDir + "/manifest.json");
    return 1;
  }
  llvm::errs() << llvm::formatv(
      "  total {0:f2} s\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return 0;
}
