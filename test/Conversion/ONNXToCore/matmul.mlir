// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// Batched MatMul with a 2-D weight: loops (b, m, n, k).
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @matmul_batched
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[E:.*]] = tensor.empty(%[[B]], %[[S]]) : tensor<?x?x8xf32>
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x?x16xf32>, tensor<16x8xf32>) outs(%[[Z]]
func.func @matmul_batched(%x: tensor<?x?x16xf32>, %w: tensor<16x8xf32>) -> tensor<?x?x8xf32> {
  %0 = onnx.node "MatMul"(%x, %w) {domain = "", node_name = "mm", onnx_attrs = {}, opset = 17 : i64} : (tensor<?x?x16xf32>, tensor<16x8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Broadcast batch dimension: [1, 4, 2, 3] x [5, 1, 3, 6].
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d1, d2, d4)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d3)>
// CHECK-LABEL: func.func @matmul_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #{{.*}}]
func.func @matmul_broadcast(%a: tensor<1x4x2x3xf32>, %b: tensor<5x1x3x6xf32>) -> tensor<5x4x2x6xf32> {
  %0 = onnx.node "MatMul"(%a, %b) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<1x4x2x3xf32>, tensor<5x1x3x6xf32>) -> tensor<5x4x2x6xf32>
  return %0 : tensor<5x4x2x6xf32>
}

// -----

// Gemm with transB, alpha, beta and a row-vector C.
// CHECK-DAG: #[[GA:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[GB:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @gemm
// CHECK: %[[AB:.*]] = linalg.generic {indexing_maps = [#[[GA]], #[[GB]], #{{.*}}]
// CHECK: linalg.generic {{.*}} ins(%[[AB]], %arg2 : tensor<2x3xf32>, tensor<3xf32>)
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @gemm(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>, %c: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = onnx.node "Gemm"(%a, %b, %c) {domain = "", node_name = "fc", onnx_attrs = {alpha = 5.000000e-01 : f32, beta = 2.000000e+00 : f32, transB = 1 : i64}, opset = 13 : i64} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @constant_identity
// CHECK: %[[C:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[K:.*]] = arith.constant dense<3> : tensor<1xi64>
// CHECK: return %[[C]], %[[K]]
func.func @constant_identity() -> (tensor<2xf32>, tensor<1xi64>) {
  %0 = onnx.node "Constant"() {domain = "", node_name = "", onnx_attrs = {value = dense<[1.0, 2.0]> : tensor<2xf32>}, opset = 17 : i64} : () -> tensor<2xf32>
  %1 = onnx.node "Identity"(%0) {domain = "", node_name = "", onnx_attrs = {}, opset = 17 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  %2 = onnx.node "Constant"() {domain = "", node_name = "", onnx_attrs = {value_ints = array<i64: 3>}, opset = 17 : i64} : () -> tensor<1xi64>
  return %1, %2 : tensor<2xf32>, tensor<1xi64>
}
