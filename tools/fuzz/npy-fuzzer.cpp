//===- npy-fuzzer.cpp - libFuzzer target: .npy files ------------*- C++ -*-===//
//
// Arbitrary bytes as a .npy file (inputs of quant-run and calibration data
// of quant-compile): an array whose data has exactly the bytes its shape
// and dtype need, or an error naming the file.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/Npy.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  llvm::Expected<mlir::lowbit::NpyArray> array =
      mlir::lowbit::parseNpy(bytes, "fuzz.npy");
  if (!array) {
    llvm::consumeError(array.takeError());
    return 0;
  }
  uint64_t need = static_cast<uint64_t>(array->numElements()) *
                  mlir::lowbit::npyDtypeBytes(array->dtype);
  if (need != array->data.size())
    abort();
  return 0;
}
