// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: %lowbit_python -c "import numpy as np; np.save('%t/x.npy', np.random.default_rng(0).standard_normal((16, 4, 8)).astype(np.float32))"
// RUN: quant-compile %s -o %t/art --method=rtn --bits=4 --group=4 --calib=%t/x.npy --calib-cache=%t/stats.lbcal --quiet
// RUN: quant-opt %s --lowbit-insert-calibration --lowbit-attach-calibration=file=%t/stats.lbcal | FileCheck %s
// RUN: quant-opt %s --lowbit-insert-calibration --lowbit-attach-calibration=file=%t/stats.lbcal --lowbit-gptq="bits=4 group-size=4" | FileCheck %s --check-prefix=GPTQ
// RUN: not quant-opt %s --lowbit-insert-calibration --lowbit-attach-calibration=file=%t.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: printf 'not stats' > %t/bad
// RUN: not quant-opt %s --lowbit-insert-calibration --lowbit-attach-calibration=file=%t/bad 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not quant-opt %s --lowbit-attach-calibration 2>&1 | FileCheck %s --check-prefix=NOFILE

// The statistics of a real calibration run (16 samples of 4 rows) attach to
// the site they were collected at: rows, samples, per-channel abs-max,
// min, max, mean and the 8 x 8 Hessian, as resource blobs.
// CHECK-LABEL: func.func @main
// CHECK: lowbit.calibrate %{{.*}} site "fc1:in" collect <abs_max, min_max, mean, hessian>
// CHECK-SAME: lowbit.stats = {abs_max = dense_resource<"calib.fc1:in.abs_max"> : tensor<8xf32>,
// CHECK-SAME: hessian = dense_resource<"calib.fc1:in.hessian"> : tensor<8x8xf32>,
// CHECK-SAME: rows = 64 : i64, samples = 16 : i64}
// CHECK: linalg.matmul

// GPTQ then finds its Hessian on the IR alone.
// GPTQ: lowbit.matmul {{.*}} {lowbit.calibration_site = "fc1:in", lowbit.layer = "fc1", lowbit.method = "gptq"

// MISSING: error: lowbit-attach-calibration: {{.*}}.missing: cannot read
// BAD: error: lowbit-attach-calibration: {{.*}}bad: not a Lowbit calibration statistics file
// NOFILE: error: lowbit-attach-calibration: no file= given
func.func @main(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x8xf32> {onnx.name = "y"}) {
  %w = arith.constant dense<[[0.0006, 0.1494, -0.1371, -0.4453, -0.2273, -0.4958, 0.0301, 0.6701], [-0.2461, -0.3102, 0.2449, 0.1784, 0.0527, -0.4652, -0.0146, 0.3477], [-0.6721, -0.2288, -0.9506, -0.6448, -0.9209, -0.1175, -0.6337, 0.1356], [0.0784, -0.0935, -1.2584, -0.2693, -0.0243, 0.0567, -0.7651, -0.2389], [-0.4893, -0.4044, 0.5304, -0.4038, -0.0163, 0.4422, -0.2918, -0.0559], [0.0552, 0.0319, -0.6125, 0.0381, 0.6794, -0.7736, 0.4297, 0.0597], [-0.3207, 1.0002, 0.3811, -0.5996, 0.0373, 0.2883, -0.0944, 0.3415], [-0.0333, 0.3336, 0.7193, -0.3378, 0.1016, -0.2317, 0.0636, -0.5936]]> : tensor<8x8xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc1")
  return %y : tensor<4x8xf32>
}
