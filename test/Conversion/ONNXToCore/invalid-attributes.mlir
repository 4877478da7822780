// RUN: not quant-opt %s --split-input-file --convert-onnx-to-core -o /dev/null 2>&1 | FileCheck %s

// Nodes whose attributes the converter cannot honour are left unconverted
// and reported, never lowered into invalid IR. A Transpose whose perm is not
// a permutation of the input's dimensions, or does not give the result's
// shape, used to build a linalg.transpose with a null indexing map (a crash
// found by the fuzzer,
// tools/fuzz/corpus/onnx-import-fuzzer/crash-transpose-bad-perm.onnx); axes
// outside [-rank, rank) indexed past the shapes.

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Transpose (opset 13) x1: short
func.func @short(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = onnx.node "Transpose"(%x) {domain = "", node_name = "short", onnx_attrs = {perm = array<i64: 1>}, opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Transpose (opset 13) x1: repeated
func.func @repeated(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = onnx.node "Transpose"(%x) {domain = "", node_name = "repeated", onnx_attrs = {perm = array<i64: 1, 1>}, opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Transpose (opset 13) x1: out_of_range
func.func @out_of_range(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = onnx.node "Transpose"(%x) {domain = "", node_name = "out_of_range", onnx_attrs = {perm = array<i64: 2, -1>}, opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Transpose (opset 13) x1: wrong_shape
func.func @wrong_shape(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = onnx.node "Transpose"(%x) {domain = "", node_name = "wrong_shape", onnx_attrs = {perm = array<i64: 1, 0>}, opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Concat (opset 13) x1: concat_axis
func.func @concat_axis(%x: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %0 = onnx.node "Concat"(%x, %x) {domain = "", node_name = "concat_axis", onnx_attrs = {axis = 2 : i64}, opset = 13 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Concat (opset 13) x1: concat_rank
func.func @concat_rank(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<5x3xf32> {
  %0 = onnx.node "Concat"(%x, %y) {domain = "", node_name = "concat_rank", onnx_attrs = {axis = 0 : i64}, opset = 13 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Softmax (opset 13) x1: softmax_axis
func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = onnx.node "Softmax"(%x) {domain = "", node_name = "softmax_axis", onnx_attrs = {axis = -3 : i64}, opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: Flatten (opset 13) x1: flatten_axis
func.func @flatten_axis(%x: tensor<2x3xf32>) -> tensor<6x1xf32> {
  %0 = onnx.node "Flatten"(%x) {domain = "", node_name = "flatten_axis", onnx_attrs = {axis = 3 : i64}, opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}
