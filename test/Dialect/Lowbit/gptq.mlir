// RUN: quant-opt %s --lowbit-gptq="bits=4 group-size=2" | FileCheck %s
// RUN: quant-opt %s --lowbit-gptq="bits=4 group-size=2 scale-rule=absmax" | FileCheck %s --check-prefix=ABSMAX

// With a diagonal Hessian no error is carried between inputs: GPTQ rounds
// as RTN would, and reports the output error from the Hessian. (The unit
// test DiagonalHessianIsRtn checks the same on larger layers.)
//
// Default scale rule (extreme): each group's weight of largest magnitude m
// on code -8, s = m / -8 (group 0: -1/8, -1/2; group 1: 7/8, -3.5/8); these
// weights are then exact: codes [-8, 4; -4, -8; -8, -8; 0, 0], packed two
// per byte, low nibble first.
// CHECK-LABEL: func.func @diagonal
// CHECK: arith.constant dense<[72, -116, -120, 0]> : tensor<4xi8>
// CHECK: dense<{{\[\[}}-1.250000e-01, -5.000000e-01], [8.750000e-01, -4.375000e-01]]>
// CHECK: lowbit.matmul %{{.*}}, %{{.*}} {lowbit.calibration_site = "in", lowbit.layer = "linear.0", lowbit.method = "gptq", lowbit.output_error = 0.000000e+00 : f32, lowbit.time_ms = {{.*}}, lowbit.weight_error = 0.000000e+00 : f32}
//
// scale-rule=absmax: s = max|w| / 7 (group 0: 1/7, 4/7; group 1: 1, 0.5),
// codes round(w / s).
// ABSMAX-LABEL: func.func @diagonal
// ABSMAX: arith.constant dense<[-41, 115, 121, 0]> : tensor<4xi8>
// ABSMAX: dense<{{\[\[}}0.142857{{[0-9]*}}, 0.571428{{[0-9]*}}], [1.000000e+00, 5.000000e-01]]>
// ABSMAX: lowbit.matmul %{{.*}}, %{{.*}} {lowbit.calibration_site = "in", lowbit.layer = "linear.0", lowbit.method = "gptq", lowbit.output_error = {{.*}} : f32, lowbit.time_ms = {{.*}}, lowbit.weight_error = 0.0324{{[0-9]*}} : f32}
func.func @diagonal(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 4.0]]> : tensor<4x4xf32>}} : tensor<3x4xf32>
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 4.0], [-7.0, 3.5], [0.0, 0.0]]> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%c, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
