// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=4 tile=1" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=4" | FileCheck %s --check-prefix=AUTO
// RUN: quant-opt %s --split-input-file --lowbit-pack="int8-activations=1" | FileCheck %s --check-prefix=INT8
// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=8 int8-activations=1 int8-max-bits=4" | FileCheck %s --check-prefix=AVX2
// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=4 lut-max-bits=4" | FileCheck %s --check-prefix=LUT
// RUN: quant-opt %s --split-input-file --lowbit-pack="int8-activations=1 amx-min-rows=1" | FileCheck %s --check-prefix=AMX
// RUN: quant-opt %s --split-input-file --lowbit-pack="gpu=1 int8-activations=1 lut-max-bits=4" | FileCheck %s --check-prefix=GPU

// 4-bit codes c_k = k mod 8 (K = 32, one column, one group of 32), lanes = 4:
// a block is 4 words = 16 bytes = 32 codes, and code k = 4j + i sits in bits
// [4j, 4j+4) of word i. Word i so holds, low nibble first, the codes of
// k = i, 4+i, 8+i, ... = i, 4+i, i, 4+i, ...: bytes 0x40 (i = 0), 0x51,
// 0x62, 0x73, each 4 times. The one group's scale is 0.5 (0x3F000000).
// CHECK-LABEL: func.func @gemv
// CHECK-SAME: (%[[X:.*]]: tensor<1x32xf32>)
// CHECK: %[[CODES:.*]] = arith.constant dense_resource<[[BLOB:.*]]> : tensor<16xi8>
// CHECK: %[[PARAMS:.*]] = arith.constant dense_resource<[[PBLOB:.*]]> : tensor<1xf32>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x1xf32>
// CHECK: %[[Y:.*]] = lowbit.packed_matmul ins(%[[X]], %[[CODES]], %[[PARAMS]] : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%[[INIT]] : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, signed>) {lowbit.layer = "l0"} -> tensor<1x1xf32>
// CHECK-NOT: lowbit.matmul
// CHECK: return %[[Y]]
// CHECK: [[BLOB]]: "0x0100000040404040515151516262626273737373"
// CHECK: [[PBLOB]]: "0x040000000000003F"
// GPU (int8 and lut options do not apply): groups of 16k take the `mma`
// layout at any number of rows (bytes: see @prefill below).
// GPU-LABEL: func.func @gemv
// GPU: lowbit.packed_matmul ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x32xf32>, tensor<512xi8>, tensor<32xf32>) outs(%{{.*}} : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 8, group = 32, signed, gpu, mma>)
!q = !lowbit.qtensor<32x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @gemv(%x: tensor<1x32xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118]> : tensor<16xi8>
  %codes = lowbit.unpack_codes %c : tensor<16xi8> -> tensor<32x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s : !q
  %y = lowbit.matmul %x, %w {lowbit.layer = "l0"} : tensor<1x32xf32>, !q -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// The plain `gpu` layout (groups that are not multiples of 16: here 8):
// a block is 512 bytes = 128 words of one column, code k = 128j + i in
// bits [4j, 4j+4) of word i: word k holds c_k in its low nibble (bytes
// 00,01,..,07,00,..), K pads to the 1024 k of a block, so 128 groups of
// params (124 of padding).
// GPU-LABEL: func.func @gemv_g8
// GPU: lowbit.packed_matmul ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x32xf32>, tensor<512xi8>, tensor<128xf32>) outs(%{{.*}} : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 8, signed, gpu>)
// GPU: g8.packed: "0x0100000000000000010000000200000003000000040000000500000006000000070000000000000001000000
// GPU: g8.packed_params: "0x040000000000003F0000803E0000003F0000803E00000000
!q8g = !lowbit.qtensor<32x1xf32, #lowbit.scheme<int4, sym, group = 8, axis = 0, scale = f32>>
func.func @gemv_g8(%x: tensor<1x32xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118]> : tensor<16xi8>
  %codes = lowbit.unpack_codes %c : tensor<16xi8> -> tensor<32x1xi4>
  %s = arith.constant dense<[[0.5], [0.25], [0.5], [0.25]]> : tensor<4x1xf32>
  %w = lowbit.pack %codes, %s : !q8g
  %y = lowbit.matmul %x, %w {lowbit.layer = "g8"} : tensor<1x32xf32>, !q8g -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// 8-bit asymmetric, weight stored N x K (transpose_weight), per channel:
// bytes hold the codes in k order; K = 20 pads to the 16-byte block: 32.
// Two columns, tile 1: codes of column 0 then column 1, 32 bytes each.
// Params are (scale, zero) pairs per column: (0.25, 3), (0.5, 200).
// Leading batch dimensions collapse to rows and expand back.
// CHECK-LABEL: func.func @asym8
// CHECK: %[[X2:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x1x20xf32> into tensor<2x20xf32>
// CHECK: lowbit.packed_matmul ins(%[[X2]], %{{.*}}, %{{.*}} : tensor<2x20xf32>, tensor<64xi8>, tensor<4xf32>) outs(%{{.*}} : tensor<2x2xf32>) layout(<bits = 8, k = 20, n = 2, lanes = 4, tile = 1, group = 0, zero>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [2, 1, 2] : tensor<2x2xf32> into tensor<2x1x2xf32>
// CHECK: "0x010000000102030405060708090A0B0C0D0E0F101112131400000000000000000000000000FFFEFDFCFBFAF9F8F7F6F5F4F3F2F1F0EFEEED000000000000000000000000"
// CHECK: "0x040000000000803E000040400000003F00004843"
// GPU, the `mma` layout with 8-bit fields: 64 k per block, thread 4g + t's
// word s holds column g's codes at k = 16s + 2t, 16s + 2t + 8, + 1, + 9
// (bytes 0-3); K = 20 pads to 64. Parameters per tile of 8 columns.
// GPU-LABEL: func.func @asym8
// GPU: layout(<bits = 8, k = 20, n = 2, lanes = 128, tile = 8, group = 0, zero, gpu, mma>)
// GPU: "0x010000000109020A110012000000000000000000030B040C130014000000000000000000050D060E000000000000000000000000070F081000000000000000000000000000F8FFF7F000EF00
// GPU: "0x040000000000803E000040400000003F00004843000000000000000000000000
!q8 = !lowbit.qtensor<2x20xf32, #lowbit.scheme<int8, asym, channel, axis = 0, scale = f32, zero_point = i8>>
func.func @asym8(%x: tensor<2x1x20xf32>) -> tensor<2x1x2xf32> {
  %codes = arith.constant dense<[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
                                 [0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18, -19]]> : tensor<2x20xi8>
  %s = arith.constant dense<[[0.25], [0.5]]> : tensor<2x1xf32>
  %z = arith.constant dense<[[3], [-56]]> : tensor<2x1xi8>
  %w = lowbit.pack %codes, %s, %z : !q8
  %y = lowbit.matmul %x, %w transpose_weight : tensor<2x1x20xf32>, !q8 -> tensor<2x1x2xf32>
  return %y : tensor<2x1x2xf32>
}

// -----

// The tile follows the rows when not given: 4 columns for 1-2 rows, 2 above.
// AUTO-LABEL: func.func @tiles
// AUTO: layout(<bits = 2, k = 64, n = 8, lanes = 4, tile = 4, group = 0, signed>)
// AUTO: layout(<bits = 2, k = 64, n = 8, lanes = 4, tile = 2, group = 0, signed>)
!q2 = !lowbit.qtensor<64x8xf32, #lowbit.scheme<int2, sym, tensor, scale = f32>>
func.func @tiles(%x: tensor<2x64xf32>, %x5: tensor<5x64xf32>) -> (tensor<2x8xf32>, tensor<5x8xf32>) {
  %c = arith.constant dense<0> : tensor<64x8xi2>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %c, %s : !q2
  %y = lowbit.matmul %x, %w : tensor<2x64xf32>, !q2 -> tensor<2x8xf32>
  %y5 = lowbit.matmul %x5, %w : tensor<5x64xf32>, !q2 -> tensor<5x8xf32>
  return %y, %y5 : tensor<2x8xf32>, tensor<5x8xf32>
}

// -----

// Left for the reference lowering: groups that are not a multiple of the
// lanes, more rows than max-rows (prefill: the tiled float matmul after
// dequantization is faster), a weight that is not constant. 3-bit codes are
// packed in 4-bit fields.
// CHECK-LABEL: func.func @not_packed
// CHECK: layout(<bits = 4, k = 16, n = 4, lanes = 4, tile = 1, group = 0, signed>)
// CHECK-COUNT-3: lowbit.matmul
// CHECK-NOT: lowbit.packed_matmul
!q3 = !lowbit.qtensor<16x4xf32, #lowbit.scheme<int3, sym, channel, axis = 1, scale = f32>>
!q4g2 = !lowbit.qtensor<16x4xf32, #lowbit.scheme<int4, sym, group = 2, axis = 0, scale = f32>>
!q4 = !lowbit.qtensor<16x4xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>>
func.func @not_packed(%x: tensor<1x16xf32>, %big: tensor<17x16xf32>, %w: !q4) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<17x4xf32>, tensor<1x4xf32>) {
  %c3 = arith.constant dense<1> : tensor<16x4xi3>
  %c4 = arith.constant dense<1> : tensor<16x4xi4>
  %s = arith.constant dense<0.5> : tensor<1x4xf32>
  %sg = arith.constant dense<0.5> : tensor<8x4xf32>
  %w3 = lowbit.pack %c3, %s : !q3
  %w4g2 = lowbit.pack %c4, %sg : !q4g2
  %w4 = lowbit.pack %c4, %s : !q4
  %y3 = lowbit.matmul %x, %w3 : tensor<1x16xf32>, !q3 -> tensor<1x4xf32>
  %yg = lowbit.matmul %x, %w4g2 : tensor<1x16xf32>, !q4g2 -> tensor<1x4xf32>
  %yb = lowbit.matmul %big, %w4 : tensor<17x16xf32>, !q4 -> tensor<17x4xf32>
  %ya = lowbit.matmul %x, %w : tensor<1x16xf32>, !q4 -> tensor<1x4xf32>
  return %y3, %yg, %yb, %ya : tensor<1x4xf32>, tensor<1x4xf32>, tensor<17x4xf32>, tensor<1x4xf32>
}

// -----

// int8 activations: 16 lanes, 64-byte blocks whose byte b holds the
// unsigned codes (signed code + 8) of k = b (low nibble) and 64 + b; K = 100
// pads to 128 with the code of zero (8): bytes 0x99 for b < 36, then 0x89;
// the tile's 3 empty columns are zeros. Per-channel scales become groups
// of 128; the parameter is the scale alone (the kernel subtracts the zero
// point 8 in the integer domain).
// CHECK-LABEL: func.func @int8
// CHECK: lowbit.packed_matmul
// INT8-LABEL: func.func @int8
// INT8: lowbit.packed_matmul {{.*}} layout(<bits = 4, k = 100, n = 1, lanes = 16, tile = 4, group = 128, signed, int8>)
// INT8-LABEL: func.func @int8_g32
// INT8: layout(<bits = 4, k = 100, n = 1, lanes = 16, tile = 4, group = 32, signed>)
// INT8: "0x01000000{{(99){36}(89){28}(0){192}(0){191}0}}"
// INT8: "0x040000000000803F{{(0){23}0}}"
!qc = !lowbit.qtensor<100x1xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>>
!qg = !lowbit.qtensor<100x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @int8(%x: tensor<1x100xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<1> : tensor<100x1xi4>
  %s = arith.constant dense<1.0> : tensor<1x1xf32>
  %w = lowbit.pack %c, %s : !qc
  %y = lowbit.matmul %x, %w : tensor<1x100xf32>, !qc -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
// Groups of 32 are not multiples of 64: the f32-activation layout.
func.func @int8_g32(%x: tensor<1x100xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<1> : tensor<100x1xi4>
  %s = arith.constant dense<1.0> : tensor<4x1xf32>
  %w = lowbit.pack %c, %s : !qg
  %y = lowbit.matmul %x, %w : tensor<1x100xf32>, !qg -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Tiles follow the rows: 4 columns for 1-2 rows, then 2; the int8 layout
// on 8 lanes (AVX2 pair sums, 16 registers) takes 1 column from 2 rows.
// INT8-LABEL: func.func @int8_tiles
// INT8: layout(<bits = 4, k = 128, n = 8, lanes = 16, tile = 4, group = 128, signed, int8>)
// INT8: layout(<bits = 4, k = 128, n = 8, lanes = 16, tile = 4, group = 128, signed, int8>)
// INT8: layout(<bits = 4, k = 128, n = 8, lanes = 16, tile = 2, group = 128, signed, int8>)
// AVX2-LABEL: func.func @int8_tiles
// AVX2: layout(<bits = 4, k = 128, n = 8, lanes = 8, tile = 4, group = 128, signed, int8>)
// AVX2: layout(<bits = 4, k = 128, n = 8, lanes = 8, tile = 1, group = 128, signed, int8>)
// AVX2: layout(<bits = 4, k = 128, n = 8, lanes = 8, tile = 1, group = 128, signed, int8>)
!qt = !lowbit.qtensor<128x8xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f32>>
func.func @int8_tiles(%x1: tensor<1x128xf32>, %x2: tensor<2x128xf32>, %x5: tensor<5x128xf32>) -> (tensor<1x8xf32>, tensor<2x8xf32>, tensor<5x8xf32>) {
  %c = arith.constant dense<1> : tensor<128x8xi4>
  %s = arith.constant dense<1.0> : tensor<1x8xf32>
  %w = lowbit.pack %c, %s : !qt
  %y1 = lowbit.matmul %x1, %w : tensor<1x128xf32>, !qt -> tensor<1x8xf32>
  %y2 = lowbit.matmul %x2, %w : tensor<2x128xf32>, !qt -> tensor<2x8xf32>
  %y5 = lowbit.matmul %x5, %w : tensor<5x128xf32>, !qt -> tensor<5x8xf32>
  return %y1, %y2, %y5 : tensor<1x8xf32>, tensor<2x8xf32>, tensor<5x8xf32>
}

// -----

// Prefill (more than max-rows rows) keeps the reference lowering; with int8
// activations the inputs of the matmuls that would take the int8 layout
// are rounded first, in blocks of the layout's group (per channel: 128).
// Groups of 32 keep f32 activations, as in decode.
// CHECK-LABEL: func.func @int8_prefill
// CHECK-NOT: lowbit.fake_quant
// INT8-LABEL: func.func @int8_prefill
// INT8-SAME: (%[[X:.*]]: tensor<1x17x100xf32>)
// INT8: %[[R:.*]] = lowbit.fake_quant %[[X]] bits 8 block 128 : tensor<1x17x100xf32>
// INT8: lowbit.matmul %[[R]], %{{.*}} : tensor<1x17x100xf32>
// INT8-NOT: lowbit.fake_quant
// INT8: lowbit.matmul %[[X]], %{{.*}} : tensor<1x17x100xf32>
// INT8-NEXT: return
// GPU-LABEL: func.func @int8_prefill
// GPU-NOT: lowbit.fake_quant
func.func @int8_prefill(%x: tensor<1x17x100xf32>) -> (tensor<1x17x1xf32>, tensor<1x17x1xf32>) {
  %c = arith.constant dense<1> : tensor<100x1xi4>
  %s = arith.constant dense<1.0> : tensor<1x1xf32>
  %sg = arith.constant dense<1.0> : tensor<4x1xf32>
  %w = lowbit.pack %c, %s : !lowbit.qtensor<100x1xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>>
  %wg = lowbit.pack %c, %sg : !lowbit.qtensor<100x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
  %y = lowbit.matmul %x, %w : tensor<1x17x100xf32>, !lowbit.qtensor<100x1xf32, #lowbit.scheme<int4, sym, channel, axis = 1, scale = f32>> -> tensor<1x17x1xf32>
  %yg = lowbit.matmul %x, %wg : tensor<1x17x100xf32>, !lowbit.qtensor<100x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>> -> tensor<1x17x1xf32>
  return %y, %yg : tensor<1x17x1xf32>, tensor<1x17x1xf32>
}

// -----

// NF4 codes c_k = k mod 16 are stored unsigned (no sign extension) and the
// layout carries the 16 NF4 values the kernels decode through. Word i
// holds the codes of k = i, 4+i, 8+i, 12+i, 16+i, ...: bytes (4+i, i),
// (12+i, 8+i) twice.
// CHECK-LABEL: func.func @nf4
// CHECK: lowbit.packed_matmul
// CHECK-SAME: layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32, values = array<f32: -1.000000e+00, -0.6961928{{[0-9]*}}, {{.*}}, 0.722956{{[0-9]*}}, 1.000000e+00>>)
// CHECK: "0x0100000040C840C851D951D962EA62EA73FB73FB"
!nf4 = !lowbit.qtensor<32x1xf32, #lowbit.scheme<nf4, group = 32, axis = 0, scale = f32>>
func.func @nf4(%x: tensor<1x32xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[16, 50, 84, 118, -104, -70, -36, -2, 16, 50, 84, 118, -104, -70, -36, -2]> : tensor<16xi8>
  %codes = lowbit.unpack_codes %c : tensor<16xi8> -> tensor<32x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s : !nf4
  %y = lowbit.matmul %x, %w : tensor<1x32xf32>, !nf4 -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// lut layout (lut-max-bits, lanes = 4: tiles of 8 columns, blocks of 16
// bytes per 8 k). Signed 2-bit codes -2, -1, 0, 1, -2, -1, 0, 1 are stored
// + 2 = 0, 1, 2, 3, ...: plane 0 is 0101 0101 (k = 0..7), plane 1 is
// 0011 0011. Byte 0 (column 0, plane 0) holds k = 0..3 in its low nibble
// (bit i for k = i: 0xA) and k = 4..7 in its high one (0xA); byte 1 the
// same of plane 1 (0xCC). Parameters: the 8 columns' scales of the group.
// LUT-LABEL: func.func @lut2
// LUT: layout(<bits = 2, k = 8, n = 1, lanes = 4, tile = 8, group = 8, signed, lut>)
// LUT: "0x01000000AACC0000000000000000000000000000"
// LUT: "0x040000000000003F00000000000000000000000000000000000000000000000000000000"
!lut2 = !lowbit.qtensor<8x1xf32, #lowbit.scheme<int2, sym, group = 8, axis = 0, scale = f32>>
func.func @lut2(%x: tensor<1x8xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[78, 78]> : tensor<2xi8>
  %codes = lowbit.unpack_codes %c : tensor<2xi8> -> tensor<8x1xi2>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s : !lut2
  %y = lowbit.matmul %x, %w : tensor<1x8xf32>, !lut2 -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// lut with 4-bit codes: four bit planes in two parts of 2 * tile = 16
// bytes per block of 8 k. Signed codes k - 4 are stored + 8 = 4..11:
// planes 0 and 1 as above (0xAA, 0xCC), plane 2 is 1111 0000 (0x0F at
// byte 16 of the block), plane 3 is 0000 1111 (0xF0 at byte 17).
// LUT-LABEL: func.func @lut4
// LUT: layout(<bits = 4, k = 8, n = 1, lanes = 4, tile = 8, group = 8, signed, lut>)
// LUT: "0x01000000AACC00000000000000000000000000000FF00000000000000000000000000000"
!lut4 = !lowbit.qtensor<8x1xf32, #lowbit.scheme<int4, sym, group = 8, axis = 0, scale = f32>>
func.func @lut4(%x: tensor<1x8xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[-36, -2, 16, 50]> : tensor<4xi8>
  %codes = lowbit.unpack_codes %c : tensor<4xi8> -> tensor<8x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s : !lut4
  %y = lowbit.matmul %x, %w : tensor<1x8xf32>, !lut4 -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// amx layout (int8-activations, amx-min-rows=1): one tile of 16 columns,
// one block of 16 rows x 64 bytes for 4-bit codes (128 k). Codes 1 are
// stored + 8 = 9; byte 4c + i of row r holds column c's codes at
// k = 4r + i (low nibble) and 64 + 4r + i (high): 0x99 for column 0, the
// other 15 columns are padding. Parameters of the group: scales, 128 *
// the sum of the stored values (128 * 9 * 128 = 147456), the zero (8).
// AMX-LABEL: func.func @amx4
// AMX: layout(<bits = 4, k = 128, n = 1, lanes = 16, tile = 16, group = 128, signed, int8, amx>)
// AMX: "0x01000000{{(99999999000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000){16}"}}
// AMX: "0x040000000000003F0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000104800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000041000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
!amx4 = !lowbit.qtensor<128x1xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f32>>
func.func @amx4(%x: tensor<1x128xf32>) -> tensor<1x1xf32> {
  %c = arith.constant dense<[17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17]> : tensor<64xi8>
  %codes = lowbit.unpack_codes %c : tensor<64xi8> -> tensor<128x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s : !amx4
  %y = lowbit.matmul %x, %w : tensor<1x128xf32>, !amx4 -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// One weight used by two matmuls of one layout (the GPU's `mma` layout
// serves decode and prefill alike): one packed copy, created at the top of
// the function.
// GPU-LABEL: func.func @shared
// GPU: %[[C:.*]] = arith.constant dense_resource<shared.packed> : tensor<512xi8>
// GPU: %[[P:.*]] = arith.constant dense_resource<shared.packed_params> : tensor<32xf32>
// GPU-NOT: dense_resource
// GPU: lowbit.packed_matmul ins(%{{.*}}, %[[C]], %[[P]] : tensor<1x32xf32>
// GPU: lowbit.packed_matmul ins(%{{.*}}, %[[C]], %[[P]] : tensor<40x32xf32>
!qs = !lowbit.qtensor<32x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @shared(%x: tensor<1x32xf32>, %x40: tensor<40x32xf32>) -> (tensor<1x1xf32>, tensor<40x1xf32>) {
  %c = arith.constant dense<[16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118]> : tensor<16xi8>
  %codes = lowbit.unpack_codes %c : tensor<16xi8> -> tensor<32x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s {lowbit.layer = "shared"} : !qs
  %y = lowbit.matmul %x, %w {lowbit.layer = "shared"} : tensor<1x32xf32>, !qs -> tensor<1x1xf32>
  %y40 = lowbit.matmul %x40, %w {lowbit.layer = "shared"} : tensor<40x32xf32>, !qs -> tensor<40x1xf32>
  return %y, %y40 : tensor<1x1xf32>, tensor<40x1xf32>
}

// -----

// Prefill (more than 16 rows) on a GPU takes the `mma` layout, a tile of 8
// columns (7 of them padding) and 128 k per 512-byte block. Codes 0..7
// (k mod 8) are stored unsigned (+ 8); thread l = 4g + t holds column g's
// codes at k = 16s + 2t + {0, 1, 8, 9}: thread 0's first word has 8
// (k = 0), 8 (k = 8), 8 (k = 16), 8 (k = 24) in its low half and 9 (k =
// 1, 9, 17, 25) in its high half; k >= 32 is padding (code 0). Parameters:
// 4 groups of 8 columns, the one real group's scale 0.5.
// GPU-LABEL: func.func @prefill
// GPU: lowbit.packed_matmul ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<40x32xf32>, tensor<512xi8>, tensor<32xf32>) outs(%{{.*}} : tensor<40x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 8, group = 32, signed, gpu, mma>)
// GPU: prefill.packed: "0x0100000088889999000000000000000000000000AAAABBBB000000000000000000000000CCCCDDDD000000000000000000000000EEEEFFFF00000000
// GPU: prefill.packed_params: "0x040000000000003F00000000
!qp = !lowbit.qtensor<32x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @prefill(%x: tensor<40x32xf32>) -> tensor<40x1xf32> {
  %c = arith.constant dense<[16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118, 16, 50, 84, 118]> : tensor<16xi8>
  %codes = lowbit.unpack_codes %c : tensor<16xi8> -> tensor<32x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %w = lowbit.pack %codes, %s {lowbit.layer = "prefill"} : !qp
  %y = lowbit.matmul %x, %w {lowbit.layer = "prefill"} : tensor<40x32xf32>, !qp -> tensor<40x1xf32>
  return %y : tensor<40x1xf32>
}
