//===- Passes.td - NVIDIA GPU code generation passes --------*- tablegen -*-===//
//
// The passes of the CUDA compile path that are not conversions: the
// kernels' launches become calls of the artifact runtime, and their loads
// go through the read-only cache. The kernels themselves come from
// convert-lowbit-to-gpu (Conversion/Passes.td). One flag prefix: lowbit-gpu-.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CODEGEN_GPU_PASSES_TD
#define LOWBIT_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowbitGPULaunchToRuntimePass
    : Pass<"lowbit-gpu-launch-to-runtime", "ModuleOp"> {
  let summary = "Replace gpu.launch_func by calls of the artifact runtime";
  let description = [{
    Numbers the kernels the module launches and replaces each
    `gpu.launch_func` by a call `@lowbit_gpu_launch(i64 kernel, index
    args)`, `args` being the address of an array holding the aligned
    pointer of each (contiguous, statically shaped) memref argument. The
    launch table goes to the module attribute `lowbit.gpu_kernels`: per
    kernel its name, grid and block sizes, and per argument its bytes and
    role (`in`: copied to the device before each launch, `const`: copied
    once and kept, keyed by its host address, `out`: copied back after
    it), plus the kernel's `lowbit.reference` description when it has one
    (what the runtime's CPU fallback computes).

    ```mlir
    gpu.launch_func @lowbit_kernels::@packed_matmul_0 blocks in (%c64, %c1, %c1)
        threads in (%c128, %c1, %c1) args(%x : memref<1x256xf32>, ...)
    // becomes
    func.call @lowbit_gpu_launch(%c0_i64, %args) : (i64, index) -> ()
    ```
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def LowbitGPUMarkInvariantLoadsPass
    : Pass<"lowbit-gpu-mark-invariant-loads", "gpu::GPUModuleOp"> {
  let summary = "Mark the loads of Lowbit's kernels invariant (ld.global.nc)";
  let description = [{
    Lowbit's kernels never read memory they write during a launch (they
    read activations, codes and parameters and write outputs), so every
    `llvm.load` in `gpu.module @lowbit_kernels` (where
    `convert-lowbit-to-gpu` puts them) is marked `invariant`: NVPTX then
    loads through the read-only data cache (`ld.global.nc`). Other
    `gpu.module`s are left alone. Runs after `convert-gpu-to-nvvm`.
  }];
}

#endif // LOWBIT_CODEGEN_GPU_PASSES_TD
