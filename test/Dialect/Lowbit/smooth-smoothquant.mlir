// RUN: quant-opt %s --lowbit-smooth="method=smoothquant alpha=0.5 group-size=0" | FileCheck %s

// SmoothQuant with a fixed alpha = 0.5 (the paper's): s = sqrt(max|x|) / sqrt(max|w|) per channel,
// max|x| = [4, 1, 0], max|w| = [4, 1, 2]. The third channel is dead (never
// non-zero on the calibration data): its statistic is floored at 1e-5 of
// the largest (4e-5), s = sqrt(4e-5 / 2) = 0.004472, and nothing becomes
// inf or NaN.
// CHECK-LABEL: func.func @dead_channel
// CHECK-NOT: inf
// CHECK-NOT: nan
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.000000e+00, 223.6067{{[0-9]*}}]> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [1.000000e+00, 1.000000e+00], [0.00894427{{[0-9]*}}, 0.00894427{{[0-9]*}}]]> : tensor<3x2xf32>
// CHECK-DAG: lowbit.stats = {abs_max = dense<[4.000000e+00, 1.000000e+00, 0.000000e+00]> : tensor<3xf32>
// CHECK: linalg.matmul {lowbit.smooth = {alpha = 5.000000e-01 : f64, error_after = {{.*}} : f64, error_before = {{.*}} : f64, floored_channels = 1 : i64, method = "smoothquant"}}
// CHECK-NOT: inf
// CHECK-NOT: nan
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @dead_channel(%t: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<1.0> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %c = lowbit.calibrate %h site "fc:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, abs_max = dense<[4.0, 1.0, 0.0]> : tensor<3xf32>, hessian = dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]> : tensor<3x3xf32>}} : tensor<4x3xf32>
  %w = arith.constant dense<[[1.0, 4.0], [1.0, 1.0], [2.0, 2.0]]> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%c, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}
