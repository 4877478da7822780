// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// Positive steps: extract_slice with offsets and sizes clamped at run time.
// CHECK-LABEL: func.func @slice
// CHECK: arith.ceildivsi
// CHECK: tensor.extract_slice %arg0[%{{.*}}, 0] [%{{.*}}, 4] [2, 1]
func.func @slice(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %s = arith.constant dense<1> : tensor<1xi64>
  %e = arith.constant dense<9223372036854775807> : tensor<1xi64>
  %a = arith.constant dense<0> : tensor<1xi64>
  %st = arith.constant dense<2> : tensor<1xi64>
  %0 = onnx.node "Slice"(%x, %s, %e, %a, %st) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<?x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Negative steps gather: x[offset + i * step], here (folded) x[4 - i].
// CHECK-LABEL: func.func @slice_reverse
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = arith.subi %c4, %[[I]] : index
// CHECK: tensor.extract %arg0[%[[J]]]
func.func @slice_reverse(%x: tensor<5xf32>) -> tensor<5xf32> {
  %s = arith.constant dense<-1> : tensor<1xi64>
  %e = arith.constant dense<-9223372036854775807> : tensor<1xi64>
  %a = arith.constant dense<0> : tensor<1xi64>
  %st = arith.constant dense<-1> : tensor<1xi64>
  %0 = onnx.node "Slice"(%x, %s, %e, %a, %st) {domain = "", node_name = "", onnx_attrs = {}, opset = 13 : i64} : (tensor<5xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// CHECK-LABEL: func.func @cumsum
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%[[OUT:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}})
// CHECK: %[[X:.*]] = tensor.extract_slice %arg0
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<2xf32>) outs(%[[ACC]] : tensor<2xf32>)
// CHECK: tensor.insert_slice
func.func @cumsum(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %a = arith.constant dense<0> : tensor<i64>
  %0 = onnx.node "CumSum"(%x, %a) {domain = "", node_name = "", onnx_attrs = {}, opset = 14 : i64} : (tensor<3x2xf32>, tensor<i64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}
