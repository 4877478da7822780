// RUN: quant-opt %s --lowbit-reference-pipeline | %run | FileCheck %s

// dequantize(quantize(x)) is within half a scale step of x for integer
// schemes, when x lies in the range the scale covers. x is a deterministic
// wave, amp * sin(0.37 i + 1.3 j + 0.1); for each scheme the test prints
// max |x - x'| / s(i) and whether it is <= 1/2.

#id = affine_map<(i, j) -> (i, j)>

func.func @wave(%amp: f32) -> tensor<64x8xf32> {
  %e = tensor.empty() : tensor<64x8xf32>
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<64x8xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %fj = arith.sitofp %jj : i32 to f32
    %a = arith.constant 0.37 : f32
    %b = arith.constant 1.3 : f32
    %c = arith.constant 0.1 : f32
    %t0 = arith.mulf %fi, %a : f32
    %t1 = arith.mulf %fj, %b : f32
    %t2 = arith.addf %t0, %t1 : f32
    %t3 = arith.addf %t2, %c : f32
    %s = math.sin %t3 : f32
    %v = arith.mulf %s, %amp : f32
    linalg.yield %v : f32
  } -> tensor<64x8xf32>
  return %r : tensor<64x8xf32>
}

// Prints max |x - y| / s and whether it is <= 0.5 (s is the full-shape
// effective scale).
func.func @report(%x: tensor<64x8xf32>, %y: tensor<64x8xf32>, %s: tensor<64x8xf32>) {
  %d = arith.subf %x, %y : tensor<64x8xf32>
  %a = math.absf %d : tensor<64x8xf32>
  %r = arith.divf %a, %s : tensor<64x8xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%r : tensor<64x8xf32>) outs(%f : tensor<f32>) dimensions = [0, 1]
    (%in: f32, %acc: f32) {
      %mx = arith.maximumf %in, %acc : f32
      linalg.yield %mx : f32
    }
  %v = tensor.extract %m[] : tensor<f32>
  %half = arith.constant 0.5 : f32
  %ok = arith.cmpf ole, %v, %half : f32
  vector.print %v : f32
  vector.print %ok : i1
  return
}

// Broadcasts a [4, 8] group-scale tensor (groups of 16 along axis 0).
func.func @expand_groups(%s: tensor<4x8xf32>) -> tensor<64x8xf32> {
  %e = tensor.empty() : tensor<64x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i floordiv 16, j)>, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<64x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<64x8xf32>
  return %r : tensor<64x8xf32>
}

!int4 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 16, axis = 0, scale = f32>>
!int3 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>>
!int8 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int8, sym, tensor, scale = f32>>
!int2 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int2, asym, group = 16, axis = 0, scale = f32, zero_point = f32>>

func.func @main() {
  %amp = arith.constant 2.0 : f32
  %x = call @wave(%amp) : (f32) -> tensor<64x8xf32>

  // int4 sym, group 16 along axis 0; s >= amp / 7 so |x| <= 7 s.
  %s4 = arith.constant dense<[[0.2858, 0.30, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36],
                              [0.40, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47],
                              [0.2858, 0.29, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9],
                              [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]]> : tensor<4x8xf32>
  %q4 = lowbit.quantize %x, %s4 : tensor<64x8xf32> -> !int4
  %y4 = lowbit.dequantize %q4 : !int4
  %e4 = call @expand_groups(%s4) : (tensor<4x8xf32>) -> tensor<64x8xf32>
  // CHECK: {{0\.4[0-9]*|0\.5}}
  // CHECK-NEXT: 1
  call @report(%x, %y4, %e4) : (tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // int3 asym per channel, zero point 4: covers [-4 s, 3 s] with s = amp / 3.
  %s3 = arith.constant dense<[[0.667, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]]> : tensor<1x8xf32>
  %z3 = arith.constant dense<4> : tensor<1x8xi8>
  %q3 = lowbit.quantize %x, %s3, %z3 : tensor<64x8xf32> -> !int3
  %y3 = lowbit.dequantize %q3 : !int3
  %e3 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (0, j)>, #id],
                        iterator_types = ["parallel", "parallel"]}
      ins(%s3 : tensor<1x8xf32>) outs(%x : tensor<64x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<64x8xf32>
  // CHECK: {{0\.4[0-9]*|0\.5}}
  // CHECK-NEXT: 1
  call @report(%x, %y3, %e3) : (tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // int8 sym per tensor.
  %s8 = arith.constant dense<0.015748> : tensor<1x1xf32>
  %q8 = lowbit.quantize %x, %s8 : tensor<64x8xf32> -> !int8
  %y8 = lowbit.dequantize %q8 : !int8
  %e8 = arith.constant dense<0.015748> : tensor<64x8xf32>
  // CHECK: {{0\.4[0-9]*|0\.5}}
  // CHECK-NEXT: 1
  call @report(%x, %y8, %e8) : (tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // int2 asym with a fractional float zero point 1.5: codes 0..3 stand for
  // -1.5 s .. 1.5 s, so s = amp / 1.5 covers the wave.
  %s2 = arith.constant dense<1.3334> : tensor<4x8xf32>
  %z2 = arith.constant dense<1.5> : tensor<4x8xf32>
  %q2 = lowbit.quantize %x, %s2, %z2 : tensor<64x8xf32> -> !int2
  %y2 = lowbit.dequantize %q2 : !int2
  %e2 = call @expand_groups(%s2) : (tensor<4x8xf32>) -> tensor<64x8xf32>
  // CHECK: {{0\.4[0-9]*|0\.5}}
  // CHECK-NEXT: 1
  call @report(%x, %y2, %e2) : (tensor<64x8xf32>, tensor<64x8xf32>, tensor<64x8xf32>) -> ()
  return
}
