//===- Hadamard.cpp - Sylvester and Paley Hadamard matrices ---------------===//

#include "lowbit/Support/Hadamard.h"

using namespace mlir::lowbit;

namespace {

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

std::optional<HadamardMatrix> mlir::lowbit::buildHadamardFactors(int64_t n) {
  if (n < 1)
    return std::nullopt;
  // n = 2^k m, the smallest m that Paley builds (m = 1: Sylvester alone).
  for (int64_t m = 1; m <= n && m <= 1024; ++m) {
    int64_t pow2 = n / m;
    if (n % m != 0 || (pow2 & (pow2 - 1)) != 0)
      continue;
    HadamardMatrix h;
    h.order = n;
    h.core = m;
    if (m == 1) {
      h.coreEntries = {1};
    } else {
      // Checked (O(m^3)); Kronecker products of Hadamard matrices are ones.
      std::optional<HadamardMatrix> core = paley(m);
      if (!core || !isHadamard(*core))
        continue;
      h.coreEntries = core->entries;
      h.construction = core->construction;
    }
    if (pow2 > 1)
      h.construction += (h.construction.empty() ? "" : " x ") +
                        std::string("sylvester(") + std::to_string(pow2) + ")";
    return h;
  }
  return std::nullopt;
}

std::optional<HadamardMatrix> mlir::lowbit::buildHadamard(int64_t n) {
  std::optional<HadamardMatrix> h = buildHadamardFactors(n);
  if (!h)
    return std::nullopt;
  HadamardMatrix full{h->core, h->coreEntries, ""};
  for (int64_t s = 1; s < n / h->core; s *= 2)
    full = kronecker(full, HadamardMatrix{2, {1, 1, 1, -1}, ""});
  h->entries = std::move(full.entries);
  return h;
}
