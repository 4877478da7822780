// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=8 int8-activations=1 int8-max-bits=4 int8-outlier-threshold=6" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=8 int8-activations=1 int8-max-bits=4" | FileCheck %s --check-prefix=OFF
// RUN: quant-opt %s --split-input-file --lowbit-pack="lanes=8 int8-outlier-threshold=6" | FileCheck %s --check-prefix=OFF

// LLM.int8()-style activation outlier channels: channels 1 and 63, whose
// calibrated abs-max (7.0, 9.5) exceeds 6, are zeroed in the input of the
// int8 matmul (a select by a constant i8 mask), gathered (x[..., C]) and
// multiplied by the dequantized rows 1 and 63 of the weight (codes 1 times
// the scales 0.5, 0.25, 1.0) in an f32 linalg.matmul added to the result.
// CHECK-LABEL: func.func @split
// CHECK: %[[SITE:.*]] = lowbit.calibrate
// CHECK: %[[KEEP:.*]] = arith.constant dense<[1, 0, 1{{.*}}, 1, 0]> : tensor<64xi8>
// CHECK: %[[MASKED:.*]] = linalg.generic {{.*}} ins(%[[SITE]], %[[KEEP]] : tensor<1x2x64xf32>, tensor<64xi8>)
// CHECK: arith.cmpi ne
// CHECK: arith.select
// CHECK: %[[IDX:.*]] = arith.constant dense<[1, 63]> : tensor<2xi32>
// CHECK: %[[GATHERED:.*]] = linalg.generic
// CHECK: tensor.extract %[[IDX]]
// CHECK: tensor.extract %[[SITE]]
// CHECK: %[[ROWS:.*]] = arith.constant dense_resource<[[ROWBLOB:.*]]> : tensor<6xf32>
// CHECK: %[[SIDE:.*]] = linalg.matmul
// CHECK: %[[SIDE3:.*]] = tensor.expand_shape %[[SIDE]]
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[MASKED]]
// CHECK: %[[Y:.*]] = lowbit.packed_matmul ins(%[[X2]], {{.*}} layout(<{{.*}}int8>) {{.*}}lowbit.activation_outliers = 2 : i64
// CHECK: %[[Y3:.*]] = tensor.expand_shape %[[Y]]
// CHECK: %[[SUM:.*]] = linalg.add ins(%[[Y3]], %[[SIDE3]] : tensor<1x2x3xf32>, tensor<1x2x3xf32>)
// CHECK: return %[[SUM]]
// CHECK: [[ROWBLOB]]: "0x040000000000003F0000803E0000803F0000003F0000803E0000803F"
// Without the threshold, or without int8 activations: no split.
// OFF-LABEL: func.func @split
// OFF-NOT: linalg.matmul
// OFF-NOT: activation_outliers
!q = !lowbit.qtensor<64x3xf32, #lowbit.scheme<int4, sym, group = 64, axis = 0, scale = f32>>
func.func @split(%x: tensor<1x2x64xf32>) -> tensor<1x2x3xf32> {
  %xc = lowbit.calibrate %x site "l0.in" collect <abs_max> {lowbit.stats = {abs_max = dense<[1.0, 7.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 9.5]> : tensor<64xf32>}} : tensor<1x2x64xf32>
  %codes = arith.constant dense<1> : tensor<64x3xi4>
  %s = arith.constant dense<[[0.5, 0.25, 1.0]]> : tensor<1x3xf32>
  %w = lowbit.pack %codes, %s : !q
  %y = lowbit.matmul %xc, %w {lowbit.layer = "l0"} : tensor<1x2x64xf32>, !q -> tensor<1x2x3xf32>
  return %y : tensor<1x2x3xf32>
}

// -----

// Prefill (more rows than the kernels take): the same split, the int8
// rounding (lowbit.fake_quant) on the masked input.
// CHECK-LABEL: func.func @prefill
// CHECK: %[[MASKED:.*]] = linalg.generic
// CHECK: linalg.matmul
// CHECK: %[[R:.*]] = lowbit.fake_quant %[[MASKED]]
// CHECK: lowbit.matmul %[[R]]
// CHECK: linalg.add
!p = !lowbit.qtensor<64x3xf32, #lowbit.scheme<int4, sym, group = 64, axis = 0, scale = f32>>
func.func @prefill(%x: tensor<20x64xf32>) -> tensor<20x3xf32> {
  %xc = lowbit.calibrate %x site "l1.in" collect <abs_max> {lowbit.stats = {abs_max = dense<[1.0, 7.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 9.5]> : tensor<64xf32>}} : tensor<20x64xf32>
  %codes = arith.constant dense<1> : tensor<64x3xi4>
  %s = arith.constant dense<[[0.5, 0.25, 1.0]]> : tensor<1x3xf32>
  %w = lowbit.pack %codes, %s : !p
  %y = lowbit.matmul %xc, %w : tensor<20x64xf32>, !p -> tensor<20x3xf32>
  return %y : tensor<20x3xf32>
}

// -----

// No statistics on the input (not a calibrated site): no split.
// CHECK-LABEL: func.func @uncalibrated
// CHECK-NOT: linalg.matmul
// CHECK: lowbit.packed_matmul
// CHECK-NOT: activation_outliers
!u = !lowbit.qtensor<64x3xf32, #lowbit.scheme<int4, sym, group = 64, axis = 0, scale = f32>>
func.func @uncalibrated(%x: tensor<1x64xf32>) -> tensor<1x3xf32> {
  %codes = arith.constant dense<1> : tensor<64x3xi4>
  %s = arith.constant dense<[[0.5, 0.25, 1.0]]> : tensor<1x3xf32>
  %w = lowbit.pack %codes, %s : !u
  %y = lowbit.matmul %x, %w : tensor<1x64xf32>, !u -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
