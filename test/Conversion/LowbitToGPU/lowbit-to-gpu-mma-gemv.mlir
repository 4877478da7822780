// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu --canonicalize --cse | FileCheck %s

// Decode (3 rows) on an `mma` layout: the split-K GEMV. One block of 4
// warps per tile of 8 columns (N = 6: one block); warp w takes the whole
// 128-k blocks w, w + 4, ... (K = 196: one), the warp next in turn (1) the
// partial block. Per block one 16-byte load per thread; per pair of codes
// shift, mask, OR into the mantissa of 2^23 and one subtraction of
// 2^23 + 8 (signed codes stored + 8); per row an 8-byte activation load
// and an FMA into the group's sum, which the group's scale folds into the
// row's accumulator where the group ends (groups of 32: every 2 steps), so
// the loop carries only the 3 rows' accumulators.
// The end of K inside 8 k (196 = 192 + 4) reads zero activations past it.
// The 4 lanes of a column reduce with 2 shuffles, the warps through
// workgroup memory; thread (r, c) stores inside M x N.
// CHECK-LABEL: func.func @gemv
// CHECK: gpu.launch_func @lowbit_kernels::@gemv_w4_m3_k196_n6 blocks in (%c1, %c1, %c1) threads in (%c128, %c1, %c1)
// CHECK: gpu.func @gemv_w4_m3_k196_n6({{.*}}) workgroup(%[[RED:.*]] : memref<4x3x8xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %c32
// CHECK: scf.for %{{.*}} = %[[WARP]] to %c1 step %c4 iter_args({{.*}}) -> (vector<2xf32>, vector<2xf32>, vector<2xf32>) {
// CHECK: vector.load %arg1[%{{.*}}] {alignment = 16 : i64} : memref<1024xi8>, vector<16xi8>
// CHECK: vector.fma
// CHECK: memref.load %arg2
// CHECK: arith.shrui %{{.*}}, %{{.*}} : vector<2xi32>
// CHECK: arith.andi
// CHECK: arith.ori %{{.*}}, %{{.*}} : vector<2xi32>
// CHECK: arith.bitcast %{{.*}} : vector<2xi32> to vector<2xf32>
// CHECK: arith.subf %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK-COUNT-3: vector.load %arg0[%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<3x196xf32>, vector<2xf32>
// CHECK: scf.yield
// CHECK: %[[MINE:.*]] = arith.cmpi eq, %[[WARP]], %c1
// CHECK: scf.if %[[MINE]] -> (vector<2xf32>
// CHECK: arith.cmpi ult, %{{.*}}, %c196
// CHECK: arith.select
// CHECK: } else {
// CHECK-COUNT-3: vector.reduction <add>
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK: scf.if
// CHECK-COUNT-3: memref.store %{{.*}}, %[[RED]]
// CHECK: gpu.barrier
// CHECK: arith.cmpi ult, %{{.*}}, %c6
// CHECK: arith.cmpi ult, %{{.*}}, %c24
// CHECK: scf.if
// CHECK-COUNT-4: memref.load %[[RED]]
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}, %{{.*}}] : memref<3x6xf32>
func.func @gemv(%x: memref<3x196xf32>, %c: memref<1024xi8>, %p: memref<64xf32>, %y: memref<3x6xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<3x196xf32>, memref<1024xi8>, memref<64xf32>) outs(%y : memref<3x6xf32>) layout(<bits = 4, k = 196, n = 6, lanes = 128, tile = 8, group = 32, signed, gpu, mma>)
  return
}

// -----

// Per-channel 8-bit asymmetric: the scale and 2^23 + zero loaded once
// before the loop; the loop carries only the row's sum of (value - zero)
// x activation, which one FMA scales after it.
// CHECK-LABEL: func.func @gemv8
// CHECK: gpu.func @gemv_w8_m1_k128_n16
// CHECK-COUNT-2: memref.load %arg2
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<2xf32>) {
// CHECK-NOT: memref.load %arg2
// CHECK: scf.yield
// CHECK: vector.fma
// CHECK: gpu.shuffle
func.func @gemv8(%x: memref<1x128xf32>, %c: memref<2048xi8>, %p: memref<32xf32>, %y: memref<1x16xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<1x128xf32>, memref<2048xi8>, memref<32xf32>) outs(%y : memref<1x16xf32>) layout(<bits = 8, k = 128, n = 16, lanes = 128, tile = 8, group = 0, zero, gpu, mma>)
  return
}
