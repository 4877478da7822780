// RUN: quant-opt %s --split-input-file --convert-onnx-to-core="allow-unsupported" | FileCheck %s

// Numpy broadcasting: a [4] operand against [2, 3, 4], a [3, 1] one against
// [2, 3, 4]; the dynamic result dimension is sized from the operand that has it.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[LAST:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[MID:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[D:.*]] = tensor.dim %arg0, %{{.*}} : tensor<?x3x4xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x3x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[LAST]], #[[ID]]], {{.*}}} ins(%arg0, %arg1 : tensor<?x3x4xf32>, tensor<4xf32>) outs(%[[E]]
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[MID]], #[[ID]]]
// CHECK: arith.mulf
func.func @broadcast(%a: tensor<?x3x4xf32>, %b: tensor<4xf32>, %c: tensor<3x1xf32>) -> tensor<?x3x4xf32> {
  %0 = onnx.node "Add"(%a, %b) {domain = "", node_name = "add", onnx_attrs = {}, opset = 17 : i64} : (tensor<?x3x4xf32>, tensor<4xf32>) -> tensor<?x3x4xf32>
  %1 = onnx.node "Mul"(%0, %c) {domain = "", node_name = "mul", onnx_attrs = {}, opset = 17 : i64} : (tensor<?x3x4xf32>, tensor<3x1xf32>) -> tensor<?x3x4xf32>
  return %1 : tensor<?x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @integer_and_compare
// CHECK: arith.addi
// CHECK: arith.divsi
// CHECK: arith.cmpi slt
// CHECK: arith.select
func.func @integer_and_compare(%a: tensor<4xi64>, %b: tensor<4xi64>, %x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = onnx.node "Add"(%a, %b) {domain = "", node_name = "", onnx_attrs = {}, opset = 14 : i64} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %1 = onnx.node "Div"(%0, %b) {domain = "", node_name = "", onnx_attrs = {}, opset = 14 : i64} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %2 = onnx.node "Less"(%1, %a) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %3 = onnx.node "Where"(%2, %x, %y) {domain = "", node_name = "", onnx_attrs = {}, opset = 16 : i64} : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @unary_and_activations
// CHECK: math.erf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: math.tanh
func.func @unary_and_activations(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = onnx.node "Erf"(%x) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<8xf32>) -> tensor<8xf32>
  %1 = onnx.node "Sigmoid"(%0) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<8xf32>) -> tensor<8xf32>
  %2 = onnx.node "LeakyRelu"(%1) {domain = "", node_name = "", onnx_attrs = {alpha = 2.000000e-01 : f32}, opset = 16 : i64} : (tensor<8xf32>) -> tensor<8xf32>
  %3 = onnx.node "Gelu"(%2) {domain = "", node_name = "", onnx_attrs = {approximate = "tanh"}, opset = 20 : i64} : (tensor<8xf32>) -> tensor<8xf32>
  return %3 : tensor<8xf32>
}

// -----

// Clip with an absent min: only the max bound is applied. Cast i64 -> f32.
// CHECK-LABEL: func.func @clip_and_cast
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4xf32>, tensor<f32>)
// CHECK-NOT: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.sitofp %{{.*}} : i64 to f32
func.func @clip_and_cast(%x: tensor<4xf32>, %hi: tensor<f32>, %i: tensor<4xi64>) -> (tensor<4xf32>, tensor<4xf32>) {
  %none = onnx.none
  %0 = onnx.node "Clip"(%x, %none, %hi) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
  %1 = onnx.node "Cast"(%i) {domain = "", node_name = "", onnx_attrs = {to = 1 : i64}, opset = 19 : i64} : (tensor<4xi64>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Gelu exists only from opset 20: at opset 17 it is left (and reported).
// CHECK-LABEL: func.func @opset_dispatch
// CHECK: onnx.node "Gelu"
func.func @opset_dispatch(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = onnx.node "Gelu"(%x) {domain = "", node_name = "g", onnx_attrs = {}, opset = 17 : i64} : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
