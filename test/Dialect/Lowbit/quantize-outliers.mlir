// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=3 group-size=8 outlier-fraction=0.125" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-gptq="bits=3 group-size=8 outlier-fraction=0.125" | FileCheck %s --check-prefix=GPTQ
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=3 group-size=8" | FileCheck %s --check-prefix=NONE
// RUN: not quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=3 group-size=8 outlier-fraction=0.3" 2>&1 | FileCheck %s --check-prefix=BUDGET

// SpQR-style outliers: 2 of the 16 weights (the largest w^2 H_ii: 9.0 and
// -7.5) stay out of the 3-bit grid. The group scales are those of the other
// weights (|s| = 0.15 / 4, 0.2 / 4), the outliers' residuals over their
// clamped codes are stored in f16, csr over the 8 rows.
// CHECK-LABEL: func.func @layer
// CHECK: %[[CODES:.*]] = lowbit.unpack_codes
// CHECK: %[[S:.*]] = arith.constant dense<{{\[\[}}-3.750000e-02, -5.000000e-02]]> : tensor<1x2xf32>
// CHECK: %[[ROWS:.*]] = arith.constant dense<[0, 0, 0, 1, 1, 2, 2, 2, 2]> : tensor<9xi32>
// CHECK: %[[COLS:.*]] = arith.constant dense<[0, 1]> : tensor<2xi32>
// CHECK: %[[VALS:.*]] = arith.constant dense<[8.851560e+00, -7.351560e+00]> : tensor<2xf16>
// CHECK: lowbit.pack %[[CODES]], %[[S]], %[[ROWS]], %[[COLS]], %[[VALS]] : !lowbit.qtensor<8x2xf32, #lowbit.scheme<int3, sym, group = 8, axis = 0, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 2, f16>>
// The layer's output error with the outliers, and (quantized again
// without them, for the report) the plain quantizer's, the NONE run's.
// CHECK: lowbit.matmul {{.*}}lowbit.output_error = 0.00326{{[0-9]*}} : f32, lowbit.plain_output_error = 0.035918{{[0-9]*}} : f32

// GPTQ keeps the same two weights out (its statistics here: H = X^T X of
// the site, dominated by the same inputs).
// GPTQ-LABEL: func.func @layer
// GPTQ: outliers = #lowbit.outliers<csr, nnz = 2, f16>
// GPTQ: lowbit.matmul {{.*}}lowbit.output_error = 0.00326{{[0-9]*}} : f32, lowbit.plain_output_error = 0.035918{{[0-9]*}} : f32

// NONE-LABEL: func.func @layer
// NONE-NOT: outliers
// NONE-NOT: plain_output_error
// NONE: lowbit.output_error = 0.035918{{[0-9]*}} : f32
// NONE-NOT: plain_output_error

// BUDGET: error: lowbit-quantize-rtn: layer 'linear.0': outlier fraction 0.300000 is outside [0, 0.25]
func.func @layer(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %c = lowbit.calibrate %x site "in" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<8x8xf32>}} : tensor<3x8xf32>
  %w = arith.constant dense<[[0.1, 0.2], [0.15, -0.1], [9.0, 0.05], [-0.12, 0.11], [0.08, -7.5], [0.1, 0.1], [-0.05, 0.02], [0.13, -0.14]]> : tensor<8x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%c, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
