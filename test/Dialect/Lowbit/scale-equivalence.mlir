// RUN: quant-opt %s --split-input-file --verify-diagnostics --lowbit-report-scale-equivalence="exclude=lm_head" -o /dev/null

// An RMSNorm tail (t * g[c]) read only by two layers, one of them through a
// calibration site: both share the scale, absorbed by g.
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @norm_to_two_layers(%t: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %c = lowbit.calibrate %h site "q:in" collect <hessian> : tensor<4x3xf32>
  %wq = arith.constant dense<1.0> : tensor<3x2xf32>
  %wk = arith.constant dense<2.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'q', 'k'}, 3 channels: absorbed by norm weight '<inline constant>'}}
  %q = linalg.matmul ins(%c, %wq : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("q")
  %k = linalg.matmul ins(%c, %wk : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("k")
  return %q, %k : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// A LayerNorm tail (t * g[c] + b[c], operands in the other order), whose
// t is computed in the same body: g and b absorb the scale.
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @layernorm(%x: tensor<4x3xf32>, %inv: tensor<4xf32>) -> tensor<4x2xf32> {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %bias = arith.constant dense<[0.5, 0.5, 0.5]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #row, #ch, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %inv, %g, %bias : tensor<4x3xf32>, tensor<4xf32>, tensor<3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %r: f32, %gg: f32, %bb: f32, %o: f32):
    %n = arith.mulf %a, %r : f32
    %m = arith.mulf %gg, %n : f32
    %s = arith.addf %bb, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'fc'}, 3 channels: absorbed by norm weight '<inline constant>' and bias '<inline constant>'}}
  %y = linalg.matmul ins(%h, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y : tensor<4x2xf32>
}

// -----

// A linear layer straight into another: the first one's output columns.
func.func @linear_to_linear(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w1 = arith.constant dense<1.0> : tensor<3x5xf32>
  %w2 = arith.constant dense<1.0> : tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x5xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x5xf32>) -> tensor<4x5xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'first'}, 3 channels: not absorbable: its input is a function argument}}
  %h = linalg.matmul ins(%x, %w1 : tensor<4x3xf32>, tensor<3x5xf32>) outs(%f1 : tensor<4x5xf32>) -> tensor<4x5xf32> loc("first")
  // expected-remark@unknown {{scale group {'second'}, 5 channels: absorbed by the output columns of layer 'first'}}
  %y = linalg.matmul ins(%h, %w2 : tensor<4x5xf32>, tensor<5x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("second")
  return %y : tensor<4x2xf32>
}

// -----

// SwiGLU: act(gate) * (up + bias) into down: up's columns and its bias.
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
  // expected-remark@unknown {{scale group {'gate', 'up'}, 3 channels: not absorbable: its input is a function argument}}
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
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'down'}, 5 channels: absorbed by the output columns of layer 'up' and bias '<inline constant>' through an elementwise product}}
  %y = linalg.matmul ins(%prod, %wd : tensor<4x5xf32>, tensor<5x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("down")
  return %y : tensor<4x2xf32>
}

// -----

// Refused: the normalized value is also the residual (BERT's post-LN).
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @residual_reader(%t: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4x3xf32>) {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%h, %t : tensor<4x3xf32>, tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'fc'}, 3 channels: not absorbable: its input is also read by a 'linalg.generic' that is not a linear layer (e.g. a residual add)}}
  %y = linalg.matmul ins(%h, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  return %y, %r : tensor<4x2xf32>, tensor<4x3xf32>
}

// -----

// Refused: a reader of the norm's output that the filter leaves out (the
// scale would have to go into its float weight too).
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @unselected_reader(%t: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %g = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %g : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %wh = arith.constant dense<2.0> : tensor<3x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'fc'}, 3 channels: not absorbable: its input is also read by layer 'lm_head', which is not selected}}
  %y = linalg.matmul ins(%h, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc")
  %l = linalg.matmul ins(%h, %wh : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32> loc("lm_head")
  return %y, %l : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// Refused: an activation between two layers (BERT's GELU), and a reshape
// (attention's head merge) of something that is not a linear layer.
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @activation_and_reshape(%x: tensor<4x3xf32>, %v: tensor<2x2x5xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %w1 = arith.constant dense<1.0> : tensor<3x5xf32>
  %w2 = arith.constant dense<1.0> : tensor<5x2xf32>
  %w3 = arith.constant dense<3.0> : tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x5xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x5xf32>) -> tensor<4x5xf32>
  // expected-remark@unknown {{scale group {'fc1'}, 3 channels: not absorbable: its input is a function argument}}
  %h = linalg.matmul ins(%x, %w1 : tensor<4x3xf32>, tensor<3x5xf32>) outs(%f1 : tensor<4x5xf32>) -> tensor<4x5xf32> loc("fc1")
  %act = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%h : tensor<4x5xf32>) outs(%e1 : tensor<4x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.erf %a : f32
    %m = arith.mulf %a, %r : f32
    linalg.yield %m : f32
  } -> tensor<4x5xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'fc2'}, 5 channels: not absorbable: its input comes from an elementwise op that is not a per-channel scale (norm weight), a bias add or a product with a linear layer's output (e.g. an activation such as GELU)}}
  %y = linalg.matmul ins(%act, %w2 : tensor<4x5xf32>, tensor<5x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("fc2")
  %merged = tensor.collapse_shape %v [[0, 1], [2]] : tensor<2x2x5xf32> into tensor<4x5xf32>
  // expected-remark@unknown {{scale group {'o_proj'}, 5 channels: not absorbable: its channels come through attention's reshapes and transposes to a function argument}}
  %o = linalg.matmul ins(%merged, %w3 : tensor<4x5xf32>, tensor<5x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("o_proj")
  return %y, %o : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// Refused: up's output read by the product and by something else.
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @product_with_shared_factor(%x: tensor<4x3xf32>, %a: tensor<4x5xf32>) -> (tensor<4x2xf32>, tensor<4x5xf32>) {
  %wu = arith.constant dense<2.0> : tensor<3x5xf32>
  %wd = arith.constant dense<1.0> : tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x5xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x5xf32>) -> tensor<4x5xf32>
  // expected-remark@unknown {{scale group {'up'}, 3 channels: not absorbable: its input is a function argument}}
  %up = linalg.matmul ins(%x, %wu : tensor<4x3xf32>, tensor<3x5xf32>) outs(%f1 : tensor<4x5xf32>) -> tensor<4x5xf32> loc("up")
  %prod = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %up : tensor<4x5xf32>, tensor<4x5xf32>) outs(%e1 : tensor<4x5xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    linalg.yield %m : f32
  } -> tensor<4x5xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@unknown {{scale group {'down'}, 5 channels: not absorbable: its input comes from an elementwise op that is not a per-channel scale (norm weight), a bias add or a product with a linear layer's output (e.g. an activation such as GELU)}}
  %y = linalg.matmul ins(%prod, %wd : tensor<4x5xf32>, tensor<5x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("down")
  return %y, %up : tensor<4x2xf32>, tensor<4x5xf32>
}

// -----

// RUN: not quant-opt %s --split-input-file --lowbit-report-scale-equivalence="include=(" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADRE
// BADRE: error: lowbit-report-scale-equivalence: include expression '(' is not a valid regular expression
func.func @bad_filter() {
  return
}

// -----

// Attention: v's output split into heads, transposed, mixed over positions
// by P @ V, transposed back (here to (position, d, head)) and merged: o's
// input channel (d, h) is v's channel (h, d), and v's columns absorb o's
// scale through that permutation.
#v = affine_map<(h, m, d, k) -> (h, k, d)>
#p = affine_map<(h, m, d, k) -> (h, m, k)>
#o = affine_map<(h, m, d, k) -> (h, m, d)>
func.func @attention(%x: tensor<2x4xf32>, %probs: tensor<2x2x2xf32>) -> tensor<2x2xf32> {
  %wv = arith.constant dense<1.0> : tensor<4x4xf32>
  %wo = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<2x4xf32>
  %f4 = linalg.fill ins(%z : f32) outs(%e4 : tensor<2x4xf32>) -> tensor<2x4xf32>
  // expected-remark@unknown {{scale group {'v'}, 4 channels: not absorbable: its input is a function argument}}
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
  %e2 = tensor.empty() : tensor<2x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<2x2xf32>) -> tensor<2x2xf32>
  // expected-remark@unknown {{scale group {'o'}, 4 channels: absorbed by the output columns of layer 'v' through attention (channels permuted)}}
  %o = linalg.matmul ins(%merged, %wo : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f2 : tensor<2x2xf32>) -> tensor<2x2xf32> loc("o")
  return %o : tensor<2x2xf32>
}

// -----

// Refused: grouped-query attention repeats v's heads (a broadcast), so one
// channel of v feeds several channels of o.
#src = affine_map<(m, h, d) -> (m, 0, d)>
#id3 = affine_map<(m, h, d) -> (m, h, d)>
func.func @grouped_query(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %wv = arith.constant dense<1.0> : tensor<4x2xf32>
  %wo = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<2x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<2x2xf32>) -> tensor<2x2xf32>
  // expected-remark@unknown {{scale group {'kv'}, 4 channels: not absorbable: its input is a function argument}}
  %v = linalg.matmul ins(%x, %wv : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f2 : tensor<2x2xf32>) -> tensor<2x2xf32> loc("kv")
  %one = tensor.expand_shape %v [[0], [1, 2]] output_shape [2, 1, 2] : tensor<2x2xf32> into tensor<2x1x2xf32>
  %e = tensor.empty() : tensor<2x2x2xf32>
  %rep = linalg.generic {indexing_maps = [#src, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%one : tensor<2x1x2xf32>) outs(%e : tensor<2x2x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x2x2xf32>
  %merged = tensor.collapse_shape %rep [[0], [1, 2]] : tensor<2x2x2xf32> into tensor<2x4xf32>
  // expected-remark@unknown {{scale group {'o_gqa'}, 4 channels: not absorbable: its channels come through attention's reshapes and transposes to a 'linalg.generic': a broadcast: one channel of its source feeds several of the group's (grouped-query attention repeats kv heads; AWQ leaves these layers alone too)}}
  %o = linalg.matmul ins(%merged, %wo : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f2 : tensor<2x2xf32>) -> tensor<2x2xf32> loc("o_gqa")
  return %o : tensor<2x2xf32>
}
