//===- onnx-import-fuzzer.cpp - libFuzzer target for the importer -*- C++
//-*-===//
//
// Feeds arbitrary bytes to the ONNX importer as a model file. Any input must
// end in a module or a diagnostic: no crash, no sanitizer report, no leak.
// Built only with -DLOWBIT_ENABLE_FUZZERS=ON and clang (scripts/fuzz.sh).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Import/ONNX/Importer.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
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
  (void)mlir::lowbit::importONNXModel(
      std::move(buffer), "/nonexistent-lowbit-fuzz/model.onnx", &ctx, options);
  return 0;
}
