// RUN: quant-opt %s --lowbit-gptq="bits=4 group-size=2" | FileCheck %s

// With a diagonal Hessian no error is carried between inputs: GPTQ rounds
// as RTN would with GPTQ's abs-max scales max|w| / 7 (group 0: 1/7, 4/7;
// group 1: 1, 0.5; codes round(w / s)), and reports the output error from
// the Hessian. (The unit test DiagonalHessianIsRtn checks the same on
// larger layers.)
// CHECK-LABEL: func.func @diagonal
// CHECK: %[[BYTES:.*]] = arith.constant dense<[-41, 115, 121, 0]> : tensor<4xi8>
// CHECK: dense<{{\[\[}}0.142857{{[0-9]*}}, 0.571428{{[0-9]*}}], [1.000000e+00, 5.000000e-01]]>
// CHECK: lowbit.matmul %{{.*}}, %{{.*}} {lowbit.calibration_site = "in", lowbit.layer = "linear.0", lowbit.method = "gptq", lowbit.output_error = {{.*}} : f32, lowbit.time_ms = {{.*}}, lowbit.weight_error = 0.0324{{[0-9]*}} : f32}
func.func @diagonal(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 4.0]]> : tensor<4x4xf32>}} : tensor<3x4xf32>
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 4.0], [-7.0, 3.5], [0.0, 0.0]]> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%c, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
