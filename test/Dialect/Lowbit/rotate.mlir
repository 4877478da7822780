// RUN: quant-opt %s --lowbit-fold-norms 2>/dev/null | FileCheck %s --check-prefix=FOLD
// RUN: quant-opt %s --lowbit-fold-norms --lowbit-rotate 2>/dev/null | FileCheck %s
// RUN: quant-opt %s --lowbit-fold-norms --lowbit-rotate="kind=random seed=3" 2>/dev/null | FileCheck %s --check-prefix=RANDOM
// RUN: quant-opt %s --lowbit-fold-norms -verify-diagnostics=only-expected -o /dev/null

// A one-block decoder of width 4: embedding lookup, RMSNorm with weight g1,
// a layer reading the normalized stream (%wq), one writing it (%wo, added
// to the stream), the final RMSNorm (g2) and an output head tied to the
// embedding table (a transpose of it).

// lowbit-fold-norms: g1 and g2 become ones; %wq's rows (K) are scaled by
// g1; the head gets a constant of its own (g2 folded into it), the
// transpose of the table is gone and the table itself is unchanged.
// FOLD-LABEL: func.func @decoder
// FOLD: arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00], [5.000000e-01, -1.000000e+00, 0.000000e+00, 2.000000e+00], [3.000000e+00, 0.000000e+00, -2.000000e+00, 1.000000e+00]]> : tensor<3x4xf32>
// FOLD-NEXT: arith.constant dense<1.000000e+00> : tensor<4xf32>
// FOLD-NEXT: arith.constant dense<1.000000e+00> : tensor<4xf32>
// FOLD-NEXT: arith.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00], [5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01], [-1.000000e+00, -1.000000e+00, -1.000000e+00, -1.000000e+00]]> : tensor<4x4xf32>
// FOLD-NOT: linalg.transpose
// FOLD: %[[HEAD:.*]] = arith.constant dense_resource<lm_head.weight.T> : tensor<4x3xf32>
// FOLD: linalg.generic {{.*}} ins(%{{.*}}, %[[HEAD]] : tensor<1x2x4xf32>, tensor<4x3xf32>)
// FOLD: lm_head.weight.T: "0x04000000{{0000003F0000803E0000C03F00000040000080BF000000000000904000000000000040C0000000410000804000000040}}"

// lowbit-rotate (randomized Hadamard of order 4, seed 0): Q = D H / 2 with
// entries +-1/2. The table's rows become E Q, the reader's weight Q^T W,
// the writer's W Q; 2 readers (%wq, the head) and 1 writer.
// CHECK: module attributes {lowbit.rotation = {dim = 4 : i64, kind = "hadamard sylvester(4), random signs", online = 0 : i64, readers = 2 : i64, seed = 0 : i64, writers = 1 : i64}}
// CHECK-LABEL: func.func @decoder
// CHECK: arith.constant dense<{{\[\[}}0.000000e+00, -2.000000e+00, -1.000000e+00, 5.000000e+00], [1.750000e+00, -1.250000e+00, -2.500000e-01, 7.500000e-01], [3.000000e+00, 2.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<3x4xf32>
// CHECK-NEXT: arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NEXT: arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NEXT: arith.constant dense<{{\[\[}}-1.250000e+00, -1.250000e+00, -1.250000e+00, -1.250000e+00], [1.750000e+00, 1.750000e+00, 1.750000e+00, 1.750000e+00], [2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01], [1.250000e+00, 1.250000e+00, 1.250000e+00, 1.250000e+00]]> : tensor<4x4xf32>
// CHECK-NEXT: arith.constant dense<{{\[\[}}-5.000000e-01, 1.500000e+00, -5.000000e-01, 1.500000e+00], [-5.000000e-01, 5.000000e-01, -5.000000e-01, 5.000000e-01], [-5.000000e-01, -5.000000e-01, 5.000000e-01, 5.000000e-01], [5.000000e-01, -5.000000e-01, -5.000000e-01, 5.000000e-01]]> : tensor<4x4xf32>

// RANDOM: module attributes {lowbit.rotation = {dim = 4 : i64, kind = "random orthogonal (QR)", online = 0 : i64, readers = 2 : i64, seed = 3 : i64, writers = 1 : i64}}

#lookup = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

func.func @decoder(%ids: tensor<1x2xi64>) -> tensor<1x2x3xf32> {
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
    %e14 = tensor.empty() : tensor<1x2x4xf32>
    %f15 = linalg.fill ins(%zero : f32) outs(%e14 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    %y16 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%y13, %wo : tensor<1x2x4xf32>, tensor<4x4xf32>) outs(%f15 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e18 = tensor.empty() : tensor<1x2x4xf32>
    %t17 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %y16 : tensor<1x2x4xf32>, tensor<1x2x4xf32>) outs(%e18 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.addf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e20 = tensor.empty() : tensor<1x2x4xf32>
    %t19 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t17, %t17 : tensor<1x2x4xf32>, tensor<1x2x4xf32>) outs(%e20 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e23 = tensor.empty() : tensor<1x2xf32>
    %f22 = linalg.fill ins(%zero : f32) outs(%e23 : tensor<1x2xf32>) -> tensor<1x2xf32>
    %s21 = linalg.reduce ins(%t19 : tensor<1x2x4xf32>) outs(%f22 : tensor<1x2xf32>) dimensions = [2]
      (%in: f32, %init: f32) {
        %r = arith.addf %in, %init : f32
        linalg.yield %r : f32
      }
    %e25 = tensor.empty() : tensor<1x2xf32>
    %inv24 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s21 : tensor<1x2xf32>) outs(%e25 : tensor<1x2xf32>) {
    ^bb0(%a: f32, %o: f32):
      %m = arith.divf %a, %four : f32
      %p = arith.addf %m, %eps : f32
      %q = math.sqrt %p : f32
      %r = arith.divf %one, %q : f32
      linalg.yield %r : f32
    } -> tensor<1x2xf32>
    %e27 = tensor.empty() : tensor<1x2x4xf32>
    %t26 = linalg.generic {indexing_maps = [#id3, #row, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t17, %inv24 : tensor<1x2x4xf32>, tensor<1x2xf32>) outs(%e27 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %e29 = tensor.empty() : tensor<1x2x4xf32>
    %t28 = linalg.generic {indexing_maps = [#id3, #chan, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t26, %g2 : tensor<1x2x4xf32>, tensor<4xf32>) outs(%e29 : tensor<1x2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
    } -> tensor<1x2x4xf32>
    %eh = tensor.empty() : tensor<4x3xf32>
    %head = linalg.transpose ins(%table : tensor<3x4xf32>) outs(%eh : tensor<4x3xf32>) permutation = [1, 0]
    %e30 = tensor.empty() : tensor<1x2x3xf32>
    %f31 = linalg.fill ins(%zero : f32) outs(%e30 : tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
    // expected-remark @below {{lowbit-fold-norms: 'lm_head.weight.T' gets a weight of its own (it was a transpose of a shared constant)}}
    %y32 = linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t28, %head : tensor<1x2x4xf32>, tensor<4x3xf32>) outs(%f31 : tensor<1x2x3xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %o, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x3xf32>
    return %y32 : tensor<1x2x3xf32>
}
