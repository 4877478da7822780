// RUN: quant-opt %s --split-input-file --convert-onnx-to-core="allow-unsupported" | FileCheck %s

// Nearest, asymmetric, floor: the source row/column is floor(x / 2),
// clamped to the input; batch and channel indices pass through (size 1
// here, so they fold to 0).
// CHECK-LABEL: func.func @nearest_upsample
// CHECK: linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<1x1x4x6xf32>)
// CHECK:   linalg.index 2
// CHECK:   arith.divf
// CHECK:   math.floor
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK:   tensor.extract %arg0[%c0, %c0, %{{.*}}, %{{.*}}] : tensor<1x1x2x3xf32>
func.func @nearest_upsample(%x: tensor<1x1x2x3xf32>) -> tensor<1x1x4x6xf32> {
  %roi = onnx.none
  %scales = arith.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %0 = onnx.node "Resize"(%x, %roi, %scales) {domain = "", node_name = "up", onnx_attrs = {coordinate_transformation_mode = "asymmetric", mode = "nearest", nearest_mode = "floor"}, opset = 19 : i64} : (tensor<1x1x2x3xf32>, none, tensor<4xf32>) -> tensor<1x1x4x6xf32>
  return %0 : tensor<1x1x4x6xf32>
}

// -----

// Linear with sizes on axes 2 and 3 (opset 18 axes): four corners weighted
// by the fractional coordinates.
// CHECK-LABEL: func.func @bilinear_sizes
// CHECK: linalg.generic
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK: linalg.yield
func.func @bilinear_sizes(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  %none = onnx.none
  %sizes = arith.constant dense<[8, 8]> : tensor<2xi64>
  %0 = onnx.node "Resize"(%x, %none, %none, %sizes) {domain = "", node_name = "up", onnx_attrs = {axes = array<i64: 2, 3>, mode = "linear"}, opset = 19 : i64} : (tensor<1x2x4x4xf32>, none, none, tensor<2xi64>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

// Cubic is not handled: the node stays.
// CHECK-LABEL: func.func @cubic
// CHECK: onnx.node "Resize"
func.func @cubic(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %roi = onnx.none
  %scales = arith.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %0 = onnx.node "Resize"(%x, %roi, %scales) {domain = "", node_name = "up", onnx_attrs = {mode = "cubic"}, opset = 19 : i64} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}
