// RUN: quant-opt %s --lowbit-reference-pipeline | %run | FileCheck %s

// Hand-checkable dequantizations, one per scheme family: each printed value
// is (value(code) - zero point) * scale (* super scale), masked, plus
// outliers, as #lowbit.scheme defines.

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<2x4xf32>) {
  %u = tensor.cast %t : tensor<2x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

// int3 asym per channel (axis 1), integer zero points.
func.func @int_asym() {
  %c = arith.constant dense<[[0, 1, 7, 3], [4, 5, 6, 2]]> : tensor<2x4xi3>
  %s = arith.constant dense<[[1.0, 0.5, 2.0, 0.25]]> : tensor<1x4xf32>
  %z = arith.constant dense<[[0, 1, 4, 3]]> : tensor<1x4xi8>
  %q = lowbit.pack %c, %s, %z : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}0,   0,   6,   0],
// CHECK-NEXT:  [4,   2,   4,   -0.25]]

// int4 sym, q4_K-like two-level: 6-bit group scales (groups of 2 along axis
// 1) times one f16 super scale per super-block of 2 groups (per row here).
func.func @int_two_level() {
  %c = arith.constant dense<[[1, -1, 2, -8], [7, 0, -3, 3]]> : tensor<2x4xi4>
  %s = arith.constant dense<[[2, 3], [1, 63]]> : tensor<2x2xi6>
  %t = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf16>
  %q = lowbit.pack %c, %s, %t : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int4, sym, group = 2, axis = 1, scale = i6, super = 2, super_scale = f16>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int4, sym, group = 2, axis = 1, scale = i6, super = 2, super_scale = f16>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}1,   -1,   3,   -12],
// CHECK-NEXT:  [1.75,   0,   -47.25,   47.25]]

// NVFP4: e2m1 codes, FP8 e4m3 group scales (groups of 2), f32 tensor scale.
// Codes 1, 7, 9, 15 are 0.5, 6, -0.5, -6; e4m3 0x38 = 1.0, 0x40 = 2.0.
func.func @nvfp4() {
  %c = arith.constant dense<[[1, 7, 9, 15], [2, 3, 4, 5]]> : tensor<2x4xi4>
  %sbits = arith.constant dense<[[56, 64], [64, 56]]> : tensor<2x2xi8>
  %s = arith.bitcast %sbits : tensor<2x2xi8> to tensor<2x2xf8E4M3FN>
  %t = arith.constant dense<0.5> : tensor<1x1xf32>
  %q = lowbit.pack %c, %s, %t : !lowbit.qtensor<2x4xf32, #lowbit.scheme<e2m1, group = 2, axis = 1, scale = f8E4M3FN, super = tensor, super_scale = f32>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<e2m1, group = 2, axis = 1, scale = f8E4M3FN, super = tensor, super_scale = f32>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}0.25,   3,   -0.5,   -6],
// CHECK-NEXT:  [1,   1.5,   1,   1.5]]

// MXFP4: e2m1 codes, e8m0 scales (127 = 1.0, 129 = 4.0), groups of 4.
func.func @mxfp4() {
  %c = arith.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8]]> : tensor<2x4xi4>
  %sbits = arith.constant dense<[[127], [129]]> : tensor<2x1xi8>
  %s = arith.bitcast %sbits : tensor<2x1xi8> to tensor<2x1xf8E8M0FNU>
  %q = lowbit.pack %c, %s : !lowbit.qtensor<2x4xf32, #lowbit.scheme<e2m1, group = 4, axis = 1, scale = f8E8M0FNU>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<e2m1, group = 4, axis = 1, scale = f8E8M0FNU>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}0.5,   1,   1.5,   2],
// CHECK-NEXT:  [12,   16,   24,   -0]]

// NF4 and a learned 2-bit codebook.
func.func @codebooks() {
  %c = arith.constant dense<[[0, 7, 15, 8], [1, 14, 6, 9]]> : tensor<2x4xi4>
  %s = arith.constant dense<2.0> : tensor<1x1xf32>
  %q = lowbit.pack %c, %s : !lowbit.qtensor<2x4xf32, #lowbit.scheme<nf4, tensor, scale = f32>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<nf4, tensor, scale = f32>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  %c2 = arith.constant dense<[[0, 1, 2, 3], [3, 2, 1, 0]]> : tensor<2x4xi2>
  %s2 = arith.constant dense<[[1.0], [10.0]]> : tensor<2x1xf32>
  %cb = arith.constant dense<[-1.5, -0.25, 0.5, 2.0]> : tensor<4xf32>
  %q2 = lowbit.pack %c2, %s2, %cb : !lowbit.qtensor<2x4xf32, #lowbit.scheme<lut2, sym, channel, axis = 0, scale = f32>>
  %d2 = lowbit.dequantize %q2 : !lowbit.qtensor<2x4xf32, #lowbit.scheme<lut2, sym, channel, axis = 0, scale = f32>>
  call @print(%d2) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}-2,   0,   2,   0.159161],
// CHECK-NEXT:  [-1.39239,   1.44591,   -0.1821{{[0-9]*}},   0.32186]]
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}-1.5,   -0.25,   0.5,   2],
// CHECK-NEXT:  [20,   5,   -2.5,   -15]]

// 2:4 sparsity along axis 1 plus COO outliers (added to the dense part).
func.func @sparse_coo() {
  %c = arith.constant dense<1> : tensor<2x4xi4>
  %s = arith.constant dense<1.0> : tensor<1x1xf32>
  %i = arith.constant dense<[[0, 1], [1, 3]]> : tensor<2x2xi32>
  %v = arith.constant dense<[10.0, -5.0]> : tensor<2xf16>
  %m = arith.constant dense<[[true, false, false, true], [false, true, true, false]]> : tensor<2x4xi1>
  %q = lowbit.pack %c, %s, %i, %v, %m : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 2, f16>, sparsity = #lowbit.sparsity<nm 2:4, axis = 1>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 2, f16>, sparsity = #lowbit.sparsity<nm 2:4, axis = 1>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}1,   10,   0,   1],
// CHECK-NEXT:  [0,   1,   1,   -5]]

// Block sparsity (blocks of 2 along axis 1) plus CSR outliers.
func.func @block_csr() {
  %c = arith.constant dense<[[1, 2, 3, 4], [5, 6, 7, -8]]> : tensor<2x4xi4>
  %s = arith.constant dense<0.5> : tensor<1x1xf32>
  %p = arith.constant dense<[0, 0, 2]> : tensor<3xi32>
  %col = arith.constant dense<[0, 2]> : tensor<2xi32>
  %v = arith.constant dense<[100.0, 0.125]> : tensor<2xf32>
  %m = arith.constant dense<[[false, true], [true, true]]> : tensor<2x2xi1>
  %q = lowbit.pack %c, %s, %p, %col, %v, %m : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f32>, sparsity = #lowbit.sparsity<block 2, axis = 1>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<2x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f32>, sparsity = #lowbit.sparsity<block 2, axis = 1>>
  call @print(%d) : (tensor<2x4xf32>) -> ()
  return
}
// CHECK-LABEL: sizes = [2, 4]
// CHECK-NEXT: {{\[\[}}0,   0,   1.5,   2],
// CHECK-NEXT:  [102.5,   3,   3.625,   -4]]

func.func @main() {
  call @int_asym() : () -> ()
  call @int_two_level() : () -> ()
  call @nvfp4() : () -> ()
  call @mxfp4() : () -> ()
  call @codebooks() : () -> ()
  call @sparse_coo() : () -> ()
  call @block_csr() : () -> ()
  return
}
