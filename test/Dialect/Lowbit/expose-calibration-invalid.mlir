// RUN: quant-opt %s --split-input-file --lowbit-expose-calibration -verify-diagnostics

// The instrumented run needs channels last and static shapes.
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{lowbit-expose-calibration: calibration site 's' needs a static f32 tensor with channels last}}
  %c = lowbit.calibrate %x site "s" collect <hessian> {axis = 0 : i64} : tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{lowbit-expose-calibration: no entry function 'main'}}
module {
  func.func @other(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}
