// RUN: quant-opt %s --split-input-file --lowbit-cpu-number-constant-globals | FileCheck %s

// Bufferization's constant globals are renamed by first use and moved to
// the top in that order; other globals keep their names and places.
// CHECK-LABEL: module
// CHECK-NEXT: memref.global "private" constant @__constant_0 : memref<2xi8> = dense<[1, 2]>
// CHECK-NEXT: memref.global "private" constant @__constant_1 : memref<2xf32> = dense<[3.000000e+00, 4.000000e+00]>
// CHECK-NEXT: memref.global "private" constant @__constant_2 : memref<1xf32> = dense<5.000000e+00>
// CHECK-NEXT: memref.global "private" constant @table
// CHECK-LABEL: func.func @main
// CHECK: memref.get_global @__constant_0 : memref<2xi8>
// CHECK: memref.get_global @__constant_1 : memref<2xf32>
// CHECK: memref.get_global @table
// CHECK-LABEL: func.func private @kernel
// CHECK: memref.get_global @__constant_1 : memref<2xf32>
module {
  memref.global "private" constant @__constant_2xf32_3 : memref<2xf32> = dense<[3.0, 4.0]>
  memref.global "private" constant @table : memref<2xf32> = dense<[7.0, 8.0]>
  memref.global "private" constant @__constant_1xf32 : memref<1xf32> = dense<5.0>
  memref.global "private" constant @__constant_2xi8_0 : memref<2xi8> = dense<[1, 2]>
  func.func @main() -> (memref<2xi8>, memref<2xf32>, memref<2xf32>) {
    %a = memref.get_global @__constant_2xi8_0 : memref<2xi8>
    %b = memref.get_global @__constant_2xf32_3 : memref<2xf32>
    %t = memref.get_global @table : memref<2xf32>
    return %a, %b, %t : memref<2xi8>, memref<2xf32>, memref<2xf32>
  }
  func.func private @kernel() -> memref<2xf32> {
    %b = memref.get_global @__constant_2xf32_3 : memref<2xf32>
    return %b : memref<2xf32>
  }
}

// -----

// Names that clash with the new ones are renamed through temporaries: the
// global first used, @__constant_1, becomes @__constant_0 and the other
// @__constant_1.
// CHECK-LABEL: module
// CHECK-NEXT: memref.global "private" constant @__constant_0 : memref<1xi8> = dense<8>
// CHECK-NEXT: memref.global "private" constant @__constant_1 : memref<1xi8> = dense<9>
// CHECK: memref.get_global @__constant_0 : memref<1xi8>
// CHECK-NEXT: memref.get_global @__constant_1 : memref<1xi8>
module {
  memref.global "private" constant @__constant_1 : memref<1xi8> = dense<8>
  memref.global "private" constant @__constant_0 : memref<1xi8> = dense<9>
  func.func @main() -> (memref<1xi8>, memref<1xi8>) {
    %a = memref.get_global @__constant_1 : memref<1xi8>
    %b = memref.get_global @__constant_0 : memref<1xi8>
    return %a, %b : memref<1xi8>, memref<1xi8>
  }
}
