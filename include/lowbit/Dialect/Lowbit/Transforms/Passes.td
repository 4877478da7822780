//===- Passes.td - Lowbit transformation passes -------------*- tablegen -*-===//
//
// Passes that rewrite IR into and within the lowbit dialect.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowbitQuantizeRtnPass : Pass<"lowbit-quantize-rtn", "ModuleOp"> {
  let summary = "Round-to-nearest weight quantization of matmuls with constant weights";
  let description = [{
    Rewrites every `linalg.matmul` whose right operand is a constant f32
    `K x N` weight and whose init is a zero fill into `lowbit.matmul` on a
    quantized weight computed at compile time:

    - groups of `group-size` consecutive weights along K share a scale
      (`group-size=0`: one scale per output channel);
    - symmetric: `s = max|w| / qmax`; asymmetric: `s = (max - min) / (2^b - 1)`
      and an integer zero point `z = clamp(round(-min / s), 0, 2^b - 1)`
      (the group range always includes 0);
    - codes as in `#lowbit.scheme`; they are stored bit-packed in a
      `dense_resource` blob and unpacked with `lowbit.unpack_codes`.

    Layers whose K or N is below `min-size` are left in float. Each new
    `lowbit.matmul` carries `lowbit.weight_error`, the relative Frobenius
    error of its dequantized weight, for reports.
  }];
  let options = [
    Option<"bits", "bits", "unsigned", "4", "code bit width (2-8)">,
    Option<"groupSize", "group-size", "int64_t", "128",
           "weights per scale along K (0: per output channel)">,
    Option<"symmetric", "symmetric", "bool", "true",
           "symmetric codes (no zero point)">,
    Option<"minSize", "min-size", "int64_t", "1",
           "leave weights with K or N below this in float">,
  ];
  let dependentDialects = [
    "::mlir::lowbit::LowbitDialect",
    "::mlir::arith::ArithDialect",
  ];
}

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
