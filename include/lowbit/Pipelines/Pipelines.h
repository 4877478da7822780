//===- Pipelines.h - Lowbit pass pipelines ----------------------*- C++ -*-===//
//
// Named pass pipelines, built by this library and registered in quant-opt, so
// tools, tests and Python run the same sequence.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_PIPELINES_PIPELINES_H
#define LOWBIT_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;

namespace lowbit {

/// lowbit -> reference linalg -> bufferized loops -> LLVM dialect, ready for
/// mlir-runner or translation to LLVM IR. No vectorization or threading: the
/// numerics reference, not the fast path.
void buildReferenceToLLVMPipeline(OpPassManager &pm);

/// Registers the pipelines above with the global pipeline registry
/// (`--lowbit-reference-to-llvm`).
void registerLowbitPipelines();

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_PIPELINES_PIPELINES_H
