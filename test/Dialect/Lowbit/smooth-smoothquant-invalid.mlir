// RUN: quant-opt %s --verify-diagnostics --lowbit-smooth="method=smoothquant group-size=0"

// SmoothQuant needs each channel's abs_max.
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @smoothquant_without_abs_max(%t: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %c = lowbit.calibrate %h site "fc:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, hessian = dense<[[1.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 16.0]]> : tensor<3x3xf32>}} : tensor<4x3xf32>
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error@unknown {{lowbit-smooth: layer 'fc' has no calibration statistics with the channels' abs_max (its input is not a lowbit.calibrate whose lowbit.stats has them; run lowbit-insert-calibration and calibrate first)}}
  %y = linalg.matmul ins(%c, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}

