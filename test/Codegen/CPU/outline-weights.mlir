// RUN: quant-opt %s --split-input-file --lowbit-cpu-outline-weights | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-cpu-outline-weights --lowbit-cpu-outline-weights | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-cpu-outline-weights=min-elements=16 | FileCheck %s --check-prefix=SMALL
// RUN: not quant-opt %s --lowbit-cpu-outline-weights=entry=nope 2>&1 | FileCheck %s --check-prefix=ENTRY

// ENTRY: error: no entry function @nope

// Large constants become trailing arguments, their values the module's
// lowbit.weights (entry i: the i-th outlined argument); small ones stay.
// A second run finds nothing more to outline.
// CHECK: module attributes {lowbit.weights = [dense<1.000000e+00> : tensor<8x16xf32>]}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x16xf32>)
// CHECK-NOT: arith.constant dense<1.0
// CHECK: arith.constant dense<5.000000e-01> : tensor<16xf32>
// CHECK: linalg.matmul ins(%[[X]], %[[W]] :

// With a lower bound the 16-element bias is outlined too, after the weight.
// SMALL: module attributes {lowbit.weights = [dense<1.000000e+00> : tensor<8x16xf32>, dense<5.000000e-01> : tensor<16xf32>]}
// SMALL-LABEL: func.func @main
// SMALL-SAME: (%{{.*}}: tensor<4x8xf32>, %{{.*}}: tensor<8x16xf32>, %{{.*}}: tensor<16xf32>)
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = arith.constant dense<1.0> : tensor<8x16xf32>
  %b = arith.constant dense<0.5> : tensor<16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  %e2 = tensor.empty() : tensor<4x16xf32>
  %add = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<4x16xf32>, tensor<16xf32>) outs(%e2 : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %add : tensor<4x16xf32>
}
