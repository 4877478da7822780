// RUN: quant-opt %s --split-input-file --lowbit-gpu-lower-packed-matmul --verify-diagnostics

func.func @tensors(%x: tensor<1x32xf32>, %c: tensor<512xi8>, %p: tensor<32xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{must be bufferized before kernel generation}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<512xi8>, tensor<32xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, gpu>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @rows(%x: memref<17x32xf32>, %c: memref<512xi8>, %p: memref<32xf32>, %y: memref<17x1xf32>) {
  // expected-error @+1 {{the GPU decode kernel takes at most 16 rows, got 17}}
  lowbit.packed_matmul ins(%x, %c, %p : memref<17x32xf32>, memref<512xi8>, memref<32xf32>) outs(%y : memref<17x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, gpu>)
  return
}
