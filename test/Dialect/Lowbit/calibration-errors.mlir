// RUN: quant-opt %s --split-input-file --lowbit-expose-calibration -verify-diagnostics
// RUN: not quant-opt %s --lowbit-attach-calibration=file=%t.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: printf 'not stats' > %t.bad
// RUN: not quant-opt %s --lowbit-attach-calibration=file=%t.bad 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not quant-opt %s --lowbit-attach-calibration 2>&1 | FileCheck %s --check-prefix=NOFILE

// MISSING: error: lowbit-attach-calibration: {{.*}}.missing: cannot read
// BAD: error: lowbit-attach-calibration: {{.*}}.bad: not a Lowbit calibration statistics file
// NOFILE: error: lowbit-attach-calibration: no file= given

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
