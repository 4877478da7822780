//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads and writes NumPy .npy arrays (format 1-3, little-endian, C order).
// Element types use the runtime's names: "f32", "f64", "i64", "u8", ...
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_NPY_H
#define LOWBIT_SUPPORT_NPY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::lowbit {

struct NpyArray {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<char> data;

  int64_t numElements() const;
};

/// Bytes per element of a dtype name; 0 if unknown.
int64_t npyDtypeBytes(llvm::StringRef dtype);

/// Errors name the file and the reason.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);
/// The .npy file whose bytes are `bytes`; errors name `path`.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef bytes, llvm::StringRef path);
llvm::Error writeNpy(llvm::StringRef path, const NpyArray &array);

} // namespace mlir::lowbit

#endif // LOWBIT_SUPPORT_NPY_H
