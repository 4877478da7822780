//===- OutliersTest.cpp - SpQR-style outliers in RTN and GPTQ ---*- C++ -*-===//
//
// A budget of 0 is exactly the plain quantizer; the chosen weights are
// those that shrink their group's grid most (weighted by input energy);
// outliers are reconstructed to f16 precision, left out
// of their groups' fits, and on heavy-tailed weights they lower the error
// of RTN and GPTQ (act-order on and off). Seeded data, several seeds.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quantization/WeightQuantizer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir::lowbit::quant;

namespace {

struct Layer {
  int64_t k, n;
  std::vector<float> w;
  std::vector<double> h;
};

/// Gaussian weights with 1% heavy outliers (10-30x), and X^T X of inputs
/// with uneven channel energies.
Layer heavyTailed(int64_t k, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit;
  Layer l{k, n, std::vector<float>(k * n), std::vector<double>(k * k, 0.0)};
  for (float &x : l.w) {
    x = static_cast<float>(normal(rng) * 0.02);
    if (unit(rng) < 0.01)
      x *= static_cast<float>(10 + 20 * unit(rng));
  }
  std::vector<double> energy(k), x(k);
  for (double &e : energy)
    e = 0.2 + 2.0 * unit(rng);
  for (int64_t r = 0; r < 4 * k; ++r) {
    for (int64_t i = 0; i < k; ++i)
      x[i] = normal(rng) * energy[i];
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        l.h[i * k + j] += x[i] * x[j];
  }
  return l;
}

WeightScheme w3(double fraction) {
  WeightScheme s;
  s.bits = 3;
  s.group = 32;
  s.outlierFraction = fraction;
  return s;
}

QuantizedWeight gptq(const Layer &l, const WeightScheme &s, bool actOrder) {
  GptqOptions o;
  o.actOrder = actOrder;
  GptqReport report;
  std::string error;
  std::optional<QuantizedWeight> q =
      quantizeGptq(l.w, l.k, l.n, l.h, s, o, report, error);
  EXPECT_TRUE(q.has_value()) << error;
  return q ? *q : QuantizedWeight();
}

TEST(Outliers, ZeroBudgetIsThePlainQuantizer) {
  Layer l = heavyTailed(64, 24, 1);
  QuantizedWeight plain = quantizeRtn(l.w, l.k, l.n, w3(0.0));
  QuantizedWeight none = quantizeRtn(l.w, l.k, l.n, w3(0.0), l.h);
  EXPECT_EQ(plain.codes, none.codes);
  EXPECT_EQ(plain.scales, none.scales);
  EXPECT_TRUE(none.outlierIndex.empty());
  // A budget too small for one weight selects none.
  QuantizedWeight tiny = quantizeRtn(l.w, l.k, l.n, w3(1e-4), l.h);
  EXPECT_EQ(plain.codes, tiny.codes);
  EXPECT_TRUE(tiny.outlierIndex.empty());
  for (bool actOrder : {false, true}) {
    QuantizedWeight a = gptq(l, w3(0.0), actOrder);
    QuantizedWeight b = gptq(l, w3(1e-4), actOrder);
    EXPECT_EQ(a.codes, b.codes);
    EXPECT_EQ(a.scales, b.scales);
    EXPECT_TRUE(b.outlierIndex.empty());
  }
}

TEST(Outliers, ShrinkTheGroupsThatGainMost) {
  // K = 4 in groups of 2, N = 2; input 3 carries 100x the energy.
  std::vector<float> w = {1.0f, -0.1f, 0.2f, 3.0f, 0.3f, 0.1f, 0.2f, 0.5f};
  std::vector<double> h(16, 0.0);
  h[0] = h[5] = h[10] = 1.0;
  h[15] = 100.0;
  // Gains (w_1^2 - w_2^2) * sum H_ii: group 0 (energy 2) column 0: 1.92,
  // column 1: 17.98; group 1 (energy 101): 5.05 and 24.24. The budget of
  // 2 takes 0.5 (position 7) and 3.0 (position 3).
  std::vector<uint8_t> mask = selectOutliers(w, 4, 2, 2, h, 0.25);
  EXPECT_EQ(mask, (std::vector<uint8_t>{0, 0, 0, 1, 0, 0, 0, 1}));
  // Without statistics every row weighs 1: 3.0 (17.98), then 1.0 (1.92;
  // -0.1, the next of 3.0's group, would gain 0.02).
  mask = selectOutliers(w, 4, 2, 2, {}, 0.25);
  EXPECT_EQ(mask, (std::vector<uint8_t>{1, 0, 0, 1, 0, 0, 0, 0}));
}

TEST(Outliers, ReconstructedAndLeftOutOfTheGroupFits) {
  for (unsigned seed : {2u, 3u, 4u}) {
    Layer l = heavyTailed(128, 32, seed);
    WeightScheme s = w3(0.01);
    QuantizedWeight q = quantizeRtn(l.w, l.k, l.n, s, l.h);
    ASSERT_EQ(q.outlierIndex.size(), size_t(128 * 32 / 100));
    ASSERT_EQ(q.outlierValue.size(), q.outlierIndex.size());
    EXPECT_TRUE(std::is_sorted(q.outlierIndex.begin(), q.outlierIndex.end()));
    std::vector<float> dq = q.dequantize(s);
    std::vector<uint8_t> isOutlier(l.k * l.n, 0);
    for (int64_t at : q.outlierIndex) {
      isOutlier[at] = 1;
      EXPECT_NEAR(dq[at], l.w[at], std::fabs(l.w[at]) * 1e-3 + 1e-4) << at;
    }
    // Every group's scale is that of its other weights (extreme rule:
    // |s| = max|w| / 4 over them).
    for (int64_t g = 0; g < l.k / s.group; ++g)
      for (int64_t j = 0; j < l.n; ++j) {
        float m = 0.0f;
        for (int64_t i = g * s.group; i < (g + 1) * s.group; ++i)
          if (!isOutlier[i * l.n + j])
            m = std::max(m, std::fabs(l.w[i * l.n + j]));
        EXPECT_NEAR(std::fabs(q.scales[g * l.n + j]), m / 4, 1e-7);
      }
  }
}

TEST(Outliers, LowerTheErrorOfRtnAndGptq) {
  for (unsigned seed : {5u, 6u, 7u}) {
    Layer l = heavyTailed(128, 48, seed);
    auto err = [&](const QuantizedWeight &q, const WeightScheme &s) {
      return outputError(l.w, q.dequantize(s), l.k, l.n, l.h);
    };
    double rtnPlain = err(quantizeRtn(l.w, l.k, l.n, w3(0.0)), w3(0.0));
    double rtnSplit = err(quantizeRtn(l.w, l.k, l.n, w3(0.01), l.h), w3(0.01));
    EXPECT_LT(rtnSplit, 0.6 * rtnPlain) << seed;
    for (bool actOrder : {false, true}) {
      double plain = err(gptq(l, w3(0.0), actOrder), w3(0.0));
      double split = err(gptq(l, w3(0.01), actOrder), w3(0.01));
      EXPECT_LT(split, 0.6 * plain) << seed << " act-order " << actOrder;
    }
  }
}

TEST(Outliers, BudgetIsChecked) {
  EXPECT_NE(w3(0.3).check(128), "");
  EXPECT_NE(w3(-0.1).check(128), "");
  EXPECT_EQ(w3(0.25).check(128), "");
}

} // namespace
