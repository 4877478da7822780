// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu --verify-diagnostics

func.func @tensors(%x: tensor<1x32xf32>, %c: tensor<512xi8>, %p: tensor<32xf32>, %i: tensor<1x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{must be bufferized before kernel generation}}
  %y = lowbit.packed_matmul ins(%x, %c, %p : tensor<1x32xf32>, tensor<512xi8>, tensor<32xf32>) outs(%i : tensor<1x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, gpu>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
