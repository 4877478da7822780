// RUN: quant-opt %s --split-input-file --convert-lowbit-to-cpu --verify-diagnostics
// RUN: not quant-opt %s --lowbit-pack="lanes=5" 2>&1 | FileCheck %s --check-prefix=LANES

// LANES: lowbit-pack: lanes must be 4, 8 or 16
// RUN: not quant-opt %s --convert-lowbit-to-cpu="dot=mmla" 2>&1 | FileCheck %s --check-prefix=DOT
// DOT: for the --dot option: Cannot find option named 'mmla'
// RUN: not quant-opt %s --convert-lowbit-to-cpu="lookup=vpermb" 2>&1 | FileCheck %s --check-prefix=LOOKUP
// LOOKUP: for the --lookup option: Cannot find option named 'vpermb'
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
  // expected-error @+1 {{has a 'gpu' layout: its kernel comes from convert-lowbit-to-gpu}}
  lowbit.packed_matmul ins(%x, %c, %p : memref<1x32xf32>, memref<512xi8>, memref<32xf32>) outs(%y : memref<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, gpu>)
  return
}
