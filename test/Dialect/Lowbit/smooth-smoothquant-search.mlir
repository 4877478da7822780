// RUN: quant-opt %s --split-input-file --lowbit-smooth="method=smoothquant bits=8 group-size=0" | FileCheck %s

// SmoothQuant's alpha search. Channel 0 is an activation outlier (max|x|
// 100, mean square 1e4; the others 1): rounding X to int8 in one block of
// 4 channels gives the others a step of 100 / 127, and the output an error
// that moving range into the weights (s_0 = 100^alpha) halves while the
// 8-bit weights lose little (alpha = 0.75 here). The search smooths: the
// norm's channel 0 shrinks by 1 / s_0, its weight row grows by s_0 > 1.
// CHECK-LABEL: func.func @outlier_channel
// CHECK: arith.constant dense<[0.0{{[0-9]+}}, 1.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
// CHECK: arith.constant dense<{{\[\[}}[[S:[1-9][0-9]*\.[0-9]+]], [[S]]], [1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<4x2xf32>
// CHECK: linalg.matmul {lowbit.smooth = {alpha = {{[1-9]\.[0-9]+}}e-01 : f64, error_after = {{.*}}, error_before = {{.*}}, floored_channels = 0 : i64, method = "smoothquant"}}
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @outlier_channel(%t: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x4xf32>, tensor<4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  %c = lowbit.calibrate %h site "fc:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, abs_max = dense<[100.0, 1.0, 1.0, 1.0]> : tensor<4xf32>, hessian = dense<[[1.0e4, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>}} : tensor<4x4xf32>
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%c, %w : tensor<4x4xf32>, tensor<4x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}

// -----

// Nothing to migrate: equal channels and equal weights give s = 1 for every
// alpha, a tie with no smoothing, which the search keeps (method "none",
// the weights and the norm unchanged).
// CHECK-LABEL: func.func @nothing_to_gain
// CHECK-DAG: arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<4x2xf32>
// CHECK: linalg.matmul {lowbit.smooth = {alpha = 0.000000e+00 : f64, error_after = [[E:.*]] : f64, error_before = [[E]] : f64, floored_channels = 0 : i64, method = "none"}}
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @nothing_to_gain(%t: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x4xf32>, tensor<4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  %c = lowbit.calibrate %h site "fc:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, abs_max = dense<2.0> : tensor<4xf32>, hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>}} : tensor<4x4xf32>
  %w = arith.constant dense<0.5> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%c, %w : tensor<4x4xf32>, tensor<4x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}
