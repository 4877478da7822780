// RUN: quant-opt %s --lowbit-allocate-bits="budget=bpw:9 method=rtn error=absolute candidate-bits=2,8 candidate-groups=8" | FileCheck %s --check-prefix=ONE
// RUN: quant-opt %s --lowbit-allocate-bits="budget=bpw:6 method=rtn error=absolute candidate-bits=2,8 candidate-groups=8" | FileCheck %s --check-prefix=NONE
// RUN: quant-opt %s --lowbit-allocate-bits="budget=size:48B method=gptq error=absolute candidate-bits=2,8 candidate-groups=8" | FileCheck %s --check-prefix=BOTH
// RUN: quant-opt %s --lowbit-allocate-bits="budget=bpw:9 method=rtn error=absolute candidate-bits=2,8 candidate-groups=8" --lowbit-quantize-rtn | FileCheck %s --check-prefix=RTN
// RUN: quant-opt %s --lowbit-allocate-bits="budget=bpw:9 method=rtn error=absolute candidate-bits=2,8 candidate-groups=8 include=linear.1" | FileCheck %s --check-prefix=INCLUDE

// Two layers of 8 x 2 weights with the same values; layer a's input has
// 100 times the energy of layer b's (H = 100 I against I), so each of its
// candidates errs 100 times more: tr(dW^T H dW). Candidates 2 and 8 bits
// in one group of 8 per output: 16 x 2 + 2 x 32 = 96 bits (6 per weight) or
// 16 x 8 + 64 = 192 bits (12 per weight). With 9 bits per weight over the
// 32 weights (288 bits) one layer can have 8 bits: a, whose error falls
// 100 times more.
// ONE: module attributes {lowbit.allocation = {bits_per_weight = 9.000000e+00 : f64, bound = [[E:.*]] : f64, budget = "bpw:9", candidates = 2 : i64, error = [[E]] : f64, error_measure = "absolute", gap = 0.000000e+00 : f64, layers = 2 : i64, measure_seconds = {{.*}}, method = "rtn", optimal = true, solve_seconds = {{.*}}, undominated = 4 : i64}}
// ONE-LABEL: func.func @two_layers
// ONE: linalg.matmul {lowbit.allocation = {bits = 8 : i64, cost = 1.200000e+01 : f64, error = {{.*}} : f64, group = 8 : i64, outlier_fraction = 0.000000e+00 : f64}}
// ONE: linalg.matmul {lowbit.allocation = {bits = 2 : i64, cost = 6.000000e+00 : f64, error = {{.*}} : f64, group = 8 : i64, outlier_fraction = 0.000000e+00 : f64}}

// 6 bits per weight (192 bits): both at 2 bits.
// NONE-LABEL: func.func @two_layers
// NONE: linalg.matmul {lowbit.allocation = {bits = 2 : i64
// NONE: linalg.matmul {lowbit.allocation = {bits = 2 : i64

// 48 bytes (384 bits), GPTQ measuring: both at 8 bits.
// BOTH-LABEL: func.func @two_layers
// BOTH: linalg.matmul {lowbit.allocation = {bits = 8 : i64
// BOTH: linalg.matmul {lowbit.allocation = {bits = 8 : i64

// The quantization passes use each layer's allocation over their own bits
// and keep it on the lowbit.matmul for the report.
// RTN-LABEL: func.func @two_layers
// RTN: lowbit.pack {{.*}} !lowbit.qtensor<8x2xf32, #lowbit.scheme<int8, sym, group = 8
// RTN: lowbit.matmul {{.*}}lowbit.allocation = {bits = 8 : i64
// RTN: lowbit.pack {{.*}} !lowbit.qtensor<8x2xf32, #lowbit.scheme<int2, sym, group = 8
// RTN: lowbit.matmul {{.*}}lowbit.allocation = {bits = 2 : i64

// Only layer b (16 weights, 9 x 16 = 144 bits): 2 bits; a is left alone.
// INCLUDE-LABEL: func.func @two_layers
// INCLUDE: linalg.matmul ins(
// INCLUDE: linalg.matmul {lowbit.allocation = {bits = 2 : i64
func.func @two_layers(%x: tensor<3x8xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %ca = lowbit.calibrate %x site "a" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0]]> : tensor<8x8xf32>}} : tensor<3x8xf32>
  %wa = arith.constant dense<[[0.1, 0.2], [0.15, -0.1], [0.9, 0.05], [-0.12, 0.11], [0.08, -0.75], [0.1, 0.1], [-0.05, 0.02], [0.13, -0.14]]> : tensor<8x2xf32>
  %ya = linalg.matmul ins(%ca, %wa : tensor<3x8xf32>, tensor<8x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %cb = lowbit.calibrate %x site "b" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<8x8xf32>}} : tensor<3x8xf32>
  %wb = arith.constant dense<[[0.1, 0.2], [0.15, -0.1], [0.9, 0.05], [-0.12, 0.11], [0.08, -0.75], [0.1, 0.1], [-0.05, 0.02], [0.13, -0.14]]> : tensor<8x2xf32>
  %yb = linalg.matmul ins(%cb, %wb : tensor<3x8xf32>, tensor<8x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %ya, %yb : tensor<3x2xf32>, tensor<3x2xf32>
}
