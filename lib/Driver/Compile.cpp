//===- Compile.cpp - What quant-compile does, as a library ------*- C++ -*-===//
//
// Reads the model, runs the phases up to the one asked for and writes it.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Compile.h"
#include "QuantizeModel.h"
#include "StagedOutput.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Target/OutputFile.h"
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
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <sys/resource.h>

using namespace mlir;
using namespace mlir::lowbit;

std::optional<EmitPhase> mlir::lowbit::parseEmitPhase(StringRef name) {
  return llvm::StringSwitch<std::optional<EmitPhase>>(name)
      .Case("mlir", EmitPhase::MLIR)
      .Case("core", EmitPhase::Core)
      .Case("lowbit", EmitPhase::Lowbit)
      .Case("llvm", EmitPhase::LLVM)
      .Case("obj", EmitPhase::Obj)
      .Case("artifact", EmitPhase::Artifact)
      .Default(std::nullopt);
}

void mlir::lowbit::registerCompileDialects(DialectRegistry &registry) {
  registry.insert<LowbitDialect, onnx::ONNXDialect, affine::AffineDialect,
                  arith::ArithDialect, bufferization::BufferizationDialect,
                  cf::ControlFlowDialect, func::FuncDialect,
                  index::IndexDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, vector::VectorDialect>();
  registerPipelineInterfaces(registry);
}

namespace {

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

/// The model as core IR: parsed (.mlir) or imported and converted (ONNX);
/// with `emit=mlir` the imported module as it is.
FailureOr<OwningOpRef<ModuleOp>> readModel(MLIRContext &ctx,
                                           const CompileOptions &options,
                                           llvm::SourceMgr &sourceMgr) {
  auto file = llvm::MemoryBuffer::getFile(options.input, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return emitError(UnknownLoc::get(&ctx))
           << options.input << ": cannot open: " << file.getError().message();
  if (StringRef(options.input).ends_with(".mlir")) {
    sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
    OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &ctx);
    if (!module)
      return failure();
    return module;
  }
  FailureOr<OwningOpRef<ModuleOp>> imported =
      importONNXModel(std::move(*file), options.input, &ctx, options.import);
  if (failed(imported) || options.emit == EmitPhase::MLIR)
    return imported;
  PassManager pm(&ctx);
  if (options.configurePassManager && failed(options.configurePassManager(pm)))
    return failure();
  pm.addPass(createConvertONNXToCorePass());
  if (failed(pm.run(**imported)))
    return failure();
  return imported;
}

/// Prints `module` to `path` ("-": stdout).
LogicalResult printModule(ModuleOp module, StringRef path) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &error);
  if (!out)
    return module.emitError() << error;
  module.print(out->os());
  out->os() << "\n";
  out->keep();
  return success();
}

/// Writes the quantization report to `path`.
LogicalResult writeReport(ModuleOp module, llvm::json::Object report,
                          StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return module.emitError() << path << ": " << ec.message();
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  return closeChecked(os, path, module.getLoc());
}

} // namespace

LogicalResult mlir::lowbit::compileModel(MLIRContext &ctx,
                                         const CompileOptions &options,
                                         raw_ostream &log) {
  auto start = std::chrono::steady_clock::now();
  llvm::SourceMgr sourceMgr;
  FailureOr<OwningOpRef<ModuleOp>> read = readModel(ctx, options, sourceMgr);
  if (failed(read))
    return failure();
  ModuleOp module = **read;
  if (options.emit == EmitPhase::MLIR || options.emit == EmitPhase::Core)
    return printModule(module, options.output);

  llvm::json::Object report;
  if (options.recipe && failed(quantizeModel(module, options, report, log)))
    return failure();
  if (options.emit != EmitPhase::Artifact && options.recipe &&
      !options.reportPath.empty() &&
      failed(writeReport(module, report, options.reportPath)))
    return failure();
  if (options.emit == EmitPhase::Lowbit)
    return printModule(module, options.output);

  ArtifactOptions artifact = options.artifact;
  artifact.outDir = options.output;
  artifact.source = options.input;
  artifact.configurePassManager = options.configurePassManager;
  if (options.emit == EmitPhase::LLVM || options.emit == EmitPhase::Obj) {
    if (failed(lowerToLLVMDialect(module, artifact, log)))
      return failure();
    if (options.emit == EmitPhase::LLVM)
      return printModule(module, options.output);
    return writeObjectFile(module, artifact, options.output, log);
  }

  log << "quant-compile " << options.input << " -> " << options.output
      << " (target " << artifact.target << ")\n";
  // Everything goes to a staging directory and moves into -o at the end.
  FailureOr<StagedOutput> staged =
      StagedOutput::create(options.output, module.getLoc());
  if (failed(staged))
    return failure();
  artifact.outDir = staged->directory();
  if (failed(writeArtifact(module, artifact, log)))
    return failure();
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double total = secondsSince(start);
  log << llvm::formatv("  total {0:f2} s, peak memory {1:f0} MB\n", total,
                       usage.ru_maxrss / 1024.0);
  if (options.recipe) {
    // The allocation's choice as a recipe that replays it.
    if (llvm::json::Object *allocation = report.getObject("allocation"))
      if (std::optional<StringRef> yaml = allocation->getString("recipe")) {
        std::string path = staged->directory() + "/recipe.allocated.yaml";
        std::error_code ec;
        llvm::raw_fd_ostream os(path, ec);
        if (ec)
          return module.emitError() << path << ": " << ec.message();
        os << *yaml;
        if (failed(closeChecked(os, path, module.getLoc())))
          return failure();
      }
    report["total_seconds"] = total;
    report["peak_rss_mb"] = usage.ru_maxrss / 1024.0;
    if (failed(writeReport(module, std::move(report),
                           options.reportPath.empty()
                               ? staged->directory() + "/quant-report.json"
                               : options.reportPath)))
      return failure();
  }
  return staged->commit(module.getLoc());
}
