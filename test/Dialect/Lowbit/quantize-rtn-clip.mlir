// RUN: quant-opt %s --lowbit-quantize-rtn="bits=3 group-size=0" | FileCheck %s
// RUN: quant-opt %s --lowbit-quantize-rtn="bits=3 group-size=0 clip-search=true" | FileCheck %s --check-prefix=CLIP

// MSE clipping, 3 bits (codes -4..3): the default puts 4 on code -4
// (scale 4/-4 = -1), which rounds the weights near 1 coarsely; the search
// finds that 96% of that scale (-0.96) lowers the squared error (4 -> 3.84,
// the rest closer) and keeps it.
// CHECK-LABEL: func.func @clip
// CHECK: arith.constant dense<-1.000000e+00> : tensor<1x1xf32>
// CLIP-LABEL: func.func @clip
// CLIP: arith.constant dense<-0.95999{{[0-9]*}}> : tensor<1x1xf32>
// CLIP: lowbit.matmul
func.func @clip(%x: tensor<1x8xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[4.0], [1.2], [1.1], [1.0], [0.9], [0.8], [0.7], [0.6]]> : tensor<8x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x1xf32>) outs(%f : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
