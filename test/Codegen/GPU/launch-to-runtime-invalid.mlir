// RUN: quant-opt %s --split-input-file --lowbit-gpu-launch-to-runtime --verify-diagnostics

module attributes {gpu.container_module} {
  func.func @dynamic_grid(%n: index, %x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{grid and block sizes must be constants}}
    gpu.launch_func @k::@f blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
  gpu.module @k {
    gpu.func @f(%x: memref<4xf32>) kernel attributes {lowbit.arg_roles = ["out"]} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @no_roles(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{kernel 'f' has no lowbit.arg_roles for its arguments}}
    gpu.launch_func @k::@f blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
  gpu.module @k {
    gpu.func @f(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @strided(%x: memref<4xf32, strided<[2]>>) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{kernel arguments must be contiguous, statically shaped memrefs, got 'memref<4xf32, strided<[2]>>'}}
    gpu.launch_func @k::@f blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32, strided<[2]>>)
    return
  }
  gpu.module @k {
    gpu.func @f(%x: memref<4xf32, strided<[2]>>) kernel attributes {lowbit.arg_roles = ["in"]} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @shared(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : i32
    // expected-error @+1 {{dynamic shared memory and async launches are not supported by the Lowbit runtime}}
    gpu.launch_func @k::@f blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) dynamic_shared_memory_size %c64 args(%x : memref<4xf32>)
    return
  }
  gpu.module @k {
    gpu.func @f(%x: memref<4xf32>) kernel attributes {lowbit.arg_roles = ["in"]} {
      gpu.return
    }
  }
}
