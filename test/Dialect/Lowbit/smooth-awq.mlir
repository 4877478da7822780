// RUN: quant-opt %s --split-input-file --verify-diagnostics --lowbit-smooth="alpha=1 group-size=0" | FileCheck %s

// Norm -> q, k with a fixed alpha = 1: a = sqrt(diag H) = [1, 2, 4],
// s = a / sqrt(max a * min a) = [0.5, 1, 2]. The norm weight is divided by s,
// the weights' rows multiplied, the site's statistics become those of
// x / s (abs_max / s, H_ij / (s_i s_j)).
// CHECK-LABEL: func.func @norm_fixed_alpha
// CHECK-DAG: arith.constant dense<[2.000000e+00, 2.000000e+00, 1.500000e+00]> : tensor<3xf32>
// CHECK-DAG: %[[WQ:.*]] = arith.constant dense<{{\[\[}}5.000000e-01, 1.000000e+00], [3.000000e+00, 4.000000e+00], [1.000000e+01, 1.200000e+01]]> : tensor<3x2xf32>
// CHECK-DAG: %[[WK:.*]] = arith.constant dense<{{\[\[}}5.000000e-01, 5.000000e-01], [1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: lowbit.calibrate %{{.*}} site "qk:in" collect <hessian> {lowbit.stats = {abs_max = dense<4.000000e+00> : tensor<3xf32>, hessian = dense<{{\[\[}}4.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 4.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>, rows = 4 : i64}}
// CHECK: linalg.matmul {lowbit.smooth = {alpha = 1.000000e+00 : f64, error_after = {{.*}} : f64, error_before = {{.*}} : f64, floored_channels = 0 : i64, method = "awq"}} ins(%{{.*}}, %[[WQ]] :
// CHECK: linalg.matmul {lowbit.smooth = {alpha = 1.000000e+00 : f64, {{.*}}} ins(%{{.*}}, %[[WK]] :
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @norm_fixed_alpha(%t: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %c = lowbit.calibrate %h site "qk:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, abs_max = dense<[2.0, 4.0, 8.0]> : tensor<3xf32>, hessian = dense<[[1.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 16.0]]> : tensor<3x3xf32>}} : tensor<4x3xf32>
  %wq = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %wk = arith.constant dense<1.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %q = linalg.matmul ins(%c, %wq : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("q")
  %k = linalg.matmul ins(%c, %wk : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("k")
  return %q, %k : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// A LayerNorm tail (g and b) into a layer whose weight is N x K (a generic
// reading W[n, k]): g and b divided by s = [0.5, 1, 2], the weight's
// columns multiplied.
// CHECK-LABEL: func.func @layernorm_transposed_weight
// CHECK-DAG: arith.constant dense<[2.000000e+00, 2.000000e+00, 1.500000e+00]> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 5.000000e-01, 2.500000e-01]> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}5.000000e-01, 2.000000e+00, 6.000000e+00], [2.000000e+00, 5.000000e+00, 1.200000e+01]]> : tensor<2x3xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#wt = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @layernorm_transposed_weight(%t: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %b = arith.constant dense<[0.5, 0.5, 0.5]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g, %b : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %gg: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %gg : f32
    %s = arith.addf %m, %bb : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %c = lowbit.calibrate %h site "fc:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, hessian = dense<[[1.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 16.0]]> : tensor<3x3xf32>}} : tensor<4x3xf32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%c, %w : tensor<4x3xf32>, tensor<2x3xf32>) outs(%f : tensor<4x2xf32>) {
  ^bb0(%a: f32, %bw: f32, %acc: f32):
    %m = arith.mulf %a, %bw : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}

// -----

// SwiGLU: down's scale s = [0.5, 0.5, 1, 1, 2] goes into up's output
// columns and bias (act(gate) * (up + b) / s); gate/up read a function
// argument, which nothing can absorb: a remark, and their rows unchanged
// apart from up's columns.
// CHECK-LABEL: func.func @swiglu
// CHECK-DAG: arith.constant dense<1.000000e+00> : tensor<3x5xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}4.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00, 1.000000e+00], [4.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00, 1.000000e+00], [4.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00, 1.000000e+00]]> : tensor<3x5xf32>
// CHECK-DAG: arith.constant dense<[5.000000e-01, 5.000000e-01, 2.500000e-01, 2.500000e-01, 1.250000e-01]> : tensor<5xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}5.000000e-01, 5.000000e-01], [5.000000e-01, 5.000000e-01], [1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00]]> : tensor<5x2xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @swiglu(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %wg = arith.constant dense<1.0> : tensor<3x5xf32>
  %wu = arith.constant dense<2.0> : tensor<3x5xf32>
  %bu = arith.constant dense<0.25> : tensor<5xf32>
  %wd = arith.constant dense<1.0> : tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x5xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x5xf32>) -> tensor<4x5xf32>
  // expected-remark@unknown {{lowbit-smooth: scale group {'gate', 'up'} not smoothed: not absorbable: its input is a function argument}}
  %gate = linalg.matmul ins(%x, %wg : tensor<4x3xf32>, tensor<3x5xf32>) outs(%f1 : tensor<4x5xf32>) -> tensor<4x5xf32> loc("gate")
  %up = linalg.matmul ins(%x, %wu : tensor<4x3xf32>, tensor<3x5xf32>) outs(%f1 : tensor<4x5xf32>) -> tensor<4x5xf32> loc("up")
  %act = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%gate : tensor<4x5xf32>) outs(%e1 : tensor<4x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    linalg.yield %ex : f32
  } -> tensor<4x5xf32>
  %upb = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%up, %bu : tensor<4x5xf32>, tensor<5xf32>) outs(%e1 : tensor<4x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x5xf32>
  %prod = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%act, %upb : tensor<4x5xf32>, tensor<4x5xf32>) outs(%e1 : tensor<4x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x5xf32>
  %c = lowbit.calibrate %prod site "down:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0, 16.0]]> : tensor<5x5xf32>}} : tensor<4x5xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%c, %wd : tensor<4x5xf32>, tensor<5x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("down")
  return %y : tensor<4x2xf32>
}

// -----

// A linear layer into another (no calibration site on the first layer's
// input: it is not smoothed, but its columns absorb the second's scale).
// CHECK-LABEL: func.func @linear_to_linear
// CHECK-DAG: arith.constant dense<{{\[\[}}2.000000e+00, 1.000000e+00, 5.000000e-01]]> : tensor<1x3xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}5.000000e-01], [1.000000e+00], [2.000000e+00]]> : tensor<3x1xf32>
func.func @linear_to_linear(%x: tensor<4x1xf32>) -> tensor<4x1xf32> {
  %w1 = arith.constant dense<1.0> : tensor<1x3xf32>
  %w2 = arith.constant dense<1.0> : tensor<3x1xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x3xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x3xf32>) -> tensor<4x3xf32>
  %e2 = tensor.empty() : tensor<4x1xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x1xf32>) -> tensor<4x1xf32>
  // expected-remark@unknown {{lowbit-smooth: scale group {'first'} not smoothed: not absorbable: its input is a function argument}}
  %h = linalg.matmul ins(%x, %w1 : tensor<4x1xf32>, tensor<1x3xf32>) outs(%f1 : tensor<4x3xf32>) -> tensor<4x3xf32> loc("first")
  %c = lowbit.calibrate %h site "second:in" collect <hessian> {lowbit.stats = {rows = 4 : i64, hessian = dense<[[1.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 16.0]]> : tensor<3x3xf32>}} : tensor<4x3xf32>
  %y = linalg.matmul ins(%c, %w2 : tensor<4x3xf32>, tensor<3x1xf32>) outs(%f2 : tensor<4x1xf32>) -> tensor<4x1xf32> loc("second")
  return %y : tensor<4x1xf32>
}

// -----

// Attention with o's input channels (d, h) permuted against v's (h, d):
// s = [0.5, 0.5, 2, 2] on o's channels 0..3, which are v's columns
// 0, 2, 1, 3. v's columns: [1/0.5, 1/2, 1/0.5, 1/2]; o's rows times s.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: arith.constant dense<{{\[\[}}2.000000e+00, 5.000000e-01, 2.000000e+00, 5.000000e-01], [2.000000e+00, 5.000000e-01, 2.000000e+00, 5.000000e-01], [2.000000e+00, 5.000000e-01, 2.000000e+00, 5.000000e-01], [2.000000e+00, 5.000000e-01, 2.000000e+00, 5.000000e-01]]> : tensor<4x4xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}5.000000e-01, 5.000000e-01], [5.000000e-01, 5.000000e-01], [2.000000e+00, 2.000000e+00], [2.000000e+00, 2.000000e+00]]> : tensor<4x2xf32>
#v = affine_map<(h, m, d, k) -> (h, k, d)>
#p = affine_map<(h, m, d, k) -> (h, m, k)>
#o = affine_map<(h, m, d, k) -> (h, m, d)>
func.func @attention(%x: tensor<2x4xf32>, %probs: tensor<2x2x2xf32>) -> tensor<2x2xf32> {
  %wv = arith.constant dense<1.0> : tensor<4x4xf32>
  %wo = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<2x4xf32>
  %f4 = linalg.fill ins(%z : f32) outs(%e4 : tensor<2x4xf32>) -> tensor<2x4xf32>
  // expected-remark@unknown {{lowbit-smooth: scale group {'v'} not smoothed: not absorbable: its input is a function argument}}
  %v = linalg.matmul ins(%x, %wv : tensor<2x4xf32>, tensor<4x4xf32>) outs(%f4 : tensor<2x4xf32>) -> tensor<2x4xf32> loc("v")
  %heads = tensor.expand_shape %v [[0], [1, 2]] output_shape [2, 2, 2] : tensor<2x4xf32> into tensor<2x2x2xf32>
  %e = tensor.empty() : tensor<2x2x2xf32>
  %vt = linalg.transpose ins(%heads : tensor<2x2x2xf32>) outs(%e : tensor<2x2x2xf32>) permutation = [1, 0, 2]
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x2x2xf32>) -> tensor<2x2x2xf32>
  %mixed = linalg.generic {indexing_maps = [#p, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%probs, %vt : tensor<2x2x2xf32>, tensor<2x2x2xf32>) outs(%f : tensor<2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x2x2xf32>
  %back = linalg.transpose ins(%mixed : tensor<2x2x2xf32>) outs(%e : tensor<2x2x2xf32>) permutation = [1, 2, 0]
  %merged = tensor.collapse_shape %back [[0], [1, 2]] : tensor<2x2x2xf32> into tensor<2x4xf32>
  %c = lowbit.calibrate %merged site "o:in" collect <hessian> {lowbit.stats = {rows = 2 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 16.0, 0.0], [0.0, 0.0, 0.0, 16.0]]> : tensor<4x4xf32>}} : tensor<2x4xf32>
  %e2 = tensor.empty() : tensor<2x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %o = linalg.matmul ins(%c, %wo : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f2 : tensor<2x2xf32>) -> tensor<2x2xf32> loc("o")
  return %o : tensor<2x2xf32>
}
