//===- CWrapper.h - The C side of an artifact -------------------*- C++ -*-===//
//
// The C source quant-compile links into model.so (see CWrapper.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_TARGET_CPU_CWRAPPER_H
#define LOWBIT_LIB_TARGET_CPU_CWRAPPER_H

#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::lowbit {

/// The wrapper's C source: `lowbit_metadata()` returning `metadata`,
/// `lowbit_entry(void **)` calling `_mlir_ciface_<entry>` with `numArgs`
/// memref descriptors, the caching allocator behind
/// `_mlir_memref_to_llvm_alloc/free`, and `memrefCopy`.
/// With `gpu`, also `lowbit_gpu_launch`, which the kernel launches call,
/// forwarding to the hook the runtime installs with `lowbit_set_gpu_hook`.
std::string generateCWrapper(StringRef entry, unsigned numArgs,
                             StringRef metadata, bool gpu = false);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_TARGET_CPU_CWRAPPER_H
