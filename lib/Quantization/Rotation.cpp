//===- Rotation.cpp - Hadamard and random orthogonal matrices -------------===//

#include "lowbit/Quantization/Rotation.h"

#include <Eigen/Dense>

#include <cmath>
#include <random>

using namespace mlir::lowbit::quant;

namespace {

using MatrixD =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

} // namespace

Rotation mlir::lowbit::quant::makeRotation(int64_t n, bool hadamard,
                                           uint64_t seed) {
  Rotation r;
  r.order = n;
  r.matrix.assign(n * n, 0.0);
  std::mt19937_64 rng(seed);
  if (hadamard) {
    if (std::optional<HadamardMatrix> h = buildHadamard(n)) {
      // Q = diag(signs) H / sqrt(n): rows of H flipped at random.
      double norm = 1.0 / std::sqrt(static_cast<double>(n));
      for (int64_t i = 0; i < n; ++i) {
        double sign = (rng() & 1) ? -1.0 : 1.0;
        r.signs.push_back(sign);
        for (int64_t j = 0; j < n; ++j)
          r.matrix[i * n + j] = sign * norm * h->entries[i * n + j];
      }
      r.kind = "hadamard " + h->construction + ", random signs";
      return r;
    }
  }
  // Q of the QR factorization of a Gaussian matrix, columns signed so that
  // R has a positive diagonal (Haar-distributed).
  std::normal_distribution<double> normal;
  MatrixD g(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      g(i, j) = normal(rng);
  Eigen::HouseholderQR<MatrixD> qr(g);
  MatrixD q = qr.householderQ();
  MatrixD rr = qr.matrixQR().triangularView<Eigen::Upper>();
  for (int64_t j = 0; j < n; ++j)
    if (rr(j, j) < 0)
      q.col(j) *= -1.0;
  Eigen::Map<MatrixD>(r.matrix.data(), n, n) = q;
  r.kind = "random orthogonal (QR)";
  return r;
}

void mlir::lowbit::quant::rotateRows(std::vector<float> &a, int64_t rows,
                                     const Rotation &q, bool transpose) {
  int64_t n = q.order;
  Eigen::Map<const MatrixD> m(q.matrix.data(), n, n);
  Eigen::Map<MatrixF> x(a.data(), rows, n);
  MatrixD y = x.cast<double>();
  if (transpose)
    y = y * m.transpose();
  else
    y = y * m;
  x = y.cast<float>();
}

void mlir::lowbit::quant::rotateColumns(std::vector<float> &a, int64_t cols,
                                        const Rotation &q, bool transpose) {
  int64_t n = q.order;
  Eigen::Map<const MatrixD> m(q.matrix.data(), n, n);
  Eigen::Map<MatrixF> x(a.data(), n, cols);
  MatrixD y = x.cast<double>();
  if (transpose)
    y = m * y;
  else
    y = m.transpose() * y;
  x = y.cast<float>();
}
