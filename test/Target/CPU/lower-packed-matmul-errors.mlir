// RUN: quant-opt %s --split-input-file --lowbit-cpu-lower-packed-matmul --verify-diagnostics
// RUN: not quant-opt %s --lowbit-pack="lanes=5" 2>&1 | FileCheck %s --check-prefix=LANES

// LANES: lowbit-pack: lanes must be 4, 8 or 16
// RUN: not quant-opt %s --lowbit-cpu-lower-packed-matmul="dot=mmla" 2>&1 | FileCheck %s --check-prefix=DOT
// DOT: lowbit-cpu-lower-packed-matmul: dot must be vpdpbusd or sdot
// RUN: not quant-opt %s --lowbit-cpu-lower-packed-matmul="lookup=vpermb" 2>&1 | FileCheck %s --check-prefix=LOOKUP
// LOOKUP: lowbit-cpu-lower-packed-matmul: lookup must be pshufb or tbl
// RUN: not quant-opt %s --lowbit-pack="lut-max-bits=5" 2>&1 | FileCheck %s --check-prefix=LUTBITS
// LUTBITS: lowbit-pack: lut-max-bits must be 0 to 4

func.func @tensors(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{must be bufferized before kernel generation}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @lut_sse(%x: memref<1x8xf32>, %c: memref<16xi8>, %p: memref<8xf32>, %y: memref<1x1xf32>) {
  // expected-error @+1 {{lut kernels on x86 need AVX2 or AVX-512 (8 or 16 lanes), got 4 lanes}}
  lowbit.packed_matmul ins(%x, %c, %p : memref<1x8xf32>, memref<16xi8>, memref<8xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 2, k = 8, n = 1, lanes = 4, tile = 8, group = 8, signed, lut>)
  return
}

// -----

func.func @gpu_layout(%x: memref<1x32xf32>, %c: memref<512xi8>, %p: memref<32xf32>, %y: memref<1x1xf32>) {
  // expected-error @+1 {{has a 'gpu' layout: its kernel comes from lowbit-gpu-lower-packed-matmul}}
  lowbit.packed_matmul ins(%x, %c, %p : memref<1x32xf32>, memref<512xi8>, memref<32xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, gpu>)
  return
}
