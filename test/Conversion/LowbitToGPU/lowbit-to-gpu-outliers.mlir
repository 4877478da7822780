// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu --canonicalize --cse | FileCheck %s

// Outliers on the split-K GEMV of an `mma` layout: the outlier array is
// the kernel's 4th argument (a constant). After the K loop, the 16 threads
// of a column (warp w, t = lane % 4) take entries 4 w + t, + 16, ... of the
// column's run: one word load, k = word >> 16, the low half an f16, and
// per row a load of x[r, k] and a multiply-add; the sums join element 0 of
// the rows' accumulators before the shuffles and the workgroup reduction.
// CHECK-LABEL: func.func @mma_gemv
// CHECK: gpu.launch_func @lowbit_kernels::@gemv_w4_m2_k196_n6 {{.*}} args(%arg0 : memref<2x196xf32>, %arg1 : memref<1024xi8>, %arg2 : memref<64xf32>, %arg3 : memref<28xi32>, %arg4 : memref<2x6xf32>)
// CHECK: gpu.func @gemv_w4_m2_k196_n6(%[[X:.*]]: memref<2x196xf32>, %{{.*}}: memref<1024xi8>, %{{.*}}: memref<64xf32>, %[[O:.*]]: memref<28xi32>, %[[Y:.*]]: memref<2x6xf32>) workgroup({{.*}}) kernel attributes {{{.*}}lowbit.arg_roles = ["in", "const", "const", "const", "out"], lowbit.reference = #lowbit.packed<{{.*}}, gpu, mma, outliers = 3>}
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %c32
// CHECK: scf.for %{{.*}} = %[[WARP]] to %c1 step %c4
// CHECK: %[[W4:.*]] = arith.muli %[[WARP]], %c4 : index
// CHECK: %[[FIRST:.*]] = arith.addi %[[W4]], %{{.*}} : index
// CHECK: %[[COL:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[B:.*]] = memref.load %[[O]][%[[COL]]] : memref<28xi32>
// CHECK: %[[BI:.*]] = arith.index_castui %[[B]] : i32 to index
// CHECK: %[[LB:.*]] = arith.addi %[[BI]], %[[FIRST]] : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[COL]], %c1 : index
// CHECK: %[[E:.*]] = memref.load %[[O]][%[[NEXT]]] : memref<28xi32>
// CHECK: %[[EI:.*]] = arith.index_castui %[[E]] : i32 to index
// CHECK: %[[SUMS:.*]]:2 = scf.for %[[J:.*]] = %[[LB]] to %[[EI]] step %c16 iter_args(%[[S0:.*]] = %{{.*}}, %[[S1:.*]] = %{{.*}}) -> (f32, f32) {
// CHECK:   %[[WORD:.*]] = memref.load %[[O]][%[[J]]] : memref<28xi32>
// CHECK:   %[[KW:.*]] = arith.shrui %[[WORD]], %c16_i32 : i32
// CHECK:   %[[K:.*]] = arith.index_castui %[[KW]] : i32 to index
// CHECK:   %[[LO:.*]] = arith.trunci %[[WORD]] : i32 to i16
// CHECK:   %[[H:.*]] = arith.bitcast %[[LO]] : i16 to f16
// CHECK:   %[[V:.*]] = arith.extf %[[H]] : f16 to f32
// CHECK:   %[[X0:.*]] = memref.load %[[X]][%c0, %[[K]]] : memref<2x196xf32>
// CHECK:   %[[P0:.*]] = arith.mulf %[[X0]], %[[V]] : f32
// CHECK:   %[[A0:.*]] = arith.addf %[[P0]], %[[S0]] : f32
// CHECK:   %[[X1:.*]] = memref.load %[[X]][%c1, %[[K]]] : memref<2x196xf32>
// CHECK:   %[[P1:.*]] = arith.mulf %[[X1]], %[[V]] : f32
// CHECK:   %[[A1:.*]] = arith.addf %[[P1]], %[[S1]] : f32
// CHECK:   scf.yield %[[A0]], %[[A1]] : f32, f32
// CHECK: }
// CHECK: %[[ACC0:.*]] = vector.extract %{{.*}}[0] : f32 from vector<2xf32>
// CHECK: %[[T0:.*]] = arith.addf %[[ACC0]], %[[SUMS]]#0 : f32
// CHECK: %[[R0:.*]] = vector.insert %[[T0]], %{{.*}} [0] : f32 into vector<2xf32>
// CHECK: vector.reduction <add>, %[[R0]] : vector<2xf32> into f32
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
func.func @mma_gemv(%x: memref<2x196xf32>, %c: memref<1024xi8>, %p: memref<64xf32>, %o: memref<28xi32>, %y: memref<2x6xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p, %o : memref<2x196xf32>, memref<1024xi8>, memref<64xf32>, memref<28xi32>) outs(%y : memref<2x6xf32>) layout(<bits = 4, k = 196, n = 6, lanes = 128, tile = 8, group = 32, signed, gpu, mma, outliers = 3>)
  return
}

// -----

// The `gpu` layout's GEMV (2-bit fields): one warp per column, lane l
// takes entries l, l + 32, ... of the column's run before the butterfly.
// CHECK-LABEL: func.func @gpu_gemv
// CHECK: gpu.func @gemv_w2_m1_k256_n3(%[[X:.*]]: memref<1x256xf32>, %{{.*}}: memref<1536xi8>, %{{.*}}: memref<96xf32>, %[[O:.*]]: memref<22xi32>, %{{.*}}: memref<1x3xf32>)
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK: %[[B:.*]] = memref.load %[[O]][%[[TILE:.*]]] : memref<22xi32>
// CHECK: %[[BI:.*]] = arith.index_castui %[[B]] : i32 to index
// CHECK: %[[LB:.*]] = arith.addi %[[BI]], %[[LANE]] : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[TILE]], %c1 : index
// CHECK: %[[E:.*]] = memref.load %[[O]][%[[NEXT]]] : memref<22xi32>
// CHECK: %[[EI:.*]] = arith.index_castui %[[E]] : i32 to index
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %[[LB]] to %[[EI]] step %c32 iter_args(%{{.*}} = %{{.*}}) -> (f32) {
// CHECK:   arith.extf %{{.*}} : f16 to f32
// CHECK:   memref.load %[[X]][%c0, %{{.*}}] : memref<1x256xf32>
// CHECK: }
// CHECK: %[[A:.*]] = vector.extract %[[ACC:.*]][0] : f32 from vector<4xf32>
// CHECK: %[[T:.*]] = arith.addf %[[A]], %[[SUM]] : f32
// CHECK: %[[R:.*]] = vector.insert %[[T]], %[[ACC]] [0] : f32 into vector<4xf32>
// CHECK: vector.reduction <add>, %[[R]] : vector<4xf32> into f32
// CHECK-COUNT-5: gpu.shuffle xor
func.func @gpu_gemv(%x: memref<1x256xf32>, %c: memref<1536xi8>, %p: memref<96xf32>, %o: memref<22xi32>, %y: memref<1x3xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p, %o : memref<1x256xf32>, memref<1536xi8>, memref<96xf32>, memref<22xi32>) outs(%y : memref<1x3xf32>) layout(<bits = 2, k = 256, n = 3, lanes = 128, tile = 1, group = 64, signed, gpu, outliers = 2>)
  return
}

// -----

// The mma.sync GEMM (40 rows): the stated fallback. Each output inside
// M x N adds its column's whole run before the store (columns col and
// col + 1 of the thread's accumulator pair; col + 1 < tiles * 8, so its
// offsets exist even past N).
// CHECK-LABEL: func.func @mma_gemm
// CHECK: gpu.func @mma_w4_m40_k196_n6(%[[X:.*]]: memref<40x196xf32>, %{{.*}}: memref<1024xi8>, %{{.*}}: memref<64xf32>, %[[O:.*]]: memref<28xi32>, %[[Y:.*]]: memref<40x6xf32>)
// CHECK: mma.sync
// CHECK: %[[PAIR:.*]] = vector.extract %{{.*}}[0] : vector<2xf32> from vector<2x2xf32>
// CHECK: %[[INSIDE:.*]] = arith.andi
// CHECK: scf.if %[[INSIDE]] {
// CHECK:   %[[S0:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args({{.*}}) -> (f32) {
// CHECK:     memref.load %[[X]][%[[ROW:.*]], %{{.*}}] : memref<40x196xf32>
// CHECK:   }
// CHECK:   %[[S1:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args({{.*}}) -> (f32) {
// CHECK:   }
// CHECK:   %[[SUMS:.*]] = vector.from_elements %[[S0]], %[[S1]] : vector<2xf32>
// CHECK:   %[[OUT:.*]] = arith.addf %[[PAIR]], %[[SUMS]] : vector<2xf32>
// CHECK:   vector.store %[[OUT]], %[[Y]][%[[ROW]], %{{.*}}] {alignment = 8 : i64} : memref<40x6xf32>, vector<2xf32>
func.func @mma_gemm(%x: memref<40x196xf32>, %c: memref<1024xi8>, %p: memref<64xf32>, %o: memref<28xi32>, %y: memref<40x6xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p, %o : memref<40x196xf32>, memref<1024xi8>, memref<64xf32>, memref<28xi32>) outs(%y : memref<40x6xf32>) layout(<bits = 4, k = 196, n = 6, lanes = 128, tile = 8, group = 32, signed, gpu, mma, outliers = 3>)
  return
}
