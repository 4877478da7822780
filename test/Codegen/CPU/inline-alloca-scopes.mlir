// RUN: quant-opt %s --split-input-file --lowbit-cpu-inline-alloca-scopes | FileCheck %s

// A scope without an alloca (what convert-scf-to-openmp wraps around
// Lowbit's parallel bodies) is inlined; its results replace its uses.
// CHECK-LABEL: func.func @no_alloca
// CHECK-NOT: memref.alloca_scope
// CHECK: %[[S:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %[[S]]
func.func @no_alloca(%m: memref<4xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %r = memref.alloca_scope -> (f32) {
    %s = arith.addf %x, %x : f32
    memref.alloca_scope.return %s : f32
  }
  memref.store %r, %m[%c0] : memref<4xf32>
  return
}

// -----

// A scope holding an alloca stays: its stack memory is freed at its end.
// CHECK-LABEL: func.func @with_alloca
// CHECK: memref.alloca_scope
// CHECK:   memref.alloca()
func.func @with_alloca(%m: memref<4xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  memref.alloca_scope {
    %t = memref.alloca() : memref<4xf32>
    memref.store %x, %t[%c0] : memref<4xf32>
    %v = memref.load %t[%c0] : memref<4xf32>
    memref.store %v, %m[%c0] : memref<4xf32>
  }
  return
}
