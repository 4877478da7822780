// RUN: quant-opt %s --split-input-file --convert-onnx-to-core=allow-unsupported | FileCheck %s

// A result rank that disagrees with the operands' (as a corrupt model may
// declare) is refused before any op is built: the node stays, and nothing
// reads out of bounds (a fuzzer find: a vector times a matrix declared to
// give a scalar).
// CHECK-LABEL: func.func @vector_matrix_to_scalar
// CHECK: onnx.node "MatMul"
// CHECK-NOT: linalg.generic
func.func @vector_matrix_to_scalar(%x: tensor<3xf32>, %w: tensor<3x4xf32>) -> tensor<f32> {
  %0 = onnx.node "MatMul"(%x, %w) {domain = "", node_name = "mm", onnx_attrs = {}, opset = 13 : i64} : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// CHECK-LABEL: func.func @matrix_vector_to_matrix
// CHECK: onnx.node "MatMul"
// CHECK-NOT: linalg.generic
func.func @matrix_vector_to_matrix(%x: tensor<2x3xf32>, %w: tensor<3xf32>) -> tensor<2x1xf32> {
  %0 = onnx.node "MatMul"(%x, %w) {domain = "", node_name = "mm", onnx_attrs = {}, opset = 13 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}
