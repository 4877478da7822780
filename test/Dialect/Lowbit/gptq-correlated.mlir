// RUN: quant-opt %s --split-input-file --lowbit-gptq="bits=4 group-size=0 act-order=false" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-gptq="bits=4 group-size=0" | FileCheck %s --check-prefix=ACT
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=0" | FileCheck %s --check-prefix=RTN

// Inputs 0 and 1 are one signal (H = [[1,1,0],[1,1,0],[0,0,1]]). With the
// scale 0.9/-8 = -0.1125, RTN rounds both 0.2925 (2.6 steps) up to 0.3375:
// the output is off by 0.09 (relative output error 0.084). GPTQ rounds
// input 0 up as well and carries the error to input 1, which becomes about
// 0.248 (2.2 steps) and rounds down to 0.225: the sum is off by 0.0225
// (0.021).
// CHECK-LABEL: func.func @correlated
// CHECK: lowbit.matmul {{.*}}lowbit.output_error = {{2\.[0-9]*e-02|0\.02[0-9]*}} : f32
// ACT-LABEL: func.func @correlated
// ACT: lowbit.matmul {{.*}}lowbit.output_error = {{2\.[0-9]*e-02|0\.02[0-9]*}} : f32
// RTN-LABEL: func.func @correlated
// RTN: lowbit.matmul {{.*}}lowbit.output_error = 0.08{{[0-9]*}} : f32
func.func @correlated(%x: tensor<5x3xf32>) -> tensor<5x1xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 5 : i64, hessian = dense<[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]> : tensor<3x3xf32>}} : tensor<5x3xf32>
  %w = arith.constant dense<[[0.2925], [0.2925], [0.9]]> : tensor<3x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x1xf32>) -> tensor<5x1xf32>
  %y = linalg.matmul ins(%c, %w : tensor<5x3xf32>, tensor<3x1xf32>) outs(%f : tensor<5x1xf32>) -> tensor<5x1xf32>
  return %y : tensor<5x1xf32>
}

// -----

// Dead inputs (H_ii = 0: never non-zero on the calibration data) get zero
// weights, and an indefinite Hessian is dampened until it factors; both
// are reported with the layer's name, and the weights stay finite.
// CHECK-LABEL: func.func @degenerate
// CHECK: lowbit.matmul {{.*}}lowbit.output_error
// CHECK-NOT: nan
func.func @degenerate(%x: tensor<5x3xf32>) -> tensor<5x1xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 5 : i64, hessian = dense<[[1.0, 3.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 0.0]]> : tensor<3x3xf32>}} : tensor<5x3xf32>
  %w = arith.constant dense<[[0.31], [0.5], [0.9]]> : tensor<3x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x1xf32>) -> tensor<5x1xf32>
  %y = linalg.matmul ins(%c, %w : tensor<5x3xf32>, tensor<3x1xf32>) outs(%f : tensor<5x1xf32>) -> tensor<5x1xf32>
  return %y : tensor<5x1xf32>
}
