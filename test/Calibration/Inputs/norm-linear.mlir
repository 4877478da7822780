// A norm tail and two linear layers on 8 channels: h = x * g (an RMSNorm's
// weight), fc1 reads h, fc2 reads fc1's output. lowbit-smooth folds fc1's
// scale into g and fc2's into fc1's output columns. Weights inline; layers
// are named by their locations.
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @main(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x8xf32> {onnx.name = "y"}) {
  %g = arith.constant dense<[0.628, 0.855, 1.702, 1.373, 0.641, 1.150, 1.219, 0.740]> : tensor<8xf32>
  %w1 = arith.constant dense<[[-0.4326, 1.6615, 0.1129, -0.1763, -0.1406, -0.3340, -0.5276, -0.1954], [0.2410, -0.1193, 0.4789, -0.0999, 0.0121, 0.7729, 0.2726, -0.2526], [-0.0914, 0.2703, 0.9675, -0.1348, -0.1218, 0.5012, -0.4432, -0.1459], [0.4413, 0.2902, 0.0458, 0.3351, -1.4141, 0.5107, -0.4798, -0.8343], [0.1382, 0.3503, -0.2224, -0.5382, 0.0131, -0.0264, 0.7028, 0.3737], [0.0969, 0.5558, -0.1028, -0.4629, 0.2920, 0.2913, -0.1074, -0.3914], [0.1146, -1.2469, 0.3451, 0.2457, -0.8194, 0.0307, -0.4820, 0.3786], [-1.0171, -0.4572, 0.3548, 0.5782, -1.0790, -0.2490, 0.1640, -0.3046]]> : tensor<8x8xf32>
  %w2 = arith.constant dense<[[0.7953, -0.5956, 0.1773, -0.5242, 0.7030, -0.0108, -0.1861, -0.8591], [0.8409, 0.3764, 0.3768, 0.5689, 0.1746, -0.3196, -0.4001, -0.4001], [0.6850, -0.7302, -0.2982, -0.1606, 0.1123, 0.2877, -0.6245, -0.8650], [-0.0022, 0.6068, 0.3785, 0.1078, -0.1586, 0.1466, -0.1217, 0.4086], [-0.3972, 0.0671, -0.0554, 0.2717, 0.1123, 1.2750, 0.7493, 0.7484], [-1.0198, -0.1702, -0.3043, 0.2664, -1.1395, 0.5872, 0.5335, -0.6510], [-0.4893, -0.4006, 0.0216, 0.3205, 1.0239, -0.0987, 0.3838, 0.0777], [0.8800, 0.3711, 0.6843, -0.5388, -0.0961, -0.4069, 0.7525, 0.3288]]> : tensor<8x8xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %g : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %h1 = linalg.matmul ins(%h, %w1 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc1")
  %y = linalg.matmul ins(%h1, %w2 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc2")
  return %y : tensor<4x8xf32>
}
