// RUN: quant-opt %s --split-input-file --convert-lowbit-to-gpu --lowbit-gpu-launch-to-runtime | FileCheck %s

// Each launch: the aligned pointers of its arguments in an array, and a
// call of the runtime with the kernel's number in the launch table. Two
// launches of one kernel share its entry.
// CHECK: module attributes {gpu.container_module, lowbit.gpu_kernels = [{arg_bytes = [1024, 512, 128, 32], arg_roles = ["in", "const", "const", "out"], name = "gemv_w4_m8_k32_n1", reference = #lowbit.packed<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, signed, gpu>, sizes = array<i64: 1, 1, 1, 128, 1, 1>}]}
// CHECK: func.func private @lowbit_gpu_launch(i64, index)
// CHECK-LABEL: func.func @two
// CHECK-SAME: (%[[X:.*]]: memref<8x32xf32>, %[[C:.*]]: memref<512xi8>, %[[P:.*]]: memref<32xf32>, %[[Y:.*]]: memref<8x1xf32>, %[[Y2:.*]]: memref<8x1xf32>)
// CHECK-NOT: gpu.launch_func
// CHECK: %[[ARGS:.*]] = memref.alloca() : memref<4xindex>
// CHECK: %[[XP:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: memref.store %[[XP]], %[[ARGS]][%c0{{.*}}]
// CHECK: memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: memref.extract_aligned_pointer_as_index %[[P]]
// CHECK: %[[YP:.*]] = memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: memref.store %[[YP]], %[[ARGS]][%c3{{.*}}]
// CHECK: %[[AP:.*]] = memref.extract_aligned_pointer_as_index %[[ARGS]]
// CHECK: %[[ID:.*]] = arith.constant 0 : i64
// CHECK: call @lowbit_gpu_launch(%[[ID]], %[[AP]]) : (i64, index) -> ()
// CHECK: memref.extract_aligned_pointer_as_index %[[Y2]]
// CHECK: call @lowbit_gpu_launch(%{{.*}}, %{{.*}}) : (i64, index) -> ()
// CHECK: gpu.module @lowbit_kernels
func.func @two(%x: memref<8x32xf32>, %c: memref<512xi8>, %p: memref<32xf32>, %y: memref<8x1xf32>, %y2: memref<8x1xf32>) {
  lowbit.packed_matmul ins(%x, %c, %p : memref<8x32xf32>, memref<512xi8>, memref<32xf32>) outs(%y : memref<8x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, signed, gpu>)
  lowbit.packed_matmul ins(%x, %c, %p : memref<8x32xf32>, memref<512xi8>, memref<32xf32>) outs(%y2 : memref<8x1xf32>) layout(<bits = 4, k = 32, n = 1, lanes = 128, tile = 1, group = 32, signed, gpu>)
  return
}
