// RUN: quant-opt %s --split-input-file --lowbit-cpu-vectorize-hadamard --canonicalize | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-cpu-vectorize-hadamard=lanes=4 --canonicalize | FileCheck %s --check-prefix=NEON
// RUN: not quant-opt %s --split-input-file --lowbit-cpu-vectorize-hadamard=lanes=3 2>&1 | FileCheck %s --check-prefix=LANES

// 1536 = 12 x 128 at 16 lanes (one row: the row loop folds away): the four in-vector stages (shuffles by lane
// distance 1, 2, 4, 8 and a +-1 multiply-add), the three stages across
// vectors 16, 32 and 64 elements apart, then the 12 x 12 block read as 12
// vectors 128 elements apart and the scale 1/sqrt(1536).
// CHECK-LABEL: func.func private @main_hadamard_0
// CHECK-SAME: (%[[X:.*]]: tensor<1x1536xf32>, %[[OUT:.*]]: tensor<1x1536xf32>) -> tensor<1x1536xf32>
// CHECK: arith.constant dense<0.0255155{{[0-9]*}}> : vector<16xf32>
// CHECK: scf.for {{.*}} to %c96
// CHECK: vector.transfer_read %[[X]]
// CHECK: vector.shuffle {{.*}} [1, 0, 3, 2,
// CHECK: vector.shuffle {{.*}} [2, 3, 0, 1,
// CHECK: vector.shuffle {{.*}} [4, 5, 6, 7, 0,
// CHECK: vector.shuffle {{.*}} [8, 9, 10, 11, 12, 13, 14, 15, 0,
// CHECK-NOT: vector.shuffle
// CHECK: scf.for {{.*}} to %c48
// CHECK: arith.addf
// CHECK: arith.subf
// CHECK: scf.for {{.*}} to %c48
// CHECK: scf.for {{.*}} to %c48
// CHECK: scf.for {{.*}} to %c8
// CHECK-COUNT-12: vector.transfer_read
// CHECK-COUNT-12: vector.transfer_write
// CHECK-LABEL: func.func @main
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x1536xf32>
// CHECK: %[[Y:.*]] = call @main_hadamard_0(%{{.*}}, %[[E]])
// CHECK: return %[[Y]]

// NEON-LABEL: func.func private @main_hadamard_0
// NEON-COUNT-2: vector.shuffle
// NEON-NOT: vector.shuffle
// NEON: scf.for {{.*}} to %c192

// LANES: error: lowbit-cpu-vectorize-hadamard: lanes must be a power of two >= 2, got 3
func.func @main(%x: tensor<1x1536xf32>) -> tensor<1x1536xf32> {
  %y = lowbit.hadamard %x : tensor<1x1536xf32>
  return %y : tensor<1x1536xf32>
}

// -----

// Leading dimensions are rows: collapsed for the call, expanded after.
// CHECK-LABEL: func.func private @batched_hadamard_0
// CHECK-SAME: tensor<6x576xf32>
// CHECK-LABEL: func.func @batched
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<2x3x576xf32> into tensor<6x576xf32>
// CHECK: call @batched_hadamard_0
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [2, 3, 576] : tensor<6x576xf32> into tensor<2x3x576xf32>
func.func @batched(%x: tensor<2x3x576xf32>) -> tensor<2x3x576xf32> {
  %y = lowbit.hadamard %x : tensor<2x3x576xf32>
  return %y : tensor<2x3x576xf32>
}

// -----

// One kernel per shape: two layers' transforms of one shape share it.
// CHECK-LABEL: func.func private @shared_hadamard_0
// CHECK-SAME: tensor<1x576xf32>
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @shared
// CHECK: call @shared_hadamard_0
// CHECK: call @shared_hadamard_0
func.func @shared(%x: tensor<1x576xf32>) -> tensor<1x576xf32> {
  %y = lowbit.hadamard %x : tensor<1x576xf32>
  %z = lowbit.hadamard %y : tensor<1x576xf32>
  return %z : tensor<1x576xf32>
}

// -----

// 40 = 20 x 2: fewer than a vector of lanes along 2^k; the reference
// lowering keeps it (at 4 lanes too).
// CHECK-LABEL: func.func @short
// CHECK: lowbit.hadamard
// NEON-LABEL: func.func @short
// NEON: lowbit.hadamard
func.func @short(%x: tensor<2x40xf32>) -> tensor<2x40xf32> {
  %y = lowbit.hadamard %x : tensor<2x40xf32>
  return %y : tensor<2x40xf32>
}
