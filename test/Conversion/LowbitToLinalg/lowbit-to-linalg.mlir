// RUN: quant-opt %s --split-input-file --convert-lowbit-to-linalg | FileCheck %s

!sym = !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f16>>

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[GROUP:.*]] = affine_map<(d0, d1) -> (d0 floordiv 128, d1)>
// CHECK-LABEL: func.func @quantize_int_sym
// CHECK-SAME: (%[[W:.*]]: tensor<256x64xf32>, %[[S:.*]]: tensor<2x64xf16>)
// CHECK: %[[CODES:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[GROUP]], #[[ID]]]
// CHECK-SAME: ins(%[[W]], %[[S]] : tensor<256x64xf32>, tensor<2x64xf16>) outs(%{{.*}} : tensor<256x64xi4>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.maxnumf %{{.*}}, %[[MIN:.*]] : f32
// CHECK: arith.minnumf
// CHECK: arith.fptosi
// CHECK: arith.trunci %{{.*}} : i32 to i4
// CHECK: linalg.generic {{.*}} ins(%[[CODES]], %[[S]] : tensor<256x64xi4>, tensor<2x64xf16>)
// CHECK: arith.extsi %{{.*}} : i4 to i32
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK-NOT: lowbit.
func.func @quantize_int_sym(%w: tensor<256x64xf32>, %s: tensor<2x64xf16>) -> tensor<256x64xf32> {
  %q = lowbit.quantize %w, %s : tensor<256x64xf32> -> !sym
  %d = lowbit.dequantize %q : !sym
  return %d : tensor<256x64xf32>
}

// -----

!asym = !lowbit.qtensor<16x8xbf16, #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>>

// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @dequantize_int_asym_channel
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CHAN]], #[[CHAN]], #{{.*}}]
// CHECK: ^bb0(%[[C:[^:]*]]: i3, %[[SC:[^:]*]]: f32, %[[ZP:[^:]*]]: i8, %{{.*}}: bf16):
// CHECK-DAG: %[[Z:.*]] = arith.uitofp %[[ZP]] : i8 to f32
// CHECK-DAG: %[[CI:.*]] = arith.extui %[[C]] : i3 to i32
// CHECK: %[[V:.*]] = arith.uitofp %[[CI]] : i32 to f32
// CHECK: %[[VZ:.*]] = arith.subf %[[V]], %[[Z]]
// CHECK: arith.mulf %[[VZ]], %[[SC]]
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @dequantize_int_asym_channel(%c: tensor<16x8xi3>, %s: tensor<1x8xf32>, %z: tensor<1x8xi8>) -> tensor<16x8xbf16> {
  %q = lowbit.pack %c, %s, %z : !asym
  %d = lowbit.dequantize %q : !asym
  return %d : tensor<16x8xbf16>
}

// -----

!nvfp4 = !lowbit.qtensor<4x32xf32, #lowbit.scheme<e2m1, group = 16, axis = 1, scale = f8E4M3FN, super = tensor, super_scale = f32>>

// CHECK-LABEL: func.func @dequantize_nvfp4
// CHECK-DAG: %[[CODE_TABLE:.*]] = arith.constant dense<[0.000000e+00, 5.000000e-01, 1.000000e+00, 1.500000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 6.000000e+00, -0.000000e+00, {{.*}}]> : tensor<16xf32>
// CHECK-DAG: %[[SCALE_TABLE:.*]] = arith.constant dense<{{.*}}> : tensor<256xf32>
// CHECK: linalg.generic
// CHECK: ^bb0(%[[C:[^:]*]]: i4, %[[S:[^:]*]]: f8E4M3FN, %[[T:[^:]*]]: f32
// CHECK: %[[SBITS:.*]] = arith.bitcast %[[S]] : f8E4M3FN to i8
// CHECK: tensor.extract %[[SCALE_TABLE]]
// CHECK: arith.mulf %{{.*}}, %[[T]]
// CHECK: tensor.extract %[[CODE_TABLE]]
func.func @dequantize_nvfp4(%c: tensor<4x32xi4>, %s: tensor<4x2xf8E4M3FN>, %t: tensor<1x1xf32>) -> tensor<4x32xf32> {
  %q = lowbit.pack %c, %s, %t : !nvfp4
  %d = lowbit.dequantize %q : !nvfp4
  return %d : tensor<4x32xf32>
}

// -----

!lut = !lowbit.qtensor<8x4xf32, #lowbit.scheme<lut2, sym, tensor, scale = f32>>

// CHECK-LABEL: func.func @quantize_lut
// CHECK-SAME: %[[CB:[^:]*]]: tensor<4xf32>
// Saturation bounds: min and max of the codebook.
// CHECK: scf.for {{.*}} iter_args
// CHECK: tensor.extract %[[CB]]
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: linalg.generic
// Nearest entry with ties to the even code.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: tensor.extract %[[CB]]
// CHECK: math.absf
// CHECK: arith.cmpf olt
// CHECK: arith.cmpf oeq
// CHECK: arith.trunci %{{.*}} : i32 to i2
func.func @quantize_lut(%w: tensor<8x4xf32>, %s: tensor<1x1xf32>, %cb: tensor<4xf32>) -> tensor<8x4xi2> {
  %q = lowbit.quantize %w, %s, %cb : tensor<8x4xf32> -> !lut
  %c, %s2, %cb2 = lowbit.unpack %q : !lut
  return %c : tensor<8x4xi2>
}

// -----

!sparse = !lowbit.qtensor<8x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 3, f16>, sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>

// CHECK-LABEL: func.func @dequantize_outliers_mask
// CHECK-SAME: %[[IDX:[^:]*]]: tensor<3x2xi32>, %[[VAL:[^:]*]]: tensor<3xf16>, %[[MASK:[^:]*]]: tensor<8x4xi1>
// CHECK: %[[DENSE:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[MASK]] :
// CHECK: arith.select
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[DENSE]])
// CHECK: tensor.extract %[[IDX]][%[[K]], %{{.*}}]
// CHECK: tensor.extract %[[VAL]][%[[K]]]
// CHECK: arith.addf
// CHECK: tensor.insert
func.func @dequantize_outliers_mask(%c: tensor<8x4xi4>, %s: tensor<1x1xf32>, %i: tensor<3x2xi32>, %v: tensor<3xf16>, %m: tensor<8x4xi1>) -> tensor<8x4xf32> {
  %q = lowbit.pack %c, %s, %i, %v, %m : !sparse
  %d = lowbit.dequantize %q : !sparse
  return %d : tensor<8x4xf32>
}

// -----

!csr = !lowbit.qtensor<3x4xf32, #lowbit.scheme<int4, sym, tensor, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f32>>

// CHECK-LABEL: func.func @dequantize_csr
// CHECK: scf.for %[[R:.*]] = {{.*}} iter_args
// CHECK: %[[BEGIN:.*]] = arith.index_cast
// CHECK: %[[END:.*]] = arith.index_cast
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %[[END]]
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[R]], %{{.*}}]
func.func @dequantize_csr(%c: tensor<3x4xi4>, %s: tensor<1x1xf32>, %p: tensor<4xi32>, %col: tensor<2xi32>, %v: tensor<2xf32>) -> tensor<3x4xf32> {
  %q = lowbit.pack %c, %s, %p, %col, %v : !csr
  %d = lowbit.dequantize %q : !csr
  return %d : tensor<3x4xf32>
}

// -----

!w = !lowbit.qtensor<64x256xf16, #lowbit.scheme<int4, sym, group = 128, axis = 1, scale = f16>>

// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @matmul_transposed_batched
// CHECK-SAME: (%[[IN:[^:]*]]: tensor<2x?x256xf16>
// CHECK: %[[W:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<64x256xf16>)
// CHECK: %[[DIM:.*]] = tensor.dim %[[IN]], %{{.*}}
// CHECK: %[[INIT:.*]] = tensor.empty(%[[DIM]]) : tensor<2x?x64xf32>
// CHECK: %[[ACC:.*]] = linalg.fill {{.*}} outs(%[[INIT]]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[WT]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[IN]], %[[W]] : tensor<2x?x256xf16>, tensor<64x256xf16>) outs(%[[ACC]] : tensor<2x?x64xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @matmul_transposed_batched(%x: tensor<2x?x256xf16>, %c: tensor<64x256xi4>, %s: tensor<64x2xf16>) -> tensor<2x?x64xf16> {
  %w = lowbit.pack %c, %s : !w
  %y = lowbit.matmul %x, %w transpose_weight : tensor<2x?x256xf16>, !w -> tensor<2x?x64xf16>
  return %y : tensor<2x?x64xf16>
}

// -----

// CHECK-LABEL: func.func @code_storage
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<7x5xi3> into tensor<35xi3>
// CHECK: %[[BYTES:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<14xi8>)
// CHECK: linalg.index 0
// CHECK: scf.for
// CHECK: tensor.extract %[[FLAT]]
// CHECK: arith.shli
// CHECK: %[[CODES:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<35xi3>)
// CHECK: tensor.extract %[[BYTES]]
// CHECK: arith.shrui
// CHECK: tensor.expand_shape %[[CODES]] {{\[\[}}0, 1]] output_shape [7, 5] : tensor<35xi3> into tensor<7x5xi3>
func.func @code_storage(%c: tensor<7x5xi3>) -> tensor<7x5xi3> {
  %b = lowbit.pack_codes %c : tensor<7x5xi3> -> tensor<14xi8>
  %d = lowbit.unpack_codes %b : tensor<14xi8> -> tensor<7x5xi3>
  return %d : tensor<7x5xi3>
}

// -----

// CHECK-LABEL: func.func @calibrate
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @calibrate(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %y = lowbit.calibrate %x site "a" collect <abs_max, hessian> : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Blocks of 128 along K = 200: the input padded with zeros to 256 and seen
// as 2 blocks of 128 for the maximum; then each element rounded with its
// block's scale (127 / max, 0 for an all-zero block).
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[BLK:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2 floordiv 128)>
// CHECK-LABEL: func.func @fake_quant
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x200xf32>)
// CHECK-DAG: %[[Q:.*]] = arith.constant 1.270000e+02 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 0, 0] high[0, 0, 56]
// CHECK: tensor.yield %[[ZERO]]
// CHECK: %[[BLOCKS:.*]] = tensor.expand_shape %[[PAD]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 2, 128]
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[BLOCKS]] : tensor<2x3x2x128xf32>)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[MAX]] : tensor<2x3x200xf32>, tensor<2x3x2xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[M:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[S:.*]] = arith.divf %[[M]], %[[Q]]
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[M]], %[[ZERO]]
// CHECK: %[[INV0:.*]] = arith.divf %[[Q]], %[[M]]
// CHECK: %[[INV:.*]] = arith.select %[[POS]], %[[INV0]], %[[ZERO]]
// CHECK: %[[T:.*]] = arith.mulf %[[IN]], %[[INV]]
// CHECK: %[[R:.*]] = math.roundeven %[[T]]
// CHECK: %[[Y:.*]] = arith.mulf %[[R]], %[[S]]
// CHECK: linalg.yield %[[Y]]
func.func @fake_quant(%x: tensor<2x3x200xf32>) -> tensor<2x3x200xf32> {
  %y = lowbit.fake_quant %x bits 8 block 128 : tensor<2x3x200xf32>
  return %y : tensor<2x3x200xf32>
}

// -----

// 4 bits, a block dividing K: no padding; q = 7.
// CHECK-LABEL: func.func @fake_quant_int4
// CHECK-NOT: tensor.pad
// CHECK: arith.constant 7.000000e+00 : f32
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [4, 2, 64]
func.func @fake_quant_int4(%x: tensor<4x128xf32>) -> tensor<4x128xf32> {
  %y = lowbit.fake_quant %x bits 4 block 64 : tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// n = 24 = paley1(12) x sylvester(2): the rows (6 = 2 x 3) as 6 x 12 x 2 x 1
// for the one butterfly stage (sum where the pair index is 0, difference
// where it is 1), then the 12 x 12 Paley block contracted over the first
// axis of 6 x 12 x 2, then the scale 1/sqrt(24).
// CHECK-DAG: #[[LO:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
// CHECK-DAG: #[[HI:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 1, d3)>
// CHECK-DAG: #[[XA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[HM:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d1)>
// CHECK-LABEL: func.func @hadamard
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x24xf32>)
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.204124{{[0-9]*}} : f32
// CHECK-DAG: %[[CORE:.*]] = arith.constant dense<"0x{{[0-9A-F]+}}"> : tensor<12x12xf32>
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x3x24xf32> into tensor<6x24xf32>
// CHECK: %[[PAIRS:.*]] = tensor.expand_shape %[[ROWS]] {{\[\[}}0], [1, 2, 3]] output_shape [6, 12, 2, 1]
// CHECK: linalg.generic {indexing_maps = [#[[LO]], #[[HI]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[PAIRS]], %[[PAIRS]] :
// CHECK: arith.addf
// CHECK: arith.subf
// CHECK: arith.select
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [6, 12, 2]
// CHECK: linalg.generic {indexing_maps = [#[[XA]], #[[HM]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[CORE]] :
// CHECK: arith.mulf %{{.*}}, %[[SCALE]]
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [2, 3, 24]
func.func @hadamard(%x: tensor<2x3x24xf32>) -> tensor<2x3x24xf32> {
  %y = lowbit.hadamard %x : tensor<2x3x24xf32>
  return %y : tensor<2x3x24xf32>
}

// -----

// n = 8: Sylvester alone, three butterfly stages (pairs 1, 2, 4 apart) and
// a 1 x 1 block.
// CHECK-LABEL: func.func @hadamard_sylvester
// CHECK: arith.constant 0.353553{{[0-9]*}} : f32
// CHECK: output_shape [1, 4, 2, 1]
// CHECK: output_shape [1, 2, 2, 2]
// CHECK: output_shape [1, 1, 2, 4]
func.func @hadamard_sylvester(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %y = lowbit.hadamard %x : tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}
