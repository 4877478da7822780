// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-cpu-tile-and-vectorize{tile-m=8 tile-n=32 thread-chunks=4 min-parallel-elements=1}))' | FileCheck %s

// A 256x384 @ 384x64 matmul: thread chunks of 64 rows (scf.forall), K in
// blocks of 128 (outermost, so a block of B stays in cache), 8x32 register
// tiles, and the microkernel: 8 accumulator rows of vector<32xf32> carried
// by an scf.for over the K block, one row of B loaded and 8 FMAs per step.
// CHECK-LABEL: func.func @matmul
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (64)
// CHECK:   scf.for %{{.*}} = %c0 to %c384 step %c128
// CHECK:     scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK:       scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK-COUNT-8: vector.transfer_read {{.*}} : tensor<8x32xf32>, vector<32xf32>
// CHECK:         scf.for %{{.*}} = %c0 to %c128 step %c1 iter_args({{.*}}) -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>)
// CHECK:           vector.transfer_read {{.*}} : tensor<128x32xf32>, vector<32xf32>
// CHECK:         tensor.extract
// CHECK:         vector.broadcast
// CHECK:         vector.fma
// CHECK-COUNT-7: vector.fma
// CHECK:         scf.yield
// CHECK-COUNT-8: vector.transfer_write
func.func @matmul(%a: tensor<256x384xf32>, %b: tensor<384x64xf32>, %c: tensor<256x64xf32>) -> tensor<256x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<256x384xf32>, tensor<384x64xf32>) outs(%c : tensor<256x64xf32>) -> tensor<256x64xf32>
  return %r : tensor<256x64xf32>
}

// -----

// An output head (B larger than A): threads split N, N tiles run outside M
// tiles, and each K x 32 panel of B is copied to a contiguous buffer once
// per N tile, before the M loop.
// CHECK-LABEL: func.func @head
// CHECK: scf.forall (%{{.*}}) = (0) to (4096) step (1024)
// CHECK:   scf.for %{{.*}} = %c0 to %c1024 step %c32
// CHECK:     %[[PANEL:.*]] = linalg.copy ins(%{{.*}} : tensor<64x32xf32>) outs(%{{.*}} : tensor<64x32xf32>)
// CHECK:     scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK:       scf.for %{{.*}} = %c0 to %c64 step %c1 iter_args
// CHECK:         vector.transfer_read %[[PANEL]]
func.func @head(%a: tensor<16x64xf32>, %b: tensor<64x4096xf32>, %c: tensor<16x4096xf32>) -> tensor<16x4096xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x4096xf32>) outs(%c : tensor<16x4096xf32>) -> tensor<16x4096xf32>
  return %r : tensor<16x4096xf32>
}

// -----

// exp becomes a polynomial approximation; the elementwise op is split into
// thread chunks but not register-tiled.
// CHECK-LABEL: func.func @exp
// CHECK: scf.forall
// CHECK-NOT: math.exp
// CHECK: math.fma
func.func @exp(%x: tensor<64x128xf32>, %o: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<64x128xf32>) outs(%o : tensor<64x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

// A 2-D convolution becomes im2col + a contraction of the (collapsed)
// weight with the image columns, which gets the microkernel.
// CHECK-LABEL: func.func @conv
// CHECK: tensor.collapse_shape %arg1 {{.*}} into tensor<16x72xf32>
// CHECK: scf.forall
// CHECK:   linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x10x10xf32>) outs(%{{.*}} : tensor<1x18x64xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c72 step %c1 iter_args
// CHECK-COUNT-8: vector.fma
func.func @conv(%x: tensor<1x8x10x10xf32>, %w: tensor<16x8x3x3xf32>, %o: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>) outs(%o : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %r : tensor<1x16x8x8xf32>
}

// -----

// C = 0 + A B in one pass over K: the fill is dropped and the accumulators
// start at zero in registers (no read of C).
// CHECK-LABEL: func.func @zero_init
// CHECK-NOT: linalg.fill
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : vector<32xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c1 iter_args(%{{.*}} = %[[Z]], %{{.*}} = %[[Z]]
// CHECK-NOT: linalg.fill
func.func @zero_init(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// An exact integer matmul (MatMulInteger, QLinearMatMul: i32 operands after
// the zero points): the same tiles and microkernel, with vector<32xi32>
// accumulators and a multiply and an add per step instead of an FMA.
// CHECK-LABEL: func.func @matmul_i32
// CHECK: scf.forall
// CHECK:         scf.for %{{.*}} = %c0 to %c128 step %c1 iter_args({{.*}}) -> (vector<32xi32>,
// CHECK:           vector.transfer_read {{.*}} : tensor<128x32xi32>, vector<32xi32>
// CHECK:         vector.broadcast
// CHECK:         arith.muli {{.*}} : vector<32xi32>
// CHECK:         arith.addi {{.*}} : vector<32xi32>
// CHECK-NOT:     vector.fma
// CHECK:         scf.yield
func.func @matmul_i32(%a: tensor<256x384xi32>, %b: tensor<384x64xi32>, %c: tensor<256x64xi32>) -> tensor<256x64xi32> {
  %r = linalg.matmul ins(%a, %b : tensor<256x384xi32>, tensor<384x64xi32>) outs(%c : tensor<256x64xi32>) -> tensor<256x64xi32>
  return %r : tensor<256x64xi32>
}
