// RUN: quant-opt %s | quant-opt | FileCheck %s

// CHECK-LABEL: func.func @nodes
// CHECK: %[[N:.*]] = onnx.none
// CHECK: onnx.node "Clip"(%{{.*}}, %[[N]], %{{.*}}) {domain = "", node_name = "clip", onnx_attrs = {}, opset = 17 : i64} : (tensor<3xf32>, none, tensor<f32>) -> tensor<3xf32>
// CHECK: onnx.node "Split"(%{{.*}}) {domain = "", node_name = "", onnx_attrs = {axis = 0 : i64}, opset = 18 : i64} : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>)
func.func @nodes(%x: tensor<3xf32>, %hi: tensor<f32>, %y: tensor<4xf32>) -> tensor<3xf32> {
  %none = onnx.none
  %c = onnx.node "Clip"(%x, %none, %hi) {domain = "", node_name = "clip", onnx_attrs = {}, opset = 17 : i64} : (tensor<3xf32>, none, tensor<f32>) -> tensor<3xf32>
  %a, %b = onnx.node "Split"(%y) {domain = "", node_name = "", onnx_attrs = {axis = 0 : i64}, opset = 18 : i64} : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return %c : tensor<3xf32>
}
