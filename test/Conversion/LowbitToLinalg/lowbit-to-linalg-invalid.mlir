// RUN: quant-opt %s --split-input-file --convert-lowbit-to-linalg --verify-diagnostics

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>

// A quantized function argument has no known parts: the reference lowering
// reports it instead of producing wrong code.
func.func @unknown_parts(%q: !q) -> tensor<64x8xf32> {
  // expected-error @+1 {{cannot lower 'lowbit.dequantize': the parts of its quantized operand are unknown (it does not come from lowbit.pack or lowbit.quantize)}}
  %d = lowbit.dequantize %q : !q
  return %d : tensor<64x8xf32>
}
