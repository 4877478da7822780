//===- Passes.h - Passes of the CPU compile path ----------------*- C++ -*-===//
//
// Declarations and registration of the passes in Target/CPU/Passes.td and
// the CPU pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_CPU_PASSES_H
#define LOWBIT_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <string>

namespace mlir {
class OpPassManager;
namespace lowbit {

#define GEN_PASS_DECL
#include "lowbit/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowbit/Target/CPU/Passes.h.inc"

/// Options of the CPU pipeline (`--lowbit-cpu-pipeline`).
struct CPUPipelineOptions {
  /// Entry function of the model.
  std::string entry = "main";
  /// Tile, vectorize and parallelise (off: scalar loops, one thread).
  bool optimize = true;
  /// Width of the target's vector registers in bits (register tile choice).
  int64_t vectorBits = 512;
  /// Split work across threads (OpenMP; the artifact links libomp).
  bool threads = true;
  /// Allocate through _mlir_memref_to_llvm_alloc/free (the artifact's
  /// caching allocator) instead of malloc/free.
  bool cachingAllocator = false;
  /// Software prefetch distance of the packed-weight kernels, in bytes
  /// (0: none).
  int64_t prefetchDistance = 4096;
  /// Quantize the activations of low-bit matmuls to int8 (VNNI kernels).
  bool int8Activations = false;
  /// Their dot products are ARM sdot (else x86 VNNI vpdpbusd).
  bool armDot = false;
  /// Integer codes of at most this many bits (0: none, up to 4) run on
  /// the table-lookup kernels.
  int64_t lutMaxBits = 0;
  /// The target is AArch64 (table lookups with NEON tbl, else pshufb).
  bool arm = false;
  /// int8-activation matmuls of at least this many rows run on AMX
  /// tdpbusd (0: never).
  int64_t amxMinRows = 0;
  /// CUDA chip (sm_80, sm_90) of the quantized matmuls: packed for and
  /// lowered to GPU kernels (Target/GPU), compiled to a gpu.binary holding
  /// PTX, launched through the runtime; empty: CPU kernels.
  std::string gpuChip;
};

/// Core IR (linalg/tensor/arith/math, lowbit) -> LLVM dialect: weights as
/// arguments, one function per kernel, tiled and vectorized contractions,
/// OpenMP threads, bufferized with outputs as arguments, and the entry
/// function given a C interface (`_mlir_ciface_<entry>`).
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// The two halves of buildCPUPipeline: up to and including
/// lowbit-outline-weights (the artifact writer reads the weights between
/// them), then the rest.
void buildCPUPipelineFront(OpPassManager &pm, const CPUPipelineOptions &options);
void buildCPUPipelineBack(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers the external interface models the CPU pipeline needs
/// (bufferization of arith/linalg/scf/tensor/func, linalg tiling).
void registerCPUInterfaces(DialectRegistry &registry);

/// Registers `--lowbit-cpu-pipeline` and the CPU passes.
void registerCPUPipeline();

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_TARGET_CPU_PASSES_H
