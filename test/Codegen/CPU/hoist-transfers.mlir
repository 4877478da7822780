// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-cpu-hoist-transfers))' | FileCheck %s

// A register tile's accumulator read and written at the same place in every
// iteration of the K loop becomes a value the loop carries: one read before
// it, one write after it.
// CHECK-LABEL: func.func @accumulator
// CHECK: %[[INIT:.*]] = vector.transfer_read %[[C:[a-z0-9]+]][%{{.*}}, %{{.*}}]
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (vector<8xf32>)
// CHECK-NOT: vector.transfer_read %[[C]]
// CHECK:   %[[NEXT:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[ACC]]
// CHECK-NOT: vector.transfer_write
// CHECK:   scf.yield %[[NEXT]]
// CHECK: vector.transfer_write %[[SUM]], %[[C]]
func.func @accumulator(%a: memref<16xf32>, %b: memref<16x8xf32>, %c: memref<1x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c16 step %c1 {
    %acc = vector.transfer_read %c[%c0, %c0], %pad {in_bounds = [true]} : memref<1x8xf32>, vector<8xf32>
    %x = memref.load %a[%k] : memref<16xf32>
    %xb = vector.broadcast %x : f32 to vector<8xf32>
    %w = vector.transfer_read %b[%k, %c0], %pad {in_bounds = [true]} : memref<16x8xf32>, vector<8xf32>
    %r = vector.fma %xb, %w, %acc : vector<8xf32>
    vector.transfer_write %r, %c[%c0, %c0] {in_bounds = [true]} : vector<8xf32>, memref<1x8xf32>
  }
  return
}

// -----

// A loop that may run zero times keeps its transfers (hoisting would read
// and write the accumulator even when the loop does not).
// CHECK-LABEL: func.func @maybe_empty
// CHECK: scf.for
// CHECK:   vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}]
// CHECK:   vector.transfer_write
func.func @maybe_empty(%n: index, %c: memref<1x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %n step %c1 {
    %acc = vector.transfer_read %c[%c0, %c0], %pad {in_bounds = [true]} : memref<1x8xf32>, vector<8xf32>
    %r = arith.addf %acc, %acc : vector<8xf32>
    vector.transfer_write %r, %c[%c0, %c0] {in_bounds = [true]} : vector<8xf32>, memref<1x8xf32>
  }
  return
}
