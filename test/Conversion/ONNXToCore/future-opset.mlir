// RUN: not quant-opt %s --convert-onnx-to-core -o /dev/null 2>&1 | FileCheck %s
// RUN: quant-opt %s --convert-onnx-to-core=allow-unsupported | FileCheck %s --check-prefix=ALLOW

// A node of an opset newer than the conversions know is refused by name,
// even for an op they convert at every known opset: opset 29 may give Relu
// new semantics. Known opsets of the same op still convert.
// CHECK:      future-opset.mlir:[[@LINE+8]]:8: error: 1 ONNX node(s) of 1 op type(s) are not supported:
// CHECK-NEXT:   Relu (opset 29, newer than opset 28, the newest this converter knows) x1: future_relu

// ALLOW-LABEL: func.func @future_opset
// ALLOW: onnx.node "Relu"
// ALLOW-SAME: opset = 29
// ALLOW: arith.maximumf
func.func @future_opset(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = onnx.node "Relu"(%x) {domain = "", node_name = "future_relu", onnx_attrs = {}, opset = 29 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = onnx.node "Relu"(%0) {domain = "", node_name = "known_relu", onnx_attrs = {}, opset = 28 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
