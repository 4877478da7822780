// RUN: not quant-opt %s --split-input-file --convert-onnx-to-core -o /dev/null 2>&1 | FileCheck %s

// A Transpose whose perm is not a permutation of the input's dimensions, or
// does not give the result's shape, is left unconverted and reported (it
// used to build a linalg.transpose with a null indexing map: a crash found
// by the fuzzer, tools/fuzz/corpus/onnx-import-fuzzer/crash-transpose-bad-perm.onnx).

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
