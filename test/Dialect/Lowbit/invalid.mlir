// RUN: quant-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of the lowbit dialect (attributes, the type,
// then the ops). Rules the syntax cannot reach are in
// unittests/Dialect/SchemeAttrTest.cpp.

// expected-error @+1 {{bit width 9 is outside 1..8}}
func.func @bits_too_wide(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int9, sym, tensor, scale = f32>>)

// -----

// expected-error @+1 {{bit width 0 is outside 1..8}}
func.func @bits_zero(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<lut0, sym, tensor, scale = f32>>)

// -----

// expected-error @+1 {{unknown code format 'fp5'}}
func.func @unknown_format(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<fp5, tensor, scale = f32>>)

// -----

// expected-error @+1 {{asymmetric scheme needs int or lut codes, not e2m1}}
func.func @asym_float(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<e2m1, asym, tensor, scale = f32, zero_point = i8>>)

// -----

// expected-error @+1 {{asymmetric scheme needs a zero-point type}}
func.func @asym_no_zero_point(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, asym, tensor, scale = f32>>)

// -----

// expected-error @+1 {{symmetric scheme takes no zero-point type}}
func.func @sym_zero_point(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32, zero_point = i8>>)

// -----

// expected-error @+1 {{zero-point type 'index' is not an integer or float type}}
func.func @zero_point_index(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, asym, tensor, scale = f32, zero_point = index>>)

// -----

// expected-error @+1 {{scheme axis -1 is negative}}
func.func @negative_axis(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, channel, axis = -1, scale = f32>>)

// -----

// expected-error @+1 {{group size 0 is not positive}}
func.func @group_zero(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, group = 0, axis = 0, scale = f32>>)

// -----

// expected-error @+1 {{expected 'tensor', 'channel' or 'group'}}
func.func @bad_granularity(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, block, scale = f32>>)

// -----

// expected-error @+1 {{integer scale type 'i6' needs a super-block scale}}
func.func @int_scale_single_level(%q: !lowbit.qtensor<64xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = i6>>)

// -----

// expected-error @+1 {{scale type 'index' is not a float or integer type}}
func.func @scale_index(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = index>>)

// -----

// expected-error @+1 {{super-block scales need group granularity}}
func.func @super_channel(%q: !lowbit.qtensor<8x8xf32, #lowbit.scheme<int4, sym, channel, axis = 0, scale = f32, super = tensor, super_scale = f32>>)

// -----

// expected-error @+1 {{super-scale type 'i8' is not a float type}}
func.func @super_int(%q: !lowbit.qtensor<64xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32, super = tensor, super_scale = i8>>)

// -----

// expected-error @+1 {{groups per super-block -2 is negative}}
func.func @super_negative(%q: !lowbit.qtensor<64xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32, super = -2, super_scale = f32>>)

// -----

// expected-error @+1 {{groups per super-block given without a super scale}}
func.func @super_without_scale(%q: !lowbit.qtensor<64xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32, super = 2>>)

// -----

// expected-error @+1 {{unknown scheme key 'clip'}}
func.func @unknown_key(%q: !lowbit.qtensor<64xf32, #lowbit.scheme<int4, sym, tensor, scale = f32, clip = f32>>)

// -----

// expected-error @+1 {{outlier count 0 is not positive}}
func.func @outliers_empty(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 0, f16>>)

// -----

// expected-error @+1 {{outlier value type 'i16' is not a float type}}
func.func @outliers_int(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 2, i16>>)

// -----

// expected-error @+1 {{sparsity axis -1 is negative}}
func.func @sparsity_axis_negative(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = -1>>)

// -----

// expected-error @+1 {{N:M sparsity 4:4 needs 0 < N < M}}
func.func @sparsity_dense(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<nm 4:4, axis = 0>>)

// -----

// expected-error @+1 {{sparsity block size 0 is not positive}}
func.func @sparsity_block_zero(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<block 0, axis = 0>>)

// -----

//===----------------------------------------------------------------------===//
// !lowbit.qtensor
//===----------------------------------------------------------------------===//

// expected-error @+1 {{quantized tensor needs rank >= 1}}
func.func @rank0(%q: !lowbit.qtensor<f32, #lowbit.scheme<int4, sym, tensor, scale = f32>>)

// -----

// expected-error @+1 {{quantized tensor extents must be static and positive, got 0}}
func.func @zero_extent(%q: !lowbit.qtensor<0x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>)

// -----

// expected-error @+1 {{element type 'i32' is not f32, f16 or bf16}}
func.func @int_element(%q: !lowbit.qtensor<4xi32, #lowbit.scheme<int4, sym, tensor, scale = f32>>)

// -----

// expected-error @+1 {{scheme axis 2 is out of range for rank 2}}
func.func @axis_out_of_range(%q: !lowbit.qtensor<4x4xf32, #lowbit.scheme<int4, sym, channel, axis = 2, scale = f32>>)

// -----

// expected-error @+1 {{group size 32 does not divide extent 80 of axis 0 (required with super scales)}}
func.func @group_not_dividing(%q: !lowbit.qtensor<80x4xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = i6, super = 1, super_scale = f16>>)

// -----

// expected-error @+1 {{super-blocks of 8 groups of 32 do not tile extent 384 of axis 0}}
func.func @super_not_tiling(%q: !lowbit.qtensor<384x4xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = i6, super = 8, super_scale = f16>>)

// -----

// expected-error @+1 {{csr outliers need rank 2, got rank 3}}
func.func @csr_rank3(%q: !lowbit.qtensor<2x2x2xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 1, f16>>)

// -----

// expected-error @+1 {{sparsity axis 1 is out of range for rank 1}}
func.func @sparsity_axis_range(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = 1>>)

// -----

// expected-error @+1 {{sparsity M 4 does not divide extent 6 of axis 0}}
func.func @sparsity_m(%q: !lowbit.qtensor<6xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>)

// -----

// expected-error @+1 {{sparsity block 16 does not divide extent 24 of axis 0}}
func.func @sparsity_block(%q: !lowbit.qtensor<24xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<block 16, axis = 0>>)

// -----

// expected-error @+1 {{unknown quantized tensor key 'layout'}}
func.func @unknown_type_key(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, layout = 1>)

// -----

//===----------------------------------------------------------------------===//
// lowbit.quantize
//===----------------------------------------------------------------------===//

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @quantize_shape(%w: tensor<64x4xf32>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{input type 'tensor<64x4xf32>' does not match the logical type of}}
  %q = lowbit.quantize %w, %s : tensor<64x4xf32> -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @quantize_element(%w: tensor<64x8xf16>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{input type 'tensor<64x8xf16>' does not match the logical type of}}
  %q = lowbit.quantize %w, %s : tensor<64x8xf16> -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>
func.func @quantize_sparse(%w: tensor<64x8xf32>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{result must be dense (no outliers or sparsity); attach them with lowbit.pack}}
  %q = lowbit.quantize %w, %s : tensor<64x8xf32> -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, asym, group = 32, axis = 0, scale = f32, zero_point = i8>>
func.func @quantize_missing_zero_point(%w: tensor<64x8xf32>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{expected 3 operands (input and the scheme's parameters) but got 2}}
  %q = lowbit.quantize %w, %s : tensor<64x8xf32> -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @quantize_param_count(%w: tensor<64x8xf32>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{expects 1 parameters (scales) but got 2}}
  %q = "lowbit.quantize"(%w, %s, %s) : (tensor<64x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @quantize_scale_shape(%w: tensor<64x8xf32>, %s: tensor<1x8xf32>) {
  // expected-error @+1 {{scales shape 1x8 does not match group size 32 along axis 0 of 64x8 (expected 2x8)}}
  %q = "lowbit.quantize"(%w, %s) : (tensor<64x8xf32>, tensor<1x8xf32>) -> !q
  return
}

// -----

//===----------------------------------------------------------------------===//
// lowbit.pack
//===----------------------------------------------------------------------===//

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, asym, group = 32, axis = 0, scale = f32, zero_point = i8>>
func.func @pack_count(%c: tensor<64x8xi4>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{expected 3 parts (codes, scales, zero_points) but got 2}}
  %q = lowbit.pack %c, %s : !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @pack_generic_count(%c: tensor<64x8xi4>) {
  // expected-error @+1 {{expects 2 parts (codes, scales) but got 1}}
  %q = "lowbit.pack"(%c) : (tensor<64x8xi4>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @pack_code_width(%c: tensor<64x8xi8>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{codes element type 'i8' does not match the 4-bit scheme (expected 'i4')}}
  %q = "lowbit.pack"(%c, %s) : (tensor<64x8xi8>, tensor<2x8xf32>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @pack_code_shape(%c: tensor<8x64xi4>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{codes has type 'tensor<8x64xi4>' but the quantized type needs 'tensor<64x8xi4>'}}
  %q = "lowbit.pack"(%c, %s) : (tensor<8x64xi4>, tensor<2x8xf32>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>>
func.func @pack_channel_scales(%c: tensor<64x8xi4>, %s: tensor<64x1xf32>) {
  // expected-error @+1 {{scales shape 64x1 does not match one scale per channel of axis 1 of 64x8 (expected 1x8)}}
  %q = "lowbit.pack"(%c, %s) : (tensor<64x8xi4>, tensor<64x1xf32>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f16>>
func.func @pack_scale_type(%c: tensor<64x8xi4>, %s: tensor<2x8xf32>) {
  // expected-error @+1 {{scales has type 'tensor<2x8xf32>' but the quantized type needs 'tensor<2x8xf16>'}}
  %q = "lowbit.pack"(%c, %s) : (tensor<64x8xi4>, tensor<2x8xf32>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, asym, group = 32, axis = 0, scale = f32, zero_point = i8>>
func.func @pack_zero_point_shape(%c: tensor<64x8xi4>, %s: tensor<2x8xf32>, %z: tensor<1x8xi8>) {
  // expected-error @+1 {{zero_points shape 1x8 does not match group size 32 along axis 0 of 64x8 (expected 2x8)}}
  %q = "lowbit.pack"(%c, %s, %z) : (tensor<64x8xi4>, tensor<2x8xf32>, tensor<1x8xi8>) -> !q
  return
}

// -----

!q = !lowbit.qtensor<512x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = i6, super = 8, super_scale = f16>>
func.func @pack_super_shape(%c: tensor<512x8xi4>, %s: tensor<16x8xi6>, %t: tensor<1x8xf16>) {
  // expected-error @+1 {{super_scales shape 1x8 does not match super-blocks of 8 groups of 32 along axis 0 of 512x8 (expected 2x8)}}
  %q = "lowbit.pack"(%c, %s, %t) : (tensor<512x8xi4>, tensor<16x8xi6>, tensor<1x8xf16>) -> !q
  return
}

// -----

!q2 = !lowbit.qtensor<4x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 2, f16>>
func.func @pack_outlier_values(%c: tensor<4x4xi4>, %s: tensor<1x1xf32>, %i: tensor<2x2xi32>, %v: tensor<3xf16>) {
  // expected-error @+1 {{outlier_values has type 'tensor<3xf16>' but the quantized type needs 'tensor<2xf16>'}}
  %q = "lowbit.pack"(%c, %s, %i, %v) : (tensor<4x4xi4>, tensor<1x1xf32>, tensor<2x2xi32>, tensor<3xf16>) -> !q2
  return
}

// -----

!q = !lowbit.qtensor<4x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 2, f16>>
func.func @pack_coo_range(%c: tensor<4x4xi4>, %s: tensor<1x1xf32>, %v: tensor<2xf16>) {
  %i = arith.constant dense<[[0, 1], [4, 0]]> : tensor<2x2xi32>
  // expected-error @+1 {{outlier #1 index 4 on axis 0 is out of range [0, 4)}}
  %q = lowbit.pack %c, %s, %i, %v : !q
  return
}

// -----

!q = !lowbit.qtensor<3x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f16>>
func.func @pack_csr_start(%c: tensor<3x4xi4>, %s: tensor<1x1xf32>, %col: tensor<2xi32>, %v: tensor<2xf16>) {
  %p = arith.constant dense<[1, 1, 2, 2]> : tensor<4xi32>
  // expected-error @+1 {{csr row pointers must start at 0, got 1}}
  %q = lowbit.pack %c, %s, %p, %col, %v : !q
  return
}

// -----

!q = !lowbit.qtensor<3x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f16>>
func.func @pack_csr_decreasing(%c: tensor<3x4xi4>, %s: tensor<1x1xf32>, %col: tensor<2xi32>, %v: tensor<2xf16>) {
  %p = arith.constant dense<[0, 2, 1, 2]> : tensor<4xi32>
  // expected-error @+1 {{csr row pointers decrease at row 1}}
  %q = lowbit.pack %c, %s, %p, %col, %v : !q
  return
}

// -----

!q = !lowbit.qtensor<3x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f16>>
func.func @pack_csr_end(%c: tensor<3x4xi4>, %s: tensor<1x1xf32>, %col: tensor<2xi32>, %v: tensor<2xf16>) {
  %p = arith.constant dense<[0, 1, 1, 3]> : tensor<4xi32>
  // expected-error @+1 {{csr row pointers end at 3 but the outlier count is 2}}
  %q = lowbit.pack %c, %s, %p, %col, %v : !q
  return
}

// -----

!q = !lowbit.qtensor<3x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f16>>
func.func @pack_csr_column(%c: tensor<3x4xi4>, %s: tensor<1x1xf32>, %p: tensor<4xi32>, %v: tensor<2xf16>) {
  %col = arith.constant dense<[3, 7]> : tensor<2xi32>
  // expected-error @+1 {{outlier #1 column 7 is out of range [0, 4)}}
  %q = lowbit.pack %c, %s, %p, %col, %v : !q
  return
}

// -----

!q = !lowbit.qtensor<8x2xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>
func.func @pack_nm_mask(%c: tensor<8x2xi4>, %s: tensor<1x1xf32>) {
  %m = arith.constant dense<[[true, true], [false, true], [false, true], [false, false],
                             [true, false], [true, false], [false, false], [false, false]]> : tensor<8x2xi1>
  // expected-error @+1 {{mask keeps more than 2 of 4 elements along axis 0 (window starting at 0, element 5)}}
  %q = lowbit.pack %c, %s, %m : !q
  return
}

// -----

//===----------------------------------------------------------------------===//
// lowbit.unpack / lowbit.dequantize (inferred result types)
//===----------------------------------------------------------------------===//

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @dequantize_result(%q: !q) {
  // expected-error @+2 {{inferred type(s) 'tensor<64x8xf32>' are incompatible with return type(s) of operation 'tensor<64x8xf16>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %d = "lowbit.dequantize"(%q) : (!q) -> tensor<64x8xf16>
  return
}

// -----

!q = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @unpack_results(%q: !q) {
  // expected-error @+2 {{inferred type(s) 'tensor<64x8xi4>', 'tensor<2x8xf32>' are incompatible with return type(s) of operation 'tensor<64x8xi4>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %c = "lowbit.unpack"(%q) : (!q) -> tensor<64x8xi4>
  return
}

// -----

//===----------------------------------------------------------------------===//
// lowbit.pack_codes / lowbit.unpack_codes
//===----------------------------------------------------------------------===//

func.func @pack_codes_dynamic(%c: tensor<?xi4>) {
  // expected-error @+1 {{code tensor 'tensor<?xi4>' is not static}}
  %b = lowbit.pack_codes %c : tensor<?xi4> -> tensor<4xi8>
  return
}

// -----

func.func @pack_codes_width(%c: tensor<4xi16>) {
  // expected-error @+1 {{code width 16 is outside 1..8}}
  %b = lowbit.pack_codes %c : tensor<4xi16> -> tensor<8xi8>
  return
}

// -----

func.func @pack_codes_size(%c: tensor<7x5xi3>) {
  // expected-error @+1 {{byte tensor 'tensor<13xi8>' must be tensor<14xi8> for 35 codes of 3 bits}}
  %b = lowbit.pack_codes %c : tensor<7x5xi3> -> tensor<13xi8>
  return
}

// -----

func.func @unpack_codes_size(%b: tensor<2x7xi8>) {
  // expected-error @+1 {{byte tensor 'tensor<2x7xi8>' must be tensor<14xi8> for 35 codes of 3 bits}}
  %c = lowbit.unpack_codes %b : tensor<2x7xi8> -> tensor<7x5xi3>
  return
}

// -----

//===----------------------------------------------------------------------===//
// lowbit.matmul
//===----------------------------------------------------------------------===//

!w3 = !lowbit.qtensor<2x64x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
func.func @matmul_weight_rank(%x: tensor<4x64xf32>, %w: !w3) {
  // expected-error @+1 {{weight must have rank 2, got rank 3}}
  %y = lowbit.matmul %x, %w : tensor<4x64xf32>, !w3 -> tensor<4x8xf32>
  return
}

// -----

!w = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
func.func @matmul_input_rank(%x: tensor<64xf32>, %w: !w) {
  // expected-error @+1 {{input must have rank >= 2, got rank 1}}
  %y = lowbit.matmul %x, %w : tensor<64xf32>, !w -> tensor<8xf32>
  return
}

// -----

!w = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
func.func @matmul_contraction(%x: tensor<4x8xf32>, %w: !w) {
  // expected-error @+1 {{input contraction extent 8 does not match weight extent 64}}
  %y = lowbit.matmul %x, %w : tensor<4x8xf32>, !w -> tensor<4x8xf32>
  return
}

// -----

!w = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
func.func @matmul_transposed_contraction(%x: tensor<4x64xf32>, %w: !w) {
  // expected-error @+1 {{input contraction extent 64 does not match weight extent 8}}
  %y = lowbit.matmul %x, %w transpose_weight : tensor<4x64xf32>, !w -> tensor<4x64xf32>
  return
}

// -----

!w = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
func.func @matmul_result(%x: tensor<4x64xf32>, %w: !w) {
  // expected-error @+1 {{result type 'tensor<4x64xf32>' does not match the expected shape 'tensor<4x8xf32>'}}
  %y = lowbit.matmul %x, %w : tensor<4x64xf32>, !w -> tensor<4x64xf32>
  return
}

// -----

!w = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>>
func.func @matmul_element(%x: tensor<4x64xf16>, %w: !w) {
  // expected-error @+1 {{input, weight and result element types must agree, got 'f16', 'f32' and 'f16'}}
  %y = lowbit.matmul %x, %w : tensor<4x64xf16>, !w -> tensor<4x8xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// lowbit.calibrate
//===----------------------------------------------------------------------===//

func.func @calibrate_site(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{site name must not be empty}}
  %y = lowbit.calibrate %x site "" collect <abs_max> : tensor<4x8xf32>
  return
}

// -----

func.func @calibrate_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{channel axis 2 is out of range for rank 2}}
  %y = lowbit.calibrate %x site "a" collect <abs_max> {axis = 2} : tensor<4x8xf32>
  return
}

// -----

func.func @calibrate_hessian_dynamic(%x: tensor<4x?xf32>) {
  // expected-error @+1 {{hessian needs a static channel extent on axis 1}}
  %y = lowbit.calibrate %x site "a" collect <hessian> : tensor<4x?xf32>
  return
}

// -----

// The discardable lowbit.* attributes (LowbitBase.td) are checked by kind,
// wherever they are.
func.func @layer_name_not_a_string(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'lowbit.layer' must be a string, got 3 : i64}}
  %y = arith.addf %x, %x {lowbit.layer = 3} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @+1 {{'lowbit.unsigned' must be a unit attribute, got 1 : i64}}
func.func @unsigned_with_a_value(%x: tensor<4xi8> {lowbit.unsigned = 1}) -> tensor<4xi8> {
  return %x : tensor<4xi8>
}

// -----

// expected-error @+1 {{'lowbit.weights' must be an array, got "w"}}
module attributes {lowbit.weights = "w"} {
}

// -----

func.func @unknown_lowbit_attribute(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{unknown attribute 'lowbit.wieght_error' of the lowbit dialect}}
  %y = arith.addf %x, %x {lowbit.wieght_error = 0.5 : f32} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @fake_quant_bits(%x: tensor<2x128xf32>) -> tensor<2x128xf32> {
  // expected-error @+1 {{'lowbit.fake_quant' op bits must be 2 to 8, got 9}}
  %y = lowbit.fake_quant %x bits 9 block 128 : tensor<2x128xf32>
  return %y : tensor<2x128xf32>
}

// -----

func.func @fake_quant_block(%x: tensor<2x128xf32>) -> tensor<2x128xf32> {
  // expected-error @+1 {{'lowbit.fake_quant' op block must be positive, got 0}}
  %y = lowbit.fake_quant %x bits 8 block 0 : tensor<2x128xf32>
  return %y : tensor<2x128xf32>
}

// -----

func.func @fake_quant_dynamic(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  // expected-error @+1 {{'lowbit.fake_quant' op the last dimension must be static}}
  %y = lowbit.fake_quant %x bits 8 block 128 : tensor<2x?xf32>
  return %y : tensor<2x?xf32>
}

// -----

func.func @fake_quant_f16(%x: tensor<2x128xf16>) -> tensor<2x128xf16> {
  // expected-error @+1 {{'lowbit.fake_quant' op operand #0 must be ranked tensor of 32-bit float values}}
  %y = lowbit.fake_quant %x bits 8 block 128 : tensor<2x128xf16>
  return %y : tensor<2x128xf16>
}

// -----

func.func @hadamard_order(%x: tensor<2x6xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'lowbit.hadamard' op no Hadamard matrix of order 6 is built (orders 2^k m with m = 1 or a Paley order)}}
  %y = lowbit.hadamard %x : tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

func.func @hadamard_dynamic(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  // expected-error @+1 {{'lowbit.hadamard' op the last dimension must be static}}
  %y = lowbit.hadamard %x : tensor<2x?xf32>
  return %y : tensor<2x?xf32>
}

// -----

func.func @allocation_bits(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'lowbit.allocation' needs an integer 'bits' in 2..8, got {bits = 9 : i64, group = 32 : i64}}}
  %y = math.absf %x {lowbit.allocation = {bits = 9 : i64, group = 32 : i64}} : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @allocation_group(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'lowbit.allocation' needs a non-negative integer 'group', got {bits = 4 : i64}}}
  %y = math.absf %x {lowbit.allocation = {bits = 4 : i64}} : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @allocation_outliers(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'lowbit.allocation' has an 'outlier_fraction' outside 0..0.25: 5.000000e-01 : f64}}
  %y = math.absf %x {lowbit.allocation = {bits = 4 : i64, group = 0 : i64, outlier_fraction = 0.5 : f64}} : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
