// RUN: quant-opt %s --lowbit-insert-calibration | FileCheck %s
// RUN: quant-opt %s --lowbit-insert-calibration --lowbit-insert-calibration | FileCheck %s
// RUN: quant-opt %s --lowbit-insert-calibration="include=down" | FileCheck %s --check-prefix=INCLUDE

// gate and up read one tensor: one site, named after the first; down reads
// another. The output head is not a site (default exclude). Running the
// pass twice changes nothing.
// CHECK-LABEL: func.func @main
// CHECK: %[[S0:.*]] = lowbit.calibrate %arg0 site "gate:in" collect <abs_max, min_max, mean, hessian> : tensor<1x4x8xf32>
// CHECK-NOT: lowbit.calibrate %arg0
// CHECK: %[[S1:.*]] = lowbit.calibrate %{{.*}} site "down:in" {{.*}} : tensor<4x8xf32>
// CHECK-NEXT: linalg.matmul ins(%[[S1]], %{{.*}} : tensor<4x8xf32>, tensor<8x8xf32>)
// CHECK-NOT: lowbit.calibrate

// INCLUDE-LABEL: func.func @main
// INCLUDE-COUNT-1: lowbit.calibrate
// INCLUDE-SAME: site "down:in"
// INCLUDE-NOT: lowbit.calibrate

func.func @main(%x: tensor<1x4x8xf32> {onnx.name = "x"}) -> (tensor<4x8xf32> {onnx.name = "y"}) {
  %gate = arith.constant dense<0.5> : tensor<8x8xf32> loc("gate")
  %up = arith.constant dense<0.25> : tensor<8x8xf32>
  %down = arith.constant dense<0.125> : tensor<8x8xf32>
  %head = arith.constant dense<1.0> : tensor<8x8xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %gate : tensor<1x4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<1x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32> loc("gate")
  %u = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %up : tensor<1x4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<1x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8xf32> loc("up")
  %h = tensor.collapse_shape %g [[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
  %hu = tensor.collapse_shape %u [[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %hh = linalg.add ins(%h, %hu : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %d = linalg.matmul ins(%hh, %down : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f2 : tensor<4x8xf32>) -> tensor<4x8xf32> loc("down")
  %y = linalg.matmul ins(%d, %head : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f2 : tensor<4x8xf32>) -> tensor<4x8xf32> loc("lm_head")
  return %y : tensor<4x8xf32>
}
