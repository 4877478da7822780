// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// GatherElements: one generic over the result; each element reads its
// index, counts a negative one from the end, clamps it to the axis (so a
// bad index cannot read outside the data) and reads the data there.
// CHECK-LABEL: func.func @gather_elements
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x5xf32>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[E:.*]] = tensor.extract %arg1[%[[I]], %[[J]]] : tensor<2x5xi64>
// CHECK: %[[K:.*]] = arith.index_cast %[[E]] : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[K]], %c0
// CHECK: %[[UP:.*]] = arith.addi %[[K]], %c3
// CHECK: %[[S:.*]] = arith.select %[[NEG]], %[[UP]], %[[K]]
// CHECK: %[[MIN:.*]] = arith.minsi %[[S]], %c2
// CHECK: %[[AT:.*]] = arith.maxsi %[[MIN]], %c0
// CHECK: tensor.extract %arg0[%[[AT]], %[[J]]] : tensor<3x5xf32>
func.func @gather_elements(%x: tensor<3x5xf32>, %i: tensor<2x5xi64>) -> tensor<2x5xf32> {
  %0 = onnx.node "GatherElements"(%x, %i) {domain = "", node_name = "", onnx_attrs = {axis = 0 : i64}, opset = 13 : i64} : (tensor<3x5xf32>, tensor<2x5xi64>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// GatherND with batch_dims = 1: result [2, 4]; element (b, j) reads the
// tuple indices[b, :] (one index into axis 1) and data[b, index, j].
// CHECK-LABEL: func.func @gather_nd
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[E:.*]] = tensor.extract %arg1[%[[B]], %c0] : tensor<2x1xi64>
// CHECK: %[[AT:.*]] = arith.maxsi
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: tensor.extract %arg0[%[[B]], %[[AT]], %[[J]]] : tensor<2x3x4xf32>
func.func @gather_nd(%x: tensor<2x3x4xf32>, %i: tensor<2x1xi64>) -> tensor<2x4xf32> {
  %0 = onnx.node "GatherND"(%x, %i) {domain = "", node_name = "", onnx_attrs = {batch_dims = 1 : i64}, opset = 13 : i64} : (tensor<2x3x4xf32>, tensor<2x1xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
