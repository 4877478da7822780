//===- Passes.td - Lowbit conversion passes -----------------*- tablegen -*-===//
//
// Passes that lower the lowbit dialect to other dialects.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_TD
#define LOWBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLowbitToLinalgPass : Pass<"convert-lowbit-to-linalg", "ModuleOp"> {
  let summary = "Lower lowbit ops to linalg/arith/math/tensor (reference semantics)";
  let description = [{
    The reference lowering: it defines what every lowbit op computes, as
    plain `linalg.generic` ops on tensors with scalar arithmetic in f32.
    Fast kernels (CPU, GPU) are tested against it.

    - `lowbit.quantize` becomes a generic computing the codes, then
      `lowbit.pack`;
    - `lowbit.dequantize` and `lowbit.matmul` of a value whose parts are known
      (from `lowbit.pack` or `lowbit.quantize`) become generics decoding codes
      (integers, small floats and NF4 through constant tables, learned
      codebooks through the codebook part), applying scales, zero points,
      super scales and masks, then adding outliers with an `scf.for` scatter;
      matmul accumulates in f32;
    - `lowbit.pack_codes` / `lowbit.unpack_codes` become bit manipulation on
      the flattened tensors;
    - `lowbit.calibrate` becomes its operand;
    - `lowbit.unpack` of a `lowbit.pack` folds to the parts.

    A quantized value that does not come from `lowbit.pack` or
    `lowbit.quantize` (for example a function argument) cannot be lowered;
    the pass reports it and fails. `lowbit.packed_matmul` (what
    `lowbit-pack` makes of a `lowbit.matmul` for the CPU kernels) is left
    for the CPU backend; its reference is the `lowbit.matmul` it came from.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertONNXToCorePass : Pass<"convert-onnx-to-core", "ModuleOp"> {
  let summary = "Give imported onnx.node ops their meaning in linalg/tensor/arith/math";
  let description = [{
    The second stage of ONNX import: one pattern set per op family
    (lib/Conversion/ONNXToCore/<Family>.cpp), each pattern matching an op
    type and the opsets whose semantics it implements. Numpy-style
    broadcasting is expanded into linalg.generic indexing maps.

    Nodes no pattern handles are reported together in one error that lists
    every unsupported op type with its count and node names, and the pass
    fails; with `allow-unsupported` they stay as onnx.node (for inspection).
  }];
  let options = [
    Option<"allowUnsupported", "allow-unsupported", "bool", "false",
           "leave unsupported nodes in place instead of failing">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // LOWBIT_CONVERSION_PASSES_TD
