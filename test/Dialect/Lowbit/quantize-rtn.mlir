// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=3 group-size=0 symmetric=false" | FileCheck %s --check-prefix=ASYM
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2 min-size=8" | FileCheck %s --check-prefix=SMALL

// Weight [[1, -2], [0.5, 4], [-7, 3.5], [0, 0]] (K = 4, N = 2).
// Symmetric, groups of 2 along K: the weight m of largest magnitude per
// (group, column) goes to code -8, s = m / -8: group 0: 1/-8, 4/-8; group 1:
// -7/-8, 3.5/-8. Codes: round(w / s) = [[-8, 4], [-4, -8], [-8, -8], [0, 0]].
// CHECK-LABEL: func.func @rtn
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// (Nibbles low first: -8, 4 -> 0x48 = 72; -4, -8 -> 0x8C = -116; ...)
// CHECK: %[[BYTES:.*]] = arith.constant dense<[72, -116, -120, 0]> : tensor<4xi8>
// CHECK: %[[CODES:.*]] = lowbit.unpack_codes %[[BYTES]] : tensor<4xi8> -> tensor<4x2xi4>
// CHECK: %[[SCALES:.*]] = arith.constant dense<{{\[\[}}-1.250000e-01, -5.000000e-01], [8.750000e-01, -4.375000e-01]]> : tensor<2x2xf32>
// CHECK: %[[W:.*]] = lowbit.pack %[[CODES]], %[[SCALES]] : !lowbit.qtensor<4x2xf32, #lowbit.scheme<int4, sym, group = 2, axis = 0, scale = f32>>
// CHECK: %[[Y:.*]] = lowbit.matmul %[[X]], %[[W]] {lowbit.layer = "linear.0", lowbit.method = "rtn", lowbit.time_ms = {{.*}}, lowbit.weight_error = {{.*}} : f32}
// CHECK-NOT: linalg.matmul
// CHECK-NOT: dense<{{\[\[}}1.0
// CHECK: return %[[Y]]

// Asymmetric per channel, 3 bits: s = (max - min) / 7 with the range
// widened to include 0, z = round(-min / s): column 0 has [-7, 1], z = 6;
// column 1 has [-2, 4], z = round(2.33) = 2.
// ASYM-LABEL: func.func @rtn
// ASYM: %[[Z:.*]] = arith.constant dense<{{\[\[}}6, 2]]> : tensor<1x2xi8>
// ASYM: lowbit.pack %{{.*}}, %{{.*}}, %[[Z]] : !lowbit.qtensor<4x2xf32, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>>

// SMALL-LABEL: func.func @rtn
// SMALL: linalg.matmul
// SMALL-NOT: lowbit.
func.func @rtn(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 4.0], [-7.0, 3.5], [0.0, 0.0]]> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Not rewritten: the weight is not a constant, or the init is not a zero fill.
// CHECK-LABEL: func.func @not_constant
// CHECK-COUNT-2: linalg.matmul
// CHECK-NOT: lowbit.
func.func @not_constant(%x: tensor<3x4xf32>, %w: tensor<4x2xf32>, %acc: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %c = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y2 = linalg.matmul ins(%x, %c : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y, %y2 : tensor<3x2xf32>, tensor<3x2xf32>
}
