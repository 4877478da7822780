//===- Targets.h - What quant-compile can target ----------------*- C++ -*-===//
//
// A --target name (host, x86-64-v3, aarch64-dotprod, cuda-sm90, ...) as an
// LLVM triple, CPU and features, the CPU features an artifact requires at
// load, and the options of lowbit-cpu-pipeline that follow from it and the
// kernel choices.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_TARGETS_H
#define LOWBIT_TARGET_TARGETS_H

#include "lowbit/Pipelines/Pipelines.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::lowbit {

/// The LLVM target triple, CPU and feature string for a --target, and the
/// CPU features the artifact requires at load (runtime names: avx2, fma,
/// ...).
struct TargetSpec {
  std::string name, triple, cpu, features;
  SmallVector<std::string> required;
  /// CUDA targets (cuda-sm80, cuda-sm90): the chip of the GPU kernels; the
  /// host part is x86-64-v3.
  std::string gpuChip;

  bool needs(StringRef feature) const;
  bool isAArch64() const;
  /// True when the artifact's code cannot run on this machine (AArch64 from
  /// x86): linked by the cross compiler, no OpenMP runtime.
  bool isCross() const;
};

/// The target called `name`; failure with `error` naming the valid ones.
FailureOr<TargetSpec> resolveTarget(StringRef name, std::string &error);

/// What the user asked of the kernels (flags or recipe), before the target
/// says what it can do.
struct KernelRequest {
  std::string entry = "main";
  bool optimize = true;
  int64_t prefetchDistance = 4096;
  /// Low-bit matmuls quantize their activations to int8 (W4A8/W8A8) where
  /// the target has AVX-512 VNNI or ARM dot products.
  bool int8Activations = false;
  /// With int8 activations: the LLM.int8()-style outlier channel threshold.
  double int8OutlierThreshold = 0.0;
  /// 1-2-bit codes run on the table-lookup kernels where the target has
  /// AVX2, AVX-512BW or NEON.
  bool lutKernels = false;
};

/// The options of lowbit-cpu-pipeline for `spec` and `request`; a line in
/// `notes` for every request the target cannot honour (and what it gets
/// instead).
void setCPUPipelineOptions(const TargetSpec &spec, const KernelRequest &request,
                           CPUPipelineOptions &options, std::string &notes);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_TARGETS_H
