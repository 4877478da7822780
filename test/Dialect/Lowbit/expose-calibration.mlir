// RUN: quant-opt %s --lowbit-expose-calibration | FileCheck %s
// RUN: quant-opt %s --lowbit-expose-calibration=only-statistics=true | FileCheck %s --check-prefix=ONLY
// RUN: quant-opt %s --lowbit-expose-calibration=token-cap=4 | FileCheck %s --check-prefix=CAP
// (The errors: expose-calibration-invalid.mlir.)

// The statistics of one run become extra results: per site abs_max, min,
// max, sum (C) and X^T X (C x C), named for the runtime's manifest; the
// sites disappear. Rows are flattened (channels last).
// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<4x8xf32> {onnx.name = "y"}, tensor<8xf32> {onnx.name = "calib:fc:in:abs_max"}, tensor<8xf32> {onnx.name = "calib:fc:in:min"}, tensor<8xf32> {onnx.name = "calib:fc:in:max"}, tensor<8xf32> {onnx.name = "calib:fc:in:sum"}, tensor<8x8xf32> {onnx.name = "calib:fc:in:hessian"})
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: linalg.transpose
// CHECK-NOT: lowbit.calibrate
// CHECK: return

// With only-statistics the model's own outputs go: what calibration runs.
// ONLY-LABEL: func.func @main
// ONLY-SAME: -> (tensor<8xf32> {onnx.name = "calib:fc:in:abs_max"}
// ONLY-NOT: onnx.name = "y"
// With token-cap the rows of the Hessian's operand are scaled first: squared
// norms, the geometric mean of the nonzero ones, the weights, the product.
// CAP-LABEL: func.func @main
// CAP: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CAP: math.log
// CAP: math.exp
// CAP: arith.minimumf
// CAP: math.sqrt
// CAP: %[[X:.*]] = linalg.generic
// CAP: arith.mulf
// CAP: linalg.transpose ins(%[[X]]
// CAP: return
func.func @main(%x: tensor<1x4x8xf32> {onnx.name = "x"}) -> (tensor<4x8xf32> {onnx.name = "y"}) {
  %s = lowbit.calibrate %x site "fc:in" collect <abs_max, min_max, mean, hessian> : tensor<1x4x8xf32>
  %h = tensor.collapse_shape %s [[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul ins(%h, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc")
  return %y : tensor<4x8xf32>
}
