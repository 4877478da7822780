//===- CalibrationStats.h - Statistics of calibration sites -----*- C++ -*-===//
//
// What calibration collects per `lowbit.calibrate` site, accumulated over
// runs (f64 sums), saved to and loaded from a statistics file, and attached
// to the IR as the `lowbit.stats` attribute the quantization passes read.
//
// File format (little-endian): the 8 bytes "LBCALIB1", a u64 header length,
// a JSON header {"format": 1, "model": ..., "samples": S, "sites": [{"name",
// "channels", "rows"}...]}, zero padding to a multiple of 8, then per site in
// header order: abs_max, min, max, mean (C x f32 each) and the Hessian
// X^T X / rows (C x C f32).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_CALIBRATIONSTATS_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_CALIBRATIONSTATS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

struct SiteStats {
  std::string name;
  int64_t channels = 0;
  int64_t rows = 0;
  std::vector<float> absMax, min, max;
  std::vector<double> sum;     // per channel
  std::vector<double> hessian; // C x C, sum over rows of x x^T

  explicit SiteStats(std::string name = "", int64_t channels = 0);
  /// Adds one run: per-channel reductions over `runRows` rows and that
  /// run's X^T X (f32, C x C).
  void accumulate(int64_t runRows, const float *runAbsMax, const float *runMin,
                  const float *runMax, const float *runSum,
                  const float *runHessian);
};

struct CalibrationStats {
  std::string model;   // the model the statistics were collected on
  int64_t samples = 0; // calibration runs
  std::vector<SiteStats> sites;

  const SiteStats *find(llvm::StringRef name) const;
  llvm::Error save(llvm::StringRef path) const;
  /// Loads and checks a file; errors name the file and the reason.
  static llvm::Expected<CalibrationStats> load(llvm::StringRef path);
  /// load() of a file whose bytes are `data`; errors name `path`.
  static llvm::Expected<CalibrationStats> parse(llvm::StringRef data,
                                                llvm::StringRef path);
};

/// Sets `lowbit.stats` on every `lowbit.calibrate` of `module` from `stats`;
/// fails (with a diagnostic naming the site and `source`) if a site is
/// missing or its channel count differs.
LogicalResult attachStatistics(ModuleOp module, const CalibrationStats &stats,
                               llvm::StringRef source);

/// The `name` statistic (abs_max, min, max, mean: one value per channel)
/// of the site feeding `input`; empty if `input` is not a calibrated
/// `lowbit.calibrate` or the site lacks it.
std::vector<float> getInputStatistic(Value input, llvm::StringRef name);

/// LLM.int8()-style activation outlier channels of a layer: those whose
/// calibrated abs-max exceeds `threshold`, at most kMaxActivationOutlierShare
/// of them (at least one; the largest first; outliers are meant to be rare:
/// where most channels exceed the threshold, as in some MLP down projections,
/// only the largest are kept apart), in increasing order.
constexpr double kMaxActivationOutlierShare = 1.0 / 32;
llvm::SmallVector<int64_t>
selectActivationOutlierChannels(llvm::ArrayRef<float> absMax, double threshold);

/// The normalized Hessian (X^T X / rows, K x K) of the site feeding `input`,
/// if `input` is a calibrated `lowbit.calibrate`.
std::optional<std::vector<double>> getInputHessian(Value input);

} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_CALIBRATIONSTATS_H
