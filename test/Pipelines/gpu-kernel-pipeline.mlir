// RUN: quant-opt %s --convert-lowbit-to-gpu --lowbit-gpu-launch-to-runtime --lowbit-gpu-kernel-pipeline=chip=sm_80 --split-input-file | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: quant-opt %s --convert-lowbit-to-gpu --lowbit-gpu-launch-to-runtime --lowbit-gpu-kernel-pipeline=chip=sm_90 --split-input-file | FileCheck %s --check-prefixes=CHECK,SM90

// The kernel module becomes a gpu.binary holding PTX for the chip, with
// bare-pointer parameters, 16-byte read-only loads of codes and
// activations, conversion-free decoding (bit operations and one float
// subtraction), FMAs and a shuffle reduction.
// CHECK-LABEL: func.func @gemv
// CHECK: call @lowbit_gpu_launch
// CHECK: gpu.binary @lowbit_kernels [#gpu.object<#nvvm.target<O = 3,
// SM80-SAME: chip = "sm_80"
// SM90-SAME: chip = "sm_90"
// CHECK-SAME: assembly = "
// SM80-SAME: .target sm_80
// SM90-SAME: .target sm_90
// CHECK-SAME: .visible .entry gemv_w4_m4_k2048_n4(
// CHECK-SAME: .param .u64 .ptr .align 1 gemv_w4_m4_k2048_n4_param_3
// CHECK-SAME: .maxntid 128, 1, 1
// CHECK-SAME: ld.global.nc.v4.b32
// CHECK-NOT: cvt.rn.f32
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: st.global.b32
func.func @gemv(%x: memref<4x2048xf32>, %c: memref<4096xi8>, %p: memref<256xf32>, %y: memref<4x4xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<4x2048xf32>, memref<4096xi8>, memref<256xf32>) outs(%y : memref<4x4xf32>) layout(<bits = 4, k = 2048, n = 4, lanes = 128, tile = 2, group = 64, zero, gpu>)
  return
}

// -----

// The prefill GEMM: operands staged in 32-byte aligned shared memory,
// WMMA m16n16k16 f16 loads (A row-major, B column-major) and MMAs with f32
// accumulators, barriers around the staging.
// CHECK-LABEL: func.func @gemm
// CHECK: gpu.binary @lowbit_kernels
// CHECK-SAME: .visible .entry gemm_w4_m256_k1024_n128(
// CHECK-SAME: .shared .align 32 .b8
// CHECK-SAME: ld.global.nc.v4.b32
// CHECK-SAME: st.shared.v4.b32
// CHECK-SAME: bar.sync
// CHECK-SAME: wmma.load.a.sync.aligned.row.m16n16k16.shared.f16
// CHECK-SAME: wmma.load.b.sync.aligned.col.m16n16k16.shared.f16
// CHECK-SAME: wmma.mma.sync.aligned.row.col.m16n16k16.f32.f32
// CHECK-SAME: wmma.store.d.sync.aligned.row.m16n16k16.shared.f32
func.func @gemm(%x: memref<256x1024xf32>, %c: memref<65536xi8>, %p: memref<1024xf32>, %y: memref<256x128xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<256x1024xf32>, memref<65536xi8>, memref<1024xf32>) outs(%y : memref<256x128xf32>) layout(<bits = 4, k = 1024, n = 128, lanes = 128, tile = 1, group = 128, signed, gpu>)
  return
}

// -----

// The mma.sync GEMM on the Marlin-style layout: cp.async (L2 only, 16
// bytes) global -> shared, commit and wait_group 1, ldmatrix.x4 A
// fragments, 16-byte shared loads of the codes, f16x2 decode (no
// integer-to-float conversion) and mma.sync m16n8k16 with f32
// accumulators.
// CHECK-LABEL: func.func @mma
// CHECK: gpu.binary @lowbit_kernels
// CHECK-SAME: .visible .entry mma_w4_m256_k1024_n128(
// CHECK-SAME: .shared .align 16 .b8
// CHECK-SAME: cp.async.cg.shared.global [%{{[a-z0-9]+}}], [%{{[a-z0-9]+}}], 16;
// CHECK-SAME: cp.async.commit_group;
// CHECK-SAME: cp.async.wait_group \091;
// CHECK-SAME: bar.sync
// CHECK-SAME: ld.shared.v4.b32
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-NOT: cvt.rn.f32
// CHECK-SAME: mul.rn.f16x2
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK-SAME: cp.async.wait_group \090;
// CHECK-SAME: st.global.v2.b32
func.func @mma(%x: memref<256x1024xf32>, %c: memref<65536xi8>, %p: memref<1024xf32>, %y: memref<256x128xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<256x1024xf32>, memref<65536xi8>, memref<1024xf32>) outs(%y : memref<256x128xf32>) layout(<bits = 4, k = 1024, n = 128, lanes = 128, tile = 8, group = 128, signed, gpu, mma>)
  return
}
