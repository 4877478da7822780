// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2" | FileCheck %s
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2 include=up_proj" | FileCheck %s --check-prefix=INCLUDE
// RUN: quant-opt %s --split-input-file --lowbit-quantize-rtn="bits=4 group-size=2 exclude=" | FileCheck %s --check-prefix=ALL

// The contractions ONNX MatMul and Gemm(transB) become: a 3-D activation
// times a K x N weight, and times an N x K weight. Layers are named after
// their weight constants; embeddings and output heads are left alone by
// default.
// CHECK-LABEL: func.func @onnx_linear
// CHECK: lowbit.matmul %{{.*}}, %{{.*}} {lowbit.layer = "model.layers.0.mlp.up_proj.weight", lowbit.method = "rtn"
// CHECK-SAME: : tensor<1x3x4xf32>, !lowbit.qtensor<4x2xf32, #lowbit.scheme<int4, sym, group = 2, axis = 0, scale = f32>> -> tensor<1x3x2xf32>
// The transposed (N x K) weight is stored K x N, groups still along K.
// CHECK: lowbit.matmul %{{.*}}, %{{.*}} {lowbit.layer = "model.layers.0.mlp.down_proj.weight"
// CHECK-SAME: !lowbit.qtensor<4x2xf32, #lowbit.scheme<int4, sym, group = 2, axis = 0, scale = f32>> -> tensor<1x3x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x3x4xf32>, tensor<4x2xf32>)
// CHECK-NOT: lowbit.matmul

// INCLUDE-LABEL: func.func @onnx_linear
// INCLUDE-COUNT-1: lowbit.matmul
// INCLUDE-NOT: lowbit.matmul

// ALL-LABEL: func.func @onnx_linear
// ALL-COUNT-3: lowbit.matmul
// ALL: lowbit.layer = "lm_head.weight"

#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#rhsT = affine_map<(b, m, n, k) -> (n, k)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @onnx_linear(%x: tensor<1x3x4xf32>) -> (tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>) {
  %up = arith.constant dense_resource<"model.layers.0.mlp.up_proj.weight"> : tensor<4x2xf32>
  %down = arith.constant dense_resource<"model.layers.0.mlp.down_proj.weight"> : tensor<2x4xf32>
  %head = arith.constant dense_resource<"lm_head.weight"> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x3x2xf32>) -> tensor<1x3x2xf32>
  %y0 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %up : tensor<1x3x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x3x2xf32>
  %y1 = linalg.generic {indexing_maps = [#lhs, #rhsT, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %down : tensor<1x3x4xf32>, tensor<2x4xf32>) outs(%f : tensor<1x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x3x2xf32>
  %y2 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %head : tensor<1x3x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x3x2xf32>
  return %y0, %y1, %y2 : tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      "model.layers.0.mlp.up_proj.weight": "0x040000000000803F000000C00000003F000080400000E0C000006040000000000000803E",
      "model.layers.0.mlp.down_proj.weight": "0x040000000000803F0000003F0000E0C0000000000000C0BF0000804000006040000080BE",
      "lm_head.weight": "0x040000000000803F000000C00000003F000080400000E0C000006040000000000000803E"
    }
  }
#-}
