// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// paddle2onnx computes a Reshape target through Cast, where ONNX's data
// propagation stops: the Reshape and everything after it come untyped.
// The target folds to [1, 200] (the Slice of the Shape constant included),
// the Reshape gets that type, and MatMul, Add and Softmax theirs from
// their operands; the function returns the static result.
// CHECK-LABEL: func.func @paddle_head
// CHECK-SAME: -> tensor<1x2xf32>
// CHECK-NOT: onnx.node
// CHECK: tensor.reshape {{.*}} -> tensor<1x200xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2xf32>)
// CHECK: return %{{.*}} : tensor<1x2xf32>
func.func @paddle_head(%x: tensor<1x200x1x1xf32>, %w: tensor<200x2xf32>, %b: tensor<2xf32>) -> tensor<*xf32> {
  %shape = onnx.node "Shape"(%x) {domain = "", node_name = "shape", onnx_attrs = {}, opset = 11 : i64} : (tensor<1x200x1x1xf32>) -> tensor<4xi64>
  %s32 = onnx.node "Cast"(%shape) {domain = "", node_name = "cast32", onnx_attrs = {to = 6 : i64}, opset = 11 : i64} : (tensor<4xi64>) -> tensor<4xi32>
  %start = arith.constant dense<0> : tensor<1xi64>
  %end = arith.constant dense<1> : tensor<1xi64>
  %axes = arith.constant dense<0> : tensor<1xi64>
  %steps = arith.constant dense<1> : tensor<1xi64>
  %n32 = onnx.node "Slice"(%s32, %start, %end, %axes, %steps) {domain = "", node_name = "slice", onnx_attrs = {}, opset = 11 : i64} : (tensor<4xi32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi32>
  %n = onnx.node "Cast"(%n32) {domain = "", node_name = "cast64", onnx_attrs = {to = 7 : i64}, opset = 11 : i64} : (tensor<1xi32>) -> tensor<1xi64>
  %minus1 = arith.constant dense<-1> : tensor<1xi64>
  %target = onnx.node "Concat"(%n, %minus1) {domain = "", node_name = "concat", onnx_attrs = {axis = -1 : i64}, opset = 11 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = onnx.node "Reshape"(%x, %target) {domain = "", node_name = "reshape", onnx_attrs = {}, opset = 11 : i64} : (tensor<1x200x1x1xf32>, tensor<2xi64>) -> tensor<*xf32>
  %m = onnx.node "MatMul"(%r, %w) {domain = "", node_name = "fc", onnx_attrs = {}, opset = 11 : i64} : (tensor<*xf32>, tensor<200x2xf32>) -> tensor<*xf32>
  %a = onnx.node "Add"(%m, %b) {domain = "", node_name = "bias", onnx_attrs = {}, opset = 11 : i64} : (tensor<*xf32>, tensor<2xf32>) -> tensor<*xf32>
  %p = onnx.node "Softmax"(%a) {domain = "", node_name = "prob", onnx_attrs = {axis = 1 : i64}, opset = 11 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return %p : tensor<*xf32>
}

// -----

// Results typed from operands: Transpose's perm, Squeeze's axes (attribute
// before opset 13), ReduceMean with keepdims, a Conv with pads and stride,
// Shape's length when ONNX typed it tensor<?xi64>.
// CHECK-LABEL: func.func @shapes
// CHECK-SAME: -> (tensor<1x40x120xf32>, tensor<1x8x1xf32>, tensor<1x4x3x3xf32>, tensor<3xi64>)
// CHECK-NOT: onnx.node
func.func @shapes(%x: tensor<1x120x1x40xf32>, %y: tensor<1x8x6xf32>, %img: tensor<1x3x6x6xf32>, %k: tensor<4x3x3x3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<?xi64>) {
  %s = onnx.node "Squeeze"(%x) {domain = "", node_name = "sq", onnx_attrs = {axes = array<i64: 2>}, opset = 12 : i64} : (tensor<1x120x1x40xf32>) -> tensor<*xf32>
  %t = onnx.node "Transpose"(%s) {domain = "", node_name = "tr", onnx_attrs = {perm = array<i64: 0, 2, 1>}, opset = 12 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  %m = onnx.node "ReduceMean"(%y) {domain = "", node_name = "mean", onnx_attrs = {axes = array<i64: -1>}, opset = 12 : i64} : (tensor<1x8x6xf32>) -> tensor<*xf32>
  %c = onnx.node "Conv"(%img, %k) {domain = "", node_name = "conv", onnx_attrs = {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}, opset = 12 : i64} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  %sh = onnx.node "Shape"(%y) {domain = "", node_name = "shape", onnx_attrs = {}, opset = 12 : i64} : (tensor<1x8x6xf32>) -> tensor<?xi64>
  return %t, %m, %c, %sh : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<?xi64>
}
