// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2" -verify-diagnostics
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2 exclude=linear" | FileCheck %s --check-prefix=EXCLUDED

// NaN and Inf weights are refused before rounding (RTN would give a NaN
// group or code 0), naming the layer and the element; excluded layers stay
// float.
// EXCLUDED-LABEL: func.func @nan
// EXCLUDED: linalg.matmul
// EXCLUDED-LABEL: func.func @inf
// EXCLUDED: linalg.matmul

func.func @nan(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[0.3, 0.1], [0x7FC00000, 0.2]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  // expected-error @+1 {{lowbit-quantize-rtn: layer 'linear.0': the weight has a non-finite value (nan at k = 1, n = 0); fix the model or exclude the layer}}
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @inf(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[0.3, 0xFF800000], [0.4, 0.2]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  // expected-error @+1 {{lowbit-quantize-rtn: layer 'linear.0': the weight has a non-finite value (-INF at k = 0, n = 1); fix the model or exclude the layer}}
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
