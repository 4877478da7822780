//===- GPUArtifact.h - The GPU part of an artifact --------------*- C++ -*-===//
//
// What quant-compile writes for a CUDA target beside model.so: the kernels'
// PTX (model.ptx) and cubin (model.cubin, by ptxas), and the launch table
// as metadata lines for the runtime (docs/artifact.md, docs/gpu.md).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_GPU_GPUARTIFACT_H
#define LOWBIT_TARGET_GPU_GPUARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace mlir::lowbit {

struct GPUFiles {
  unsigned numKernels = 0;
  /// Metadata lines (`gpu ...`, `gpu-kernel ...`), empty without kernels.
  std::string metadata;
  /// Files written into the artifact (cubin empty when ptxas is missing).
  std::string ptxFile, cubinFile;
  /// Registers and spills per kernel, as ptxas -v reports them.
  std::string ptxasReport;
  /// The manifest's "gpu" entry (null without kernels).
  llvm::json::Value manifest(StringRef chip) const;
};

struct GPUArtifactOptions {
  /// The CUDA chip of the kernels (sm_80, sm_90); empty for CPU targets.
  std::string chip;
  /// Also keep ptxas's report (model.ptxas.txt).
  bool keepIntermediates = false;
  /// The ptxas to run; empty: /usr/local/cuda/bin/ptxas, then the one on
  /// PATH.
  std::string ptxas;
};

/// Takes the gpu.binary of Lowbit's kernels and the launch table out of
/// `module` (a host module after the CPU pipeline with a GPU chip) and
/// writes model.ptx and model.cubin through `path` (file name -> path in
/// the artifact). Without a ptxas the artifact carries PTX only (the driver
/// compiles it at load), with a note.
FailureOr<GPUFiles> writeGPUFiles(ModuleOp module,
                                  const GPUArtifactOptions &options,
                                  function_ref<std::string(StringRef)> path,
                                  raw_ostream &log);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_GPU_GPUARTIFACT_H
