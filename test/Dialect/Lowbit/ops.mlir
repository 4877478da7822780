// RUN: quant-opt %s --split-input-file | quant-opt --split-input-file | FileCheck %s
// RUN: quant-opt %s --split-input-file --mlir-print-op-generic | quant-opt --split-input-file | FileCheck %s

// Round trip of every scheme form, type form and op.

// CHECK-LABEL: func.func @int_group_sym
// CHECK-SAME: !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f16>>
func.func @int_group_sym(%q: !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, group = 128, axis = 0, scale = f16>>) {
  return
}

// -----

// CHECK-LABEL: func.func @int_channel_asym
// CHECK-SAME: #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>
func.func @int_channel_asym(%q: !lowbit.qtensor<16x8xbf16, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>>) {
  return
}

// -----

// CHECK-LABEL: func.func @int_tensor_float_zero_point
// CHECK-SAME: #lowbit.scheme<int1, asym, tensor, scale = f32, zero_point = f32>
func.func @int_tensor_float_zero_point(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int1, asym, tensor, scale = f32, zero_point = f32>>) {
  return
}

// -----

// CHECK-LABEL: func.func @small_floats
// CHECK-SAME: #lowbit.scheme<e2m1, group = 32, axis = 1, scale = f8E8M0FNU>
// CHECK-SAME: #lowbit.scheme<e2m1, group = 16, axis = 1, scale = f8E4M3FN, super = tensor, super_scale = f32>
// CHECK-SAME: #lowbit.scheme<e3m2, channel, axis = 0, scale = f16>
// CHECK-SAME: #lowbit.scheme<e2m3, tensor, scale = bf16>
// CHECK-SAME: #lowbit.scheme<e4m3, channel, axis = 0, scale = f32>
// CHECK-SAME: #lowbit.scheme<e5m2, tensor, scale = f32>
func.func @small_floats(
    %mxfp4: !lowbit.qtensor<4x64xf16, #lowbit.scheme<e2m1, group = 32, axis = 1, scale = f8E8M0FNU>>,
    %nvfp4: !lowbit.qtensor<4x64xf16, #lowbit.scheme<e2m1, group = 16, axis = 1, scale = f8E4M3FN, super = tensor, super_scale = f32>>,
    %fp6a: !lowbit.qtensor<4x64xf16, #lowbit.scheme<e3m2, channel, axis = 0, scale = f16>>,
    %fp6b: !lowbit.qtensor<4x64xf16, #lowbit.scheme<e2m3, tensor, scale = bf16>>,
    %fp8a: !lowbit.qtensor<4x64xf32, #lowbit.scheme<e4m3, channel, axis = 0, scale = f32>>,
    %fp8b: !lowbit.qtensor<4x64xf32, #lowbit.scheme<e5m2, tensor, scale = f32>>) {
  return
}

// -----

// CHECK-LABEL: func.func @codebooks_and_super_blocks
// CHECK-SAME: #lowbit.scheme<nf4, group = 64, axis = 0, scale = bf16>
// CHECK-SAME: #lowbit.scheme<lut3, sym, tensor, scale = f32>
// CHECK-SAME: #lowbit.scheme<int4, asym, group = 32, axis = 0, scale = i6, zero_point = i6, super = 8, super_scale = f16>
func.func @codebooks_and_super_blocks(
    %nf4: !lowbit.qtensor<128x8xbf16, #lowbit.scheme<nf4, group = 64, axis = 0, scale = bf16>>,
    %lut: !lowbit.qtensor<128x8xf32, #lowbit.scheme<lut3, sym, tensor, scale = f32>>,
    %q4k: !lowbit.qtensor<512x8xf16, #lowbit.scheme<int4, asym, group = 32, axis = 0, scale = i6, zero_point = i6, super = 8, super_scale = f16>>) {
  return
}

// -----

// CHECK-LABEL: func.func @outliers_and_sparsity
// CHECK-SAME: outliers = #lowbit.outliers<coo, nnz = 3, f16>
// CHECK-SAME: outliers = #lowbit.outliers<csr, nnz = 40, f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>
// CHECK-SAME: sparsity = #lowbit.sparsity<block 32, axis = 1>
func.func @outliers_and_sparsity(
    %a: !lowbit.qtensor<2x3x4xf32, #lowbit.scheme<int8, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 3, f16>>,
    %b: !lowbit.qtensor<64x64xf16, #lowbit.scheme<int3, sym, channel, axis = 1, scale = f16>, outliers = #lowbit.outliers<csr, nnz = 40, f32>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>,
    %c: !lowbit.qtensor<8x64xf32, #lowbit.scheme<int4, sym, group = 32, axis = 1, scale = f32>, sparsity = #lowbit.sparsity<block 32, axis = 1>>) {
  return
}

// -----

!sym = !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f16>>

// CHECK-LABEL: func.func @quantize_dequantize
// CHECK: %[[Q:.*]] = lowbit.quantize %{{.*}}, %{{.*}} : tensor<256x64xf32> -> !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f16>>
// CHECK: lowbit.dequantize %[[Q]] : !lowbit.qtensor<256x64xf32
func.func @quantize_dequantize(%w: tensor<256x64xf32>, %s: tensor<2x64xf16>) -> tensor<256x64xf32> {
  %q = lowbit.quantize %w, %s : tensor<256x64xf32> -> !sym
  %d = lowbit.dequantize %q : !sym
  return %d : tensor<256x64xf32>
}

// -----

!all = !lowbit.qtensor<64x32xf16, #lowbit.scheme<lut3, asym, group = 16, axis = 0, scale = i8, zero_point = i8, super = 2, super_scale = f32>, outliers = #lowbit.outliers<csr, nnz = 5, f16>, sparsity = #lowbit.sparsity<block 8, axis = 1>>

// CHECK-LABEL: func.func @quantize_all_params
// CHECK: lowbit.quantize %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x32xf16> -> !lowbit.qtensor<64x32xf16, #lowbit.scheme<lut3, asym, group = 16, axis = 0, scale = i8, zero_point = i8, super = 2, super_scale = f32>>
// CHECK: %[[P:.*]] = lowbit.pack %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : !lowbit.qtensor<64x32xf16
// CHECK: %{{.*}}:9 = lowbit.unpack %[[P]]
func.func @quantize_all_params(%w: tensor<64x32xf16>, %s: tensor<4x32xi8>, %z: tensor<4x32xi8>,
    %cb: tensor<8xf16>, %ss: tensor<2x32xf32>, %ptr: tensor<65xi32>, %col: tensor<5xi32>,
    %val: tensor<5xf16>, %mask: tensor<64x4xi1>) -> !all {
  %q = lowbit.quantize %w, %s, %z, %cb, %ss : tensor<64x32xf16>
      -> !lowbit.qtensor<64x32xf16, #lowbit.scheme<lut3, asym, group = 16, axis = 0, scale = i8, zero_point = i8, super = 2, super_scale = f32>>
  %c, %s2, %z2, %cb2, %ss2 = lowbit.unpack %q : !lowbit.qtensor<64x32xf16, #lowbit.scheme<lut3, asym, group = 16, axis = 0, scale = i8, zero_point = i8, super = 2, super_scale = f32>>
  %p = lowbit.pack %c, %s2, %z2, %cb2, %ss2, %ptr, %col, %val, %mask : !all
  %parts:9 = lowbit.unpack %p : !all
  return %p : !all
}

// -----

// CHECK-LABEL: func.func @code_storage
// CHECK: %[[B:.*]] = lowbit.pack_codes %{{.*}} : tensor<7x5xi3> -> tensor<14xi8>
// CHECK: lowbit.unpack_codes %[[B]] : tensor<14xi8> -> tensor<7x5xi3>
func.func @code_storage(%c: tensor<7x5xi3>) -> tensor<7x5xi3> {
  %b = lowbit.pack_codes %c : tensor<7x5xi3> -> tensor<14xi8>
  %d = lowbit.unpack_codes %b : tensor<14xi8> -> tensor<7x5xi3>
  return %d : tensor<7x5xi3>
}

// -----

!w = !lowbit.qtensor<64x256xf16, #lowbit.scheme<int4, sym, group = 128, axis = 1, scale = f16>>

// CHECK-LABEL: func.func @matmul
// CHECK: lowbit.matmul %{{.*}}, %{{.*}} transpose_weight : tensor<2x?x256xf16>, !lowbit.qtensor<64x256xf16, {{.*}}> -> tensor<2x?x64xf16>
// CHECK: lowbit.matmul %{{.*}}, %{{.*}} : tensor<4x64xf16>, !lowbit.qtensor<64x256xf16, {{.*}}> -> tensor<4x256xf16>
func.func @matmul(%x: tensor<2x?x256xf16>, %y: tensor<4x64xf16>, %w: !w) -> (tensor<2x?x64xf16>, tensor<4x256xf16>) {
  %a = lowbit.matmul %x, %w transpose_weight : tensor<2x?x256xf16>, !w -> tensor<2x?x64xf16>
  %b = lowbit.matmul %y, %w : tensor<4x64xf16>, !w -> tensor<4x256xf16>
  return %a, %b : tensor<2x?x64xf16>, tensor<4x256xf16>
}

// -----

// CHECK-LABEL: func.func @calibrate
// CHECK: lowbit.calibrate %{{.*}} site "layers.0.attn.in" collect <abs_max, hessian> : tensor<1x16x64xf32>
// CHECK: lowbit.calibrate %{{.*}} site "conv1" collect <abs_max, min_max, mean> {axis = 1 : i64} : tensor<1x8x4x4xf32>
func.func @calibrate(%x: tensor<1x16x64xf32>, %y: tensor<1x8x4x4xf32>) -> (tensor<1x16x64xf32>, tensor<1x8x4x4xf32>) {
  %a = lowbit.calibrate %x site "layers.0.attn.in" collect <abs_max, hessian> : tensor<1x16x64xf32>
  %b = lowbit.calibrate %y site "conv1" collect <abs_max, min_max, mean> {axis = 1} : tensor<1x8x4x4xf32>
  return %a, %b : tensor<1x16x64xf32>, tensor<1x8x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @fake_quant
// CHECK: lowbit.fake_quant %{{.*}} bits 8 block 128 : tensor<3x200xf32>
// CHECK: lowbit.fake_quant %{{.*}} bits 4 block 64 : tensor<2x?x128xf32>
func.func @fake_quant(%x: tensor<3x200xf32>, %y: tensor<2x?x128xf32>) -> (tensor<3x200xf32>, tensor<2x?x128xf32>) {
  %a = lowbit.fake_quant %x bits 8 block 128 : tensor<3x200xf32>
  %b = lowbit.fake_quant %y bits 4 block 64 : tensor<2x?x128xf32>
  return %a, %b : tensor<3x200xf32>, tensor<2x?x128xf32>
}

// -----

// CHECK-LABEL: func.func @hadamard
// CHECK: lowbit.hadamard %{{.*}} : tensor<1x16x1536xf32>
func.func @hadamard(%x: tensor<1x16x1536xf32>) -> tensor<1x16x1536xf32> {
  %y = lowbit.hadamard %x : tensor<1x16x1536xf32>
  return %y : tensor<1x16x1536xf32>
}
