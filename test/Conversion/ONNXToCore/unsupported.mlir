// RUN: not quant-opt %s --convert-onnx-to-core -o /dev/null 2>&1 | FileCheck %s
// RUN: quant-opt %s --convert-onnx-to-core=allow-unsupported | FileCheck %s --check-prefix=ALLOW

// Every unsupported node is listed in one diagnostic, grouped by op type,
// at the first such node.
// CHECK:      unsupported.mlir:[[@LINE+9]]:8: error: 3 ONNX node(s) of 2 op type(s) are not supported:
// CHECK-NEXT:   FancyOp (opset 17) x2: first, second
// CHECK-NEXT:   com.example.Custom (opset 1) x1: third
// CHECK-NOT: see current operation

// ALLOW-LABEL: func.func @unsupported
// ALLOW: onnx.node "FancyOp"
// ALLOW: arith.maximumf
func.func @unsupported(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = onnx.node "FancyOp"(%x) {domain = "", node_name = "first", onnx_attrs = {}, opset = 17 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = onnx.node "Relu"(%0) {domain = "", node_name = "ok", onnx_attrs = {}, opset = 17 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = onnx.node "FancyOp"(%1) {domain = "", node_name = "second", onnx_attrs = {}, opset = 17 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %3 = onnx.node "Custom"(%2) {domain = "com.example", node_name = "third", onnx_attrs = {}, opset = 1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %3 : tensor<4xf32>
}

