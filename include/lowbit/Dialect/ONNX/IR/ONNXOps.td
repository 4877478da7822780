//===- ONNXOps.td - The generic onnx import dialect ---------*- tablegen -*-===//
//
// The first stage of ONNX import: one generic op per ONNX node, carrying its
// domain, type, opset and attributes, with no semantics. convert-onnx-to-core
// gives each op family its meaning.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_ONNX_IR_ONNXOPS_TD
#define LOWBIT_DIALECT_ONNX_IR_ONNXOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let cppNamespace = "::mlir::lowbit::onnx";
  let summary = "ONNX nodes as imported, before they are given meaning";
  let description = [{
    `quant-translate --import-onnx` turns every ONNX node into one
    `onnx.node`, parsing only: the op type, domain, the opset the model
    imports for that domain, the node name and the attributes travel as
    attributes; inputs and outputs become SSA values with the types the
    model (or ONNX shape inference) gives them. Absent optional inputs are
    `onnx.none` values. The conversion to upstream dialects dispatches on
    op type and opset, one pattern file per op family, so an op Lowbit does
    not support stays visible as an `onnx.node` instead of crashing a
    parser.
  }];
}

class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<ONNX_Dialect, mnemonic, traits>;

def ONNX_NodeOp : ONNX_Op<"node"> {
  let summary = "One ONNX node, uninterpreted";
  let description = [{
    Verifier rules: the op type is non-empty and the opset is positive.

    ```mlir
    %y = onnx.node "Gemm"(%a, %b, %c) {domain = "", opset = 17 : i64,
        node_name = "fc1", onnx_attrs = {transB = 1 : i64}}
        : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, StrAttr:$op_type,
                       StrAttr:$domain, I64Attr:$opset, StrAttr:$node_name,
                       DictionaryAttr:$onnx_attrs);
  let results = (outs Variadic<AnyType>:$outputs);
  let assemblyFormat = [{
    $op_type `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs)
  }];
  let hasVerifier = 1;
}

def ONNX_NoneOp : ONNX_Op<"none", [Pure]> {
  let summary = "An absent optional input";
  let description = [{
    ```mlir
    %none = onnx.none
    ```
  }];
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

#endif // LOWBIT_DIALECT_ONNX_IR_ONNXOPS_TD
