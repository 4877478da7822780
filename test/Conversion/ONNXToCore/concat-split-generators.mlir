// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// Concat along a dynamic axis: the result size is the sum; each input is
// inserted at its running offset.
// CHECK-LABEL: func.func @concat
// CHECK: %[[A:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[SUM:.*]] = arith.addi %[[A]], %c3
// CHECK: %[[E:.*]] = tensor.empty(%[[SUM]]) : tensor<2x?xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %arg0 into %[[E]][0, 0] [2, %{{.*}}] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %[[I0]][0, %{{.*}}] [2, 3] [1, 1]
func.func @concat(%a: tensor<2x?xf32>, %b: tensor<2x3xf32>) -> tensor<2x?xf32> {
  %0 = onnx.node "Concat"(%a, %b) {domain = "", node_name = "", onnx_attrs = {axis = -1 : i64}, opset = 13 : i64} : (tensor<2x?xf32>, tensor<2x3xf32>) -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// CHECK-LABEL: func.func @split
// CHECK: tensor.extract_slice %arg0[0, 0] [4, 2] [1, 1] : tensor<4x6xf32> to tensor<4x2xf32>
// CHECK: tensor.extract_slice %arg0[0, 2] [4, 4] [1, 1] : tensor<4x6xf32> to tensor<4x4xf32>
func.func @split(%x: tensor<4x6xf32>) -> (tensor<4x2xf32>, tensor<4x4xf32>) {
  %s = arith.constant dense<[2, 4]> : tensor<2xi64>
  %0:2 = onnx.node "Split"(%x, %s) {domain = "", node_name = "", onnx_attrs = {axis = 1 : i64}, opset = 13 : i64} : (tensor<4x6xf32>, tensor<2xi64>) -> (tensor<4x2xf32>, tensor<4x4xf32>)
  return %0#0, %0#1 : tensor<4x2xf32>, tensor<4x4xf32>
}

// -----

// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-LABEL: func.func @expand
// CHECK: linalg.generic {indexing_maps = [#[[B]], #{{.*}}]{{.*}} ins(%arg0 : tensor<?x1x5xf32>) outs(%{{.*}} : tensor<?x3x5xf32>)
func.func @expand(%x: tensor<?x1x5xf32>, %shape: tensor<3xi64>) -> tensor<?x3x5xf32> {
  %0 = onnx.node "Expand"(%x, %shape) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<?x1x5xf32>, tensor<3xi64>) -> tensor<?x3x5xf32>
  return %0 : tensor<?x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @constant_of_shape_trilu
// CHECK: %[[D0:.*]] = tensor.extract %arg0[%c0] : tensor<2xi64>
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%cst{{.*}} : f32) outs(%[[E]]
// CHECK: linalg.generic {{.*}} ins(%[[F]]
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: arith.cmpi sle
func.func @constant_of_shape_trilu(%shape: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = onnx.node "ConstantOfShape"(%shape) {domain = "", node_name = "", onnx_attrs = {value = dense<1.0> : tensor<1xf32>}, opset = 9 : i64} : (tensor<2xi64>) -> tensor<?x?xf32>
  %1 = onnx.node "Trilu"(%0) {domain = "", node_name = "", onnx_attrs = {upper = 0 : i64}, opset = 14 : i64} : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %1 : tensor<?x?xf32>
}
