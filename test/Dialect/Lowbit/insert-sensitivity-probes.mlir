// RUN: quant-opt %s --split-input-file --lowbit-insert-sensitivity-probes=entry=two_layers | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-insert-sensitivity-probes="entry=two_layers include=linear.1" | FileCheck %s --check-prefix=ONE
// RUN: not quant-opt %s --split-input-file --lowbit-insert-sensitivity-probes 2>&1 | FileCheck %s --check-prefix=ENTRY

// Each layer's result becomes y + p[i] * (x D_i), D_i its 3-bit RTN error
// (per channel here: K = 8 < 128), p the new last argument; the
// calibration sites are dropped. Both layers have the same relative probe
// error (the same weights; H = 100 I and I).
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>, %[[P:.*]]: tensor<2xf32> {onnx.name = "lowbit:probe"})
// CHECK-NOT: lowbit.calibrate
// CHECK: %[[Y0:.*]] = linalg.matmul {lowbit.probe = {error = [[E:.*]] : f64, index = 0 : i64}} ins(%[[X]], %[[W0:.*]] :
// CHECK: %[[Z0:.*]] = linalg.matmul ins(%[[X]], %[[D0:.*]] :
// CHECK: %[[S0:.*]] = tensor.extract %[[P]][%{{.*}}] : tensor<2xf32>
// CHECK: %[[R0:.*]] = linalg.generic {{.*}} ins(%[[Y0]], %[[Z0]], %[[S0]] : tensor<3x2xf32>, tensor<3x2xf32>, f32)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.matmul {lowbit.probe = {error = [[E]] : f64, index = 1 : i64}}
// CHECK: %[[R1:.*]] = linalg.generic
// CHECK: return %[[R0]], %[[R1]]
// CHECK: linear.0.probe: "0x04000000CDCCCCBDD0CC4CBC

// ONE-LABEL: func.func @two_layers
// ONE-SAME: tensor<1xf32> {onnx.name = "lowbit:probe"}
// ONE: linalg.matmul ins(
// ONE: linalg.matmul {lowbit.probe = {error = {{.*}}, index = 0 : i64}}

// ENTRY: error: lowbit-insert-sensitivity-probes: no entry function 'main'
func.func @two_layers(%x: tensor<3x8xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %ca = lowbit.calibrate %x site "a" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0]]> : tensor<8x8xf32>}} : tensor<3x8xf32>
  %wa = arith.constant dense<[[0.1, 0.2], [0.15, -0.1], [0.9, 0.05], [-0.12, 0.11], [0.08, -0.75], [0.1, 0.1], [-0.05, 0.02], [0.13, -0.14]]> : tensor<8x2xf32>
  %ya = linalg.matmul ins(%ca, %wa : tensor<3x8xf32>, tensor<8x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  %cb = lowbit.calibrate %x site "b" collect <hessian> {lowbit.stats = {rows = 3 : i64, hessian = dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<8x8xf32>}} : tensor<3x8xf32>
  %wb = arith.constant dense<[[0.1, 0.2], [0.15, -0.1], [0.9, 0.05], [-0.12, 0.11], [0.08, -0.75], [0.1, 0.1], [-0.05, 0.02], [0.13, -0.14]]> : tensor<8x2xf32>
  %yb = linalg.matmul ins(%cb, %wb : tensor<3x8xf32>, tensor<8x2xf32>) outs(%f : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %ya, %yb : tensor<3x2xf32>, tensor<3x2xf32>
}
