//===- PipelineInterfaces.h - External models per pipeline ------*- C++ -*-===//
//
// Internal to lib/Pipelines: each pipeline file registers the external
// models its passes need; registerPipelineInterfaces calls them all.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_PIPELINES_PIPELINEINTERFACES_H
#define LOWBIT_LIB_PIPELINES_PIPELINEINTERFACES_H

namespace mlir {
class DialectRegistry;
namespace lowbit::detail {

/// Bufferization of arith/linalg/scf/tensor/vector/func/lowbit, tiling of
/// linalg and tensor.
void registerCPUPipelineInterfaces(DialectRegistry &registry);

/// The NVVM target attribute's serialization and the LLVM IR translations
/// gpu-module-to-binary needs.
void registerGPUKernelPipelineInterfaces(DialectRegistry &registry);

} // namespace lowbit::detail
} // namespace mlir

#endif // LOWBIT_LIB_PIPELINES_PIPELINEINTERFACES_H
