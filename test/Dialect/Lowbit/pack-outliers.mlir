// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=4 tile=2" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=8 int8-activations=1 int8-max-bits=4" | FileCheck %s --check-prefix=INT8
// RUN: quant-opt %s --split-input-file --lowbit-pack="gpu=1" | FileCheck %s --check-prefix=GPU

// Outliers (csr over the K rows) go into a third array beside the codes:
// N = 3 in tiles of 2 pads to 4 columns, so words 0..4 are the offsets of
// each column's run (5, 7, 7, 8 and the end, 8), then one word per
// outlier, (k << 16) | f16 bits, by column and k: column 0 holds k = 4
// (1.0 = 0x3C00) and k = 31 (0.5 = 0x3800), column 2 k = 1 (-2.0 =
// 0xC000); 16 zero words of padding.
// CHECK-LABEL: func.func @csr
// CHECK: %[[OUT:.*]] = arith.constant dense_resource<[[OBLOB:.*]]> : tensor<24xi32>
// CHECK: lowbit.packed_matmul ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[OUT]] : tensor<1x32xf32>, tensor<64xi8>, tensor<4xf32>, tensor<24xi32>) outs(%{{.*}} : tensor<1x3xf32>) layout(<bits = 4, k = 32, n = 3, lanes = 4, tile = 2, group = 32, signed, outliers = 3>)
// CHECK-NOT: lowbit.matmul
// CHECK: [[OBLOB]]: "0x040000000500000007000000070000000800000008000000003C040000381F0000C0010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
// The GPU layouts take the same array (N = 3 in one tile of 8 columns:
// offsets 9, 11, 11, 12 and 12 for the 5 columns past N).
// GPU-LABEL: func.func @csr
// GPU: lowbit.packed_matmul {{.*}} tensor<28xi32>) outs({{.*}}) layout(<bits = 4, k = 32, n = 3, lanes = 128, tile = 8, group = 32, signed, gpu, mma, outliers = 3>)
// GPU-NOT: lowbit.matmul
// GPU: "0x04000000090000000B0000000B0000000C0000000C0000000C0000000C0000000C0000000C000000003C040000381F0000C0010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
!q = !lowbit.qtensor<32x3xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>, outliers = #lowbit.outliers<csr, nnz = 3, f16>>
func.func @csr(%x: tensor<1x32xf32>) -> tensor<1x3xf32> {
  %codes = arith.constant dense<1> : tensor<32x3xi4>
  %s = arith.constant dense<[[0.5, 0.25, 1.0]]> : tensor<1x3xf32>
  %rows = arith.constant dense<[0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3]> : tensor<33xi32>
  %cols = arith.constant dense<[2, 0, 0]> : tensor<3xi32>
  %vals = arith.constant dense<[-2.0, 1.0, 0.5]> : tensor<3xf16>
  %w = lowbit.pack %codes, %s, %rows, %cols, %vals : !q
  %y = lowbit.matmul %x, %w {lowbit.layer = "o"} : tensor<1x32xf32>, !q -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

// coo coordinates of a weight stored N x K (transpose_weight): (n, k) =
// (1, 3) and (0, 17), sorted by column: offsets 3, 4, 5, then column 0's
// k = 17 (1.0) and column 1's k = 3 (-1.0 = 0xBC00).
// int8 activations take them too (the sparse part multiplies the same
// rounded activations).
// INT8-LABEL: func.func @coo_transposed
// INT8: lowbit.packed_matmul {{.*}} layout(<bits = 4, k = 32, n = 2, lanes = 8, tile = 4, group = 128, signed, int8, outliers = 2>)
// CHECK-LABEL: func.func @coo_transposed
// CHECK: layout(<bits = 4, k = 32, n = 2, lanes = 4, tile = 2, group = 0, signed, outliers = 2>)
// CHECK: "0x04000000030000000400000005000000003C110000BC0300000000
!qt = !lowbit.qtensor<2x32xf32, #lowbit.scheme<int4, sym, channel, axis = 0, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 2, f16>>
func.func @coo_transposed(%x: tensor<1x32xf32>) -> tensor<1x2xf32> {
  %codes = arith.constant dense<1> : tensor<2x32xi4>
  %s = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %idx = arith.constant dense<[[1, 3], [0, 17]]> : tensor<2x2xi32>
  %vals = arith.constant dense<[-1.0, 1.0]> : tensor<2xf16>
  %w = lowbit.pack %codes, %s, %idx, %vals : !qt
  %y = lowbit.matmul %x, %w transpose_weight : tensor<1x32xf32>, !qt -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Values the kernels do not take keep the reference lowering: f32 outliers
// (the packed form stores f16) and non-finite f16 ones.
// CHECK-LABEL: func.func @unpacked
// CHECK-NOT: lowbit.packed_matmul
// CHECK: lowbit.matmul
// CHECK: lowbit.matmul
!qf = !lowbit.qtensor<32x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 1, f32>>
!qh = !lowbit.qtensor<32x1xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>, outliers = #lowbit.outliers<coo, nnz = 1, f16>>
func.func @unpacked(%x: tensor<1x32xf32>) -> (tensor<1x1xf32>, tensor<1x1xf32>) {
  %codes = arith.constant dense<1> : tensor<32x1xi4>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %idx = arith.constant dense<[[3, 0]]> : tensor<1x2xi32>
  %vf = arith.constant dense<[1.5]> : tensor<1xf32>
  %vh = arith.constant dense<[0x7C00]> : tensor<1xf16>
  %wf = lowbit.pack %codes, %s, %idx, %vf : !qf
  %wh = lowbit.pack %codes, %s, %idx, %vh : !qh
  %yf = lowbit.matmul %x, %wf : tensor<1x32xf32>, !qf -> tensor<1x1xf32>
  %yh = lowbit.matmul %x, %wh : tensor<1x32xf32>, !qh -> tensor<1x1xf32>
  return %yf, %yh : tensor<1x1xf32>, tensor<1x1xf32>
}
