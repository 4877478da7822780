//===- Passes.h - Passes of the NVIDIA GPU compile path ---------*- C++ -*-===//
//
// Declarations and registration of the passes in Target/GPU/Passes.td and
// the pipeline that takes Lowbit's kernels to PTX.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_GPU_PASSES_H
#define LOWBIT_TARGET_GPU_PASSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"

#include <string>

namespace mlir {
class OpPassManager;
namespace lowbit {

#define GEN_PASS_DECL
#include "lowbit/Target/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowbit/Target/GPU/Passes.h.inc"

/// Attributes of the kernels lowbit-gpu-lower-packed-matmul generates, read
/// by lowbit-gpu-launch-to-runtime: each argument's role (in, const, out)
/// and what the runtime's CPU fallback computes (a #lowbit.packed layout).
constexpr StringLiteral kArgRolesAttr = "lowbit.arg_roles";
constexpr StringLiteral kReferenceAttr = "lowbit.reference";

/// The CUDA chips quant-compile targets (`cuda-sm80`, `cuda-sm90`), as
/// `sm_80`; empty when `target` is not a CUDA target.
std::string cudaChip(StringRef target);

/// On a module holding Lowbit's kernels (`gpu.module` after
/// lowbit-gpu-lower-packed-matmul): attach an NVVM target for `chip`
/// (sm_80, sm_90), lower the kernels to NVVM (bare-pointer arguments),
/// mark their loads invariant, and replace each gpu.module by a
/// gpu.binary holding its PTX (gpu-module-to-binary, format isa).
void buildGPUKernelPipeline(OpPassManager &pm, StringRef chip);

/// Registers the NVVM target attribute's serialization and the LLVM IR
/// translations gpu-module-to-binary needs.
void registerGPUInterfaces(DialectRegistry &registry);

/// Registers the GPU passes and `--lowbit-gpu-kernel-pipeline`.
void registerGPUPasses();

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_TARGET_GPU_PASSES_H
