//===- onnx-import-fuzzer.cpp - libFuzzer target: ONNX import --*- C++ -*-===//
//
// Feeds arbitrary bytes to the ONNX importer as a model file and, when it
// imports, gives the nodes their meaning (convert-onnx-to-core). Any input
// must end in a module or a diagnostic: no crash, no sanitizer report, no
// leak. scripts/fuzz.sh builds it with libFuzzer; the normal build links it
// with replay-main.cpp to run the committed corpus (test/Fuzz).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Import/ONNX/Importer.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext ctx;
  ctx.getDiagEngine().registerHandler(
      [](mlir::Diagnostic &) { return mlir::success(); });
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.onnx");
  mlir::lowbit::ONNXImportOptions options;
  // External data paths resolve under a folder that does not exist.
  mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> module =
      mlir::lowbit::importONNXModel(std::move(buffer),
                                    "/nonexistent-lowbit-fuzz/model.onnx", &ctx,
                                    options);
  if (mlir::failed(module))
    return 0;
  mlir::PassManager pm(&ctx);
  pm.addPass(mlir::lowbit::createConvertONNXToCorePass());
  (void)pm.run(**module);
  return 0;
}
