// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="dot=pmaddubsw" --verify-diagnostics
// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="dot=sdot" --verify-diagnostics

// Dot products on signed bytes (sdot) or into saturating i16 pair sums
// (pmaddubsw) take int8-layout codes of up to 4 bits; lowbit-pack keeps
// wider codes on the f32 kernels for those targets.
func.func @int8_8bit_codes(%x: memref<1x64xf32>, %c: memref<64xi8>, %p: memref<1xf32>, %y: memref<1x1xf32>) {
  // expected-error-re @+1 {{int8 kernels with dot={{sdot|pmaddubsw}} take codes of up to 4 bits, got 8}}
  lowbit.packed_matmul ins(%x, %c, %p : memref<1x64xf32>, memref<64xi8>, memref<1xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 8, k = 64, n = 1, lanes = 8, tile = 1, group = 64, int8>)
  return
}
