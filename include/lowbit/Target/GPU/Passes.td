//===- Passes.td - Passes of the NVIDIA GPU compile path ----*- tablegen -*-===//
//
// The passes that turn bufferized lowbit.packed_matmul ops into CUDA kernels
// (gpu.func, then NVVM and PTX) and their launches into calls of the
// artifact runtime.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_GPU_PASSES_TD
#define LOWBIT_TARGET_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerPackedMatmulToGPUPass
    : Pass<"lowbit-gpu-lower-packed-matmul", "ModuleOp"> {
  let summary = "Generate a CUDA kernel (gpu.func) for each bufferized "
                "lowbit.packed_matmul on a 'gpu' layout";
  let description = [{
    Replaces each `lowbit.packed_matmul` on memrefs whose layout is `gpu`
    by a `gpu.launch_func` of a kernel generated for its shape, bits, group
    size and scheme, in the module's `gpu.module @lowbit_kernels` (the
    module becomes a `gpu.container_module`). Activations and outputs with
    a non-identity layout are copied to and from contiguous buffers around
    the launch.

    Up to 16 activation rows the kernel is a decode GEMV, one warp per
    tile of columns, 4 warps per block:

    - per block of K (512 bytes of each column of the tile) one 16-byte
      load per thread (`vector.load` aligned to 16: `ld.global.v4`),
      so that a warp reads 512 consecutive bytes;
    - per 4 consecutive k a thread owns: the codes shifted and masked into
      the mantissa of 2^23 (`(c ^ sign) | 0x4B000000`, then one subtraction:
      no integer-to-float conversion), scaled with one FMA by the group's
      `scale` and `-zero * scale`;
    - one 16-byte activation load per row (the 4 k), shared by the tile's
      columns, and `vector<4xf32>` FMAs into per-row, per-column
      accumulators; the last block of a K that is not a multiple of the
      block reads zero activations past K;
    - a sum of the 4 lanes, then a warp reduction with `gpu.shuffle xor`,
      and lane 0 stores the row's outputs of the tile's columns inside N.

    On an `mma` layout (what `lowbit-pack{gpu=1}` picks when the groups are
    multiples of 16, except for 2-bit decode) up to 16 rows it is a split-K
    GEMV: a block of 4 warps per tile of 8 columns, warp w taking the
    512-byte blocks w, w + 4, ... (one 16-byte load per thread and block);
    thread (g, t) decodes column g's pairs of codes into the mantissa of
    2^23 (one f32 subtraction of `2^23 + zero` gives `value - zero`), FMAs
    them with 8-byte activation loads into per-group sums and applies the
    scale once per group; 2 shuffles and workgroup memory reduce the lanes
    and warps. Above 16 rows it is the `mma.sync` GEMM: 64 x 64
    output tiles per block of 4 warps (2 x 2 warps of 32 x 32), 128 k per
    stage. The block's codes are copied to workgroup memory with
    `nvgpu.device_async_copy` (cp.async, 16 bytes) one stage ahead, in two
    buffers; each thread reads its 16 bytes per tile of 8 columns, which
    the layout made the codes of its B fragments for 8 (4-bit) or 4
    (8-bit) MMAs, and decodes a pair of codes into an f16x2 with a mask,
    an OR with 0x6400 (1024 + code) and one subtraction of `1024 + zero`
    (exact: zero points are integers), then applies the group's scale with
    one f16x2 multiply. The
    activations are converted to f16 in workgroup memory (row pitch 136
    halves) and read as A fragments with `nvgpu.ldmatrix` (x4). Each warp
    does 8 `nvgpu.mma.sync` m16n8k16 (f16, f32 accumulators) per 16 k;
    the accumulators go from registers to the output, guarded at M and N.

    Otherwise, above 16 rows (prefill) it is a WMMA GEMM: 64 x 64 output tiles
    per block of 4 warps (2 x 2 warps of 32 x 32), grid (N / 64, M / 64).
    Per 64 k the block dequantizes its 64 columns' codes (16-byte loads,
    the same decode) into f16 in workgroup memory, where the weights are
    `B` column by column; it converts its 64 rows of activations to f16
    beside them (zero past M and K); after a barrier each warp does 16
    WMMA m16n16k16 MMAs (`gpu.subgroup_mma_*`: f16 operands, f32
    accumulators, B loaded transposed). The result tile goes through
    workgroup memory to the output, guarded at M and N.

    The kernel carries `lowbit.arg_roles` (`in`, `const`, `out` per
    argument): what the runtime copies to the device on every call, once,
    or back.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def GPULaunchToRuntimePass : Pass<"lowbit-gpu-launch-to-runtime", "ModuleOp"> {
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

def MarkInvariantLoadsPass
    : Pass<"lowbit-gpu-mark-invariant-loads", "gpu::GPUModuleOp"> {
  let summary = "Mark the loads of Lowbit's kernels invariant (ld.global.nc)";
  let description = [{
    Lowbit's kernels never read memory they write during a launch (they
    read activations, codes and parameters and write outputs), so every
    `llvm.load` of a `gpu.func` carrying `lowbit.arg_roles` is marked
    `invariant`: NVPTX then loads through the read-only data cache
    (`ld.global.nc`). Runs after `convert-gpu-to-nvvm`.
  }];
}

#endif // LOWBIT_TARGET_GPU_PASSES_TD
