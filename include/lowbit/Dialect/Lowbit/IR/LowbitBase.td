//===- LowbitBase.td - The lowbit dialect definition --------*- tablegen -*-===//
//
// The `lowbit` dialect: Lowbit's quantization dialect. Upstream MLIR owns the
// `quant` namespace; this dialect adds what upstream lacks for low-bit LLM
// weights (scales as SSA tensors, codebooks, two-level scales, sparse outliers,
// N:M masks) and reuses upstream float types for the FP code formats.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITBASE_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITBASE_TD

include "mlir/IR/OpBase.td"

def Lowbit_Dialect : Dialect {
  let name = "lowbit";
  let cppNamespace = "::mlir::lowbit";
  let summary = "Low-bit quantized tensors, their schemes and the ops on them";
  let description = [{
    The `lowbit` dialect represents quantized weights and activations the way
    post-training quantizers for LLMs produce them:

    - `#lowbit.scheme` describes how codes map back to real numbers: bit width
      1-8, code format (integer, FP4/FP6/FP8, NF4 or a learned codebook),
      symmetric or asymmetric, granularity (per tensor, per channel, groups
      along an axis, two-level scales such as NVFP4 or GGUF super-blocks) and
      the element types of scales and zero points;
    - `!lowbit.qtensor` is one quantized value: it bundles integer codes,
      scales, optional zero points, an optional codebook, optional super-block
      scales, optional sparse high-precision outliers and an optional sparsity
      mask, with its logical shape;
    - ops quantize and dequantize, assemble and take apart a quantized value,
      bit-pack codes for storage, multiply float activations by a quantized
      weight and mark tensors whose calibration statistics are collected.

    Scales, zero points and codebooks are SSA tensors, never inside types: an
    LLM layer has hundreds of thousands of group scales. Their shapes follow
    one rule (the *keepdims* rule): a scale tensor has the rank of the logical
    tensor, and along each dimension either the full extent, the number of
    groups, or 1 (broadcast). The reference lowering
    (`convert-lowbit-to-linalg`) defines the meaning of every op.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

class Lowbit_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lowbit_Dialect, mnemonic, traits>;

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITBASE_TD
