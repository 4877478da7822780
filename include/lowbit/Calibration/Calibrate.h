//===- Calibrate.h - Running a model on calibration data --------*- C++ -*-===//
//
// Calibration in the compiler: the model with its `lowbit.calibrate` sites
// is instrumented (lowbit-expose-calibration), compiled to a native artifact
// and run sample by sample on the calibration data; the per-run statistics
// are accumulated in f64 (CalibrationStats). Memory: the artifact's
// activations for one sample plus the accumulators (C x C f64 per site).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CALIBRATION_CALIBRATE_H
#define LOWBIT_CALIBRATION_CALIBRATE_H

#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Support/Npy.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::lowbit {

/// Calibration inputs: one array per model input, samples along the first
/// dimension.
struct CalibrationData {
  std::string source;
  std::vector<std::pair<std::string, NpyArray>> inputs; // by entry argument
  int64_t samples = 0;
};

/// Reads `path`: a .npy file (models with one input) or a directory with
/// `<input name>.npy` per input. Each array is `[S, ...]` where `...` is the
/// input's shape, or its shape without a leading 1; dtypes must match.
/// Errors name the file, the input and the reason.
FailureOr<CalibrationData> loadCalibrationData(StringRef path, ModuleOp module,
                                               StringRef entry,
                                               std::string &error);

struct CalibrationOptions {
  int64_t maxSamples = 0; // 0: all
  int32_t threads = 0;    // 0: all cores
  std::string target = "host";
  std::string entry = "main";
  std::string workDir;   // where the instrumented artifact is written
  bool progress = false; // a progress bar over the samples on stderr
  double tokenCap = 0.0; // lowbit-expose-calibration token-cap
};

/// Runs calibration on `module` (not modified; it must hold the sites).
FailureOr<CalibrationStats> runCalibration(ModuleOp module,
                                           const CalibrationData &data,
                                           const CalibrationOptions &options,
                                           raw_ostream &log);

} // namespace mlir::lowbit

#endif // LOWBIT_CALIBRATION_CALIBRATE_H
