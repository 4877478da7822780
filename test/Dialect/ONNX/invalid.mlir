// RUN: quant-opt %s --split-input-file --verify-diagnostics

func.func @empty_op_type(%x: tensor<3xf32>) {
  // expected-error @+1 {{op type must not be empty}}
  %c = onnx.node ""(%x) {domain = "", node_name = "n", onnx_attrs = {}, opset = 17 : i64} : (tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @bad_opset(%x: tensor<3xf32>) {
  // expected-error @+1 {{opset 0 is not positive}}
  %c = onnx.node "Relu"(%x) {domain = "", node_name = "n", onnx_attrs = {}, opset = 0 : i64} : (tensor<3xf32>) -> tensor<3xf32>
  return
}
