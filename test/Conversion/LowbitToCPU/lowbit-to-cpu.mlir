// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="permute=1 prefetch-distance=256" | FileCheck %s
// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="permute=0 prefetch-distance=0" | FileCheck %s --check-prefix=PORT
// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="dot=sdot" | FileCheck %s --check-prefix=SDOT
// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu="dot=pmaddubsw" | FileCheck %s --check-prefix=PAIRS

// 4-bit, 16 lanes, groups of 128 (= one block of 64 bytes = one
// superblock), K = 200: one full superblock in the loop and a tail whose
// step at k = 192 reads 8 activations through a mask; steps past K are
// dropped. N = 6 in tiles of 4: the last tile stores 2 of its columns.
// CHECK-LABEL: func.func @w4
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: scf.for %[[SB:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data : memref<1024xi8>
// CHECK: vector.load %{{.*}} : memref<1024xi8>, vector<64xi8>
// CHECK: vector.bitcast %{{.*}} : vector<64xi8> to vector<16xi32>
// The group's table: (value - 0) * scale, values of signed nibbles.
// CHECK: %[[S:.*]] = memref.load %{{.*}} : memref<16xf32>
// CHECK: %[[SV:.*]] = vector.broadcast %[[S]] : f32 to vector<16xf32>
// CHECK: %[[TAB:.*]] = arith.mulf %{{.*}}, %[[SV]] : vector<16xf32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"(%[[TAB]], %{{.*}}) : (vector<16xf32>, vector<16xi32>) -> vector<16xf32>
// CHECK: vector.load %{{.*}} : memref<1x200xf32>, vector<16xf32>
// CHECK: vector.fma
// CHECK: arith.shrui %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: scf.yield
// The tail: a masked load of the last 8 activations.
// CHECK: vector.maskedload %{{.*}} : memref<1x200xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK: memref.store
// CHECK: vector.reduction <add>
// CHECK: memref.store
// CHECK: %[[IN:.*]] = arith.cmpi ult
// CHECK: scf.if %[[IN]]
// CHECK: memref.store
// CHECK-NOT: lowbit.packed_matmul

// Portable decode: sign-extend each nibble with two shifts, convert. With
// one row and symmetric codes the scale is factored out: code * x adds into
// a partial sum per column (one iter_arg each, zero at every group start),
// which the group's end scales into the column's sum with one FMA.
// PORT-LABEL: func.func @w4
// PORT-NOT: memref.prefetch
// PORT-NOT: llvm.call_intrinsic
// PORT: scf.for {{.*}} iter_args(%[[A0:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %[[P0:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}})
// PORT: %[[S:.*]] = memref.load %{{.*}} : memref<16xf32>
// PORT: %[[SV:.*]] = vector.broadcast %[[S]] : f32 to vector<16xf32>
// PORT: arith.shli %{{.*}} : vector<16xi32>
// PORT: arith.shrsi %{{.*}} : vector<16xi32>
// PORT: %[[C:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// PORT-NOT: arith.mulf
// PORT: vector.fma %{{.*}}, %[[C]], %[[P0]] : vector<16xf32>
// PORT-NOT: arith.mulf
// PORT: vector.fma %{{.*}}, %[[SV]], %[[A0]] : vector<16xf32>
// PORT: scf.yield
func.func @w4(%x: memref<1x200xf32>, %codes: memref<1024xi8>, %params: memref<16xf32>, %y: memref<1x6xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x200xf32>, memref<1024xi8>, memref<16xf32>) outs(%y : memref<1x6xf32>) layout(<bits = 4, k = 200, n = 6, lanes = 16, tile = 4, group = 128, signed>)
  return
}

// -----

// 8-bit asymmetric codes: byte loads zero-extended, minus the zero point,
// times the scale (no permute for 8 bits). A strided activation view is
// copied to a contiguous buffer first.
// CHECK-LABEL: func.func @w8
// CHECK: memref.alloc() : memref<2x32xf32>
// CHECK: memref.copy
// CHECK: vector.load %{{.*}} : memref<128xi8>, vector<16xi8>
// CHECK: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.uitofp
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: vector.fma
// CHECK: memref.dealloc
func.func @w8(%x: memref<2x32xf32, strided<[64, 2]>>, %codes: memref<128xi8>, %params: memref<4xf32>, %y: memref<2x2xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<2x32xf32, strided<[64, 2]>>, memref<128xi8>, memref<4xf32>) outs(%y : memref<2x2xf32>) layout(<bits = 8, k = 32, n = 2, lanes = 16, tile = 2, group = 0, zero>)
  return
}

// -----

// int8 activations: a prologue quantizes each row and group of 64
// (max|x| / 127, round to nearest even) into a buffer, then per 64-byte
// block the low and high nibble planes go through vpdpbusd; at the group's
// end the i32 sums are converted and scaled (one FMA: the symmetric zero
// point is in the i32 start value).
// CHECK-LABEL: func.func @w4a8
// CHECK: %[[XQ:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x128xi8>
// CHECK: scf.for
// CHECK: vector.reduction <maximumf>
// CHECK: math.roundeven
// CHECK: arith.fptosi
// CHECK: vector.store %{{.*}}, %[[XQ]]
// Each group's i32 sum starts at -8 * (sum of the row's codes) in lane 0.
// CHECK: %[[INIT:.*]] = vector.insert %{{.*}}, %{{.*}} [0] : i32 into vector<16xi32>
// CHECK: vector.store %[[INIT]]
// CHECK: scf.parallel
// CHECK: %[[START:.*]] = vector.load %{{.*}} : memref<1x2x16xi32>, vector<16xi32>
// CHECK: arith.andi
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[START]], %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NEXT: %[[SC:.*]] = arith.mulf
// CHECK-NEXT: vector.fma %[[F]], %[[SC]]
// CHECK: arith.shrui
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: memref.dealloc %[[XQ]]
// On ARM the same layout goes through four 128-bit sdot per 64 bytes.
// SDOT-LABEL: func.func @w4a8
// SDOT-COUNT-4: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"({{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// SDOT-NOT: vpdpbusd
// On AVX2 two vpmaddubsw per 64 bytes add i16 pair sums, which the group's
// end widens (vpmaddwd by ones) onto its 8-lane i32 start.
// PAIRS-LABEL: func.func @w4a8
// PAIRS: %[[INIT:.*]] = vector.insert %{{.*}}, %{{.*}} [0] : i32 into vector<8xi32>
// PAIRS: scf.parallel
// PAIRS: %[[START:.*]] = vector.load %{{.*}} : memref<1x2x8xi32>, vector<8xi32>
// PAIRS: %[[P0:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"({{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// PAIRS: %[[P1:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// PAIRS: arith.addi %[[P0]], %[[P1]] : vector<16xi16>
// PAIRS: %[[W:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"({{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// PAIRS: %[[D:.*]] = arith.addi %[[START]], %[[W]] : vector<8xi32>
// PAIRS: arith.sitofp %[[D]] : vector<8xi32> to vector<8xf32>
// PAIRS-NOT: vpdpbusd
func.func @w4a8(%x: memref<1x100xf32>, %codes: memref<256xi8>, %params: memref<8xf32>, %y: memref<1x3xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x100xf32>, memref<256xi8>, memref<8xf32>) outs(%y : memref<1x3xf32>) layout(<bits = 4, k = 100, n = 3, lanes = 16, tile = 4, group = 64, signed, int8>)
  return
}

// -----

// Three rows: at each group's end the rows' i32 sums fold into one vector
// (rows padded to 4, 4 lanes each: two shuffle levels), converted once; the
// stores sum each row's 4-lane segment. Scales per lane come from the
// replicated buffer the prologue fills.
// CHECK-LABEL: func.func @w4a8_rows
// CHECK: %[[REP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x16xf32>
// CHECK: vector.from_elements
// CHECK: scf.parallel
// CHECK: vector.load %[[REP]]
// CHECK-COUNT-2: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
// CHECK: arith.sitofp
// CHECK: scf.yield
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [4], strides = [1]}
// CHECK: vector.reduction <add>
// With 8-lane accumulators (pmaddubsw) the rows fold to 2 lanes each.
// PAIRS-LABEL: func.func @w4a8_rows
// PAIRS: memref.alloc() {alignment = 64 : i64} : memref<1x2x8xf32>
// PAIRS-COUNT-2: vector.shuffle {{.*}} [0, 1, 2, 3, 8, 9, 10, 11]
// PAIRS: vector.shuffle {{.*}} [0, 1, 4, 5, 8, 9, 12, 13]
// PAIRS: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
// PAIRS: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [2], strides = [1]}
func.func @w4a8_rows(%x: memref<3x128xf32>, %codes: memref<128xi8>, %params: memref<4xf32>, %y: memref<3x2xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<3x128xf32>, memref<128xi8>, memref<4xf32>) outs(%y : memref<3x2xf32>) layout(<bits = 4, k = 128, n = 2, lanes = 16, tile = 2, group = 64, signed, int8>)
  return
}

// -----

// Groups of 512 4-bit codes (8 planes): the i16 pair sums are widened every
// 4 planes, before 4 * 15 * 127 * 4 could pass 32767.
// PAIRS-LABEL: func.func @w4a8_long_group
// PAIRS-COUNT-8: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// PAIRS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// PAIRS-COUNT-8: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// PAIRS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// PAIRS: arith.sitofp
func.func @w4a8_long_group(%x: memref<1x512xf32>, %codes: memref<256xi8>, %params: memref<1xf32>, %y: memref<1x1xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x512xf32>, memref<256xi8>, memref<1xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 4, k = 512, n = 1, lanes = 8, tile = 1, group = 512, int8>)
  return
}

// -----

// Table-decoded codes (here a 2-bit codebook with zero points, 4 lanes):
// the group's table is (values - zero) * scale; with a permute it is read
// like the integer table, without one each lane's entry is extracted.
// CHECK-LABEL: func.func @codebook
// CHECK: %[[V:.*]] = arith.constant dense<[-1.500000e+00, -5.000000e-01, 5.000000e-01, 1.500000e+00, -1.500000e+00, {{.*}}]> : vector<16xf32>
// CHECK: %[[Z:.*]] = arith.subf %[[V]], %{{.*}} : vector<16xf32>
// CHECK: arith.mulf %[[Z]], %{{.*}} : vector<16xf32>
// PORT-LABEL: func.func @codebook
// PORT: arith.andi %{{.*}} : vector<4xi32>
// PORT: %[[I:.*]] = vector.extract %{{.*}}[0] : i32 from vector<4xi32>
// PORT: %[[P:.*]] = arith.index_castui %[[I]] : i32 to index
// PORT: vector.extract %{{.*}}[%[[P]]] : f32 from vector<16xf32>
// PORT: vector.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// PORT: vector.fma
func.func @codebook(%x: memref<1x32xf32>, %codes: memref<16xi8>, %params: memref<4xf32>, %y: memref<1x1xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x32xf32>, memref<16xi8>, memref<4xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 2, k = 32, n = 1, lanes = 4, tile = 1, group = 32, zero, values = array<f32: -1.5, -0.5, 0.5, 1.5>>)
  return
}

// -----

// lut: the tables (16 entries per quad of k, quantized per group, + 128)
// are built before the threads; per block of 8 k one 64-byte load gives
// two quads' indices (mask; shift and mask); per row two table lookups,
// each summed over the two bit planes with weights 1, 2 into i16; at the
// group's end unbiased (2 lookups * 384 per block), widened, scaled, the
// zero point (2, signed codes) times the activation sum subtracted; one
// masked store of the tile's 32 columns.
// CHECK-LABEL: func.func @lut
// CHECK: math.roundeven %{{.*}} : vector<16xf32>
// CHECK: vector.store %{{.*}} : memref<1x16x16xi8>, vector<16xi8>
// CHECK: scf.parallel
// CHECK: vector.load %{{.*}} : memref<1024xi8>, vector<64xi8>
// CHECK: arith.andi %{{.*}} : vector<64xi8>
// CHECK: arith.shrui %{{.*}} : vector<64xi8>
// CHECK: %[[T:.*]] = vector.shuffle %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1,
// CHECK: %[[L:.*]] = llvm.call_intrinsic "llvm.x86.avx512.pshuf.b.512"(%[[T]], %{{.*}}) : (vector<64xi8>, vector<64xi8>) -> vector<64xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"(%[[L]], %{{.*}}) : (vector<64xi8>, vector<64xi8>) -> vector<32xi16>
// CHECK: arith.constant dense<6144> : vector<32xi16>
// CHECK: arith.extsi %{{.*}} : vector<32xi16> to vector<32xi32>
// CHECK: %[[SC:.*]] = vector.load %{{.*}} : memref<64xf32>, vector<32xf32>
// CHECK: %[[Z:.*]] = arith.constant dense<2.000000e+00> : vector<32xf32>
// CHECK: %[[D:.*]] = vector.fma %[[Z]], %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK: vector.fma %[[SC]], %[[D]], %{{.*}} : vector<32xf32>
// CHECK: vector.create_mask
// CHECK: vector.maskedstore %{{.*}} : memref<1x40xf32>, vector<32xi1>, vector<32xf32>
func.func @lut(%x: memref<1x64xf32>, %codes: memref<1024xi8>, %params: memref<64xf32>, %y: memref<1x40xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<1x64xf32>, memref<1024xi8>, memref<64xf32>) outs(%y : memref<1x40xf32>) layout(<bits = 2, k = 64, n = 40, lanes = 16, tile = 32, group = 64, signed, lut>)
  return
}

// -----

// amx (4-bit, 2 rows, K = 256: two blocks of one group of 256, N = 20: two
// tiles of 16): activation codes stored + 128 (xor 0x80); workers (one per
// tile here) with their slots of two scratch buffers; per block 16 rows of
// codes split into two fields (mask; shift) stored as B tiles, and per
// field one tdpbusd of the 2 x 64 activation tile (unsigned) and the
// 16 x 64 code tile into the 2 x 16 i32 tile; at the group's end the tile
// is stored and each row's 16 sums unbiased, scaled, stored (masked).
// CHECK-LABEL: func.func @amx
// CHECK: arith.xori %{{.*}} : vector<16xi8>
// CHECK: %[[B:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x32x64xi8>
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x2x16xi32>
// CHECK: scf.parallel (%[[W:.*]]) =
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: amx.tile_zero : !amx.tile<2x16xi32>
// CHECK: vector.load %{{.*}} : memref<4096xi8>, vector<64xi8>
// CHECK: vector.store %{{.*}}, %[[B]][%[[W]], %{{.*}}, %{{.*}}] : memref<2x32x64xi8>, vector<64xi8>
// CHECK: amx.tile_load %[[B]][%[[W]], %{{.*}}, %{{.*}}] : memref<2x32x64xi8> into !amx.tile<16x64xi8>
// CHECK: amx.tile_load %{{.*}}[%{{.*}}, %{{.*}}] : memref<2x256xi8> into !amx.tile<2x64xi8>
// CHECK: amx.tile_muli %{{.*}} zext, %{{.*}}, %{{.*}} : !amx.tile<2x64xi8>, !amx.tile<16x64xi8>, !amx.tile<2x16xi32>
// CHECK: amx.tile_store %[[C]][%[[W]], %{{.*}}, %{{.*}}], %{{.*}} : memref<2x2x16xi32>, !amx.tile<2x16xi32>
// CHECK: vector.load %[[C]][%[[W]], %{{.*}}, %{{.*}}] : memref<2x2x16xi32>, vector<16xi32>
// CHECK: vector.fma
// CHECK: vector.maskedstore %{{.*}} : memref<2x20xf32>, vector<16xi1>, vector<16xf32>
// CHECK: memref.dealloc %[[B]]
func.func @amx(%x: memref<2x256xf32>, %codes: memref<4096xi8>, %params: memref<96xf32>, %y: memref<2x20xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params : memref<2x256xf32>, memref<4096xi8>, memref<96xf32>) outs(%y : memref<2x20xf32>) layout(<bits = 4, k = 256, n = 20, lanes = 16, tile = 16, group = 256, signed, int8, amx>)
  return
}

// -----

// Outliers, one or two rows of f32 activations: after a tile's dense
// accumulation, the offsets of its columns' runs [words[c], words[c+1]),
// then per column whole vectors of 8 words and the partial one under a mask
// of the run's end, added lane-wise into that column's dense accumulators
// (one per row) before their lanes are summed. Per vector: the f16 in the
// low half widened with integer operations (times 2^112), each lane's
// k = word >> 16 from a scalar load of its word, the activations at k loaded
// lane by lane (no gather), one FMA per row. No separate reduction, load or
// store per column.
// CHECK-LABEL: func.func @outliers
// CHECK: scf.parallel (%[[T:.*]]) =
// CHECK: vector.fma
// CHECK: %[[B:.*]] = memref.load %[[W:.*]][%{{.*}}] : memref<24xi32>
// CHECK: %[[E:.*]] = memref.load %[[W]][%{{.*}}] : memref<24xi32>
// CHECK: memref.load %[[W]][%{{.*}}] : memref<24xi32>
// CHECK: %[[FULL:.*]]:2 = scf.for %[[I:.*]] = %{{.*}} to %[[WHOLE:.*]] step %{{.*}} iter_args(%[[A0:.*]] = %{{.*}}, %[[A1:.*]] = %{{.*}}) -> (vector<8xf32>, vector<8xf32>)
// CHECK: %[[WV:.*]] = vector.load %[[W]][%[[I]]] : memref<24xi32>, vector<8xi32>
// CHECK: arith.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
// CHECK: %[[V:.*]] = arith.mulf
// CHECK: %[[W0:.*]] = memref.load %[[W]][%[[I]]] : memref<24xi32>
// CHECK: %[[K0:.*]] = arith.shrui %[[W0]], %{{.*}} : i32
// CHECK: %[[I0:.*]] = arith.index_castui %[[K0]]
// CHECK-NOT: vector.gather
// CHECK: memref.load %{{.*}}[%{{.*}}, %[[I0]]] : memref<2x32xf32>
// CHECK: %[[X0:.*]] = vector.insert %{{.*}} [7] : f32 into vector<8xf32>
// CHECK: vector.fma %[[X0]], %[[V]], %[[A0]] : vector<8xf32>
// CHECK: vector.fma %{{.*}}, %[[V]], %[[A1]] : vector<8xf32>
// CHECK: %[[PART:.*]] = arith.cmpi ult, %[[WHOLE]], %{{.*}} : index
// CHECK: %[[TAIL:.*]]:2 = scf.if %[[PART]] -> (vector<8xf32>, vector<8xf32>) {
// CHECK: %[[M:.*]] = vector.create_mask %{{.*}} : vector<8xi1>
// CHECK: arith.select %[[M]]
// CHECK: arith.select %[[M]]
// CHECK: } else {
// CHECK: scf.yield %[[FULL]]#0, %[[FULL]]#1
// CHECK: scf.for
// CHECK: scf.if
// CHECK: vector.reduction <add>, %[[TAIL]]#0
// CHECK: memref.store %{{.*}} : memref<2x3xf32>
// CHECK-NOT: memref.load %{{.*}} : memref<2x3xf32>
// CHECK: return
func.func @outliers(%x: memref<2x32xf32>, %codes: memref<128xi8>, %params: memref<8xf32>, %words: memref<24xi32>, %y: memref<2x3xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params, %words : memref<2x32xf32>, memref<128xi8>, memref<8xf32>, memref<24xi32>) outs(%y : memref<2x3xf32>) layout(<bits = 4, k = 32, n = 3, lanes = 8, tile = 2, group = 32, signed, outliers = 3>)
  return
}

// -----

// Outliers with int8 activations, two rows (whose accumulators share a
// vector): after the tile's results are stored, per column with a
// non-empty run its vectors go into a zeroed accumulator per row whose
// reassociating sum is added to the stored result.
// CHECK-LABEL: func.func @outliers_int8_rows
// CHECK: scf.parallel
// CHECK: memref.store %{{.*}} : memref<2x3xf32>
// CHECK: scf.for
// CHECK: %[[ANY:.*]] = arith.cmpi ult
// CHECK: scf.if %[[ANY]] {
// CHECK: %[[FULL:.*]]:2 = scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16xf32>, vector<16xf32>)
// CHECK: %[[TAIL:.*]]:2 = scf.if
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %[[TAIL]]#0 fastmath<reassoc>
// CHECK: %[[OLD:.*]] = memref.load %{{.*}} : memref<2x3xf32>
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUM]]
// CHECK: memref.store %[[NEW]], %{{.*}} : memref<2x3xf32>
func.func @outliers_int8_rows(%x: memref<2x100xf32>, %codes: memref<256xi8>, %params: memref<8xf32>, %words: memref<24xi32>, %y: memref<2x3xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params, %words : memref<2x100xf32>, memref<256xi8>, memref<8xf32>, memref<24xi32>) outs(%y : memref<2x3xf32>) layout(<bits = 4, k = 100, n = 3, lanes = 16, tile = 4, group = 64, signed, int8, outliers = 3>)
  return
}

// -----

// One row of int8 activations: each column's run goes into its f32
// accumulator (16 lanes, as wide as the outlier vectors) before the sum;
// with 16 lanes (AVX-512) the activations at the run's k are one
// vector.gather (vgatherdps). At the tile's start, the next tile's run
// (from this one's end, as long as this one) is prefetched line by line.
// CHECK-LABEL: func.func @outliers_int8
// CHECK: scf.parallel
// CHECK: arith.index_castui
// CHECK: %[[END:.*]] = arith.index_castui
// CHECK: scf.for %[[L:.*]] = %[[END]] to %{{.*}} step %c16
// CHECK: memref.prefetch %{{.*}}[%[[L]]], read, locality<3>, data : memref<24xi32>
// CHECK: %[[DENSE:.*]]:4 = scf.for
// CHECK: %[[FULL:.*]] = scf.for %{{.*}} iter_args(%{{.*}} = %[[DENSE]]#0) -> (vector<16xf32>)
// CHECK: vector.gather %{{.*}} : memref<1x128xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK: %[[TAIL:.*]] = scf.if
// CHECK: vector.reduction <add>, %[[TAIL]] : vector<16xf32> into f32
// CHECK-NOT: memref.load %{{.*}} : memref<1x3xf32>
// CHECK: return
func.func @outliers_int8(%x: memref<1x100xf32>, %codes: memref<256xi8>, %params: memref<8xf32>, %words: memref<24xi32>, %y: memref<1x3xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params, %words : memref<1x100xf32>, memref<256xi8>, memref<8xf32>, memref<24xi32>) outs(%y : memref<1x3xf32>) layout(<bits = 4, k = 100, n = 3, lanes = 16, tile = 4, group = 64, signed, int8, outliers = 3>)
  return
}

// -----

// Outliers of 3 or more rows: the activations copied k-major once per call
// (K x 4: 3 rows padded to a power of two), then per outlier one scalar
// word, its f16 widened, one vector load of every row's activation at k
// and one FMA; each row's lane added to its result.
// CHECK-LABEL: func.func @outliers_rows
// CHECK: %[[XT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32x4xf32>
// CHECK: scf.for
// CHECK: vector.store %{{.*}}, %[[XT]][%{{.*}}, %{{.*}}] : memref<32x4xf32>, vector<4xf32>
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK: scf.for %[[E:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<4xf32>)
// CHECK: %[[W:.*]] = memref.load %{{.*}}[%[[E]]] : memref<24xi32>
// CHECK: arith.shrui %[[W]]
// CHECK: %[[V:.*]] = vector.broadcast %{{.*}} : f32 to vector<4xf32>
// CHECK: %[[XK:.*]] = vector.load %[[XT]][%{{.*}}, %{{.*}}] : memref<32x4xf32>, vector<4xf32>
// CHECK: vector.fma %[[XK]], %[[V]], %[[ACC]] : vector<4xf32>
// CHECK: vector.extract %{{.*}}[2] : f32 from vector<4xf32>
// CHECK: memref.dealloc %[[XT]]
func.func @outliers_rows(%x: memref<3x32xf32>, %codes: memref<128xi8>, %params: memref<8xf32>, %words: memref<24xi32>, %y: memref<3x3xf32>) {
  lowbit.packed_matmul ins(%x, %codes, %params, %words : memref<3x32xf32>, memref<128xi8>, memref<8xf32>, memref<24xi32>) outs(%y : memref<3x3xf32>) layout(<bits = 4, k = 32, n = 3, lanes = 8, tile = 2, group = 32, signed, outliers = 3>)
  return
}
