//===- RotationTest.cpp - Hadamard and random orthogonal matrices -*- C++ -*-=//

#include "lowbit/Quantization/Rotation.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir::lowbit;
using namespace mlir::lowbit::quant;

namespace {

/// max |Q Q^T - I| of an n x n row-major matrix.
double orthogonalityError(const std::vector<double> &q, int64_t n) {
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (int64_t k = 0; k < n; ++k)
        dot += q[i * n + k] * q[j * n + k];
      worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

bool isHadamard(const HadamardMatrix &h) {
  int64_t n = h.order;
  if (static_cast<int64_t>(h.entries.size()) != n * n)
    return false;
  for (int8_t e : h.entries)
    if (e != 1 && e != -1)
      return false;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t dot = 0;
      for (int64_t k = 0; k < n; ++k)
        dot += h.entries[i * n + k] * h.entries[j * n + k];
      if (dot != (i == j ? n : 0))
        return false;
    }
  return true;
}

TEST(Rotation, HadamardOrders) {
  struct Case {
    int64_t n;
    const char *construction;
  };
  for (Case c :
       {Case{1, ""}, Case{2, "sylvester(2)"}, Case{64, "sylvester(64)"},
        Case{12, "paley1(12)"}, Case{20, "paley1(20)"}, Case{28, "paley2(28)"},
        Case{36, "paley2(36)"}, Case{40, "paley1(20) x sylvester(2)"},
        Case{576, "paley2(36) x sylvester(16)"},
        Case{1536, "paley1(12) x sylvester(128)"}}) {
    std::optional<HadamardMatrix> h = buildHadamard(c.n);
    ASSERT_TRUE(h.has_value()) << c.n;
    EXPECT_EQ(h->order, c.n);
    EXPECT_EQ(h->construction, c.construction) << c.n;
    if (c.n <= 576)
      EXPECT_TRUE(isHadamard(*h)) << c.n;
  }
}

TEST(Rotation, NoHadamardOfOddOrders) {
  for (int64_t n : {3, 6, 100, 0})
    EXPECT_FALSE(buildHadamard(n).has_value()) << n;
}

TEST(Rotation, RandomizedHadamardIsOrthogonalAndSeeded) {
  Rotation a = makeRotation(576, /*hadamard=*/true, 0);
  EXPECT_EQ(a.kind, "hadamard paley2(36) x sylvester(16), random signs");
  EXPECT_LT(orthogonalityError(a.matrix, 576), 1e-12);
  EXPECT_EQ(makeRotation(576, true, 0).matrix, a.matrix);
  EXPECT_NE(makeRotation(576, true, 1).matrix, a.matrix);
}

TEST(Rotation, RandomOrthogonalFallback) {
  Rotation q = makeRotation(100, /*hadamard=*/true, 7);
  EXPECT_EQ(q.kind, "random orthogonal (QR)");
  EXPECT_LT(orthogonalityError(q.matrix, 100), 1e-12);
  Rotation r = makeRotation(64, /*hadamard=*/false, 7);
  EXPECT_EQ(r.kind, "random orthogonal (QR)");
  EXPECT_LT(orthogonalityError(r.matrix, 64), 1e-12);
  EXPECT_EQ(makeRotation(64, false, 7).matrix, r.matrix);
}

TEST(Rotation, RotateRowsAndColumns) {
  const int64_t n = 12, m = 5;
  Rotation q = makeRotation(n, true, 3);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> a(m * n);
  for (float &x : a)
    x = normal(rng);
  // a Q by hand.
  std::vector<double> want(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < n; ++k)
        want[i * n + j] += a[i * n + k] * q.matrix[k * n + j];
  std::vector<float> b = a;
  rotateRows(b, m, q, /*transpose=*/false);
  for (int64_t i = 0; i < m * n; ++i)
    EXPECT_NEAR(b[i], want[i], 1e-5);
  rotateRows(b, m, q, /*transpose=*/true); // back: a Q Q^T = a
  for (int64_t i = 0; i < m * n; ++i)
    EXPECT_NEAR(b[i], a[i], 1e-5);
  // Columns: (Q^T c) for the n x m matrix c = a^T equals (a Q)^T.
  std::vector<float> c(n * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      c[j * m + i] = a[i * n + j];
  rotateColumns(c, m, q, /*transpose=*/false);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      EXPECT_NEAR(c[j * m + i], want[i * n + j], 1e-5);
}

} // namespace
