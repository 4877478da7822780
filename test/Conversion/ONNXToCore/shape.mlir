// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// Reshape computes its target at run time: 0 copies the input dimension,
// -1 takes what is left.
// CHECK-LABEL: func.func @reshape
// CHECK: %[[E0:.*]] = tensor.extract %arg1[%{{.*}}] : tensor<3xi64>
// CHECK: arith.cmpi eq, %[[E0]], %{{.*}} : i64
// CHECK: arith.divsi
// CHECK: %[[SHAPE:.*]] = tensor.from_elements {{.*}} : tensor<3xi64>
// CHECK: tensor.reshape %arg0(%[[SHAPE]]) : (tensor<?x3x4xf32>, tensor<3xi64>) -> tensor<?x6x2xf32>
func.func @reshape(%x: tensor<?x3x4xf32>, %s: tensor<3xi64>) -> tensor<?x6x2xf32> {
  %0 = onnx.node "Reshape"(%x, %s) {domain = "", node_name = "", onnx_attrs = {}, opset = 14 : i64} : (tensor<?x3x4xf32>, tensor<3xi64>) -> tensor<?x6x2xf32>
  return %0 : tensor<?x6x2xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_unsqueeze
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<4x?xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%arg0 : tensor<?x4xf32>) outs(%[[E]] : tensor<4x?xf32>) permutation = [1, 0]
// CHECK: tensor.reshape %[[T]]({{.*}}) : (tensor<4x?xf32>, tensor<3xi64>) -> tensor<1x4x?xf32>
func.func @transpose_unsqueeze(%x: tensor<?x4xf32>) -> tensor<1x4x?xf32> {
  %axes = arith.constant dense<0> : tensor<1xi64>
  %0 = onnx.node "Transpose"(%x) {domain = "", node_name = "", onnx_attrs = {perm = array<i64: 1, 0>}, opset = 13 : i64} : (tensor<?x4xf32>) -> tensor<4x?xf32>
  %1 = onnx.node "Unsqueeze"(%0, %axes) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<4x?xf32>, tensor<1xi64>) -> tensor<1x4x?xf32>
  return %1 : tensor<1x4x?xf32>
}

// -----

// Gather along axis 0 (an embedding lookup), with negative indices wrapped.
// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.*}}]{{.*}} ins(%arg1 : tensor<?x?xi64>)
// CHECK: arith.cmpi slt
// CHECK: %[[H:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %arg0[%{{.*}}, %[[H]]] : tensor<100x8xf32>
func.func @gather(%emb: tensor<100x8xf32>, %ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
  %0 = onnx.node "Gather"(%emb, %ids) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<100x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @shape_range
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c1 : tensor<2x?xf32>
// CHECK: %[[DI:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: tensor.from_elements %{{.*}}, %[[DI]] : tensor<2xi64>
// CHECK: arith.ceildivsi
// CHECK: linalg.index 0
func.func @shape_range(%x: tensor<2x?xf32>, %a: tensor<i64>, %b: tensor<i64>, %c: tensor<i64>) -> (tensor<2xi64>, tensor<?xi64>) {
  %0 = onnx.node "Shape"(%x) {domain = "", node_name = "", onnx_attrs = {}, opset = 15 : i64} : (tensor<2x?xf32>) -> tensor<2xi64>
  %1 = onnx.node "Range"(%a, %b, %c) {domain = "", node_name = "", onnx_attrs = {}, opset = 11 : i64} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0, %1 : tensor<2xi64>, tensor<?xi64>
}
