// RUN: not quant-opt %s --split-input-file --convert-onnx-to-core -o /dev/null 2>&1 | FileCheck %s

// MatMulNBits nodes that cannot be converted are reported by name with the
// reason.

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: com.microsoft.MatMulNBits (opset 1) x1: with_g_idx (g_idx (a permutation of K) is not supported; quantize without act-order)
func.func @g_idx(%a: tensor<3x16xf32>, %g: tensor<16xi32>) -> tensor<3x2xf32> {
  %b = arith.constant dense<0> : tensor<2x1x8xui8>
  %s = arith.constant dense<1.0> : tensor<2xf32>
  %none = onnx.none
  %0 = onnx.node "MatMulNBits"(%a, %b, %s, %none, %g) {domain = "com.microsoft", node_name = "with_g_idx", onnx_attrs = {K = 16 : i64, N = 2 : i64, bits = 4 : i64, block_size = 16 : i64}, opset = 1 : i64} : (tensor<3x16xf32>, tensor<2x1x8xui8>, tensor<2xf32>, none, tensor<16xi32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: com.microsoft.MatMulNBits (opset 1) x1: runtime_b (B, scales and zero points must be constants)
func.func @runtime_b(%a: tensor<3x16xf32>, %b: tensor<2x1x8xui8>) -> tensor<3x2xf32> {
  %s = arith.constant dense<1.0> : tensor<2xf32>
  %0 = onnx.node "MatMulNBits"(%a, %b, %s) {domain = "com.microsoft", node_name = "runtime_b", onnx_attrs = {K = 16 : i64, N = 2 : i64, bits = 4 : i64, block_size = 16 : i64}, opset = 1 : i64} : (tensor<3x16xf32>, tensor<2x1x8xui8>, tensor<2xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT: com.microsoft.MatMulNBits (opset 1) x1: short_b (B must be uint8 [N, ceil(K / block_size), block_size * bits / 8] = [2, 2, 8])
func.func @short_b(%a: tensor<3x20xf32>) -> tensor<3x2xf32> {
  %b = arith.constant dense<0> : tensor<2x1x8xui8>
  %s = arith.constant dense<1.0> : tensor<4xf32>
  %0 = onnx.node "MatMulNBits"(%a, %b, %s) {domain = "com.microsoft", node_name = "short_b", onnx_attrs = {K = 20 : i64, N = 2 : i64, bits = 4 : i64, block_size = 16 : i64}, opset = 1 : i64} : (tensor<3x20xf32>, tensor<2x1x8xui8>, tensor<4xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}
