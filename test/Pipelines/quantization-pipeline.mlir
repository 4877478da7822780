// RUN: rm -rf %t && mkdir -p %t
// RUN: printf 'method: rtn\nbits: 4\ngroup: 4\nrules:\n  - match: fc2\n    bits: 8\n' > %t/r.yaml
// RUN: quant-opt %s --lowbit-quantization-pipeline="recipe=%t/r.yaml" | FileCheck %s
// RUN: quant-opt %s --pass-pipeline="builtin.module(lowbit-quantization-pipeline{recipe=%t/r.yaml})" --mlir-print-ir-before-all 2>&1 >/dev/null | FileCheck %s --check-prefix=PASSES
// RUN: not quant-opt %s --lowbit-quantization-pipeline="recipe=%t/missing.yaml" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: printf 'method: rtm\n' > %t/bad.yaml
// RUN: not quant-opt %s --lowbit-quantization-pipeline="recipe=%t/bad.yaml" 2>&1 | FileCheck %s --check-prefix=BAD

// A recipe compiles to one pass per rule, then one for the rest: fc2 at
// 8 bits, fc1 at 4, both in groups of 4.
// CHECK-LABEL: func.func @main
// CHECK: lowbit.matmul {{.*}} {lowbit.layer = "fc1", lowbit.method = "rtn"
// CHECK-SAME: #lowbit.scheme<int4, sym, group = 4
// CHECK: lowbit.matmul {{.*}} {lowbit.layer = "fc2", lowbit.method = "rtn"
// CHECK-SAME: #lowbit.scheme<int8, sym, group = 4

// PASSES: IR Dump Before LowbitQuantizeRtnPass (lowbit-quantize-rtn)
// PASSES: IR Dump Before LowbitQuantizeRtnPass (lowbit-quantize-rtn)

// MISSING: missing.yaml: cannot read
// BAD: method 'rtm' is not rtn, gptq or none
func.func @main(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x8xf32> {onnx.name = "y"}) {
  %w1 = arith.constant dense<[[0.0006, 0.1494, -0.1371, -0.4453, -0.2273, -0.4958, 0.0301, 0.6701], [-0.2461, -0.3102, 0.2449, 0.1784, 0.0527, -0.4652, -0.0146, 0.3477], [-0.6721, -0.2288, -0.9506, -0.6448, -0.9209, -0.1175, -0.6337, 0.1356], [0.0784, -0.0935, -1.2584, -0.2693, -0.0243, 0.0567, -0.7651, -0.2389], [-0.4893, -0.4044, 0.5304, -0.4038, -0.0163, 0.4422, -0.2918, -0.0559], [0.0552, 0.0319, -0.6125, 0.0381, 0.6794, -0.7736, 0.4297, 0.0597], [-0.3207, 1.0002, 0.3811, -0.5996, 0.0373, 0.2883, -0.0944, 0.3415], [-0.0333, 0.3336, 0.7193, -0.3378, 0.1016, -0.2317, 0.0636, -0.5936]]> : tensor<8x8xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc1")
  %y = linalg.matmul ins(%h, %w1 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc2")
  return %y : tensor<4x8xf32>
}
