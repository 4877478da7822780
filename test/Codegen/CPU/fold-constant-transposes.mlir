// RUN: quant-opt %s --lowbit-cpu-fold-constant-transposes | FileCheck %s

// The transpose of a constant is computed at compile time into a new
// resource blob; the original goes when nothing else uses it.
// CHECK-LABEL: func.func @head
// CHECK: %[[T:.*]] = arith.constant dense_resource<transposed_0> : tensor<3x2xf32>
// CHECK-NOT: linalg.transpose
// CHECK: return %[[T]]
// CHECK: transposed_0: "0x40000000
// The data: [[1, 2, 3], [4, 5, 6]] transposed is [1, 4, 2, 5, 3, 6].
// CHECK-SAME: 0000803F0000804000000040
func.func @head() -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%w : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}
