// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="lookup=tbl" | FileCheck %s
// RUN: not quant-opt %S/lowbit-to-cpu.mlir --split-input-file --convert-lowbit-to-cpu="lookup=tbl" 2>&1 | FileCheck %s --check-prefix=LANES
// LANES: lut kernels on NEON take 4 lanes, got 16

// lut on NEON (4 lanes: 16-byte blocks, tiles of 8 columns): tbl lookups
// of the quad's 16-byte table; the plane sums widened portably (even and
// odd bytes apart, zero-extended, the odd ones doubled).
// CHECK-LABEL: func.func @lut
// CHECK: vector.load %{{.*}} : memref<16xi8>, vector<16xi8>
// CHECK: %[[T:.*]] = vector.load %{{.*}} : memref<1x2x16xi8>, vector<16xi8>
// CHECK: %[[L:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbl1.v16i8"(%[[T]], %{{.*}}) : (vector<16xi8>, vector<16xi8>) -> vector<16xi8>
// CHECK: %[[E:.*]] = vector.shuffle %[[L]], %[[L]] [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xi8>, vector<16xi8>
// CHECK: arith.extui %[[E]] : vector<8xi8> to vector<8xi16>
// CHECK: %[[O:.*]] = vector.shuffle %[[L]], %[[L]] [1, 3, 5, 7, 9, 11, 13, 15] : vector<16xi8>, vector<16xi8>
// CHECK: arith.extui %[[O]] : vector<8xi8> to vector<8xi16>
// CHECK: arith.shli
// CHECK: vector.maskedstore %{{.*}} : memref<1x1xf32>, vector<8xi1>, vector<8xf32>
// CHECK-NOT: llvm.x86
func.func @lut(%x: memref<1x8xf32>, %codes: memref<16xi8>, %params: memref<8xf32>, %y: memref<1x1xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x8xf32>, memref<16xi8>, memref<8xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 2, k = 8, n = 1, lanes = 4, tile = 8, group = 8, signed, lut>)
  return
}

