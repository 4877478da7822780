//===- quant-translate.cpp - Lowbit's mlir-translate ------------*- C++ -*-===//
//
// Translations into and out of MLIR: --import-onnx for now.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "lowbit/Import/ONNX/Importer.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

static llvm::cl::list<std::string> inputShapes(
    "input-shape",
    llvm::cl::desc("static shape of graph inputs, name:1x512[,name2:1x512] "
                   "(repeatable)"),
    llvm::cl::CommaSeparated);
static llvm::cl::list<std::string> inputValues(
    "input-value",
    llvm::cl::desc("a graph input given at import (a shape argument such as "
                   "Slice starts), name:v1,v2,...; repeatable"));
static llvm::cl::opt<bool> noShapeInference(
    "no-shape-inference",
    llvm::cl::desc("do not run ONNX shape inference on the model"));

static OwningOpRef<Operation *> importONNX(const llvm::SourceMgr &sourceMgr,
                                           MLIRContext *ctx) {
  const llvm::MemoryBuffer *main =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  lowbit::ONNXImportOptions options;
  options.inferShapes = !noShapeInference;
  for (const std::string &spec : inputShapes)
    if (!lowbit::parseInputShape(spec, options)) {
      emitError(UnknownLoc::get(ctx))
          << "--input-shape '" << spec << "' is not name:DIMxDIM...";
      return {};
    }
  for (const std::string &spec : inputValues)
    if (!lowbit::parseInputValue(spec, options)) {
      emitError(UnknownLoc::get(ctx))
          << "--input-value '" << spec << "' is not name:v1,v2,...";
      return {};
    }
  auto buffer =
      llvm::MemoryBuffer::getMemBuffer(main->getMemBufferRef(),
                                       /*RequiresNullTerminator=*/false);
  FailureOr<OwningOpRef<ModuleOp>> module = lowbit::importONNXModel(
      std::move(buffer), main->getBufferIdentifier(), ctx, options);
  if (failed(module))
    return {};
  return OwningOpRef<Operation *>(module->release());
}

int main(int argc, char **argv) {
  TranslateToMLIRRegistration importRegistration(
      "import-onnx", "import an ONNX model (.onnx, external data beside it)",
      importONNX, [](DialectRegistry &registry) {
        registry.insert<lowbit::onnx::ONNXDialect, lowbit::LowbitDialect,
                        arith::ArithDialect, func::FuncDialect>();
      });
  return failed(mlirTranslateMain(argc, argv, "Lowbit translation driver"));
}
