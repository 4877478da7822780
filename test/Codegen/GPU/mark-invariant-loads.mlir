// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(lowbit-gpu-mark-invariant-loads))' | FileCheck %s

// Every load in Lowbit's kernel module becomes invariant (ld.global.nc);
// stores are left alone.
// CHECK-LABEL: gpu.module @lowbit_kernels
// CHECK: llvm.load %{{.*}} invariant : !llvm.ptr -> f32
// CHECK: llvm.load %{{.*}} invariant : !llvm.ptr -> vector<4xf32>
// CHECK: llvm.store
module attributes {gpu.container_module} {
  gpu.module @lowbit_kernels {
    llvm.func @k(%p: !llvm.ptr, %q: !llvm.ptr) {
      %a = llvm.load %p : !llvm.ptr -> f32
      %v = llvm.load %q : !llvm.ptr -> vector<4xf32>
      llvm.store %a, %q : f32, !llvm.ptr
      llvm.return
    }
  }
}

// -----

// Other gpu.modules may read what they write: untouched.
// CHECK-LABEL: gpu.module @other
// CHECK-NOT: invariant
module attributes {gpu.container_module} {
  gpu.module @other {
    llvm.func @k(%p: !llvm.ptr) {
      %a = llvm.load %p : !llvm.ptr -> f32
      llvm.store %a, %p : f32, !llvm.ptr
      llvm.return
    }
  }
}
