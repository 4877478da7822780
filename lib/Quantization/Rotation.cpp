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

bool isPrime(int64_t q) {
  if (q < 2)
    return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0)
      return false;
  return true;
}

/// The (q+1) x (q+1) core of Paley's constructions: [[0, 1^T], [e 1, Q]]
/// with the Jacobsthal matrix Q_ij = chi(j - i) and e = -1 (skew, q = 3 mod
/// 4) or 1 (symmetric, q = 1 mod 4).
std::vector<int> paleyCore(int64_t q, int edge) {
  int64_t m = q + 1;
  // The quadratic character chi(a) mod q: 0, 1 (a square) or -1.
  std::vector<int> chi(q, -1);
  chi[0] = 0;
  for (int64_t x = 1; x < q; ++x)
    chi[(x * x) % q] = 1;
  std::vector<int> c(m * m, 0);
  for (int64_t j = 1; j < m; ++j) {
    c[j] = 1;
    c[j * m] = edge;
  }
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < q; ++j)
      c[(i + 1) * m + (j + 1)] = chi[((j - i) % q + q) % q];
  return c;
}

/// A Hadamard matrix of order m by Paley's constructions, or none.
std::optional<HadamardMatrix> paley(int64_t m) {
  HadamardMatrix h;
  h.order = m;
  h.entries.assign(m * m, 0);
  // Paley I: q = m - 1 prime, q = 3 mod 4; H = I + C.
  if (int64_t q = m - 1; q % 4 == 3 && isPrime(q)) {
    std::vector<int> c = paleyCore(q, -1);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j)
        h.entries[i * m + j] = static_cast<int8_t>(c[i * m + j] + (i == j));
    h.construction = "paley1(" + std::to_string(m) + ")";
    return h;
  }
  // Paley II: q = m/2 - 1 prime, q = 1 mod 4; each entry of C becomes a
  // 2 x 2 block: 0 -> [[1, -1], [-1, -1]], +-1 -> +-[[1, 1], [1, -1]].
  if (m % 2 == 0) {
    int64_t q = m / 2 - 1;
    if (q % 4 == 1 && isPrime(q)) {
      std::vector<int> c = paleyCore(q, 1);
      int64_t half = q + 1;
      for (int64_t i = 0; i < half; ++i)
        for (int64_t j = 0; j < half; ++j) {
          int v = c[i * half + j];
          int block[2][2] = {{1, 1}, {1, -1}};
          int zero[2][2] = {{1, -1}, {-1, -1}};
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b)
              h.entries[(2 * i + a) * m + (2 * j + b)] =
                  static_cast<int8_t>(v == 0 ? zero[a][b] : v * block[a][b]);
        }
      h.construction = "paley2(" + std::to_string(m) + ")";
      return h;
    }
  }
  return std::nullopt;
}

HadamardMatrix kronecker(const HadamardMatrix &a, const HadamardMatrix &b) {
  HadamardMatrix k;
  k.order = a.order * b.order;
  k.entries.resize(k.order * k.order);
  for (int64_t i = 0; i < a.order; ++i)
    for (int64_t j = 0; j < a.order; ++j)
      for (int64_t p = 0; p < b.order; ++p)
        for (int64_t r = 0; r < b.order; ++r)
          k.entries[(i * b.order + p) * k.order + (j * b.order + r)] =
              static_cast<int8_t>(a.entries[i * a.order + j] *
                                  b.entries[p * b.order + r]);
  return k;
}

bool isHadamard(const HadamardMatrix &h) {
  int64_t n = h.order;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      int64_t dot = 0;
      for (int64_t k = 0; k < n; ++k)
        dot += h.entries[i * n + k] * h.entries[j * n + k];
      if (dot != (i == j ? n : 0))
        return false;
    }
  return true;
}

} // namespace

std::optional<HadamardMatrix> mlir::lowbit::quant::buildHadamard(int64_t n) {
  if (n < 1)
    return std::nullopt;
  // n = 2^k m, the smallest m that Paley builds (m = 1: Sylvester alone).
  for (int64_t m = 1; m <= n; ++m) {
    if (n % m != 0)
      continue;
    int64_t pow2 = n / m;
    if ((pow2 & (pow2 - 1)) != 0)
      continue;
    std::optional<HadamardMatrix> core;
    if (m == 1) {
      core = HadamardMatrix{1, {1}, ""};
    } else if (m <= 1024) {
      // Checked (O(m^3)); Kronecker products of Hadamard matrices are ones.
      core = paley(m);
      if (!core || !isHadamard(*core))
        continue;
    } else {
      continue;
    }
    HadamardMatrix h = *core;
    for (int64_t s = 1; s < pow2; s *= 2)
      h = kronecker(h, HadamardMatrix{2, {1, 1, 1, -1}, ""});
    std::string construction = core->construction;
    if (pow2 > 1)
      construction += (construction.empty() ? "" : " x ") +
                      std::string("sylvester(") + std::to_string(pow2) + ")";
    h.construction = construction;
    return h;
  }
  return std::nullopt;
}

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
        double sign = (rng() & 1) ? -norm : norm;
        for (int64_t j = 0; j < n; ++j)
          r.matrix[i * n + j] = sign * h->entries[i * n + j];
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
