// RUN: quant-opt %s --split-input-file --lowbit-rotate -verify-diagnostics

// A norm weight left in place: the pass needs lowbit-fold-norms first.
#lookup = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @unfolded(%ids: tensor<1x2xi64>) -> tensor<1x2x4xf32> {
    %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0]]> : tensor<3x4xf32>
    %g1 = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
    %g2 = arith.constant dense<[0.5, 1.0, 1.5, 2.0]> : tensor<4xf32>
    %wq = arith.constant dense<1.0> : tensor<4x4xf32>
    %wo = arith.constant dense<[[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %eps = arith.constant 1.0e-5 : f32
    %four = arith.constant 4.0 : f32
    %ex = tensor.empty() : tensor<1x2x4xf32>
    // expected-note @below {{the stream starts here}}
    %x = linalg.generic {indexing_maps = [#lookup, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<1x2xi64>) outs(%ex : tensor<1x2x4xf32>) {
    ^bb0(%in: i64, %out: f32):
      %i = arith.index_cast %in : i64 to index
      %c = linalg.index 2 : index
      %v = tensor.extract %table[%i, %c] : tensor<3x4xf32>
      linalg.yield %v : f32
    } -> tensor<1x2x4xf32>
    %e1 = tensor.empty() : tensor<1x2x4xf32>
    %t0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %x : tensor<1x2x4xf32>, tensor<1x2x4xf32>) outs(%e1 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e4 = tensor.empty() : tensor<1x2xf32>
    %f3 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x2xf32>) -> tensor<1x2xf32>
    %s2 = linalg.reduce ins(%t0 : tensor<1x2x4xf32>) outs(%f3 : tensor<1x2xf32>) dimensions = [2]
      (%in: f32, %init: f32) {
        %r = arith.addf %in, %init : f32
        linalg.yield %r : f32
      }
    %e6 = tensor.empty() : tensor<1x2xf32>
    %inv5 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s2 : tensor<1x2xf32>) outs(%e6 : tensor<1x2xf32>) {
    ^bb0(%a: f32, %o: f32):
      %m = arith.divf %a, %four : f32
      %p = arith.addf %m, %eps : f32
      %q = math.sqrt %p : f32
      %r = arith.divf %one, %q : f32
      linalg.yield %r : f32
    } -> tensor<1x2xf32>
    %e8 = tensor.empty() : tensor<1x2x4xf32>
    %t7 = linalg.generic {indexing_maps = [#id3, #row, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %inv5 : tensor<1x2x4xf32>, tensor<1x2xf32>) outs(%e8 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e10 = tensor.empty() : tensor<1x2x4xf32>
    // expected-error @below {{lowbit-rotate: the residual stream cannot be rotated here: a per-channel factor (a norm weight: run lowbit-fold-norms first); nothing rotated}}
    %t9 = linalg.generic {indexing_maps = [#id3, #chan, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t7, %g1 : tensor<1x2x4xf32>, tensor<4xf32>) outs(%e10 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e11 = tensor.empty() : tensor<1x2x4xf32>
    %f12 = linalg.fill ins(%zero : f32) outs(%e11 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    %y13 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t9, %wq : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f12 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    return %y13 : tensor<1x2x4xf32>
}

// -----

// The stream itself is a result of the function (hidden states).
#lookup = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @returned(%ids: tensor<1x2xi64>) -> (tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
    %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0]]> : tensor<3x4xf32>
    %g1 = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
    %g2 = arith.constant dense<[0.5, 1.0, 1.5, 2.0]> : tensor<4xf32>
    %wq = arith.constant dense<1.0> : tensor<4x4xf32>
    %wo = arith.constant dense<[[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %eps = arith.constant 1.0e-5 : f32
    %four = arith.constant 4.0 : f32
    %ex = tensor.empty() : tensor<1x2x4xf32>
    // expected-note @below {{the stream starts here}}
    %x = linalg.generic {indexing_maps = [#lookup, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<1x2xi64>) outs(%ex : tensor<1x2x4xf32>) {
    ^bb0(%in: i64, %out: f32):
      %i = arith.index_cast %in : i64 to index
      %c = linalg.index 2 : index
      %v = tensor.extract %table[%i, %c] : tensor<3x4xf32>
      linalg.yield %v : f32
    } -> tensor<1x2x4xf32>
    %e14 = tensor.empty() : tensor<1x2x4xf32>
    %f15 = linalg.fill ins(%zero : f32) outs(%e14 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    %y16 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f15 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    // expected-error @below {{lowbit-rotate: the residual stream cannot be rotated here: the stream is a result of the function; nothing rotated}}
    return %y16, %x : tensor<1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// LayerNorm's mean subtraction does not commute with a rotation.
#lookup = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @mean(%ids: tensor<1x2xi64>) -> (tensor<1x2x4xf32>, tensor<1x2xf32>) {
    %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0]]> : tensor<3x4xf32>
    %g1 = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
    %g2 = arith.constant dense<[0.5, 1.0, 1.5, 2.0]> : tensor<4xf32>
    %wq = arith.constant dense<1.0> : tensor<4x4xf32>
    %wo = arith.constant dense<[[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %eps = arith.constant 1.0e-5 : f32
    %four = arith.constant 4.0 : f32
    %ex = tensor.empty() : tensor<1x2x4xf32>
    // expected-note @below {{the stream starts here}}
    %x = linalg.generic {indexing_maps = [#lookup, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<1x2xi64>) outs(%ex : tensor<1x2x4xf32>) {
    ^bb0(%in: i64, %out: f32):
      %i = arith.index_cast %in : i64 to index
      %c = linalg.index 2 : index
      %v = tensor.extract %table[%i, %c] : tensor<3x4xf32>
      linalg.yield %v : f32
    } -> tensor<1x2x4xf32>
    %em = tensor.empty() : tensor<1x2xf32>
    %fm = linalg.fill ins(%zero : f32) outs(%em : tensor<1x2xf32>) -> tensor<1x2xf32>
    // expected-error @below {{lowbit-rotate: the residual stream cannot be rotated here: a reduction over the stream that is not the sum of squares of an RMSNorm (a mean: LayerNorm?); nothing rotated}}
    %mean = linalg.reduce ins(%x : tensor<1x2x4xf32>) outs(%fm : tensor<1x2xf32>) dimensions = [2]
      (%in: f32, %init: f32) {
        %r = arith.addf %in, %init : f32
        linalg.yield %r : f32
      }
    %e17 = tensor.empty() : tensor<1x2x4xf32>
    %f18 = linalg.fill ins(%zero : f32) outs(%e17 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    %y19 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f18 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    return %y19, %mean : tensor<1x2x4xf32>, tensor<1x2xf32>
}

// -----

// Statistics of the unrotated model.
#lookup = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @calibrated(%ids: tensor<1x2xi64>) -> tensor<1x2x4xf32> {
    %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0]]> : tensor<3x4xf32>
    %g1 = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
    %g2 = arith.constant dense<[0.5, 1.0, 1.5, 2.0]> : tensor<4xf32>
    %wq = arith.constant dense<1.0> : tensor<4x4xf32>
    %wo = arith.constant dense<[[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %eps = arith.constant 1.0e-5 : f32
    %four = arith.constant 4.0 : f32
    %ex = tensor.empty() : tensor<1x2x4xf32>
    // expected-note @below {{the stream starts here}}
    %x = linalg.generic {indexing_maps = [#lookup, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<1x2xi64>) outs(%ex : tensor<1x2x4xf32>) {
    ^bb0(%in: i64, %out: f32):
      %i = arith.index_cast %in : i64 to index
      %c = linalg.index 2 : index
      %v = tensor.extract %table[%i, %c] : tensor<3x4xf32>
      linalg.yield %v : f32
    } -> tensor<1x2x4xf32>
    // expected-error @below {{lowbit-rotate: the residual stream cannot be rotated here: calibration statistics are attached: rotate before calibrating; nothing rotated}}
    %xc = lowbit.calibrate %x site "in" collect <abs_max> {lowbit.stats = {abs_max = dense<1.0> : tensor<4xf32>}} : tensor<1x2x4xf32>
    %e20 = tensor.empty() : tensor<1x2x4xf32>
    %f21 = linalg.fill ins(%zero : f32) outs(%e20 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    %y22 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xc, %wq : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f21 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    return %y22 : tensor<1x2x4xf32>
}

// -----

// No embedding lookup to start from.
#lookup = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// expected-error @below {{lowbit-rotate: no embedding lookup (a gather from a constant table) to start the residual stream from; nothing rotated}}
module {
func.func @nolookup(%x: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
    %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0]]> : tensor<3x4xf32>
    %g1 = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
    %g2 = arith.constant dense<[0.5, 1.0, 1.5, 2.0]> : tensor<4xf32>
    %wq = arith.constant dense<1.0> : tensor<4x4xf32>
    %wo = arith.constant dense<[[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %eps = arith.constant 1.0e-5 : f32
    %four = arith.constant 4.0 : f32
    %e23 = tensor.empty() : tensor<1x2x4xf32>
    %f24 = linalg.fill ins(%zero : f32) outs(%e23 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    %y25 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f24 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    return %y25 : tensor<1x2x4xf32>
}
}

