//===- gpu.h - The runtime's GPU side (internal) ----------------*- C++ -*-===//
//
// Artifacts compiled for cuda-sm80/cuda-sm90 launch their kernels through a
// hook the runtime installs in model.so. The hook runs them on the first
// CUDA GPU, through the driver API loaded with dlopen("libcuda.so.1") (no
// link-time CUDA dependency), or, when the load options ask for it, computes
// each kernel's reference on the CPU (slow; for machines without a GPU and
// for checking the GPU's results).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_GPU_H
#define LOWBIT_RUNTIME_GPU_H

#include <cstdint>
#include <string>
#include <vector>

namespace lowbit_runtime {

/// One kernel of the launch table (a `gpu-kernel` metadata line).
struct GpuKernel {
  std::string name;
  int64_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  std::vector<int64_t> argBytes;
  std::vector<char> argRoles; // 'i' in, 'c' const, 'o' out
  // `ref packed_matmul`: what the CPU fallback computes.
  bool hasRef = false;
  int64_t bits = 0, k = 0, n = 0, tile = 0, group = 0;
  bool isSigned = false, zero = false, mma = false;
  // With outliers: their count; the kernel takes them as argument 3 (the
  // `outliers` array of #lowbit.packed), the output is argument 4.
  int64_t outliers = 0;
};

/// What the `gpu` metadata lines say.
struct GpuInfo {
  std::string chip, cubin, ptx;
  std::vector<GpuKernel> kernels;
};

/// Parses a `gpu` or `gpu-kernel` metadata line into `info`; returns an
/// error message or "".
std::string parseGpuLine(const std::string &line, GpuInfo &info);

/// Computes kernel `k`'s reference on the CPU (gpu_reference.cpp) with the
/// launch's arguments; returns an error message or "".
std::string runReference(const GpuKernel &k, const uintptr_t *args);

class GpuState;

/// What the load options say about the GPU side.
struct GpuOptions {
  /// Compute each kernel's reference on the CPU instead of launching it.
  bool cpuReference = false;
  /// CUDA device ordinal.
  int device = 0;
  /// The driver library to dlopen; empty: libcuda.so.1, then libcuda.so.
  std::string driver;
  /// Time every launch with CUDA events.
  bool timing = false;
};

/// Sets up the GPU side of an artifact in `dir` (loads the driver, the
/// module and the kernels, or the CPU fallback). Returns null and an
/// error message on failure.
GpuState *createGpuState(const std::string &dir, const GpuInfo &info,
                         const GpuOptions &options, std::string &error);
void destroyGpuState(GpuState *state);

/// The hook model.so calls for each launch (`lowbit_set_gpu_hook`).
extern "C" int lowbit_runtime_gpu_hook(void *state, int64_t kernel,
                                       const uintptr_t *args);

/// The first error of the launches since the last call ("" if none);
/// clears it.
std::string takeGpuError(GpuState *state);
/// "cuda <device name> (sm_XY)" or "cpu fallback".
std::string gpuDescription(const GpuState *state);
/// Routes launches to `launcher(user, kernel, args)` (null: the default).
void setGpuLauncher(GpuState *state,
                    int (*launcher)(void *, int64_t, const uintptr_t *),
                    void *user);
/// Launches of kernel `i` so far and their time (ms; 0 without timing).
void gpuKernelStats(const GpuState *state, size_t i, int64_t &launches,
                    double &ms);

} // namespace lowbit_runtime

#endif // LOWBIT_RUNTIME_GPU_H
