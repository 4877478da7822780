// RUN: not quant-opt %s --lowbit-outline-weights=entry=nope 2>&1 | FileCheck %s
// RUN: not quant-opt %s --lowbit-outline-kernels=entry=nope 2>&1 | FileCheck %s

// The entry function must exist.
// CHECK: error: no entry function @nope
func.func @main() {
  return
}
