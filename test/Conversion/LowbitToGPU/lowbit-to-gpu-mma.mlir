// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu | FileCheck %s

// An `mma` layout: the mma.sync GEMM. 100 rows, N = 6 (one tile of 8
// columns), K = 200 padded to 256: grid (1, 2), 2 stages of 128 k. The
// block's codes go to workgroup memory with cp.async (2 x 16 bytes per
// thread and stage, 4-bit codes), a stage ahead: the prologue copies stage
// 0; each iteration copies the next stage into the other buffer, converts
// its activations to f16 (16 x 4 per thread), waits for all but the newest
// copy group and synchronizes. Then per 16 k: ldmatrix.x4 A fragments (2
// per warp), per tile the 16 bytes of the thread's codes (one load per 8
// steps), a pair of codes to f16x2 (OR 0x64006400), minus 1024 + zero,
// times the scale, and 2 mma.sync m16n8k16 per tile (4 tiles): 64 MMAs per
// stage. The accumulators go straight to the output, 2 f32 per store
// inside M and N.
// CHECK-LABEL: func.func @mma
// CHECK: gpu.launch_func @lowbit_kernels::@mma_w4_m100_k200_n6 blocks in (%c1{{.*}}, %c2, %c1{{.*}}) threads in (%c128, %c1{{.*}}, %c1{{.*}})
// CHECK: gpu.func @mma_w4_m100_k200_n6({{.*}}) workgroup(%[[SA:.*]] : memref<64x136xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[SW:.*]] : memref<8192xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK-COUNT-2: nvgpu.device_async_copy %arg1[%{{.*}}], %[[SW]][%{{.*}}], 16 {bypassL1} : memref<1024xi8> to memref<8192xi8, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>)
// CHECK: gpu.barrier
// CHECK-COUNT-2: nvgpu.device_async_copy
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK-COUNT-16: vector.store %{{.*}}, %[[SA]][%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<64x136xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 1 : i32}
// CHECK: gpu.barrier
// CHECK: memref.load %arg2
// CHECK: vector.load %[[SW]][%{{.*}}] {alignment = 16 : i64} : memref<8192xi8, #gpu.address_space<workgroup>>, vector<16xi8>
// CHECK: nvgpu.ldmatrix %[[SA]][%{{.*}}, %{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<64x136xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: arith.ori %{{.*}}, %c1677747200_i32 : i32
// CHECK: vector.bitcast %{{.*}} : vector<1xi32> to vector<2xf16>
// CHECK: arith.subf %{{.*}}, %{{.*}} : vector<2xf16>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<2xf16>
// CHECK-COUNT-2: nvgpu.mma.sync(%{{.*}}, %{{.*}}, %{{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-COUNT-62: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK: %[[NONE:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[NONE]] {numGroups = 0 : i32}
// CHECK: arith.cmpi ult, %{{.*}}, %c100
// CHECK: arith.cmpi ult, %{{.*}}, %c6
// CHECK: scf.if
// CHECK: vector.store %{{.*}}, %arg3[%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<100x6xf32>, vector<2xf32>
func.func @mma(%x: memref<100x200xf32>, %c: memref<1024xi8>, %p: memref<128xf32>, %y: memref<100x6xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<100x200xf32>, memref<1024xi8>, memref<128xf32>) outs(%y : memref<100x6xf32>) layout(<bits = 4, k = 200, n = 6, lanes = 128, tile = 8, group = 32, zero, gpu, mma>)
  return
}

// -----

// 8-bit codes: 2 blocks of 64 k per stage (4 copies per thread), one
// 16-byte load per 4 MMA steps; signed codes (stored + 128) minus 1024 +
// 128, no zero points; per-channel scales loaded once before the loop. An
// odd N stores the two columns of a pair one by one, each inside N.
// CHECK-LABEL: func.func @mma8
// CHECK: gpu.func @mma_w8_m20_k64_n9({{.*}}) workgroup(%[[SA:.*]] : memref<64x136xf16, {{.*}}, %[[SW:.*]] : memref<16384xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK-COUNT-4: memref.load %arg2
// CHECK-COUNT-4: nvgpu.device_async_copy
// CHECK: scf.for
// CHECK-NOT: memref.load %arg2
// CHECK: nvgpu.device_async_wait
// CHECK: arith.constant dense<1.152000e+03> : vector<2xf16>
// CHECK: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}, %{{.*}}] : memref<20x9xf32>
// CHECK: arith.cmpi ult, %{{.*}}, %c9
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}, %{{.*}}] : memref<20x9xf32>
func.func @mma8(%x: memref<20x64xf32>, %c: memref<1024xi8>, %p: memref<16xf32>, %y: memref<20x9xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<20x64xf32>, memref<1024xi8>, memref<16xf32>) outs(%y : memref<20x9xf32>) layout(<bits = 8, k = 64, n = 9, lanes = 128, tile = 8, group = 0, signed, gpu, mma>)
  return
}
