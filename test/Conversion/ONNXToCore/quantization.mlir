// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// Per-tensor QuantizeLinear to uint8: round half to even, add the zero
// point, clamp to [0, 255], convert unsigned. Signedness is erased from the
// function's types at the end and kept as lowbit.unsigned.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @quantize_per_tensor
// CHECK-SAME: (%arg0: tensor<2x3xf32>, %arg1: tensor<f32>, %arg2: tensor<i8> {lowbit.unsigned}) -> (tensor<2x3xi8> {lowbit.unsigned})
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[SCALAR]], #[[ID]]]
// CHECK:   %[[Z:.*]] = arith.uitofp %{{.*}} : i8 to f32
// CHECK:   %[[Q:.*]] = arith.divf
// CHECK:   %[[R:.*]] = math.roundeven %[[Q]]
// CHECK:   %[[A:.*]] = arith.addf %[[R]], %[[Z]]
// CHECK:   arith.maximumf %[[A]], %{{.*}}
// CHECK:   arith.minimumf
// CHECK:   arith.fptoui %{{.*}} : f32 to i8
// CHECK-NOT: tensor.bitcast
func.func @quantize_per_tensor(%x: tensor<2x3xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<2x3xui8> {
  %0 = onnx.node "QuantizeLinear"(%x, %s, %z) {domain = "", node_name = "q", onnx_attrs = {}, opset = 19 : i64} : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

// Per-axis DequantizeLinear: the scale and zero point are read along axis 1.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[AXIS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dequantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[AXIS]], #[[AXIS]], #[[ID]]]
// CHECK:   arith.sitofp %{{.*}} : i8 to f32
// CHECK:   arith.sitofp %{{.*}} : i8 to f32
// CHECK:   arith.subf
// CHECK:   arith.mulf
func.func @dequantize_per_axis(%x: tensor<4x3xi8>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<4x3xf32> {
  %0 = onnx.node "DequantizeLinear"(%x, %s, %z) {domain = "", node_name = "dq", onnx_attrs = {axis = 1 : i64}, opset = 13 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Blocked (opset 21): 2 scales of a block of 32 along axis 0 of a 64x8
// int4 weight, read through d0 floordiv 32; no zero point.
// CHECK-DAG: #[[BLOCK:.*]] = affine_map<(d0, d1) -> (d0 floordiv 32, d1)>
// CHECK-LABEL: func.func @dequantize_blocked
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLOCK]], #{{.*}}]
// CHECK-SAME: ins(%arg0, %arg1 : tensor<64x8xi4>, tensor<2x8xf32>)
// CHECK:   arith.sitofp %{{.*}} : i4 to f32
// CHECK-NEXT: arith.mulf
func.func @dequantize_blocked(%x: tensor<64x8xi4>, %s: tensor<2x8xf32>) -> tensor<64x8xf32> {
  %none = onnx.none
  %0 = onnx.node "DequantizeLinear"(%x, %s, %none) {domain = "", node_name = "dq", onnx_attrs = {axis = 0 : i64, block_size = 32 : i64}, opset = 21 : i64} : (tensor<64x8xi4>, tensor<2x8xf32>, none) -> tensor<64x8xf32>
  return %0 : tensor<64x8xf32>
}

// -----

// Unsigned arithmetic takes the unsigned arith ops.
// CHECK-LABEL: func.func @unsigned_ops
// CHECK-SAME: (%arg0: tensor<4xi8> {lowbit.unsigned}, %arg1: tensor<4xi8> {lowbit.unsigned})
// CHECK: arith.divui
// CHECK: arith.cmpi ult
// CHECK: arith.maxui
// CHECK: arith.uitofp
func.func @unsigned_ops(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xi1>, tensor<4xui8>, tensor<4xf32>) {
  %0 = onnx.node "Div"(%a, %b) {domain = "", node_name = "", onnx_attrs = {}, opset = 14 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %1 = onnx.node "Less"(%a, %b) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  %2 = onnx.node "Max"(%a, %b) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %3 = onnx.node "Cast"(%a) {domain = "", node_name = "", onnx_attrs = {to = 1 : i64}, opset = 13 : i64} : (tensor<4xui8>) -> tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xui8>, tensor<4xi1>, tensor<4xui8>, tensor<4xf32>
}

// -----

// Pow with an integer exponent (math.fpowi), CastLike to the second
// operand's type.
// CHECK-LABEL: func.func @pow_castlike
// CHECK: math.fpowi %{{.*}}, %{{.*}} : f32, i64
// CHECK: arith.sitofp %{{.*}} : i64 to f32
func.func @pow_castlike(%x: tensor<3xf32>, %e: tensor<3xi64>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = onnx.node "Pow"(%x, %e) {domain = "", node_name = "", onnx_attrs = {}, opset = 15 : i64} : (tensor<3xf32>, tensor<3xi64>) -> tensor<3xf32>
  %1 = onnx.node "CastLike"(%e, %x) {domain = "", node_name = "", onnx_attrs = {}, opset = 15 : i64} : (tensor<3xi64>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}
