//===- Sensitivity.h - How much each layer's error matters ------*- C++ -*-===//
//
// The layer importance the bit allocation weighs errors with, measured on
// the calibration data: the model with sensitivity probes
// (lowbit-insert-sensitivity-probes) is compiled once and run per sample
// with no layer perturbed and with each layer alone quantized (RTN at the
// probe's scheme); a layer's importance is the relative change of the
// model's outputs, sum (y_i - y)^2 / sum y^2, over the relative output
// error of its perturbation on the calibration Hessian. To first order the
// model's output change is then importance x the relative error of any
// scheme of that layer.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CALIBRATION_SENSITIVITY_H
#define LOWBIT_CALIBRATION_SENSITIVITY_H

#include "lowbit/Calibration/Calibrate.h"

namespace mlir::lowbit {

struct SensitivityOptions {
  int64_t samples = 2;          // calibration samples run (L + 1 runs each)
  int32_t threads = 0;          // 0: all cores
  std::string workDir;          // where the probe artifact is written
  std::string include, exclude; // the layers (as the allocation's)
  int64_t minSize = 1;
  bool progress = false;
};

/// Measures every selected layer's importance on `data` and records it on
/// the layer as `lowbit.sensitivity = {importance, output_change,
/// probe_error}`. `module` must hold the calibration statistics (the
/// probes' errors are relative to them); it is otherwise unchanged.
LogicalResult measureSensitivity(ModuleOp module, const CalibrationData &data,
                                 const SensitivityOptions &options,
                                 raw_ostream &log);

} // namespace mlir::lowbit

#endif // LOWBIT_CALIBRATION_SENSITIVITY_H
