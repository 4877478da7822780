// RUN: quant-opt %s --split-input-file --lowbit-gptq="bits=4 group-size=0" -verify-diagnostics
// RUN: not quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=3" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not quant-opt %s --lowbit-quantize-rtn="bits=9" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not quant-opt %s --lowbit-quantize-rtn="include=(" 2>&1 | FileCheck %s --check-prefix=REGEX

// GROUP: error: lowbit-quantize-rtn: layer 'linear.0': group size 3 is larger than K = 2
// BITS: error: lowbit-quantize-rtn: bits=9 is outside 2..8
// REGEX: error: lowbit-quantize-rtn: include expression '(' is not a valid regular expression

// GPTQ needs the Hessian of the layer's input.
func.func @uncalibrated(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = arith.constant dense<[[0.3], [0.9]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x1xf32>) -> tensor<3x1xf32>
  // expected-error @+1 {{lowbit-gptq: layer 'linear.0' has no calibration statistics}}
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x1xf32>) outs(%f : tensor<3x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// Dead inputs and an indefinite Hessian: a warning naming the layer.
func.func @degenerate(%x: tensor<5x3xf32>) -> tensor<5x1xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 5 : i64, hessian = dense<[[1.0, 3.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 0.0]]> : tensor<3x3xf32>}} : tensor<5x3xf32>
  %w = arith.constant dense<[[0.31], [0.5], [0.9]]> : tensor<3x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x1xf32>) -> tensor<5x1xf32>
  // expected-warning @+1 {{lowbit-gptq: layer 'linear.0': the Hessian is singular; dampened with 10.00 x mean(diag H) instead of 0.10; 1 of 3 inputs were always zero on the calibration data (weights set to 0)}}
  %y = linalg.matmul ins(%c, %w : tensor<5x3xf32>, tensor<3x1xf32>) outs(%f : tensor<5x1xf32>) -> tensor<5x1xf32>
  return %y : tensor<5x1xf32>
}

// -----

// A Hessian with NaN: an error, not NaN weights.
func.func @nan(%x: tensor<5x2xf32>) -> tensor<5x1xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 5 : i64, hessian = dense<[[1.0, 0x7FC00000], [0x7FC00000, 1.0]]> : tensor<2x2xf32>}} : tensor<5x2xf32>
  %w = arith.constant dense<[[0.31], [0.5]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x1xf32>) -> tensor<5x1xf32>
  // expected-error @+1 {{lowbit-gptq: layer 'linear.0': the Hessian has non-finite entries}}
  %y = linalg.matmul ins(%c, %w : tensor<5x2xf32>, tensor<2x1xf32>) outs(%f : tensor<5x1xf32>) -> tensor<5x1xf32>
  return %y : tensor<5x1xf32>
}
