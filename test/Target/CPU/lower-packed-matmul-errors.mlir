// RUN: quant-opt %s --split-input-file --lowbit-cpu-lower-packed-matmul --verify-diagnostics
// RUN: not quant-opt %s --lowbit-pack="lanes=5" 2>&1 | FileCheck %s --check-prefix=LANES

// LANES: lowbit-pack: lanes must be 4, 8 or 16
// RUN: not quant-opt %s --lowbit-cpu-lower-packed-matmul="dot=mmla" 2>&1 | FileCheck %s --check-prefix=DOT
// DOT: lowbit-cpu-lower-packed-matmul: dot must be vpdpbusd or sdot

func.func @tensors(%x: tensor<1x32xf32>, %c: tensor<16xi8>, %p: tensor<1xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{must be bufferized before kernel generation}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<16xi8>, tensor<1xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 4, tile = 1, group = 32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
