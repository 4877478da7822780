// RUN: quant-opt %s --lowbit-cpu-emit-c-interface | FileCheck %s
// RUN: quant-opt %s --lowbit-cpu-emit-c-interface=entry=other | FileCheck %s --check-prefix=OTHER
// RUN: not quant-opt %s --lowbit-cpu-emit-c-interface=entry=nope 2>&1 | FileCheck %s --check-prefix=ENTRY

// The entry gets the C interface and loses its interface attributes (the
// manifest records them); other functions are left alone.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.*}}: tensor<4xi8>) -> tensor<4xi8>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @other
// CHECK-SAME: {onnx.name = "z"}
// CHECK-NOT: llvm.emit_c_interface

// OTHER-LABEL: func.func @main
// OTHER-SAME: lowbit.unsigned
// OTHER-NOT: llvm.emit_c_interface
// OTHER-LABEL: func.func @other
// OTHER-SAME: attributes {llvm.emit_c_interface}

// ENTRY: error: no entry function @nope
func.func @main(%x: tensor<4xi8> {onnx.name = "x", lowbit.unsigned}) -> (tensor<4xi8> {onnx.name = "y", lowbit.unsigned}) {
  return %x : tensor<4xi8>
}

func.func @other(%z: tensor<4xf32> {onnx.name = "z"}) -> tensor<4xf32> {
  return %z : tensor<4xf32>
}
