// RUN: quant-opt %s --split-input-file --lowbit-allocate-bits="budget=bpw:40" -verify-diagnostics
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=bpw:2.5 candidate-bits=3,4 candidate-groups=2" 2>&1 | FileCheck %s --check-prefix=INFEASIBLE
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=watts:3" 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=latency:2ms" 2>&1 | FileCheck %s --check-prefix=LATENCY
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=bpw:-1" 2>&1 | FileCheck %s --check-prefix=NUMBER
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=bpw:4 candidate-bits=9" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=bpw:4 method=awq" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not quant-opt %s --split-input-file --lowbit-allocate-bits="budget=bpw:4 candidate-groups=4" 2>&1 | FileCheck %s --check-prefix=GROUP

// Cheapest choice: 3 bits in groups of 2 over 2 x 1 weights: 6 + 32 = 38
// bits, 19 per weight.
// INFEASIBLE: error: lowbit-allocate-bits: budget 'bpw:2.5' is below the cheapest choice of the candidates: the least feasible budget is bpw:19.0000
// KIND: error: lowbit-allocate-bits: budget 'watts:3' is not bpw:<bits per weight> or size:<bytes>[kB|MB|GB]
// LATENCY: error: lowbit-allocate-bits: budget 'latency:2ms' is not bpw:<bits per weight> or size:<bytes>[kB|MB|GB] (latency budgets are not implemented yet)
// NUMBER: error: lowbit-allocate-bits: budget 'bpw:-1' needs a positive number after 'bpw:'
// BITS: error: lowbit-allocate-bits: candidate bits 9, group 32: bits = 9 is outside 2..8
// METHOD: error: lowbit-allocate-bits: method 'awq' is not gptq or rtn
// K = 2: no candidate group fits.
// GROUP: error: lowbit-allocate-bits: layer 'linear.0' (K = 2) fits no candidate group size

func.func @calibrated(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>}} : tensor<3x2xf32>
  %w = arith.constant dense<[[0.3], [0.9]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x1xf32>) -> tensor<3x1xf32>
  %y = linalg.matmul ins(%c, %w : tensor<3x2xf32>, tensor<2x1xf32>) outs(%f : tensor<3x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// The candidates are measured on the calibration statistics.
func.func @uncalibrated(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = arith.constant dense<[[0.3], [0.9]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x1xf32>) -> tensor<3x1xf32>
  // expected-error @+1 {{lowbit-allocate-bits: layer 'linear.0' has no calibration statistics}}
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x1xf32>) outs(%f : tensor<3x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// Non-finite weights are refused before any candidate is measured.
func.func @nonfinite(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>}} : tensor<3x2xf32>
  %w = arith.constant dense<[[0x7FC00000], [0.9]]> : tensor<2x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x1xf32>) -> tensor<3x1xf32>
  // expected-error @+1 {{lowbit-allocate-bits: layer 'linear.0': the weight has a non-finite value}}
  %y = linalg.matmul ins(%c, %w : tensor<3x2xf32>, tensor<2x1xf32>) outs(%f : tensor<3x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
