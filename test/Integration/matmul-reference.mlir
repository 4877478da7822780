// RUN: quant-opt %s --lowbit-reference-pipeline | %run | FileCheck %s

// lowbit.matmul on a quantized weight equals linalg.matmul on the
// dequantized weight, bit for bit (same summation order, f32 accumulation),
// for plain, transposed + batched, asymmetric, sparse + outlier and f16
// cases. Each case prints the max absolute difference.

#id = affine_map<(i, j) -> (i, j)>

func.func @wave(%rows: index, %cols: index, %phase: f32) -> tensor<?x?xf32> {
  %e = tensor.empty(%rows, %cols) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %fj = arith.sitofp %jj : i32 to f32
    %a = arith.constant 0.61 : f32
    %b = arith.constant 0.23 : f32
    %t0 = arith.mulf %fi, %a : f32
    %t1 = arith.mulf %fj, %b : f32
    %t2 = arith.addf %t0, %t1 : f32
    %t3 = arith.addf %t2, %phase : f32
    %s = math.sin %t3 : f32
    linalg.yield %s : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

func.func @maxdiff(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) {
  %d = arith.subf %a, %b : tensor<?x?xf32>
  %abs = math.absf %d : tensor<?x?xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%abs : tensor<?x?xf32>) outs(%f : tensor<f32>) dimensions = [0, 1]
    (%in: f32, %acc: f32) {
      %mx = arith.maximumf %in, %acc : f32
      linalg.yield %mx : f32
    }
  %v = tensor.extract %m[] : tensor<f32>
  vector.print %v : f32
  return
}

func.func @float_matmul(%x: tensor<?x?xf32>, %w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf32>
  %n = tensor.dim %w, %c1 : tensor<?x?xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%f : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

!w4 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 16, axis = 0, scale = f32>>
!wt = !lowbit.qtensor<8x64xf32, #lowbit.scheme<int3, asym, group = 32, axis = 1, scale = f32, zero_point = i8>>
!ws = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 3, f16>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>
!wh = !lowbit.qtensor<64x8xf16, #lowbit.scheme<e2m1, group = 32, axis = 0, scale = f16>>

func.func @main() {
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 1.7 : f32
  %xd = call @wave(%c3, %c64, %p0) : (index, index, f32) -> tensor<?x?xf32>
  %x = tensor.cast %xd : tensor<?x?xf32> to tensor<3x64xf32>
  %wd = call @wave(%c64, %c8, %p1) : (index, index, f32) -> tensor<?x?xf32>
  %w = tensor.cast %wd : tensor<?x?xf32> to tensor<64x8xf32>

  // int4 sym, groups of 16 along K.
  // CHECK: 0
  %s4 = arith.constant dense<0.15> : tensor<4x8xf32>
  %q4 = lowbit.quantize %w, %s4 : tensor<64x8xf32> -> !w4
  %y4 = lowbit.matmul %x, %q4 : tensor<3x64xf32>, !w4 -> tensor<3x8xf32>
  %d4 = lowbit.dequantize %q4 : !w4
  %d4d = tensor.cast %d4 : tensor<64x8xf32> to tensor<?x?xf32>
  %r4 = call @float_matmul(%xd, %d4d) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %y4d = tensor.cast %y4 : tensor<3x8xf32> to tensor<?x?xf32>
  call @maxdiff(%y4d, %r4) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()

  // Transposed (N x K, groups along K), asymmetric, batched 2 x 3 x 64 input.
  // CHECK-NEXT: 0
  %wtd = call @wave(%c8, %c64, %p1) : (index, index, f32) -> tensor<?x?xf32>
  %wt = tensor.cast %wtd : tensor<?x?xf32> to tensor<8x64xf32>
  %st = arith.constant dense<0.3> : tensor<8x2xf32>
  %zt = arith.constant dense<3> : tensor<8x2xi8>
  %qt = lowbit.quantize %wt, %st, %zt : tensor<8x64xf32> -> !wt
  %xb = tensor.expand_shape %x [[0, 1], [2]] output_shape [1, 3, 64] : tensor<3x64xf32> into tensor<1x3x64xf32>
  %xb2 = tensor.concat dim(0) %xb, %xb : (tensor<1x3x64xf32>, tensor<1x3x64xf32>) -> tensor<2x3x64xf32>
  %yt = lowbit.matmul %xb2, %qt transpose_weight : tensor<2x3x64xf32>, !wt -> tensor<2x3x8xf32>
  %dt = lowbit.dequantize %qt : !wt
  %et = tensor.empty() : tensor<64x8xf32>
  %dtt = linalg.transpose ins(%dt : tensor<8x64xf32>) outs(%et : tensor<64x8xf32>) permutation = [1, 0]
  %xf = tensor.collapse_shape %xb2 [[0, 1], [2]] : tensor<2x3x64xf32> into tensor<6x64xf32>
  %xfd = tensor.cast %xf : tensor<6x64xf32> to tensor<?x?xf32>
  %dttd = tensor.cast %dtt : tensor<64x8xf32> to tensor<?x?xf32>
  %rt = call @float_matmul(%xfd, %dttd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ytf = tensor.collapse_shape %yt [[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
  %ytfd = tensor.cast %ytf : tensor<6x8xf32> to tensor<?x?xf32>
  call @maxdiff(%ytfd, %rt) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()

  // 2:4 sparsity along K plus COO outliers.
  // CHECK-NEXT: 0
  %ss = arith.constant dense<0.1> : tensor<1x8xf32>
  %qs = lowbit.quantize %w, %ss : tensor<64x8xf32> -> !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>>
  %cs, %css = lowbit.unpack %qs : !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>>
  %oi = arith.constant dense<[[0, 0], [17, 5], [63, 7]]> : tensor<3x2xi32>
  %ov = arith.constant dense<[4.0, -2.5, 7.25]> : tensor<3xf16>
  %mk = arith.constant dense<[[true, false, true, false, true, false, true, false]]> : tensor<1x8xi1>
  %me = tensor.empty() : tensor<64x8xi1>
  %mask = linalg.generic {indexing_maps = [affine_map<(i, j) -> (0, (i + j) mod 8)>, #id],
                          iterator_types = ["parallel", "parallel"]}
      ins(%mk : tensor<1x8xi1>) outs(%me : tensor<64x8xi1>) {
  ^bb0(%in: i1, %out: i1):
    linalg.yield %in : i1
  } -> tensor<64x8xi1>
  %ws = lowbit.pack %cs, %css, %oi, %ov, %mask : !ws
  %ys = lowbit.matmul %x, %ws : tensor<3x64xf32>, !ws -> tensor<3x8xf32>
  %ds = lowbit.dequantize %ws : !ws
  %dsd = tensor.cast %ds : tensor<64x8xf32> to tensor<?x?xf32>
  %rs = call @float_matmul(%xd, %dsd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ysd = tensor.cast %ys : tensor<3x8xf32> to tensor<?x?xf32>
  call @maxdiff(%ysd, %rs) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()

  // f16 activations and weight (FP4 codes): accumulation is f32, so the
  // reference is the f32 matmul of the widened operands, rounded to f16.
  // CHECK-NEXT: 0
  %xh = arith.truncf %x : tensor<3x64xf32> to tensor<3x64xf16>
  %wh = arith.truncf %w : tensor<64x8xf32> to tensor<64x8xf16>
  %sh = arith.constant dense<0.25> : tensor<2x8xf16>
  %qh = lowbit.quantize %wh, %sh : tensor<64x8xf16> -> !wh
  %yh = lowbit.matmul %xh, %qh : tensor<3x64xf16>, !wh -> tensor<3x8xf16>
  %dh = lowbit.dequantize %qh : !wh
  %xw = arith.extf %xh : tensor<3x64xf16> to tensor<3x64xf32>
  %dw = arith.extf %dh : tensor<64x8xf16> to tensor<64x8xf32>
  %xwd = tensor.cast %xw : tensor<3x64xf32> to tensor<?x?xf32>
  %dwd = tensor.cast %dw : tensor<64x8xf32> to tensor<?x?xf32>
  %rh = call @float_matmul(%xwd, %dwd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %rhs = tensor.cast %rh : tensor<?x?xf32> to tensor<3x8xf32>
  %rhh = arith.truncf %rhs : tensor<3x8xf32> to tensor<3x8xf16>
  %a = arith.extf %yh : tensor<3x8xf16> to tensor<3x8xf32>
  %b = arith.extf %rhh : tensor<3x8xf16> to tensor<3x8xf32>
  %ad = tensor.cast %a : tensor<3x8xf32> to tensor<?x?xf32>
  %bd = tensor.cast %b : tensor<3x8xf32> to tensor<?x?xf32>
  call @maxdiff(%ad, %bd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()

  // And the quantized result differs from the float one (the check above is
  // not vacuous): max |x W - x W'| for the int4 case is clearly non-zero.
  // CHECK-NEXT: {{0\.[0-9]*[1-9]}}
  %wdd = tensor.cast %w : tensor<64x8xf32> to tensor<?x?xf32>
  %rf = call @float_matmul(%xd, %wdd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  call @maxdiff(%y4d, %rf) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}
