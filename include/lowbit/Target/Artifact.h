//===- Artifact.h - Writing a native artifact -------------------*- C++ -*-===//
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
// The names, sizes and encodings the runtime must agree with are in
// runtime/include/lowbit/artifact.h; docs/compile-and-run.md describes the
// format.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_ARTIFACT_H
#define LOWBIT_TARGET_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <string>

namespace mlir {
class PassManager;
namespace lowbit {

struct ArtifactOptions {
  /// Output directory (created if missing).
  std::string outDir;
  /// A --target name (Target/Targets.h).
  std::string target = "host";
  /// Entry function of the module.
  std::string entry = "main";
  /// Tile, vectorize and thread (off: scalar loops).
  bool optimize = true;
  /// Source model, recorded in the manifest.
  std::string source;
  /// Also write the LLVM IR (model.ll) and the C wrapper next to the
  /// artifact, for inspection.
  bool keepIntermediates = false;
  /// Software prefetch distance of the low-bit matmul kernels (bytes).
  int64_t prefetchDistance = 4096;
  /// Low-bit matmuls quantize their activations to int8 per group at run
  /// time (W4A8/W8A8 on VNNI) where the target has AVX-512 VNNI.
  bool int8Activations = false;
  /// With int8 activations: input channels whose calibrated abs-max exceeds
  /// this stay f32 in a side matmul (0: none).
  double int8OutlierThreshold = 0.0;
  /// Low-bit matmuls on 1-2-bit codes use the table-lookup kernels where
  /// the target has AVX2/AVX-512BW or NEON.
  bool lutKernels = false;
  /// CUDA targets: the ptxas to run; empty: /usr/local/cuda/bin/ptxas, then
  /// the one on PATH (without one the artifact carries PTX only).
  std::string ptxas;
  /// Called on the pass manager of the pipeline before it runs (a driver's
  /// --mlir-print-ir-after-all, --mlir-timing, ...).
  std::function<LogicalResult(PassManager &)> configurePassManager;
};

/// The artifact's dtype name of an element type ("f32", "u8", "bool", ...;
/// artifact.h's table), or "" for a type artifacts do not support.
std::string artifactDtype(Type elementType, bool isUnsigned);

/// Runs lowbit-cpu-pipeline on `module` with the options `options.target`
/// and the kernel choices imply, logging the pipeline (its textual form
/// replays under quant-opt) and any choice the target cannot honour.
LogicalResult lowerToLLVMDialect(ModuleOp module,
                                 const ArtifactOptions &options,
                                 raw_ostream &log);

/// Translates an LLVM dialect module (after lowerToLLVMDialect, for a CPU
/// target) to LLVM IR, optimizes it for the target and writes an object
/// file to `path`.
LogicalResult writeObjectFile(ModuleOp module, const ArtifactOptions &options,
                              StringRef path, raw_ostream &log);

/// Compiles `module` (core IR: linalg/tensor/arith/math/lowbit on tensors,
/// static shapes) into an artifact. Progress and timings go to `log`.
LogicalResult writeArtifact(ModuleOp module, const ArtifactOptions &options,
                            raw_ostream &log);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_TARGET_ARTIFACT_H
