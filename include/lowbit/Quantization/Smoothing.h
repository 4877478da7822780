//===- Smoothing.h - Smoothing scales (AWQ, SmoothQuant) -----*- C++ -*-===//
//
// The numerical core of lowbit-smooth, free of MLIR. The linear layers of a
// group read one input X (K channels); a scale s > 0 per channel rewrites
//
//   X W = (X diag(1/s)) (diag(s) W)
//
// exactly, the producer of X absorbing 1/s. What changes is what rounding
// does to diag(s) W: channels with large activations get larger weights,
// hence finer steps relative to their effect on the output.
//
//   AWQ (Lin et al., 2024): s = a^alpha / sqrt(max(a^alpha) min(a^alpha)),
//     a the activation scale of each channel, alpha in [0, 1) chosen on a
//     grid (alpha = i / grid) to minimise the group's output error after
//     rounding, sum over layers of tr(dW^T H dW), dW the error of the
//     effective weight diag(1/s) Q(diag(s) W) and H = X^T X / rows. alpha = 0
//     is s = 1 (no smoothing), so the search never does worse on the
//     calibration statistics than not smoothing (on the columns it
//     measures: at most 256 per layer by default, evenly spaced, which
//     keeps the search a few seconds per model). Lowbit's statistics keep
//     the mean of x, not of |x|: a = sqrt(H_jj), the channel's RMS, stands
//     in for AWQ's mean |x_j|.
//   SmoothQuant (Xiao et al., 2023): s = max|x_j|^alpha / max|w_j|^(1-alpha),
//     max|w_j| over the group's weights of input j. alpha is searched on
//     the same grid, with s = 1 (no smoothing) as one more candidate, to
//     minimise the group's modelled output error with int8 activations: the
//     weights' rounding error as for AWQ plus the activations' rounding
//     error. The int8 kernels round each row's block of B channels to
//     symmetric codes with step max|x_block| / 127, so channel j carries
//     noise of variance E[max_block x'^2] / (12 * 127^2) (x' = x / s), which
//     reaches the output through the weight row s_j w_j. E[max_block x'^2]
//     is estimated from the Hessian's diagonal m_j = H_jj / s_j^2 as
//     max(max_j m_j, 2 ln(B) mean_j m_j): one dominant channel, or B
//     comparable ones (the expected maximum of B squared Gaussians). A
//     fixed alpha (the pass option) skips the search, as in the paper
//     (0.5 there).
//
// Dead channels (a statistic of 0, or below 1e-5 of the group's largest) are
// floored at 1e-5 of the largest, so s stays finite and positive.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_SMOOTHING_H
#define LOWBIT_QUANTIZATION_SMOOTHING_H

#include "lowbit/Quantization/WeightQuantizer.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit::quant {

enum class SmoothMethod { AWQ, SmoothQuant };

/// "awq" or "smoothquant"; std::nullopt for anything else.
std::optional<SmoothMethod> parseSmoothMethod(llvm::StringRef name);
llvm::StringRef stringifySmoothMethod(SmoothMethod method);

/// The relative floor of a channel statistic (of the group's largest).
constexpr double kSmoothStatFloor = 1e-5;

struct SmoothOptions {
  SmoothMethod method = SmoothMethod::AWQ;
  /// Fixed alpha in [0, 1]; negative: search the grid.
  double alpha = -1.0;
  /// The grid: alpha = i / grid for i = 0 .. grid - 1.
  int64_t grid = 20;
  /// SmoothQuant: the activations' rounding, symmetric `activationBits`
  /// codes per row and block of `activationBlock` channels (0: all K).
  int64_t activationBits = 8;
  int64_t activationBlock = 0;
  /// The quantizer the error is measured with (round to nearest).
  WeightScheme scheme;
  /// AWQ's search measures the error on at most this many output columns
  /// of each layer, evenly spaced (0: all); the reported errors use all.
  int64_t searchColumns = 256;
  /// AWQ followed by GPTQ: the searched scale is kept only if GPTQ (with
  /// these options, on the search columns) leaves a smaller error with it
  /// than without. Unset: round to nearest follows.
  std::optional<GptqOptions> gptq;
};

/// One layer of a group: its weight, K x N row-major.
struct SmoothLayer {
  llvm::ArrayRef<float> weight;
  int64_t n = 0;
};

struct SmoothResult {
  std::vector<float> scale; // K, finite and > 0
  double alpha = 0.0;
  /// The group's relative output error after rounding,
  /// sqrt(sum tr(dW^T H dW) / sum tr(W^T H W)), without and with `scale`
  /// (SmoothQuant: with the modelled activation rounding error added to
  /// the numerator).
  double errorBefore = 0.0, errorAfter = 0.0;
  /// False when the search kept s = 1 (SmoothQuant; AWQ when the GPTQ
  /// check rejected the scale). AWQ's grid choice of s = 1 reports alpha 0.
  bool smoothed = true;
  /// With `SmoothOptions::gptq`: GPTQ's relative error on the search
  /// columns without and with the searched scale (negative: not measured).
  double gptqErrorBefore = -1.0, gptqErrorAfter = -1.0;
  int64_t flooredChannels = 0; // dead channels given the floor
};

/// The smoothing scale of a group of layers reading K channels with
/// statistics `hessian` (K x K, X^T X / rows) and `absMax` (K; SmoothQuant
/// only, may be empty for AWQ). std::nullopt with `error` set on bad input.
std::optional<SmoothResult>
searchSmoothingScale(llvm::ArrayRef<SmoothLayer> layers, int64_t k,
                     llvm::ArrayRef<double> hessian,
                     llvm::ArrayRef<float> absMax, const SmoothOptions &options,
                     std::string &error);

} // namespace mlir::lowbit::quant

#endif // LOWBIT_QUANTIZATION_SMOOTHING_H
