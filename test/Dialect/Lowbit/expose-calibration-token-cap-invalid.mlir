// RUN: quant-opt %s --lowbit-expose-calibration=token-cap=-2 -verify-diagnostics

// The cap is a multiple of a squared norm: negative values are refused.
// expected-error @+1 {{lowbit-expose-calibration: token-cap must be finite and >= 0, got -2}}
module {
  func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    %c = lowbit.calibrate %x site "s" collect <hessian> : tensor<4x8xf32>
    return %c : tensor<4x8xf32>
  }
}
