// RUN: quant-opt %s --split-input-file --verify-diagnostics --lowbit-smooth="group-size=0"
// RUN: not quant-opt %s --split-input-file --lowbit-smooth="method=gptq" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not quant-opt %s --split-input-file --lowbit-smooth="alpha=1.5" 2>&1 | FileCheck %s --check-prefix=ALPHA
// RUN: not quant-opt %s --split-input-file --lowbit-smooth="alpha-grid=0" 2>&1 | FileCheck %s --check-prefix=GRID

// METHOD: lowbit-smooth: method 'gptq' is not awq or smoothquant
// ALPHA: lowbit-smooth: alpha=1.500000e+00 is outside [0, 1] (negative: search)
// GRID: lowbit-smooth: alpha-grid=0 must be at least 1

// A norm's output without calibration statistics: an error naming the layer.
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @no_statistics(%t: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error@unknown {{lowbit-smooth: layer 'fc' has no calibration statistics with the channels' Hessian (its input is not a lowbit.calibrate whose lowbit.stats has them; run lowbit-insert-calibration and calibrate first)}}
  %y = linalg.matmul ins(%h, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}

// -----

// A norm weight also read elsewhere (a tied or shared constant): changing
// it would change the other reader, so the group is left alone.
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @shared_norm_weight(%t: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<3xf32>) {
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
  // expected-remark@unknown {{lowbit-smooth: scale group {'fc'} not smoothed: constant '<inline>' is also read elsewhere (a shared or tied weight)}}
  %y = linalg.matmul ins(%c, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y, %g : tensor<4x2xf32>, tensor<3xf32>
}

// -----

// Nothing to pair (every layer reads a function argument, as in a model
// without norms): a remark per group, the weights unchanged.
func.func @nothing_to_pair(%x: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %w1 = arith.constant dense<1.0> : tensor<3x2xf32>
  %w2 = arith.constant dense<2.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{lowbit-smooth: scale group {'a', 'b'} not smoothed: not absorbable: its input is a function argument}}
  %a = linalg.matmul ins(%x, %w1 : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("a")
  %b = linalg.matmul ins(%x, %w2 : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("b")
  return %a, %b : tensor<4x2xf32>, tensor<4x2xf32>
}
