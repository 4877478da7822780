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

  // The attributes Lowbit's passes put on ops, modules, functions and
  // their arguments. Each name is declared here once; the dialect's
  // verifiers check the kind of each and reject unknown `lowbit.` names.
  //
  //   unsigned      (function argument or result) the ONNX tensor was
  //                 unsigned; core dialects keep signless integers
  //   layer         (lowbit.matmul) the layer's name: its weight initializer
  //   method        (lowbit.matmul) the quantizer that made the weight
  //   weight_error  (lowbit.matmul) relative Frobenius error of the weight
  //   output_error  (lowbit.matmul) relative output error on calibration
  //                 data, tr(dW H dW^T) / tr(W H W^T)
  //   plain_output_error (lowbit.matmul with outliers) the output error
  //                 of the same quantizer without outliers
  //   time_ms       (lowbit.matmul) time spent quantizing the layer
  //   calibration_site (lowbit.matmul) the site whose statistics (Hessian)
  //                 quantized the layer
  //   smooth        (linear layer, lowbit.matmul) what lowbit-smooth did:
  //                 {method, alpha, error_before, error_after}
  //   stats         (lowbit.calibrate) the site's calibration statistics
  //   rotation      (module) what lowbit-rotate did: {kind, construction,
  //                 seed, dim}
  //   allocation    (linear layer) the scheme lowbit-allocate-bits chose
  //                 for it, which the quantization passes use: {bits,
  //                 group, outlier_fraction, error, cost}; (module) the
  //                 solve: {budget, cost, error, bound, gap, optimal, ...}
  //   probe         (linear layer) lowbit-insert-sensitivity-probes'
  //                 perturbation of it: {index, error}
  //   sensitivity   (linear layer) how much the model's output changes
  //                 per unit of the layer's relative output error:
  //                 {importance, output_change, probe_error}
  //   activation_outliers (lowbit.matmul, lowbit.packed_matmul) input
  //                 channels lowbit-pack moved to an f32 side matmul with
  //                 int8 activations (LLM.int8()-style), by count
  //   weights       (module) values of the entry's outlined weight arguments
  //   gpu_kernels   (module) the launch table of the GPU kernels
  //   arg_roles     (gpu.func) in / const / out per kernel argument
  //   reference     (gpu.func) the packed layout the runtime's CPU fallback
  //                 computes
  let discardableAttrs = (ins
    "::mlir::UnitAttr":$unsigned,
    "::mlir::StringAttr":$layer,
    "::mlir::StringAttr":$method,
    "::mlir::FloatAttr":$weight_error,
    "::mlir::FloatAttr":$output_error,
    "::mlir::FloatAttr":$plain_output_error,
    "::mlir::FloatAttr":$time_ms,
    "::mlir::StringAttr":$calibration_site,
    "::mlir::DictionaryAttr":$smooth,
    "::mlir::DictionaryAttr":$stats,
    "::mlir::DictionaryAttr":$rotation,
    "::mlir::DictionaryAttr":$allocation,
    "::mlir::DictionaryAttr":$probe,
    "::mlir::DictionaryAttr":$sensitivity,
    "::mlir::IntegerAttr":$activation_outliers,
    "::mlir::ArrayAttr":$weights,
    "::mlir::ArrayAttr":$gpu_kernels,
    "::mlir::ArrayAttr":$arg_roles,
    "::mlir::Attribute":$reference
  );
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
}

class Lowbit_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lowbit_Dialect, mnemonic, traits>;

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITBASE_TD
