// RUN: quant-opt %s --lowbit-reference-pipeline | %run | FileCheck %s

// quantize(dequantize(codes)) == codes, for every code format. Codes are
// (7 i + 3 j + 1) mod 2^b over a 64x8 tensor; scales are powers of two so
// x / s is exact. For the integer, NF4 and codebook formats the codes
// themselves are compared; the small-float formats have two codes for zero
// and NaN/Inf codes that are not values, so their decoded values are
// compared wherever they are finite. Each case prints the number of
// elements compared, then the number of mismatches.

#id = affine_map<(i, j) -> (i, j)>

func.func @codes(%mod: i32) -> tensor<64x8xi8> {
  %e = tensor.empty() : tensor<64x8xi8>
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<64x8xi8>) {
  ^bb0(%out: i8):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %c7 = arith.constant 7 : i32
    %c3 = arith.constant 3 : i32
    %c1 = arith.constant 1 : i32
    %a = arith.muli %ii, %c7 : i32
    %b = arith.muli %jj, %c3 : i32
    %s = arith.addi %a, %b : i32
    %t = arith.addi %s, %c1 : i32
    %m = arith.remui %t, %mod : i32
    %v = arith.trunci %m : i32 to i8
    linalg.yield %v : i8
  } -> tensor<64x8xi8>
  return %r : tensor<64x8xi8>
}

func.func @count(%m: tensor<64x8xi1>) {
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<i32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<i32>) -> tensor<i32>
  %ext = arith.extui %m : tensor<64x8xi1> to tensor<64x8xi32>
  %r = linalg.reduce ins(%ext : tensor<64x8xi32>) outs(%f : tensor<i32>) dimensions = [0, 1]
    (%in: i32, %acc: i32) {
      %s = arith.addi %in, %acc : i32
      linalg.yield %s : i32
    }
  %v = tensor.extract %r[] : tensor<i32>
  vector.print %v : i32
  return
}

// Prints 512 and the number of codes that differ.
func.func @compare_codes(%a: tensor<64x8xi8>, %b: tensor<64x8xi8>) {
  %all = arith.constant 512 : i32
  vector.print %all : i32
  %ne = arith.cmpi ne, %a, %b : tensor<64x8xi8>
  call @count(%ne) : (tensor<64x8xi1>) -> ()
  return
}

// Prints the number of finite values of %a and how many of them differ in %b.
func.func @compare_values(%a: tensor<64x8xf32>, %b: tensor<64x8xf32>) {
  %inf = arith.constant dense<0x7F800000> : tensor<64x8xf32>
  %abs = math.absf %a : tensor<64x8xf32>
  %finite = arith.cmpf olt, %abs, %inf : tensor<64x8xf32>
  call @count(%finite) : (tensor<64x8xi1>) -> ()
  %ne = arith.cmpf une, %a, %b : tensor<64x8xf32>
  %bad = arith.andi %finite, %ne : tensor<64x8xi1>
  call @count(%bad) : (tensor<64x8xi1>) -> ()
  return
}

!int4 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 16, axis = 0, scale = f32>>
!int3 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f16, zero_point = i8>>
!int8 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int8, sym, tensor, scale = bf16>>
!nf4 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<nf4, group = 32, axis = 0, scale = f32>>
!lut3 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<lut3, sym, channel, axis = 1, scale = f32>>
!e2m1 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<e2m1, group = 16, axis = 0, scale = f32>>
!e3m2 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<e3m2, tensor, scale = f32>>
!e2m3 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<e2m3, tensor, scale = f32>>
!e4m3 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<e4m3, channel, axis = 1, scale = f32>>
!e5m2 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<e5m2, tensor, scale = f32>>

func.func @main() {
  %m16 = arith.constant 16 : i32
  %m8 = arith.constant 8 : i32
  %m64 = arith.constant 64 : i32
  %m256 = arith.constant 256 : i32
  %c16 = call @codes(%m16) : (i32) -> tensor<64x8xi8>
  %c8 = call @codes(%m8) : (i32) -> tensor<64x8xi8>
  %c64 = call @codes(%m64) : (i32) -> tensor<64x8xi8>
  %c256 = call @codes(%m256) : (i32) -> tensor<64x8xi8>
  %pow2 = arith.constant dense<[[0.25, 0.5, 1.0, 2.0, 4.0, 0.125, 8.0, 1.0],
                                [2.0, 2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 0.5],
                                [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                                [16.0, 0.0625, 4.0, 0.25, 2.0, 0.5, 1.0, 1.0]]> : tensor<4x8xf32>

  // CHECK: 512
  // CHECK-NEXT: 0
  %i4 = arith.trunci %c16 : tensor<64x8xi8> to tensor<64x8xi4>
  %p4 = lowbit.pack %i4, %pow2 : !int4
  %d4 = lowbit.dequantize %p4 : !int4
  %q4 = lowbit.quantize %d4, %pow2 : tensor<64x8xf32> -> !int4
  %r4, %s4 = lowbit.unpack %q4 : !int4
  %r4x = arith.extui %r4 : tensor<64x8xi4> to tensor<64x8xi8>
  call @compare_codes(%c16, %r4x) : (tensor<64x8xi8>, tensor<64x8xi8>) -> ()

  // CHECK: 512
  // CHECK-NEXT: 0
  %i3 = arith.trunci %c8 : tensor<64x8xi8> to tensor<64x8xi3>
  %s3 = arith.constant dense<[[0.5, 0.25, 1.0, 2.0, 0.5, 0.25, 1.0, 2.0]]> : tensor<1x8xf16>
  %z3 = arith.constant dense<[[3, 0, 7, 4, 1, 2, 5, 6]]> : tensor<1x8xi8>
  %p3 = lowbit.pack %i3, %s3, %z3 : !int3
  %d3 = lowbit.dequantize %p3 : !int3
  %q3 = lowbit.quantize %d3, %s3, %z3 : tensor<64x8xf32> -> !int3
  %r3, %rs3, %rz3 = lowbit.unpack %q3 : !int3
  %r3x = arith.extui %r3 : tensor<64x8xi3> to tensor<64x8xi8>
  call @compare_codes(%c8, %r3x) : (tensor<64x8xi8>, tensor<64x8xi8>) -> ()

  // CHECK: 512
  // CHECK-NEXT: 0
  %s8 = arith.constant dense<0.03125> : tensor<1x1xbf16>
  %p8 = lowbit.pack %c256, %s8 : !int8
  %d8 = lowbit.dequantize %p8 : !int8
  %q8 = lowbit.quantize %d8, %s8 : tensor<64x8xf32> -> !int8
  %r8, %rs8 = lowbit.unpack %q8 : !int8
  call @compare_codes(%c256, %r8) : (tensor<64x8xi8>, tensor<64x8xi8>) -> ()

  // CHECK: 512
  // CHECK-NEXT: 0
  %sn = arith.constant dense<[[0.5, 1.0, 2.0, 4.0, 0.25, 0.5, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<2x8xf32>
  %pn = lowbit.pack %i4, %sn : !nf4
  %dn = lowbit.dequantize %pn : !nf4
  %qn = lowbit.quantize %dn, %sn : tensor<64x8xf32> -> !nf4
  %rn, %rsn = lowbit.unpack %qn : !nf4
  %rnx = arith.extui %rn : tensor<64x8xi4> to tensor<64x8xi8>
  call @compare_codes(%c16, %rnx) : (tensor<64x8xi8>, tensor<64x8xi8>) -> ()

  // CHECK: 512
  // CHECK-NEXT: 0
  %sl = arith.constant dense<[[2.0, 1.0, 0.5, 4.0, 2.0, 1.0, 0.5, 4.0]]> : tensor<1x8xf32>
  %cb = arith.constant dense<[-4.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]> : tensor<8xf32>
  %pl = lowbit.pack %i3, %sl, %cb : !lut3
  %dl = lowbit.dequantize %pl : !lut3
  %ql = lowbit.quantize %dl, %sl, %cb : tensor<64x8xf32> -> !lut3
  %rl, %rsl, %rcb = lowbit.unpack %ql : !lut3
  %rlx = arith.extui %rl : tensor<64x8xi3> to tensor<64x8xi8>
  call @compare_codes(%c8, %rlx) : (tensor<64x8xi8>, tensor<64x8xi8>) -> ()

  // e2m1: all 16 codes are finite.
  // CHECK: 512
  // CHECK-NEXT: 0
  %pf4 = lowbit.pack %i4, %pow2 : !e2m1
  %df4 = lowbit.dequantize %pf4 : !e2m1
  %qf4 = lowbit.quantize %df4, %pow2 : tensor<64x8xf32> -> !e2m1
  %ef4 = lowbit.dequantize %qf4 : !e2m1
  call @compare_values(%df4, %ef4) : (tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // CHECK: 512
  // CHECK-NEXT: 0
  %i6 = arith.trunci %c64 : tensor<64x8xi8> to tensor<64x8xi6>
  %one = arith.constant dense<1.0> : tensor<1x1xf32>
  %pf6 = lowbit.pack %i6, %one : !e3m2
  %df6 = lowbit.dequantize %pf6 : !e3m2
  %qf6 = lowbit.quantize %df6, %one : tensor<64x8xf32> -> !e3m2
  %ef6 = lowbit.dequantize %qf6 : !e3m2
  call @compare_values(%df6, %ef6) : (tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // CHECK: 512
  // CHECK-NEXT: 0
  %pg6 = lowbit.pack %i6, %one : !e2m3
  %dg6 = lowbit.dequantize %pg6 : !e2m3
  %qg6 = lowbit.quantize %dg6, %one : tensor<64x8xf32> -> !e2m3
  %eg6 = lowbit.dequantize %qg6 : !e2m3
  call @compare_values(%dg6, %eg6) : (tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // e4m3: codes 0x7F and 0xFF are NaN (4 of the 512 here are excluded).
  // CHECK: 508
  // CHECK-NEXT: 0
  %s48 = arith.constant dense<[[0.5, 1.0, 2.0, 0.25, 1.0, 1.0, 4.0, 0.125]]> : tensor<1x8xf32>
  %pf8 = lowbit.pack %c256, %s48 : !e4m3
  %df8 = lowbit.dequantize %pf8 : !e4m3
  %qf8 = lowbit.quantize %df8, %s48 : tensor<64x8xf32> -> !e4m3
  %ef8 = lowbit.dequantize %qf8 : !e4m3
  call @compare_values(%df8, %ef8) : (tensor<64x8xf32>, tensor<64x8xf32>) -> ()

  // e5m2: codes 0x7C-0x7F and 0xFC-0xFF are Inf or NaN.
  // CHECK: 498
  // CHECK-NEXT: 0
  %pg8 = lowbit.pack %c256, %one : !e5m2
  %dg8 = lowbit.dequantize %pg8 : !e5m2
  %qg8 = lowbit.quantize %dg8, %one : tensor<64x8xf32> -> !e5m2
  %eg8 = lowbit.dequantize %qg8 : !e5m2
  call @compare_values(%dg8, %eg8) : (tensor<64x8xf32>, tensor<64x8xf32>) -> ()
  return
}
