//===- Smoothing.cpp - Smoothing scales (AWQ, SmoothQuant) ------*- C++ -*-===//

#include "lowbit/Quantization/Smoothing.h"

#include "llvm/ADT/STLExtras.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

using namespace mlir::lowbit;
using namespace mlir::lowbit::quant;

namespace {
using MatrixF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using RowF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Floors `stat` at kSmoothStatFloor of its largest value; returns how many
/// entries were raised. All zero: all ones.
int64_t floorStatistic(std::vector<double> &stat) {
  double top = 0.0;
  for (double v : stat)
    top = std::max(top, v);
  if (!(top > 0.0)) {
    std::fill(stat.begin(), stat.end(), 1.0);
    return static_cast<int64_t>(stat.size());
  }
  double floor = top * kSmoothStatFloor;
  int64_t raised = 0;
  for (double &v : stat)
    if (!(v >= floor)) {
      v = floor;
      ++raised;
    }
  return raised;
}

/// The group's error measure: sum over layers of tr(dW^T H dW) for the
/// effective weight diag(1/s) Q(diag(s) W), on every output column or on
/// at most `maxColumns` of each layer, evenly spaced (rounding is per output
/// column, so a column's error does not depend on the others).
class GroupError {
public:
  GroupError(llvm::ArrayRef<SmoothLayer> layers, int64_t k,
             llvm::ArrayRef<double> hessian, const WeightScheme &scheme,
             int64_t maxColumns = 0)
      : k(k), scheme(scheme), hessian(hessian) {
    h.resize(k, k);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h(i, j) = static_cast<float>(hessian[i * k + j]);
    for (const SmoothLayer &l : layers) {
      int64_t stride = maxColumns > 0 && l.n > maxColumns
                           ? (l.n + maxColumns - 1) / maxColumns
                           : 1;
      int64_t n = (l.n + stride - 1) / stride;
      RowF w(k, n);
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < n; ++j)
          w(i, j) = l.weight[i * l.n + j * stride];
      weights.push_back(std::move(w));
      columnShare.push_back(static_cast<double>(l.n) / n);
    }
  }

  /// sum tr(W^T H W): the output energy the error is relative to.
  double energy() const {
    double total = 0.0;
    for (const RowF &w : weights)
      total += w.cwiseProduct(h * w).cast<double>().sum();
    return total;
  }

  /// The error on the measured columns.
  double operator()(llvm::ArrayRef<float> s) const { return sum(s, false); }

  /// The error on all columns, extrapolated from the measured ones.
  double estimate(llvm::ArrayRef<float> s) const { return sum(s, true); }

  /// GPTQ's error on the measured columns with scale `s`: each layer's
  /// diag(s) W quantized by GPTQ on the Hessian of X diag(1/s). std::nullopt
  /// when GPTQ refuses that Hessian.
  std::optional<double> gptq(llvm::ArrayRef<float> s,
                             const GptqOptions &options) const {
    std::vector<double> scaledHessian(k * k);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        scaledHessian[i * k + j] =
            hessian[i * k + j] / (static_cast<double>(s[i]) * s[j]);
    double total = 0.0;
    for (const RowF &w : weights) {
      int64_t n = w.cols();
      RowF scaled =
          Eigen::Map<const Eigen::VectorXf>(s.data(), k).asDiagonal() * w;
      GptqReport report;
      std::string error;
      std::optional<QuantizedWeight> q =
          quantizeGptq(llvm::ArrayRef<float>(scaled.data(), k * n), k, n,
                       scaledHessian, scheme, options, report, error);
      if (!q)
        return std::nullopt;
      total += residual(w, s, q->dequantize(scheme));
    }
    return total;
  }

private:
  double sum(llvm::ArrayRef<float> s, bool extrapolate) const {
    double total = 0.0;
    for (auto [w, share] : llvm::zip_equal(weights, columnShare)) {
      int64_t n = w.cols();
      RowF scaled =
          Eigen::Map<const Eigen::VectorXf>(s.data(), k).asDiagonal() * w;
      std::vector<float> q =
          quantizeRtn(llvm::ArrayRef<float>(scaled.data(), k * n), k, n, scheme)
              .dequantize(scheme);
      total += residual(w, s, q) * (extrapolate ? share : 1.0);
    }
    return total;
  }

  /// tr(D^T H D) for D = diag(1/s) q - W, q the dequantized diag(s) W.
  double residual(const RowF &w, llvm::ArrayRef<float> s,
                  const std::vector<float> &q) const {
    int64_t n = w.cols();
    RowF d(k, n);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j)
        d(i, j) = q[i * n + j] / s[i] - w(i, j);
    return d.cwiseProduct(h * d).cast<double>().sum();
  }

  int64_t k;
  const WeightScheme &scheme;
  llvm::ArrayRef<double> hessian; // K x K, as given
  MatrixF h;
  std::vector<RowF> weights;       // K x n' each (row-major: RTN's layout)
  std::vector<double> columnShare; // n / n' of each layer
};

/// The output error that rounding X diag(1/s) to symmetric `bits`-bit codes
/// per row and block adds to the group (see Smoothing.h): the sum over
/// channels of the rounding noise's variance times |s_j w_j|^2.
class ActivationError {
public:
  ActivationError(llvm::ArrayRef<SmoothLayer> layers, int64_t k,
                  llvm::ArrayRef<double> hessian, int64_t bits, int64_t block)
      : block(block > 0 ? block : k), meanSquare(k), rowEnergy(k, 0.0) {
    double q = std::ldexp(1.0, static_cast<int>(bits) - 1) - 1.0;
    noisePerSquare = 1.0 / (12.0 * q * q);
    for (int64_t j = 0; j < k; ++j)
      meanSquare[j] = std::max(hessian[j * k + j], 0.0);
    for (const SmoothLayer &l : layers)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < l.n; ++c)
          rowEnergy[j] += static_cast<double>(l.weight[j * l.n + c]) *
                          l.weight[j * l.n + c];
  }

  double operator()(llvm::ArrayRef<float> s) const {
    int64_t k = static_cast<int64_t>(meanSquare.size());
    double total = 0.0;
    for (int64_t b = 0; b < k; b += block) {
      int64_t e = std::min(k, b + block);
      double top = 0.0, sum = 0.0, energy = 0.0;
      for (int64_t j = b; j < e; ++j) {
        double sj = s[j];
        double m = meanSquare[j] / (sj * sj);
        top = std::max(top, m);
        sum += m;
        energy += sj * sj * rowEnergy[j];
      }
      int64_t n = e - b;
      double maxSquare =
          std::max(top, 2.0 * std::log(static_cast<double>(n)) * sum / n);
      total += maxSquare * noisePerSquare * energy;
    }
    return total;
  }

private:
  int64_t block;
  double noisePerSquare;
  std::vector<double> meanSquare; // H_jj
  std::vector<double> rowEnergy;  // sum over the group of |w_j|^2
};

/// sqrt(error / energy): the relative output error (0 without energy).
double relativeToEnergy(double error, double energy) {
  return energy > 0.0 && error >= 0.0 ? std::sqrt(error / energy) : 0.0;
}

/// a^alpha normalized by sqrt(max * min) (AWQ).
std::vector<float> awqScale(const std::vector<double> &a, double alpha) {
  std::vector<double> s(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    s[i] = std::pow(a[i], alpha);
  auto [lo, hi] = std::minmax_element(s.begin(), s.end());
  double norm = std::sqrt(*lo * *hi);
  std::vector<float> out(s.size());
  for (size_t i = 0; i < s.size(); ++i)
    out[i] = static_cast<float>(s[i] / norm);
  return out;
}

} // namespace

std::optional<SmoothMethod> quant::parseSmoothMethod(llvm::StringRef name) {
  if (name == "awq")
    return SmoothMethod::AWQ;
  if (name == "smoothquant")
    return SmoothMethod::SmoothQuant;
  return std::nullopt;
}

llvm::StringRef quant::stringifySmoothMethod(SmoothMethod method) {
  return method == SmoothMethod::AWQ ? "awq" : "smoothquant";
}

std::optional<SmoothResult>
quant::searchSmoothingScale(llvm::ArrayRef<SmoothLayer> layers, int64_t k,
                            llvm::ArrayRef<double> hessian,
                            llvm::ArrayRef<float> absMax,
                            const SmoothOptions &options, std::string &error) {
  if (layers.empty() || k <= 0) {
    error = "no layers to smooth";
    return std::nullopt;
  }
  if (static_cast<int64_t>(hessian.size()) != k * k) {
    error = "the Hessian has " + std::to_string(hessian.size()) +
            " entries, K x K = " + std::to_string(k * k);
    return std::nullopt;
  }
  for (double v : hessian)
    if (!std::isfinite(v)) {
      error = "the Hessian has non-finite entries";
      return std::nullopt;
    }
  for (const SmoothLayer &l : layers) {
    if (l.n <= 0 || static_cast<int64_t>(l.weight.size()) != k * l.n) {
      error = "a weight is not K x N";
      return std::nullopt;
    }
    for (float w : l.weight)
      if (!std::isfinite(w)) {
        error = "a weight has non-finite values";
        return std::nullopt;
      }
  }
  std::string why = options.scheme.check(k);
  if (!why.empty()) {
    error = why;
    return std::nullopt;
  }
  if (options.alpha > 1.0 || std::isnan(options.alpha)) {
    error = "alpha = " + std::to_string(options.alpha) + " is outside [0, 1]";
    return std::nullopt;
  }

  SmoothResult result;
  // The search measures on at most searchColumns columns per layer; the
  // errors reported are on all of them.
  GroupError full(layers, k, hessian, options.scheme);
  GroupError search(layers, k, hessian, options.scheme, options.searchColumns);
  double energy = full.energy();
  auto relative = [&](double e) { return relativeToEnergy(e, energy); };
  std::vector<float> ones(k, 1.0f);
  result.errorBefore = relative(full(ones));

  if (options.method == SmoothMethod::AWQ) {
    std::vector<double> a(k);
    for (int64_t i = 0; i < k; ++i)
      a[i] = std::sqrt(std::max(hessian[i * k + i], 0.0));
    result.flooredChannels = floorStatistic(a);
    if (options.alpha >= 0.0) {
      result.alpha = options.alpha;
      result.scale = awqScale(a, options.alpha);
      result.errorAfter = relative(full(result.scale));
      return result;
    }
    if (options.grid < 1) {
      error = "the alpha grid needs at least one point";
      return std::nullopt;
    }
    // alpha = 0 (s = 1) is the baseline already measured.
    double best = search(ones);
    result.scale = ones;
    for (int64_t i = 1; i < options.grid; ++i) {
      double alpha = static_cast<double>(i) / options.grid;
      std::vector<float> s = awqScale(a, alpha);
      double e = search(s);
      if (e < best) {
        best = e;
        result.scale = std::move(s);
        result.alpha = alpha;
      }
    }
    result.errorAfter =
        result.alpha == 0.0 ? result.errorBefore : relative(full(result.scale));
    if (result.errorAfter > result.errorBefore) { // the columns misled it
      result.scale = ones;
      result.alpha = 0.0;
      result.errorAfter = result.errorBefore;
    }
    if (options.gptq && result.alpha != 0.0) {
      // GPTQ follows: keep the scale only if GPTQ gains from it too. A
      // Hessian GPTQ refuses leaves the choice to RTN's error (the GPTQ
      // pass reports that Hessian itself); the errors stay unmeasured.
      std::optional<double> without = search.gptq(ones, *options.gptq);
      std::optional<double> with = search.gptq(result.scale, *options.gptq);
      if (without && with) {
        double searchEnergy = search.energy();
        result.gptqErrorBefore = relativeToEnergy(*without, searchEnergy);
        result.gptqErrorAfter = relativeToEnergy(*with, searchEnergy);
        if (!(*with < *without)) {
          result.scale = ones;
          result.alpha = 0.0;
          result.smoothed = false;
          result.errorAfter = result.errorBefore;
        }
      }
    }
    return result;
  }

  // SmoothQuant.
  if (static_cast<int64_t>(absMax.size()) != k) {
    error = "smoothquant needs the channels' abs_max statistic";
    return std::nullopt;
  }
  if (options.activationBits < 2 || options.activationBits > 8 ||
      options.activationBlock < 0) {
    error = "the activations' rounding needs 2-8 bits and a block >= 0";
    return std::nullopt;
  }
  std::vector<double> x(absMax.begin(), absMax.end()), w(k, 0.0);
  for (const SmoothLayer &l : layers)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < l.n; ++j)
        w[i] = std::max<double>(w[i], std::fabs(l.weight[i * l.n + j]));
  result.flooredChannels = floorStatistic(x);
  floorStatistic(w);
  auto scaleOf = [&](double alpha) {
    std::vector<float> scale(k);
    for (int64_t i = 0; i < k; ++i)
      scale[i] = static_cast<float>(std::pow(x[i], alpha) /
                                    std::pow(w[i], 1.0 - alpha));
    return scale;
  };
  ActivationError activation(layers, k, hessian, options.activationBits,
                             options.activationBlock);
  result.errorBefore = relative(full(ones) + activation(ones));
  if (options.alpha >= 0.0) {
    result.alpha = options.alpha;
    result.scale = scaleOf(options.alpha);
    result.errorAfter = relative(full(result.scale) + activation(result.scale));
    return result;
  }
  if (options.grid < 1) {
    error = "the alpha grid needs at least one point";
    return std::nullopt;
  }
  // s = 1 first: a tie keeps the model as it is.
  double best = search.estimate(ones) + activation(ones);
  result.scale = ones;
  result.smoothed = false;
  for (int64_t i = 0; i < options.grid; ++i) {
    double alpha = static_cast<double>(i) / options.grid;
    std::vector<float> s = scaleOf(alpha);
    double e = search.estimate(s) + activation(s);
    if (e < best) {
      best = e;
      result.scale = std::move(s);
      result.alpha = alpha;
      result.smoothed = true;
    }
  }
  result.errorAfter =
      result.smoothed ? relative(full(result.scale) + activation(result.scale))
                      : result.errorBefore;
  if (result.errorAfter > result.errorBefore) { // the columns misled it
    result.scale = ones;
    result.alpha = 0.0;
    result.smoothed = false;
    result.errorAfter = result.errorBefore;
  }
  return result;
}
