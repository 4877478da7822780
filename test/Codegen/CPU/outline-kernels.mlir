// RUN: quant-opt %s --split-input-file --lowbit-cpu-outline-weights --lowbit-cpu-outline-kernels | FileCheck %s
// RUN: not quant-opt %s --split-input-file --lowbit-cpu-outline-kernels=entry=nope 2>&1 | FileCheck %s --check-prefix=ENTRY

// ENTRY: error: no entry function @nope

// Each linalg op moves to its own kernel with the fill of its output and
// the small constants it reads; the entry keeps tensor.empty and the calls.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x16xf32>)
// CHECK-NOT: arith.constant dense<1.0
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK: %[[MM:.*]] = call @main_kernel_0(%[[X]], %[[W]], %[[E]])
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK: %[[ADD:.*]] = call @main_kernel_1(%[[MM]], %[[E2]])
// CHECK: return %[[ADD]]
// CHECK: func.func private @main_kernel_0(%{{.*}}: tensor<4x8xf32>, %{{.*}}: tensor<8x16xf32>, %[[OUT:.*]]: tensor<4x16xf32>) -> tensor<4x16xf32> attributes {passthrough = ["noinline"]}
// CHECK:   %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[OUT]]
// CHECK:   linalg.matmul ins({{.*}}) outs(%[[F]]
// CHECK: func.func private @main_kernel_1
// CHECK:   arith.constant dense<{{.*}}> : tensor<16xf32>
// CHECK:   linalg.generic
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

// -----

// One fill feeding two outputs of the same op (CSE merges identical fills)
// is recomputed once in the kernel, not cloned twice.
// CHECK-LABEL: func.func @main
// CHECK: call @main_kernel_0
// CHECK: func.func private @main_kernel_0(%{{.*}}: tensor<4xf32>, %[[OUT:.*]]: tensor<1xf32>) -> (tensor<1xf32>, tensor<1xf32>)
// CHECK:   %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[OUT]]
// CHECK-NOT: linalg.fill
// CHECK:   linalg.generic {{.*}} outs(%[[F]], %[[F]] : tensor<1xf32>, tensor<1xf32>)
func.func @main(%x: tensor<4xf32>) -> (tensor<1xf32>, tensor<1xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1xf32>) -> tensor<1xf32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (0)>, affine_map<(d0) -> (0)>], iterator_types = ["reduction"]} ins(%x : tensor<4xf32>) outs(%f, %f : tensor<1xf32>, tensor<1xf32>) {
  ^bb0(%in: f32, %a: f32, %b: f32):
    %s = arith.addf %a, %in : f32
    %m = arith.maximumf %b, %in : f32
    linalg.yield %s, %m : f32, f32
  } -> (tensor<1xf32>, tensor<1xf32>)
  return %r#0, %r#1 : tensor<1xf32>, tensor<1xf32>
}
