// y = x W for a 4-bit weight (K = 64, N = 6, symmetric, groups of 32
// along K), codes packed into bytes as the quantizer leaves them: the
// smallest model with a quantized matmul, for the GPU artifact tests.
!q = !lowbit.qtensor<64x6xf32, #lowbit.scheme<int4, sym, group = 32, axis = 0, scale = f32>>
func.func @main(%x: tensor<2x64xf32> {onnx.name = "x"}) -> (tensor<2x6xf32> {onnx.name = "y"}) {
  %b = arith.constant dense<"0xC294BA939E5AA5AF95FB49F9C951BCD1EBB39A7E256613DFAF7162A15B2D7C952A3267AA709A61418336BD971EFC44A76D045C5043CFDAFC8FD710C835C26944447B94AE6EBD928BBC83EAC43073BB6777A1BC02D7E8C3180AD3F3F2FEF47E8308073E36A3BF7F2E7E78A34B7E5DA264A4DD8C6C7CC38CB85CEE081E2F509C63C58CD6C8CDB729B7F90EB9866AE260F7E0C6B564A25FEAB13C0C6CBF74FD5D24E5233A28664812BABF0A900D5C407CA2905D0AA8A0AFB08652C0F9DB90ED111E"> : tensor<192xi8>
  %codes = lowbit.unpack_codes %b : tensor<192xi8> -> tensor<64x6xi4>
  %s = arith.constant dense<[[0.027799999341368675, 0.03689999878406525, 0.020800000056624413, 0.042100001126527786, 0.049800001084804535, 0.011500000022351742], [0.010700000450015068, 0.03020000085234642, 0.04910000041127205, 0.03060000017285347, 0.01979999989271164, 0.027899999171495438]]> : tensor<2x6xf32>
  %w = lowbit.pack %codes, %s : !q
  %y = lowbit.matmul %x, %w : tensor<2x64xf32>, !q -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}
