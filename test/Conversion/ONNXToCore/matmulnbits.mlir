// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// onnxruntime's MatMulNBits with zero points: K = 16, N = 2, one block of 16.
// Column 0's codes are 0..15 (bytes 0x10, 0x32, ...: low nibble first),
// column 1's alternate 1, 2; zero points 8 and 3 (one byte per column),
// scales 0.5 and 0.25. It becomes lowbit.matmul on an asymmetric int4
// qtensor (K x N, groups of 16 along K) with the same codes, transposed to
// K x N and packed low nibble first: byte i holds row i's codes (i, 1 or 2).
// CHECK-LABEL: func.func @asymmetric
// CHECK-DAG: %[[ZP:.*]] = arith.constant dense_resource<nbits.zp> : tensor<1x2xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<nbits.scales> : tensor<1x2xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense_resource<nbits.codes> : tensor<16xi8>
// CHECK: %[[C:.*]] = lowbit.unpack_codes %[[B]] : tensor<16xi8> -> tensor<16x2xi4>
// CHECK: %[[W:.*]] = lowbit.pack %[[C]], %[[S]], %[[ZP]] : !lowbit.qtensor<16x2xf32, #lowbit.scheme<int4, asym, group = 16, axis = 0, scale = f32, zero_point = i8>>
// CHECK: lowbit.matmul %arg0, %[[W]] {lowbit.layer = "nbits", lowbit.method = "onnx-matmulnbits"} : tensor<3x16xf32>, {{.*}} -> tensor<3x2xf32>
// CHECK-NOT: onnx.node
// CHECK: nbits.zp: "0x010000000803"
// CHECK: nbits.scales: "0x040000000000003F0000803E"
// CHECK: nbits.codes: "0x01000000102112231425162718291A2B1C2D1E2F"
func.func @asymmetric(%a: tensor<3x16xf32>) -> tensor<3x2xf32> {
  %b = arith.constant dense<[[[16, 50, 84, 118, 152, 186, 220, 254]], [[33, 33, 33, 33, 33, 33, 33, 33]]]> : tensor<2x1x8xui8>
  %s = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %z = arith.constant dense<[8, 3]> : tensor<2xui8>
  %0 = onnx.node "MatMulNBits"(%a, %b, %s, %z) {domain = "com.microsoft", node_name = "nbits", onnx_attrs = {K = 16 : i64, N = 2 : i64, bits = 4 : i64, block_size = 16 : i64}, opset = 1 : i64} : (tensor<3x16xf32>, tensor<2x1x8xui8>, tensor<2xf32>, tensor<2xui8>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Without zero points (onnxruntime's symmetric mode: 2^(bits-1) implied) the
// codes become symmetric ones, q - 8 (0 -> -8 = 0x8, 15 -> 7); a bias is
// added after the matmul; K = 20 leaves the second block of 16 short (its
// padding codes are dropped); a result onnxruntime left dynamic becomes the
// static one.
// CHECK-LABEL: func.func @symmetric_bias
// CHECK-SAME: -> tensor<2x4x1xf32>
// CHECK: lowbit.pack {{.*}} : !lowbit.qtensor<20x1xf32, #lowbit.scheme<int4, sym, group = 16, axis = 0, scale = f32>>
// CHECK: %[[M:.*]] = lowbit.matmul {{.*}} -> tensor<2x4x1xf32>
// CHECK: %[[ADD:.*]] = linalg.generic {{.*}} ins(%[[M]], %{{.*}} : tensor<2x4x1xf32>, tensor<1xf32>)
// CHECK: arith.addf
// CHECK: return %[[ADD]] : tensor<2x4x1xf32>
// CHECK: nbits2.codes: "0x0100000098BADCFE1032547698BA"
func.func @symmetric_bias(%a: tensor<2x4x20xf32>) -> tensor<?x?x1xf32> {
  %b = arith.constant dense<[[[16, 50, 84, 118, 152, 186, 220, 254], [16, 50, 0, 0, 0, 0, 0, 0]]]> : tensor<1x2x8xui8>
  %s = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %bias = arith.constant dense<[0.5]> : tensor<1xf32>
  %none = onnx.none
  %0 = onnx.node "MatMulNBits"(%a, %b, %s, %none, %none, %bias) {domain = "com.microsoft", node_name = "nbits2", onnx_attrs = {K = 20 : i64, N = 1 : i64, bits = 4 : i64, block_size = 16 : i64}, opset = 1 : i64} : (tensor<2x4x20xf32>, tensor<1x2x8xui8>, tensor<1x2xf32>, none, none, tensor<1xf32>) -> tensor<?x?x1xf32>
  return %0 : tensor<?x?x1xf32>
}
