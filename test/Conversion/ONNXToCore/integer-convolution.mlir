// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// ConvInteger: uint8 x minus its zero point, int8 w minus one zero point per
// output channel (read along w's dimension 0), padded with 0 after the
// subtraction (= x's zero point), convolved in i32.
// CHECK-DAG: #[[CH0:.*]] = affine_map<(d0, d1, d2, d3) -> (d0)>
// CHECK-LABEL: func.func @conv_integer
// CHECK: linalg.generic
// CHECK:   arith.extui
// CHECK:   arith.subi
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH0]], #{{.*}}]
// CHECK:   arith.extsi
// CHECK:   arith.subi
// CHECK: tensor.pad
// CHECK:   tensor.yield %c0_i32 : i32
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} -> tensor<1x2x4x4xi32>
func.func @conv_integer(%x: tensor<1x3x4x4xui8>, %w: tensor<2x3x3x3xi8>, %zx: tensor<ui8>, %zw: tensor<2xi8>) -> tensor<1x2x4x4xi32> {
  %0 = onnx.node "ConvInteger"(%x, %w, %zx, %zw) {domain = "", node_name = "ci", onnx_attrs = {pads = array<i64: 1, 1, 1, 1>}, opset = 10 : i64} : (tensor<1x3x4x4xui8>, tensor<2x3x3x3xi8>, tensor<ui8>, tensor<2xi8>) -> tensor<1x2x4x4xi32>
  return %0 : tensor<1x2x4x4xi32>
}

// -----

// QLinearConv (depthwise): the i32 convolution, then the int32 bias and the
// per-channel requantization, read along the output's channel dimension.
// CHECK-DAG: #[[CH1:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @qlinear_conv
// CHECK: linalg.depthwise_conv_2d_nchw_chw
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[CH1]], #{{.*}}, #{{.*}}, #[[CH1]], #{{.*}}]
// CHECK:   arith.addi
// CHECK:   arith.mulf
// CHECK:   arith.divf
// CHECK:   math.roundeven
// CHECK:   arith.fptoui %{{.*}} : f32 to i8
func.func @qlinear_conv(%x: tensor<1x2x4x4xui8>, %sx: tensor<f32>, %zx: tensor<ui8>, %w: tensor<2x1x3x3xui8>, %sw: tensor<2xf32>, %zw: tensor<2xui8>, %sy: tensor<f32>, %zy: tensor<ui8>, %b: tensor<2xi32>) -> tensor<1x2x4x4xui8> {
  %0 = onnx.node "QLinearConv"(%x, %sx, %zx, %w, %sw, %zw, %sy, %zy, %b) {domain = "", node_name = "qc", onnx_attrs = {group = 2 : i64, pads = array<i64: 1, 1, 1, 1>}, opset = 10 : i64} : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x3x3xui8>, tensor<2xf32>, tensor<2xui8>, tensor<f32>, tensor<ui8>, tensor<2xi32>) -> tensor<1x2x4x4xui8>
  return %0 : tensor<1x2x4x4xui8>
}
