//===- Artifact.h - Writing a native CPU artifact ---------------*- C++ -*-===//
//
// quant-compile's back end: core IR in, a directory out with
//
//   model.so       the compiled model (LLVM TargetMachine -> object ->
//                  `cc -shared`) with a small C wrapper: `lowbit_entry` and
//                  `lowbit_metadata` (the text the runtime reads)
//   weights.bin    every large constant, 64-byte aligned, memory-mapped by
//                  the runtime at load
//   manifest.json  inputs, outputs, shapes, dtypes, target, weights,
//                  versions: for people and tools
//   model.ptx      CUDA targets: the GPU kernels' PTX (JIT by the driver
//   model.cubin    on newer GPUs) and cubin (ptxas), launched by the
//                  runtime through the driver API
//
// The format is described in docs/artifact.md; runtime/ reads it.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_CPU_ARTIFACT_H
#define LOWBIT_TARGET_CPU_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::lowbit {

/// The version of the artifact format (metadata text, calling convention,
/// weights file); the runtime refuses other versions.
constexpr int kArtifactFormatVersion = 1;

struct ArtifactOptions {
  /// Output directory (created if missing).
  std::string outDir;
  /// host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4, aarch64,
  /// aarch64-dotprod, cuda-sm80 or cuda-sm90.
  std::string target = "host";
  /// Entry function of the module.
  std::string entry = "main";
  /// Tile, vectorize and thread (off: scalar loops).
  bool optimize = true;
  /// Source model, recorded in the manifest.
  std::string source;
  /// Also write the LLVM dialect module (model.ll.mlir) and LLVM IR
  /// (model.ll) next to the artifact, for inspection.
  bool keepIntermediates = false;
  /// Software prefetch distance of the low-bit matmul kernels (bytes).
  int64_t prefetchDistance = 4096;
  /// Low-bit matmuls quantize their activations to int8 per group at run
  /// time (W4A8/W8A8 on VNNI) where the target has AVX-512 VNNI.
  bool int8Activations = false;
  /// Low-bit matmuls on 1-2-bit codes use the table-lookup kernels where
  /// the target has AVX2/AVX-512BW or NEON.
  bool lutKernels = false;
};

/// The LLVM target triple, CPU and feature string for `target`, and the CPU
/// features the artifact requires at load (runtime names: avx2, fma, ...).
struct TargetSpec {
  std::string triple, cpu, features;
  SmallVector<std::string> required;
  /// CUDA targets (cuda-sm80, cuda-sm90): the chip of the GPU kernels; the
  /// host part is x86-64-v3.
  std::string gpuChip;
};
FailureOr<TargetSpec> resolveTarget(StringRef target, std::string &error);

/// Compiles `module` (core IR: linalg/tensor/arith/math/lowbit on tensors,
/// static shapes) into an artifact. Progress and timings go to `log`.
LogicalResult writeArtifact(ModuleOp module, const ArtifactOptions &options,
                            raw_ostream &log);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_CPU_ARTIFACT_H
