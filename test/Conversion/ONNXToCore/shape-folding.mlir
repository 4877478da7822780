// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// An exporter's shape subgraph on a static input: Shape -> Gather ->
// Unsqueeze -> Concat is the Reshape's target, Range the positions. Each
// op's pattern lowers it as usual; MLIR's folding during the conversion
// (op folders, canonicalization, small generics evaluated through their
// body's folders) leaves constants and static types, also where the import
// left a dynamic type (Range's length).
// CHECK-LABEL: func.func @exporter_subgraph
// CHECK-DAG: %[[TARGET:.*]] = arith.constant dense<[2, 5, 2, 4]> : tensor<4xi64>
// CHECK-DAG: %[[POS:.*]] = arith.constant dense<[0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<5xf32>
// CHECK-NOT: tensor<?
// CHECK-NOT: linalg.generic {{.*}} tensor<i64>
// CHECK: tensor.reshape %arg0(%[[TARGET]]) : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
// CHECK: %[[P:.*]] = tensor.reshape %[[POS]](%{{.*}}) : (tensor<5xf32>, tensor<2xi64>) -> tensor<5x1xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[P]] : tensor<2x5x8xf32>, tensor<5x1xf32>)
// CHECK-NOT: tensor<?
func.func @exporter_subgraph(%x: tensor<2x5x8xf32>) -> (tensor<2x5x2x4xf32>, tensor<2x5x8xf32>) {
  %zero = arith.constant dense<0> : tensor<i64>
  %one = arith.constant dense<1> : tensor<i64>
  %axes0 = arith.constant dense<0> : tensor<1xi64>
  %axes1 = arith.constant dense<1> : tensor<1xi64>
  %heads = arith.constant dense<[2, 4]> : tensor<2xi64>
  %shape = onnx.node "Shape"(%x) {domain = "", node_name = "shape", onnx_attrs = {}, opset = 17 : i64} : (tensor<2x5x8xf32>) -> tensor<3xi64>
  %batch = onnx.node "Gather"(%shape, %zero) {domain = "", node_name = "batch", onnx_attrs = {axis = 0 : i64}, opset = 17 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %seq = onnx.node "Gather"(%shape, %one) {domain = "", node_name = "seq", onnx_attrs = {axis = 0 : i64}, opset = 17 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %batch1 = onnx.node "Unsqueeze"(%batch, %axes0) {domain = "", node_name = "batch1", onnx_attrs = {}, opset = 17 : i64} : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %seq1 = onnx.node "Unsqueeze"(%seq, %axes0) {domain = "", node_name = "seq1", onnx_attrs = {}, opset = 17 : i64} : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %target = onnx.node "Concat"(%batch1, %seq1, %heads) {domain = "", node_name = "target", onnx_attrs = {axis = 0 : i64}, opset = 17 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %y = onnx.node "Reshape"(%x, %target) {domain = "", node_name = "split_heads", onnx_attrs = {}, opset = 17 : i64} : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %pos = onnx.node "Range"(%zero, %seq, %one) {domain = "", node_name = "positions", onnx_attrs = {}, opset = 17 : i64} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %posf = onnx.node "Cast"(%pos) {domain = "", node_name = "posf", onnx_attrs = {to = 1 : i64}, opset = 17 : i64} : (tensor<?xi64>) -> tensor<?xf32>
  %pos2 = onnx.node "Unsqueeze"(%posf, %axes1) {domain = "", node_name = "pos2", onnx_attrs = {}, opset = 17 : i64} : (tensor<?xf32>, tensor<1xi64>) -> tensor<?x1xf32>
  %z = onnx.node "Add"(%x, %pos2) {domain = "", node_name = "add_pos", onnx_attrs = {}, opset = 17 : i64} : (tensor<2x5x8xf32>, tensor<?x1xf32>) -> tensor<2x5x8xf32>
  return %y, %z : tensor<2x5x2x4xf32>, tensor<2x5x8xf32>
}

// -----

// A causal mask from the sequence length: ConstantOfShape of a Concat of
// Shape parts and Trilu, typed dynamic by the import. The shape folds, the
// mask becomes static (the function's result too), and stays a computation:
// results of more than 4096 elements are not evaluated at compile time.
// CHECK-LABEL: func.func @mask
// CHECK-SAME: -> tensor<1x64x64xf32>
// CHECK-NOT: tensor<?
// CHECK: linalg.generic
// CHECK-NOT: tensor<?
// CHECK: return %{{.*}} : tensor<1x64x64xf32>
func.func @mask(%x: tensor<1x64xi64>) -> tensor<?x?x?xf32> {
  %one = arith.constant dense<1> : tensor<i64>
  %axes0 = arith.constant dense<0> : tensor<1xi64>
  %batch = arith.constant dense<1> : tensor<1xi64>
  %k = arith.constant dense<1> : tensor<i64>
  %shape = onnx.node "Shape"(%x) {domain = "", node_name = "shape", onnx_attrs = {}, opset = 17 : i64} : (tensor<1x64xi64>) -> tensor<2xi64>
  %seq = onnx.node "Gather"(%shape, %one) {domain = "", node_name = "seq", onnx_attrs = {axis = 0 : i64}, opset = 17 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %seq1 = onnx.node "Unsqueeze"(%seq, %axes0) {domain = "", node_name = "seq1", onnx_attrs = {}, opset = 17 : i64} : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %dims = onnx.node "Concat"(%batch, %seq1, %seq1) {domain = "", node_name = "dims", onnx_attrs = {axis = 0 : i64}, opset = 17 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %ones = onnx.node "ConstantOfShape"(%dims) {domain = "", node_name = "ones", onnx_attrs = {value = dense<1.0> : tensor<1xf32>}, opset = 17 : i64} : (tensor<3xi64>) -> tensor<?x?x?xf32>
  %mask = onnx.node "Trilu"(%ones, %k) {domain = "", node_name = "causal", onnx_attrs = {upper = 1 : i64}, opset = 17 : i64} : (tensor<?x?x?xf32>, tensor<i64>) -> tensor<?x?x?xf32>
  return %mask : tensor<?x?x?xf32>
}

// -----

// A shape computation on a run-time input stays a computation.
// CHECK-LABEL: func.func @dynamic
// CHECK: tensor.dim %arg0, %c0
// CHECK: tensor.from_elements
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<2xi64> {
  %shape = onnx.node "Shape"(%x) {domain = "", node_name = "shape", onnx_attrs = {}, opset = 17 : i64} : (tensor<?x8xf32>) -> tensor<2xi64>
  return %shape : tensor<2xi64>
}
