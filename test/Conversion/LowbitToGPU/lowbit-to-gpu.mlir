// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu | FileCheck %s

// 4-bit signed codes, groups of 32, K = 256 (less than one 1024-k block:
// only the masked last block, and only its quads that start below K), two
// rows, N = 8 in tiles of 1: 8 warps in 2 blocks of 128 threads.
// CHECK-LABEL: func.func @w4
// CHECK-SAME: (%[[X:.*]]: memref<2x256xf32>, %[[C:.*]]: memref<4096xi8>, %[[P:.*]]: memref<256xf32>, %[[O:.*]]: memref<2x8xf32>)
// CHECK: gpu.launch_func @lowbit_kernels::@gemv_w4_m2_k256_n8 blocks in (%c2, %c1{{.*}}, %c1{{.*}}) threads in (%c128, %c1{{.*}}, %c1{{.*}}) args(%[[X]] : memref<2x256xf32>, %[[C]] : memref<4096xi8>, %[[P]] : memref<256xf32>, %[[O]] : memref<2x8xf32>)
// CHECK: gpu.module @lowbit_kernels
// CHECK: gpu.func @gemv_w4_m2_k256_n8({{.*}}) kernel attributes {known_block_size = array<i32: 128, 1, 1>, lowbit.arg_roles = ["in", "const", "const", "out"], lowbit.reference = #lowbit.packed<bits = 4, k = 256, n = 8, lanes = 128, tile = 1, group = 32, signed, gpu>}
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]]
// CHECK: scf.if
// CHECK-NOT: scf.for
// The thread's 16 bytes of the column's block, as 4 words.
// CHECK: %[[BYTES:.*]] = vector.load %{{.*}}[%{{.*}}] {alignment = 16 : i64} : memref<4096xi8>, vector<16xi8>
// CHECK: %[[W:.*]] = vector.bitcast %[[BYTES]] : vector<16xi8> to vector<4xi32>
// Quad 0: mask, flip the sign bit, put in the mantissa of 2^23, subtract
// 2^23 + 8; times the group's scale.
// CHECK: %[[F0:.*]] = arith.andi %[[W]], %{{.*}} : vector<4xi32>
// CHECK: arith.xori %[[F0]], %{{.*}} : vector<4xi32>
// CHECK: arith.ori
// CHECK: arith.bitcast %{{.*}} : vector<4xi32> to vector<4xf32>
// CHECK: arith.subf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<256xf32>
// CHECK: arith.mulf
// Past K: the activations read at k = 0 and replaced by zeros.
// CHECK: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %c256
// CHECK: %[[K:.*]] = arith.select %[[IN]]
// CHECK: %[[XV:.*]] = vector.load %{{.*}}[%c0{{.*}}, %[[K]]] {alignment = 16 : i64} : memref<2x256xf32>, vector<4xf32>
// CHECK: %[[XM:.*]] = arith.select %[[IN]], %[[XV]]
// CHECK: vector.fma %[[XM]]
// CHECK: vector.load %{{.*}}[%c1{{.*}}, %[[K]]]
// CHECK: vector.fma
// Quad 1 takes bits [4, 8) of the words.
// CHECK: arith.shrui %[[W]], %{{.*}} : vector<4xi32>
// Quads 2 to 7 (k = 4 lane + 256, ...) start past K: not generated.
// CHECK-COUNT-2: vector.fma
// CHECK-NOT: vector.fma
// CHECK: vector.reduction <add>
// CHECK: gpu.shuffle xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32{{.*}} : f32
// CHECK: vector.reduction <add>
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]]
// CHECK: scf.if %[[FIRST]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%c0{{.*}}, %{{.*}}] : memref<2x8xf32>
// CHECK: memref.store %{{.*}}, %{{.*}}[%c1{{.*}}, %{{.*}}] : memref<2x8xf32>
// CHECK: gpu.return
func.func @w4(%x: memref<2x256xf32>, %codes: memref<4096xi8>, %params: memref<256xf32>, %out: memref<2x8xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<2x256xf32>, memref<4096xi8>, memref<256xf32>) outs(%out : memref<2x8xf32>) layout(<bits = 4, k = 256, n = 8, lanes = 128, tile = 1, group = 32, signed, gpu>)
  return
}

// -----

// 8-bit asymmetric, per channel, K = 512 (one whole block: a loop, no
// masks), N = 3 in tiles of 2: the second column of the last tile is not
// stored. Two matmuls of one layout and shape share one kernel.
// CHECK-LABEL: func.func @w8
// CHECK: gpu.launch_func @lowbit_kernels::@gemv_w8_m1_k512_n3 blocks in (%c1{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c128
// CHECK: gpu.launch_func @lowbit_kernels::@gemv_w8_m1_k512_n3 blocks
// CHECK: gpu.module @lowbit_kernels
// CHECK: gpu.func @gemv_w8_m1_k512_n3(
// CHECK: scf.for %{{.*}} = %c0 to %c1{{.*}} step %c1{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<4xf32>, vector<4xf32>)
// Byte i of word q: the word broadcast and shifted by 0, 8, 16, 24.
// CHECK: vector.extract %{{.*}}[0] : i32 from vector<4xi32>
// CHECK: vector.broadcast %{{.*}} : i32 to vector<4xi32>
// CHECK: arith.shrui
// (value - zero) * scale as one FMA: value * scale + (-zero * scale).
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<8xf32>
// CHECK: %[[Z:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<8xf32>
// CHECK: %[[NZ:.*]] = arith.negf %[[Z]] : f32
// CHECK: arith.mulf %[[NZ]]
// CHECK: vector.fma
// CHECK-NOT: arith.select
// CHECK: scf.yield
// CHECK: %[[COL:.*]] = arith.addi %{{.*}}, %c1{{.*}} : index
// CHECK: %[[INSIDE:.*]] = arith.cmpi ult, %[[COL]], %c3
// CHECK: scf.if %[[INSIDE]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%c0{{.*}}, %[[COL]]] : memref<1x3xf32>
// CHECK-NOT: gpu.func
func.func @w8(%x: memref<1x512xf32>, %x2: memref<1x512xf32>, %codes: memref<2048xi8>, %params: memref<8xf32>, %out: memref<1x3xf32>, %out2: memref<1x3xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x512xf32>, memref<2048xi8>, memref<8xf32>) outs(%out : memref<1x3xf32>) layout(<bits = 8, k = 512, n = 3, lanes = 128, tile = 2, group = 0, zero, gpu>)
  lowbit.packed_matmul ins(%x2, %codes, %params : memref<1x512xf32>, memref<2048xi8>, memref<8xf32>) outs(%out2 : memref<1x3xf32>) layout(<bits = 8, k = 512, n = 3, lanes = 128, tile = 2, group = 0, zero, gpu>)
  return
}

// -----

// A strided activation view is copied to a contiguous buffer for the
// launch; 2-bit codes: 16 quads per block.
// CHECK-LABEL: func.func @strided
// CHECK: %[[SUB:.*]] = memref.subview
// CHECK: %[[BUF:.*]] = memref.alloc() : memref<2x2048xf32>
// CHECK: memref.copy %[[SUB]], %[[BUF]]
// CHECK: gpu.launch_func @lowbit_kernels::@gemv_w2_m2_k2048_n1 {{.*}} args(%[[BUF]] : memref<2x2048xf32>
// CHECK: memref.dealloc %[[BUF]]
// CHECK: gpu.func @gemv_w2_m2_k2048_n1
// CHECK-COUNT-16: arith.andi %{{.*}}, %{{.*}} : vector<4xi32>
// CHECK-NOT: arith.andi
// CHECK: gpu.return
func.func @strided(%x: memref<3x2048xf32>, %codes: memref<512xi8>, %params: memref<16xf32>, %out: memref<2x1xf32>) {
  %sub = memref.subview %x[1, 0] [2, 2048] [1, 1] : memref<3x2048xf32> to memref<2x2048xf32, strided<[2048, 1], offset: 2048>>
  lowbit.packed_matmul ins(%sub, %codes, %params : memref<2x2048xf32, strided<[2048, 1], offset: 2048>>, memref<512xi8>, memref<16xf32>) outs(%out : memref<2x1xf32>) layout(<bits = 2, k = 2048, n = 1, lanes = 128, tile = 1, group = 128, gpu>)
  return
}
