//===- ObjectFile.h - LLVM dialect to a native shared library ---*- C++ -*-===//
//
// The CPU half of an artifact: the LLVM dialect module translated to LLVM
// IR, optimized for the target, emitted as an object file, and linked with
// the C wrapper into model.so.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_CPU_OBJECTFILE_H
#define LOWBIT_TARGET_CPU_OBJECTFILE_H

#include "lowbit/Target/Targets.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::lowbit {

/// Translates `module` (LLVM dialect) to LLVM IR, runs LLVM's -O3 pipeline
/// for `spec` and writes an object file to `objectPath`; also the optimized
/// LLVM IR to `llPath` unless it is empty. `timer(step)` is called after
/// each step.
LogicalResult emitObjectFile(ModuleOp module, const TargetSpec &spec,
                             StringRef objectPath, StringRef llPath,
                             function_ref<void(StringRef)> timer);

/// The CPU features code generated for `spec` may use, by LLVM's names:
/// every feature of cpu_features.h's table for the target's architecture
/// that LLVM enables for the target's CPU and explicit features (implied
/// ones included). The artifact records them; the runtime refuses a CPU
/// that lacks any.
FailureOr<SmallVector<std::string>> compiledCPUFeatures(const TargetSpec &spec,
                                                        std::string &error);

/// Links `objectPath` and the C source `wrapperPath` into the shared
/// library `soPath` with the system C compiler (the cross compiler for
/// AArch64), with LLVM's OpenMP runtime when `threads`.
LogicalResult linkSharedLibrary(const TargetSpec &spec, bool threads,
                                StringRef soPath, StringRef objectPath,
                                StringRef wrapperPath, Location loc);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_CPU_OBJECTFILE_H
