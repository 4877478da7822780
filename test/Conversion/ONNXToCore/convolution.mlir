// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// Conv with explicit pads: tensor.pad, then the named convolution, then the
// per-channel bias.
// CHECK-LABEL: func.func @conv
// CHECK: %[[P:.*]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>} ins(%[[P]], %arg1 : tensor<1x3x10x8xf32>, tensor<4x3x3x3xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[C]], %arg2 : tensor<1x4x4x6xf32>, tensor<4xf32>)
func.func @conv(%x: tensor<1x3x8x6xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x6xf32> {
  %0 = onnx.node "Conv"(%x, %w, %b) {domain = "", node_name = "", onnx_attrs = {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 1>}, opset = 11 : i64} : (tensor<1x3x8x6xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x6xf32>
  return %0 : tensor<1x4x4x6xf32>
}

// -----

// Depthwise (group = channels) uses the depthwise op on a [C, kh, kw] filter.
// CHECK-LABEL: func.func @depthwise
// CHECK: tensor.collapse_shape %arg1 {{\[\[}}0, 1], [2], [3]] : tensor<4x1x3x3xf32> into tensor<4x3x3xf32>
// CHECK: linalg.depthwise_conv_2d_nchw_chw
func.func @depthwise(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %0 = onnx.node "Conv"(%x, %w) {domain = "", node_name = "", onnx_attrs = {group = 4 : i64}, opset = 11 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// CHECK-LABEL: func.func @pools
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
// CHECK: linalg.pooling_nchw_sum
// CHECK: arith.divf
// CHECK: linalg.reduce {{.*}} dimensions = [2, 3]
func.func @pools(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>) {
  %0 = onnx.node "MaxPool"(%x) {domain = "", node_name = "", onnx_attrs = {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>}, opset = 12 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %1 = onnx.node "AveragePool"(%x) {domain = "", node_name = "", onnx_attrs = {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>}, opset = 19 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %2 = onnx.node "GlobalAveragePool"(%x) {domain = "", node_name = "", onnx_attrs = {}, opset = 1 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  return %0, %1, %2 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>
}

// -----

// MaxPool on uint8: the codes' top bit flipped (an order-preserving map to
// int8), a signed max pool padded with -128, flipped back.
// CHECK-LABEL: func.func @uint8_max_pool
// CHECK: arith.xori %{{.*}}, %{{.*}} : i8
// CHECK: tensor.pad
// CHECK:   tensor.yield %c-128_i8 : i8
// CHECK: linalg.pooling_nchw_max {{.*}} -> tensor<1x2x4x4xi8>
// CHECK: arith.xori
func.func @uint8_max_pool(%x: tensor<1x2x8x8xui8>) -> tensor<1x2x4x4xui8> {
  %0 = onnx.node "MaxPool"(%x) {domain = "", node_name = "", onnx_attrs = {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}, opset = 12 : i64} : (tensor<1x2x8x8xui8>) -> tensor<1x2x4x4xui8>
  return %0 : tensor<1x2x4x4xui8>
}

// -----

// MaxPool with Indices: one generic over (n, c, oh, ow, kh, kw) with a window
// operand sizing the window loops; the index is computed from linalg.index
// in the unpadded input (h = 2 oh + kh - 1) and taken where x > max (the
// first maximum wins).
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-LABEL: func.func @max_pool_indices
// CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK:   linalg.index 4
// CHECK:   arith.cmpf ogt
// CHECK:   arith.select
// CHECK:   arith.select
// CHECK: return %[[R]]#0, %[[R]]#1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>
func.func @max_pool_indices(%x: tensor<1x2x8x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>) {
  %0:2 = onnx.node "MaxPool"(%x) {domain = "", node_name = "", onnx_attrs = {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}, opset = 12 : i64} : (tensor<1x2x8x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>)
  return %0#0, %0#1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>
}

// -----

// Edge padding: each output index reads the clamped input index.
// CHECK-LABEL: func.func @pad_edge
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x7xf32>)
// CHECK:   linalg.index 1
// CHECK:   arith.subi
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK:   tensor.extract %arg0
func.func @pad_edge(%x: tensor<2x4xf32>) -> tensor<2x7xf32> {
  %pads = arith.constant dense<[0, 1, 0, 2]> : tensor<4xi64>
  %0 = onnx.node "Pad"(%x, %pads) {domain = "", node_name = "pad", onnx_attrs = {mode = "edge"}, opset = 19 : i64} : (tensor<2x4xf32>, tensor<4xi64>) -> tensor<2x7xf32>
  return %0 : tensor<2x7xf32>
}

// -----

// ConvTranspose as a convolution: stride - 1 zeros between the pixels (a
// strided insert_slice into zeros), padded by dilation * (kernel - 1) -
// pads (+ output_padding at the end), and the kernel flipped with its
// channel axes swapped ([C, M, kh, kw] -> [M, C, kh, kw]).
// CHECK: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, -d2 + 2, -d3 + 2)>
// CHECK-LABEL: func.func @conv_transpose
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} -> tensor<1x3x9x7xf32>
// CHECK: %[[UP:.*]] = tensor.insert_slice %arg0 into %[[Z]][0, 0, 0, 0] [1, 3, 5, 4] [1, 1, 2, 2] : tensor<1x3x5x4xf32> into tensor<1x3x9x7xf32>
// CHECK: %[[P:.*]] = tensor.pad %[[UP]] low[0, 0, 1, 1] high[0, 0, 2, 2]
// CHECK: %[[F:.*]] = linalg.generic {indexing_maps = [#[[FLIP]], #{{.*}}], {{.*}}} ins(%arg1 : tensor<3x2x3x3xf32>) outs(%{{.*}} : tensor<2x3x3x3xf32>)
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[P]], %[[F]] : tensor<1x3x12x10xf32>, tensor<2x3x3x3xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[C]], %arg2 : tensor<1x2x10x8xf32>, tensor<2xf32>)
func.func @conv_transpose(%x: tensor<1x3x5x4xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<2xf32>) -> tensor<1x2x10x8xf32> {
  %0 = onnx.node "ConvTranspose"(%x, %w, %b) {domain = "", node_name = "", onnx_attrs = {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, output_padding = array<i64: 1, 1>}, opset = 11 : i64} : (tensor<1x3x5x4xf32>, tensor<3x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x10x8xf32>
  return %0 : tensor<1x2x10x8xf32>
}
