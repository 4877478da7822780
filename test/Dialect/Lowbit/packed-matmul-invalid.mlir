// RUN: quant-opt %s --split-input-file --verify-diagnostics

func.func @codes_size(%x: tensor<1x32xf32>, %c: tensor<15xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{codes must be 16 x i8 for layout #lowbit.packed<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed>, got 'tensor<15xi8>'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<15xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @params_size(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{params must be 2 x f32}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, zero>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @input_k(%x: tensor<1x31xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{input must be M x 32 f32 (static), got 'tensor<1x31xf32>'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x31xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @init_shape(%x: tensor<2x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{init must be 2x1 f32, got 'tensor<1x1xf32>'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<2x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @mixed(%x: memref<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) {
  // expected-error @+1 {{operands must be all ranked tensors or all memrefs}}
  lowbit.packed_matmul ins(%x, %c, %p : memref<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32>)
  return
}

// -----

func.func @memref_result(%x: memref<1x32xf32>, %c: memref<16xi8>, %p: memref<1xf32>, %i: memref<1x1xf32>) {
  // expected-error @+1 {{on memrefs returns no result}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : memref<1x32xf32>, memref<16xi8>, memref<1xf32>) outs(%i : memref<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32>) -> tensor<1x1xf32>
  return
}

// -----

func.func @bad_bits(%x: tensor<1x32xf32>, %c: tensor<12xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{packed codes of 3 bits (supported: 2, 4, 8)}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<12xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 3, k = 32, n = 1, lanes = 4, tile = 1, group = 32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @bad_group(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{group size 6 is not a multiple of the 4 lanes}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 6>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @bad_key(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{expected 'signed', 'zero', 'int8', 'lut', 'amx', 'gpu', 'mma', 'outliers' or 'values', got 'unsigned'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, unsigned>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @int8_group(%x: tensor<1x64xf32>, %c: tensor<64xi8>, %p: tensor<4xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{int8 activations need groups of a multiple of 64, got group 32}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x64xf32>, tensor<64xi8>, tensor<4xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 64, n = 1, lanes = 16, tile = 1, group = 32, int8>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @too_many_values(%x: tensor<1x32xf32>, %c: tensor<8xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{5 code values for 2-bit codes (at most 4, codes of at most 4 bits)}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<8xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 2, k = 32, n = 1, lanes = 4, tile = 1, group = 32, values = array<f32: 0.0, 1.0, 2.0, 3.0, 4.0>>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @signed_values(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{code values do not combine with 'signed'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed, values = array<f32: 0.0, 1.0>>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @values_not_f32(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{values must be an array<f32: ...>}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, values = array<i32: 0, 1>>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @lut_bits(%x: tensor<1x32xf32>, %c: tensor<64xi8>, %p: tensor<8xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'lut' takes 2 or 4-bit integer codes without 'int8'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<64xi8>, tensor<8xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 8, k = 32, n = 1, lanes = 4, tile = 8, group = 32, lut>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @lut_tile(%x: tensor<1x32xf32>, %c: tensor<64xi8>, %p: tensor<4xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'lut' tiles are 2 * lanes = 8 columns, got 4}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<64xi8>, tensor<4xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 2, k = 32, n = 1, lanes = 4, tile = 4, group = 32, lut>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @lut_group(%x: tensor<1x512xf32>, %c: tensor<128xi8>, %p: tensor<8xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'lut' needs groups of a multiple of 8 up to 256, got group 512}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x512xf32>, tensor<128xi8>, tensor<8xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 2, k = 512, n = 1, lanes = 4, tile = 8, group = 512, lut>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @amx_tile(%x: tensor<1x128xf32>, %c: tensor<256xi8>, %p: tensor<12xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'amx' needs 'int8' and tiles of 16 columns}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x128xf32>, tensor<256xi8>, tensor<12xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 128, n = 1, lanes = 16, tile = 4, group = 128, int8, amx>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @amx_group(%x: tensor<1x128xf32>, %c: tensor<1024xi8>, %p: tensor<96xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'amx' needs groups of a multiple of 128 for 4-bit codes, got group 64}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x128xf32>, tensor<1024xi8>, tensor<96xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 128, n = 1, lanes = 16, tile = 16, group = 64, int8, amx>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @amx_rows(%x: tensor<17x128xf32>, %c: tensor<1024xi8>, %p: tensor<48xf32>, %i: tensor<17x1xf32>) -> tensor<17x1xf32> {
  // expected-error @+1 {{amx layouts take at most 16 rows (one AMX tile), got 17}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<17x128xf32>, tensor<1024xi8>, tensor<48xf32>) outs(%i : tensor<17x1xf32>) layout(<bits = 4, k = 128, n = 1, lanes = 16, tile = 16, group = 128, int8, amx>) -> tensor<17x1xf32>
  return %y : tensor<17x1xf32>
}

// -----

func.func @gpu_lanes(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'gpu' layouts have 128 lanes (one 16-byte load per thread of a warp), got 16}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 16, tile = 1, group = 32, gpu>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @gpu_int8(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'gpu' does not combine with 'int8', 'lut', 'amx' or 'values'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 64, int8, gpu>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @gpu_tile(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'gpu' tile of 9 columns (supported: 1..8)}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 9, group = 32, gpu>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @gpu_group(%x: tensor<1x30xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'gpu' needs K and the group size to be multiples of 4, got K = 30, group 6}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x30xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 30, n = 1, lanes = 128, tile = 1, group = 6, gpu>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @mma_without_gpu(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'mma' needs 'gpu'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, mma>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @mma_tile(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'mma' takes tiles of 8 columns and 4 or 8-bit fields, got tile 4, 4 bits}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 4, group = 32, gpu, mma>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @mma_bits(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'mma' takes tiles of 8 columns and 4 or 8-bit fields, got tile 8, 2 bits}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 2, k = 32, n = 1, lanes = 128, tile = 8, group = 32, gpu, mma>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @mma_group(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'mma' needs groups of a multiple of 16 (one MMA's k), got group 8}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 8, group = 8, gpu, mma>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @outliers_missing(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{layout has outliers but the op no outlier array}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed, outliers = 2>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @outliers_unexpected(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %o: tensor<20xi32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{has an outlier array but its layout no outliers}}
  %y = lowbit.packed_matmul ins(%x, %c, %p, %o : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>, tensor<20xi32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Words: 1 column + 1 end offset + 2 outliers + 16 of padding.
func.func @outliers_size(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %o: tensor<19xi32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{outliers must be 20 x i32 for layout #lowbit.packed<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed, outliers = 2>, got 'tensor<19xi32>'}}
  %y = lowbit.packed_matmul ins(%x, %c, %p, %o : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>, tensor<19xi32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed, outliers = 2>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @outliers_memref(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %o: memref<20xi32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{operands must be all ranked tensors or all memrefs}}
  %y = lowbit.packed_matmul ins(%x, %c, %p, %o : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>, memref<20xi32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed, outliers = 2>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @outliers_long_k(%x: tensor<1x65600xf32>, %c: tensor<32800xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{outliers need K of at most 65536 (16-bit row indices), got K = 65600}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x65600xf32>, tensor<32800xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 65600, n = 1, lanes = 4, tile = 1, group = 0, signed, outliers = 1>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @outliers_negative(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{negative outlier count -1}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed, outliers = -1>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
