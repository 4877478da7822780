// RUN: quant-opt %s --split-input-file --lowbit-fold-norms -verify-diagnostics

// LayerNorm (t * g + b): folding g would leave b, which every reader would
// then need as a bias; the norm stays.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @layernorm(%t: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
  %g = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
  %b = arith.constant dense<0.25> : tensor<4xf32>
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4xf32>
  %n = linalg.generic {indexing_maps = [#id3, #chan, #chan, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %g, %b : tensor<1x2x4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %gg: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %gg : f32
    %r = arith.addf %m, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4xf32>
  %e2 = tensor.empty() : tensor<1x2x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  // expected-remark @below {{lowbit-fold-norms: 'linear.0' not folded: the norm has a bias (LayerNorm): folding it would add a bias to every reader}}
  %y = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%n, %w : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %bb : f32
    %r = arith.addf %o, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4xf32>
  return %y : tensor<1x2x4xf32>
}

// -----

// Statistics collected before folding would be the unfolded model's.
func.func @calibrated(%x: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
  // expected-error @below {{lowbit-fold-norms: calibration statistics are attached (site 'in'): fold norms before calibrating}}
  %c = lowbit.calibrate %x site "in" collect <abs_max> {lowbit.stats = {abs_max = dense<1.0> : tensor<4xf32>}} : tensor<1x2x4xf32>
  return %c : tensor<1x2x4xf32>
}
