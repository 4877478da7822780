// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// ReduceMean with axes as an input (opset 18), keepdims: reduce, divide by
// the count, reshape back to rank 3.
// CHECK-LABEL: func.func @reduce_mean
// CHECK: linalg.reduce ins(%arg0 : tensor<2x3x5xf32>) outs(%{{.*}} : tensor<2x3xf32>) dimensions = [2]
// CHECK: arith.divf
// CHECK: tensor.reshape {{.*}} -> tensor<2x3x1xf32>
func.func @reduce_mean(%x: tensor<2x3x5xf32>) -> tensor<2x3x1xf32> {
  %axes = arith.constant dense<-1> : tensor<1xi64>
  %0 = onnx.node "ReduceMean"(%x, %axes) {domain = "", node_name = "", onnx_attrs = {}, opset = 18 : i64} : (tensor<2x3x5xf32>, tensor<1xi64>) -> tensor<2x3x1xf32>
  return %0 : tensor<2x3x1xf32>
}

// -----

// At opset 17 ReduceMean takes axes as an attribute.
// CHECK-LABEL: func.func @reduce_mean_attr
// CHECK: linalg.reduce {{.*}} dimensions = [0]
func.func @reduce_mean_attr(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  %0 = onnx.node "ReduceMean"(%x) {domain = "", node_name = "", onnx_attrs = {axes = array<i64: 0>, keepdims = 0 : i64}, opset = 17 : i64} : (tensor<2x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Softmax: max, exp(x - max), sum, divide, along the axis.
// CHECK-LABEL: func.func @softmax
// CHECK: linalg.reduce {{.*}} dimensions = [1]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: linalg.reduce {{.*}} dimensions = [1]
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = onnx.node "Softmax"(%x) {domain = "", node_name = "", onnx_attrs = {axis = -1 : i64}, opset = 13 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// LayerNormalization over the last axis; the unused Mean/InvStdDev results
// are dropped.
// CHECK-LABEL: func.func @layer_norm
// CHECK: linalg.reduce {{.*}} dimensions = [2]
// CHECK: arith.subf
// CHECK: linalg.reduce {{.*}} dimensions = [2]
// CHECK: math.rsqrt
// CHECK-NOT: onnx.node
func.func @layer_norm(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %0 = onnx.node "LayerNormalization"(%x, %g, %b) {domain = "", node_name = "", onnx_attrs = {epsilon = 9.99999996E-13 : f32}, opset = 17 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}
