// RUN: quant-opt %s --lowbit-reference-pipeline | %run | FileCheck %s

// quantize picks the nearest representable value with ties to the even code
// and saturates to the finite range: the printed values are
// dequantize(quantize(x)). The same cases are in
// unittests/Support/CodeTablesTest.cpp against the host implementation.

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<1x8xf32>) {
  %u = tensor.cast %t : tensor<1x8xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %one = arith.constant dense<1.0> : tensor<1x1xf32>
  %x = arith.constant dense<[[0.25, 0.75, 1.25, 2.5, 5.0, 7.0, -0.3, 1.0e30]]> : tensor<1x8xf32>
  // CHECK: {{\[\[}}0,   1,   1,   2,   4,   6,   -0.5,   6]]
  %q = lowbit.quantize %x, %one : tensor<1x8xf32> -> !lowbit.qtensor<1x8xf32, #lowbit.scheme<e2m1, tensor, scale = f32>>
  %d = lowbit.dequantize %q : !lowbit.qtensor<1x8xf32, #lowbit.scheme<e2m1, tensor, scale = f32>>
  call @print(%d) : (tensor<1x8xf32>) -> ()

  // e4m3: 448 is the largest finite value; 17 is a tie between 16 and 18
  // (mantissas 000 and 001), resolved to 16.
  %x8 = arith.constant dense<[[17.0, 19.0, 450.0, 1.0e9, -1.0e9, 0.001953125, 0.0009, 0.3]]> : tensor<1x8xf32>
  // CHECK: {{\[\[}}16,   20,   448,   448,   -448,   0.00195312,   0,   0.3125]]
  %q8 = lowbit.quantize %x8, %one : tensor<1x8xf32> -> !lowbit.qtensor<1x8xf32, #lowbit.scheme<e4m3, tensor, scale = f32>>
  %d8 = lowbit.dequantize %q8 : !lowbit.qtensor<1x8xf32, #lowbit.scheme<e4m3, tensor, scale = f32>>
  call @print(%d8) : (tensor<1x8xf32>) -> ()

  // int4 symmetric with scale 0.5: round half to even, clamp to [-8, 7].
  %half = arith.constant dense<0.5> : tensor<1x1xf32>
  %xi = arith.constant dense<[[0.25, 0.75, -0.25, -0.75, 3.4, 3.6, -5.0, 100.0]]> : tensor<1x8xf32>
  // CHECK: {{\[\[}}0,   1,   0,   -1,   3.5,   3.5,   -4,   3.5]]
  %qi = lowbit.quantize %xi, %half : tensor<1x8xf32> -> !lowbit.qtensor<1x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
  %di = lowbit.dequantize %qi : !lowbit.qtensor<1x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
  call @print(%di) : (tensor<1x8xf32>) -> ()

  // A zero scale maps everything to the code of zero; NaN counts as 0.
  %zero = arith.constant dense<0.0> : tensor<1x1xf32>
  %xz = arith.constant dense<[[1.0, -2.0, 3.0, 0.0, 5.0, 6.0, 7.0, 0x7FC00000]]> : tensor<1x8xf32>
  // CHECK: {{\[\[}}0,   0,   0,   0,   0,   0,   0,   0]]
  %qz = lowbit.quantize %xz, %zero, %one : tensor<1x8xf32> -> !lowbit.qtensor<1x8xf32, #lowbit.scheme<int4, asym, tensor, scale = f32, zero_point = f32>>
  %cz, %sz, %zz = lowbit.unpack %qz : !lowbit.qtensor<1x8xf32, #lowbit.scheme<int4, asym, tensor, scale = f32, zero_point = f32>>
  %qz2 = lowbit.pack %cz, %one, %one : !lowbit.qtensor<1x8xf32, #lowbit.scheme<int4, asym, tensor, scale = f32, zero_point = f32>>
  %dz = lowbit.dequantize %qz2 : !lowbit.qtensor<1x8xf32, #lowbit.scheme<int4, asym, tensor, scale = f32, zero_point = f32>>
  call @print(%dz) : (tensor<1x8xf32>) -> ()

  // NF4 and a learned codebook: nearest entry, saturating.
  %xn = arith.constant dense<[[-3.0, -0.6, -0.1, 0.03, 0.2, 0.5, 0.9, 3.0]]> : tensor<1x8xf32>
  // CHECK: {{\[\[}}-1,   -0.525073,   -0.09105,   0,   0.16093,   0.44071,   1,   1]]
  %qn = lowbit.quantize %xn, %one : tensor<1x8xf32> -> !lowbit.qtensor<1x8xf32, #lowbit.scheme<nf4, tensor, scale = f32>>
  %dn = lowbit.dequantize %qn : !lowbit.qtensor<1x8xf32, #lowbit.scheme<nf4, tensor, scale = f32>>
  call @print(%dn) : (tensor<1x8xf32>) -> ()
  %cb = arith.constant dense<[-1.0, 0.0, 0.5, 2.0]> : tensor<4xf32>
  // CHECK: {{\[\[}}-1,   -1,   0,   0,   0,   0.5,   0.5,   2]]
  %ql = lowbit.quantize %xn, %one, %cb : tensor<1x8xf32> -> !lowbit.qtensor<1x8xf32, #lowbit.scheme<lut2, sym, tensor, scale = f32>>
  %dl = lowbit.dequantize %ql : !lowbit.qtensor<1x8xf32, #lowbit.scheme<lut2, sym, tensor, scale = f32>>
  call @print(%dl) : (tensor<1x8xf32>) -> ()
  return
}
