// RUN: quant-opt %s --split-input-file --convert-onnx-to-core | FileCheck %s

// MatMulInteger: uint8 A minus its scalar zero point, int8 B minus one zero
// point per column, widened to i32 (extui / extsi), then an exact i32
// contraction.
// CHECK-LABEL: func.func @matmul_integer
// CHECK: linalg.generic
// CHECK:   arith.extui %{{.*}} : i8 to i32
// CHECK:   arith.extui %{{.*}} : i8 to i32
// CHECK:   arith.subi
// CHECK: linalg.generic
// CHECK:   arith.extsi %{{.*}} : i8 to i32
// CHECK:   arith.extsi %{{.*}} : i8 to i32
// CHECK:   arith.subi
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:   arith.muli
// CHECK:   arith.addi
// CHECK: -> tensor<2x3xi32>
func.func @matmul_integer(%a: tensor<2x4xui8>, %b: tensor<4x3xi8>, %za: tensor<ui8>, %zb: tensor<3xi8>) -> tensor<2x3xi32> {
  %0 = onnx.node "MatMulInteger"(%a, %b, %za, %zb) {domain = "", node_name = "mmi", onnx_attrs = {}, opset = 10 : i64} : (tensor<2x4xui8>, tensor<4x3xi8>, tensor<ui8>, tensor<3xi8>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// -----

// DynamicQuantizeLinear: min and max from 0 in one reduction, then the
// rank-0 scale (1 when the range is empty) and zero point, then the
// elementwise rounding.
// CHECK-LABEL: func.func @dynamic_quantize
// CHECK: %[[RANGE:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK:   arith.minnumf
// CHECK:   arith.maxnumf
// CHECK: %[[P:.*]]:3 = linalg.generic {{.*}} ins(%[[RANGE]]#0, %[[RANGE]]#1 : tensor<f32>, tensor<f32>)
// CHECK:   arith.cmpf oeq
// CHECK:   arith.select
// CHECK:   math.roundeven
// CHECK:   arith.fptoui
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[P]]#0, %[[P]]#1 : tensor<3x5xf32>, tensor<f32>, tensor<f32>)
// CHECK:   arith.divf
// CHECK:   math.roundeven
// CHECK: return {{.*}} : tensor<3x5xi8>, tensor<f32>, tensor<i8>
func.func @dynamic_quantize(%x: tensor<3x5xf32>) -> (tensor<3x5xui8>, tensor<f32>, tensor<ui8>) {
  %y:3 = onnx.node "DynamicQuantizeLinear"(%x) {domain = "", node_name = "dq", onnx_attrs = {}, opset = 11 : i64} : (tensor<3x5xf32>) -> (tensor<3x5xui8>, tensor<f32>, tensor<ui8>)
  return %y#0, %y#1, %y#2 : tensor<3x5xui8>, tensor<f32>, tensor<ui8>
}

// -----

// QLinearMatMul: the i32 product, then float(acc) * (a_scale * b_scale /
// y_scale), rounded half to even, plus y's zero point, clamped to int8.
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:   arith.muli
// CHECK: linalg.generic
// CHECK:   %[[M:.*]] = arith.mulf
// CHECK:   arith.divf %[[M]]
// CHECK:   arith.sitofp %{{.*}} : i32 to f32
// CHECK:   arith.sitofp %{{.*}} : i8 to f32
// CHECK:   math.roundeven
// CHECK:   arith.fptosi %{{.*}} : f32 to i8
func.func @qlinear_matmul(%a: tensor<2x4xi8>, %sa: tensor<f32>, %za: tensor<i8>, %b: tensor<4x3xi8>, %sb: tensor<3xf32>, %zb: tensor<3xi8>, %sy: tensor<f32>, %zy: tensor<i8>) -> tensor<2x3xi8> {
  %0 = onnx.node "QLinearMatMul"(%a, %sa, %za, %b, %sb, %zb, %sy, %zy) {domain = "", node_name = "qmm", onnx_attrs = {}, opset = 10 : i64} : (tensor<2x4xi8>, tensor<f32>, tensor<i8>, tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
  return %0 : tensor<2x3xi8>
}
