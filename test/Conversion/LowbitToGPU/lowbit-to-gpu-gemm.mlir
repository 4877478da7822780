// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu | FileCheck %s

// More than 16 rows: the tensor-core GEMM. 100 rows, N = 6, K = 200:
// one column block and two row blocks of 64, 4 steps of 64 k. Per step the
// block dequantizes its columns' weights (16-byte code loads, the field of
// the step's 128-k slice: a runtime shift) to f16 in workgroup memory,
// stages its activations as f16 (zero past M and K), and each warp does 4
// x 4 WMMA ops; the tile leaves through workgroup memory, guarded at M
// and N.
// CHECK-LABEL: func.func @gemm
// CHECK: gpu.launch_func @lowbit_kernels::@gemm_w4_m100_k200_n6 blocks in (%c1{{.*}}, %c2, %c1{{.*}}) threads in (%c128, %c1{{.*}}, %c1{{.*}})
// CHECK: gpu.func @gemm_w4_m100_k200_n6({{.*}}) workgroup(%[[SA:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 32 : i64}, %[[SB:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 32 : i64}, %[[SC:.*]] : memref<64x64xf32, #gpu.address_space<workgroup>> {llvm.align = 32 : i64}) kernel
// CHECK: gpu.block_id y
// CHECK: %[[ZERO:.*]] = gpu.subgroup_mma_constant_matrix %{{.*}} : !gpu.mma_matrix<16x16xf32, "COp">
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%{{.*}} = %[[ZERO]], %{{.*}} = %[[ZERO]], %{{.*}} = %[[ZERO]], %{{.*}} = %[[ZERO]])
// Weights: 8 quads of 4 k per thread, decoded, scaled, to f16.
// CHECK-COUNT-8: vector.store %{{.*}}, %[[SB]][%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<64x72xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// Activations: 8 quads per thread, zero outside M x K.
// CHECK: arith.cmpi ult, %{{.*}}, %c100
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<100x200xf32>, vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// CHECK-COUNT-8: vector.store %{{.*}}, %[[SA]]
// CHECK: gpu.barrier
// CHECK: gpu.subgroup_mma_load_matrix %[[SA]][%{{.*}}, %{{.*}}] {leadDimension = 72 : index} : {{.*}} -> !gpu.mma_matrix<16x16xf16, "AOp">
// CHECK: gpu.subgroup_mma_load_matrix %[[SB]][%{{.*}}, %{{.*}}] {leadDimension = 72 : index, transpose} : {{.*}} -> !gpu.mma_matrix<16x16xf16, "BOp">
// CHECK-COUNT-16: gpu.subgroup_mma_compute {{.*}} {b_transpose}
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-4: gpu.subgroup_mma_store_matrix %{{.*}}, %[[SC]][%{{.*}}, %{{.*}}] {leadDimension = 64 : index}
// CHECK: gpu.barrier
// CHECK: %[[ROWIN:.*]] = arith.cmpi ult, %{{.*}}, %c100
// CHECK: scf.if %[[ROWIN]]
// CHECK: %[[COLIN:.*]] = arith.cmpi ult, %{{.*}}, %c6
// CHECK: scf.if %[[COLIN]]
// CHECK: memref.load %[[SC]]
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<100x6xf32>
func.func @gemm(%x: memref<100x200xf32>, %c: memref<3072xi8>, %p: memref<192xf32>, %y: memref<100x6xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<100x200xf32>, memref<3072xi8>, memref<192xf32>) outs(%y : memref<100x6xf32>) layout(<bits = 4, k = 200, n = 6, lanes = 128, tile = 1, group = 32, signed, gpu>)
  return
}

// -----

// 8-bit codes: two 16-byte loads per thread and step, bytes extracted per
// word; N = 128 (whole column blocks): no column guards.
// CHECK-LABEL: func.func @gemm8
// CHECK: blocks in (%c2, %c1{{.*}}, %c1{{.*}})
// CHECK: gpu.func @gemm_w8_m32_k512_n128
// CHECK-COUNT-2: vector.load %{{.*}} {alignment = 16 : i64} : memref<65536xi8>, vector<16xi8>
// CHECK-NOT: vector.load {{.*}}xi8>
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NOT: scf.if
// CHECK: gpu.return
func.func @gemm8(%x: memref<32x512xf32>, %c: memref<65536xi8>, %p: memref<256xf32>, %y: memref<32x128xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<32x512xf32>, memref<65536xi8>, memref<256xf32>) outs(%y : memref<32x128xf32>) layout(<bits = 8, k = 512, n = 128, lanes = 128, tile = 1, group = 0, zero, gpu>)
  return
}
