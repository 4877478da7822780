//===- Gptq.cpp - GPTQ weight quantization ----------------------*- C++ -*-===//
//
// Frantar, Ashkboos, Hoefler, Alistarh: "GPTQ: Accurate Post-Training
// Quantization for Generative Pre-trained Transformers" (ICLR 2023).
//
// Works on the transposed weight Wt (N outputs x K inputs) so that a column
// is one input. With U the upper Cholesky factor of (H + damp I)^-1, columns
// are quantized in order; the error e = (w - q) / U_ii of column i is spread
// over the later columns of its block at once (Wt[:, j] -= e U_ij) and over
// the columns after the block in one matrix product per block ("lazy batch").
// Act-order visits columns by decreasing H_ii; its groups are "static": each
// group's parameters come from the unmodified weight, so the stored layout is
// the same as without reordering.
//
//===----------------------------------------------------------------------===//

#include "GroupFit.h"
#include "lowbit/Quantization/WeightQuantizer.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir::lowbit;
using namespace mlir::lowbit::quant;

namespace {
using MatrixF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using MatrixD =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
} // namespace

std::optional<QuantizedWeight>
quant::quantizeGptq(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                    llvm::ArrayRef<double> hessian, const WeightScheme &scheme,
                    const GptqOptions &options, GptqReport &report,
                    std::string &error) {
  if (static_cast<int64_t>(hessian.size()) != k * k) {
    error = "the Hessian has " + std::to_string(hessian.size()) +
            " entries, K x K = " + std::to_string(k * k);
    return std::nullopt;
  }
  for (double h : hessian)
    if (!std::isfinite(h)) {
      error = "the Hessian has non-finite entries";
      return std::nullopt;
    }
  for (float x : w)
    if (!std::isfinite(x)) {
      error = "the weight has non-finite values";
      return std::nullopt;
    }
  if (options.damp <= 0.0 || options.blockSize <= 0) {
    error = "damp and block size must be positive";
    return std::nullopt;
  }

  // Wt(j, i) = w[i][j]; column i is input i.
  MatrixF wt(n, k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      wt(j, i) = w[i * n + j];
  MatrixD h = Eigen::Map<const MatrixD>(hessian.data(), k, k);
  h = 0.5 * (h + h.transpose()).eval();

  // Inputs never seen non-zero carry no information: their weights are 0.
  report.deadInputs = 0;
  for (int64_t i = 0; i < k; ++i)
    if (h(i, i) <= 0.0) {
      h.row(i).setZero();
      h.col(i).setZero();
      h(i, i) = 1.0;
      wt.col(i).setZero();
      ++report.deadInputs;
    }

  int64_t group = scheme.groupFor(k);
  int64_t numGroups = (k + group - 1) / group;
  // perm[p] = the input quantized p-th.
  std::vector<int64_t> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  if (options.actOrder)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int64_t a, int64_t b) { return h(a, a) > h(b, b); });

  QuantizedWeight r;
  r.k = k;
  r.n = n;
  r.group = group;
  r.codes.resize(k * n);
  r.scales.resize(numGroups * n);
  if (!scheme.symmetric)
    r.zeroPoints.resize(numGroups * n);
  // Outliers: chosen on the weight as given, excluded from the group fits,
  // kept exact (no rounding error to compensate).
  std::vector<uint8_t> outliers;
  if (scheme.outlierFraction > 0.0)
    outliers = selectOutliers(w, k, n, scheme.groupFor(k), hessian,
                              scheme.outlierFraction);
  std::vector<GroupParams> params(numGroups * n);
  std::vector<bool> fitted(numGroups, false);
  auto fit = [&](int64_t g, const MatrixF &from,
                 const std::vector<int64_t> &cols, bool permuted) {
    // cols: the positions in `from` of the group's K indices (`permuted`:
    // quantization order, else the inputs themselves).
    int64_t size = static_cast<int64_t>(cols.size());
    std::vector<float> values(size);
    std::vector<uint8_t> masked(size, 0);
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t t = 0; t < size; ++t) {
        values[t] = from(j, cols[t]);
        if (!outliers.empty())
          masked[t] = outliers[(permuted ? perm[cols[t]] : cols[t]) * n + j];
      }
      GroupParams p =
          outliers.empty()
              ? fitGroup(values.data(), size, 1, scheme)
              : fitGroupExcept(values.data(), masked.data(), size, 1, scheme);
      params[g * n + j] = p;
      r.scales[g * n + j] = p.scale;
      if (!scheme.symmetric)
        r.zeroPoints[g * n + j] = static_cast<uint8_t>(p.zero);
    }
    fitted[g] = true;
  };
  if (options.actOrder) {
    // Static groups: parameters from the weight before any update.
    for (int64_t g = 0; g < numGroups; ++g) {
      std::vector<int64_t> cols(std::min(k, (g + 1) * group) - g * group);
      std::iota(cols.begin(), cols.end(), g * group);
      fit(g, wt, cols, /*permuted=*/false);
    }
  }

  // Permute, dampen and factor.
  MatrixF wp(n, k);
  MatrixD hp(k, k);
  for (int64_t a = 0; a < k; ++a) {
    wp.col(a) = wt.col(perm[a]);
    for (int64_t b = 0; b < k; ++b)
      hp(a, b) = h(perm[a], perm[b]);
  }
  double meanDiag = hp.diagonal().mean();
  double damp = options.damp;
  MatrixF u;
  for (report.retries = 0;; ++report.retries) {
    MatrixD hd = hp;
    hd.diagonal().array() += damp * meanDiag;
    Eigen::LLT<MatrixD> llt(hd);
    bool ok = llt.info() == Eigen::Success;
    if (ok) {
      MatrixD hinv = llt.solve(MatrixD::Identity(k, k));
      hinv = 0.5 * (hinv + hinv.transpose()).eval();
      Eigen::LLT<MatrixD> lltInv(hinv);
      ok = lltInv.info() == Eigen::Success;
      if (ok) {
        MatrixD upper = lltInv.matrixL().transpose();
        ok = upper.allFinite() && (upper.diagonal().array() > 0).all();
        if (ok)
          u = upper.cast<float>();
      }
    }
    if (ok)
      break;
    if (report.retries == 6) {
      error = "the Hessian stays singular with damping " + std::to_string(damp);
      return std::nullopt;
    }
    damp *= 10.0;
  }
  report.damp = damp;

  std::vector<int64_t> groupCols;
  for (int64_t i1 = 0; i1 < k; i1 += options.blockSize) {
    int64_t i2 = std::min(k, i1 + options.blockSize);
    int64_t count = i2 - i1;
    MatrixF err(n, count);
    for (int64_t i = i1; i < i2; ++i) {
      int64_t orig = perm[i];
      int64_t g = orig / group;
      if (!fitted[g]) {
        // In order (no act-order), group g starts at column i: fit it on
        // the current, error-compensated weights.
        groupCols.resize(std::min(k, i + group) - i);
        std::iota(groupCols.begin(), groupCols.end(), i);
        fit(g, wp, groupCols, /*permuted=*/true);
      }
      float d = u(i, i);
      for (int64_t j = 0; j < n; ++j) {
        float x = wp(j, i), dq;
        r.codes[orig * n + j] = encode(x, params[g * n + j], scheme, dq);
        if (!outliers.empty() && outliers[orig * n + j]) {
          // Stored exactly (up to f16): what remains is tiny.
          addOutlier(r, orig * n + j, x - dq);
          dq += r.outlierValue.back();
        }
        err(j, i - i1) = (x - dq) / d;
        wp(j, i) = dq;
      }
      if (i + 1 < i2)
        wp.block(0, i + 1, n, i2 - i - 1).noalias() -=
            err.col(i - i1) * u.block(i, i + 1, 1, i2 - i - 1);
    }
    if (i2 < k)
      wp.block(0, i2, n, k - i2).noalias() -=
          err * u.block(i1, i2, count, k - i2);
  }
  sortOutliers(r);
  return r;
}

double quant::outputErrorEnergy(llvm::ArrayRef<float> w,
                                llvm::ArrayRef<float> wq, int64_t k, int64_t n,
                                llvm::ArrayRef<double> hessian) {
  using RowD =
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowF =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowF> wm(w.data(), k, n), wqm(wq.data(), k, n);
  // Double throughout: at 8 bits the error is 1e-5 of the weight's energy.
  RowD d = (wm - wqm).cast<double>();
  Eigen::Map<const MatrixD> h(hessian.data(), k, k);
  return std::max(0.0, (d.cwiseProduct(h * d)).sum());
}

double quant::outputEnergy(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                           llvm::ArrayRef<double> hessian) {
  using RowF =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowD =
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowD wd = Eigen::Map<const RowF>(w.data(), k, n).cast<double>();
  Eigen::Map<const MatrixD> h(hessian.data(), k, k);
  return std::max(0.0, (wd.cwiseProduct(h * wd)).sum());
}

double quant::outputError(llvm::ArrayRef<float> w, llvm::ArrayRef<float> wq,
                          int64_t k, int64_t n,
                          llvm::ArrayRef<double> hessian) {
  // tr(D^T H D) / tr(W^T H W) with D = W - W' (K x N, row-major).
  using RowF =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowF> wm(w.data(), k, n), wqm(wq.data(), k, n);
  MatrixF hf = Eigen::Map<const MatrixD>(hessian.data(), k, k).cast<float>();
  RowF d = wm - wqm;
  double num = (d.cwiseProduct(hf * d)).cast<double>().sum();
  double den = (wm.cwiseProduct(hf * wm)).cast<double>().sum();
  return den > 0 && num >= 0 ? std::sqrt(num / den) : 0.0;
}
