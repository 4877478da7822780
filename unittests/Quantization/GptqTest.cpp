//===- GptqTest.cpp - RTN and GPTQ on synthetic layers ----------*- C++ -*-===//

#include "lowbit/Quantization/WeightQuantizer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir::lowbit::quant;

namespace {

/// A K x N weight and the Hessian X^T X of R rows of inputs with strongly
/// correlated channels (a few latent factors plus noise), as in real
/// activations.
struct Layer {
  int64_t k, n;
  std::vector<float> w;
  std::vector<double> h;
};

Layer makeLayer(int64_t k, int64_t n, int64_t rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Layer l{k, n, std::vector<float>(k * n), std::vector<double>(k * k, 0.0)};
  for (float &x : l.w)
    x = static_cast<float>(normal(rng) * 0.05);
  int64_t factors = 4;
  std::vector<double> mix(factors * k);
  for (double &m : mix)
    m = normal(rng);
  std::vector<double> x(k), f(factors);
  for (int64_t r = 0; r < rows; ++r) {
    for (double &v : f)
      v = normal(rng);
    for (int64_t i = 0; i < k; ++i) {
      x[i] = 0.1 * normal(rng);
      for (int64_t j = 0; j < factors; ++j)
        x[i] += f[j] * mix[j * k + i];
    }
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        l.h[i * k + j] += x[i] * x[j];
  }
  return l;
}

double gptqOutputError(const Layer &l, const WeightScheme &s,
                       const GptqOptions &o) {
  GptqReport report;
  std::string error;
  std::optional<QuantizedWeight> q =
      quantizeGptq(l.w, l.k, l.n, l.h, s, o, report, error);
  EXPECT_TRUE(q.has_value()) << error;
  if (!q)
    return 1.0;
  std::vector<float> dq = q->dequantize(s);
  for (float v : dq)
    EXPECT_TRUE(std::isfinite(v));
  return outputError(l.w, dq, l.k, l.n, l.h);
}

TEST(Gptq, BeatsRtnOnCorrelatedInputs) {
  Layer l = makeLayer(128, 32, 512, 1);
  for (unsigned bits : {2u, 3u, 4u}) {
    WeightScheme s{bits, 32, true, false};
    double rtn = outputError(l.w, quantizeRtn(l.w, l.k, l.n, s).dequantize(s),
                             l.k, l.n, l.h);
    double gptq = gptqOutputError(l, s, GptqOptions{});
    EXPECT_LT(gptq, 0.7 * rtn)
        << bits << " bits: GPTQ " << gptq << ", RTN " << rtn;
    double act = gptqOutputError(l, s, GptqOptions{0.01, 128, true});
    EXPECT_LT(act, 0.7 * rtn) << bits << " bits, act-order";
  }
}

TEST(Gptq, DiagonalHessianIsRtn) {
  Layer l = makeLayer(64, 8, 256, 2);
  for (int64_t i = 0; i < l.k; ++i)
    for (int64_t j = 0; j < l.k; ++j)
      if (i != j)
        l.h[i * l.k + j] = 0.0;
  for (auto [sym, rule] :
       {std::pair{true, ScaleRule::Extreme}, std::pair{true, ScaleRule::AbsMax},
        std::pair{false, ScaleRule::Extreme}}) {
    WeightScheme s{4, 16, sym, false};
    s.scaleRule = rule;
    QuantizedWeight rtn = quantizeRtn(l.w, l.k, l.n, s);
    GptqReport report;
    std::string error;
    std::optional<QuantizedWeight> q =
        quantizeGptq(l.w, l.k, l.n, l.h, s, GptqOptions{}, report, error);
    ASSERT_TRUE(q.has_value()) << error;
    EXPECT_EQ(q->codes, rtn.codes);
    EXPECT_EQ(q->scales, rtn.scales);
    EXPECT_EQ(q->zeroPoints, rtn.zeroPoints);
  }
}

TEST(Gptq, SmallBlocksMatchOneBlock) {
  // Lazy batch updates are exact: the block size changes no code (up to
  // float rounding of the deferred updates, so compare output errors).
  Layer l = makeLayer(96, 16, 256, 3);
  WeightScheme s{3, 32, false, false};
  double big = gptqOutputError(l, s, GptqOptions{0.01, 128, false});
  double small = gptqOutputError(l, s, GptqOptions{0.01, 8, false});
  EXPECT_NEAR(big, small, 1e-3 * big + 1e-6);
}

TEST(Gptq, DeadInputsAndSingularHessian) {
  Layer l = makeLayer(32, 4, 8, 4); // 8 rows for 32 inputs: rank <= 8
  for (int64_t j = 0; j < l.k; ++j) // input 5 never fires
    l.h[5 * l.k + j] = l.h[j * l.k + 5] = 0.0;
  WeightScheme s{4, 0, true, false};
  GptqReport report;
  std::string error;
  std::optional<QuantizedWeight> q =
      quantizeGptq(l.w, l.k, l.n, l.h, s, GptqOptions{}, report, error);
  ASSERT_TRUE(q.has_value()) << error;
  EXPECT_EQ(report.deadInputs, 1);
  for (float v : q->dequantize(s))
    EXPECT_TRUE(std::isfinite(v));
  for (int64_t j = 0; j < l.n; ++j)
    EXPECT_EQ(q->dequantize(s)[5 * l.n + j], 0.0f);
}

TEST(Gptq, RejectsBadHessians) {
  Layer l = makeLayer(8, 2, 16, 5);
  WeightScheme s{4, 0, true, false};
  GptqReport report;
  std::string error;
  std::vector<double> nan = l.h;
  nan[3] = std::nan("");
  EXPECT_FALSE(quantizeGptq(l.w, l.k, l.n, nan, s, {}, report, error));
  EXPECT_EQ(error, "the Hessian has non-finite entries");
  std::vector<double> small(4, 1.0);
  EXPECT_FALSE(quantizeGptq(l.w, l.k, l.n, small, s, {}, report, error));
  EXPECT_NE(error.find("K x K"), std::string::npos);
  // Indefinite (no calibration produces one, a corrupted statistics file
  // can): eigenvalue -1e6 + 1 outlasts the 6 tenfold dampings.
  std::vector<double> indefinite(64, 0.0);
  for (int64_t i = 0; i < 8; ++i)
    indefinite[i * 8 + i] = 1.0;
  indefinite[0 * 8 + 1] = indefinite[1 * 8 + 0] = 1e6;
  EXPECT_FALSE(quantizeGptq(l.w, l.k, l.n, indefinite, s, {}, report, error));
  EXPECT_EQ(error.rfind("the Hessian stays singular with damping", 0), 0u)
      << error;
}

TEST(Rtn, ClipSearchNeverWorse) {
  Layer l = makeLayer(64, 16, 64, 6);
  for (unsigned bits : {2u, 3u, 4u, 8u})
    for (bool sym : {true, false}) {
      WeightScheme plain{bits, 32, sym, false}, clip{bits, 32, sym, true};
      double a = relativeError(
          l.w, quantizeRtn(l.w, l.k, l.n, plain).dequantize(plain));
      double b =
          relativeError(l.w, quantizeRtn(l.w, l.k, l.n, clip).dequantize(clip));
      EXPECT_LE(b, a + 1e-9) << bits << " bits, sym " << sym;
    }
}

TEST(Rtn, SchemeChecks) {
  EXPECT_EQ(WeightScheme({0, 128, true, false}).check(256),
            "bits = 0 is outside 2..8");
  EXPECT_EQ(WeightScheme({4, 100, true, false}).check(256), ""); // 100+100+56
  EXPECT_EQ(WeightScheme({4, 512, true, false}).check(256),
            "group size 512 is larger than K = 256");
  EXPECT_EQ(WeightScheme({4, 0, true, false}).check(256), "");
  EXPECT_EQ(WeightScheme({4, 64, true, false}).groupFor(256), 64);
  EXPECT_EQ(WeightScheme({4, 0, true, false}).groupFor(256), 256);
}

} // namespace

namespace {

TEST(Rtn, ShorterLastGroup) {
  // K = 10 in groups of 4: groups of 4, 4 and 2, each with its own scale.
  std::vector<float> w{1, 2, 3, 4, 10, 20, 30, 40, 0.5f, -0.25f};
  WeightScheme s{8, 4, true, false};
  QuantizedWeight q = quantizeRtn(w, 10, 1, s);
  ASSERT_EQ(q.numGroups(), 3);
  ASSERT_EQ(q.scales.size(), 3u);
  // The largest weight of each group goes to code -128.
  EXPECT_FLOAT_EQ(q.scales[0], 4.0f / -128);
  EXPECT_FLOAT_EQ(q.scales[1], 40.0f / -128);
  EXPECT_FLOAT_EQ(q.scales[2], 0.5f / -128);
  std::vector<float> dq = q.dequantize(s);
  EXPECT_FLOAT_EQ(dq[0], 1.0f);
  EXPECT_FLOAT_EQ(dq[7], 40.0f);
  EXPECT_NEAR(dq[9], -0.25f, 0.5f / 128);
}

TEST(Gptq, ShorterLastGroup) {
  Layer l = makeLayer(72, 8, 256, 7);
  for (bool act : {false, true}) {
    WeightScheme s{4, 32, true, false};
    double rtn = outputError(l.w, quantizeRtn(l.w, l.k, l.n, s).dequantize(s),
                             l.k, l.n, l.h);
    double gptq = gptqOutputError(l, s, GptqOptions{0.01, 128, act});
    EXPECT_LT(gptq, rtn);
  }
}

} // namespace

namespace {

TEST(Rtn, TableFormats) {
  // NF4: s = max|w| (the table spans [-1, 1]); each weight takes the
  // nearest value. FP4 (e2m1): s = max|w| / 6.
  std::vector<float> w{1.0f, -0.5f, 0.25f, -2.0f};
  WeightScheme nf4{4, 4, true, false};
  nf4.kind = CodeKind::NF4;
  QuantizedWeight q = quantizeRtn(w, 4, 1, nf4);
  EXPECT_FLOAT_EQ(q.scales[0], 2.0f);
  EXPECT_EQ(q.codes[3], 0u);  // -2 = -1 * 2
  EXPECT_EQ(q.codes[0], 12u); // 0.5 -> NF4[12] = 0.4407 (nearest)
  std::vector<float> dq = q.dequantize(nf4);
  EXPECT_FLOAT_EQ(dq[3], -2.0f);
  EXPECT_NEAR(dq[0], 2.0f * 0.44070982933044434f, 1e-6);
  WeightScheme fp4 = nf4;
  fp4.kind = CodeKind::FP4;
  q = quantizeRtn(w, 4, 1, fp4);
  EXPECT_FLOAT_EQ(q.scales[0], 2.0f / 6.0f);
  dq = q.dequantize(fp4);
  EXPECT_FLOAT_EQ(dq[0], 1.0f);  // 3 * s
  EXPECT_FLOAT_EQ(dq[1], -0.5f); // -1.5 * s
  EXPECT_FLOAT_EQ(dq[3], -2.0f); // -6 * s
  // On a random layer: NF4 beats int4 on normal weights (its values are
  // normal quantiles), clipping never hurts, GPTQ beats RTN.
  Layer l = makeLayer(128, 16, 256, 8);
  WeightScheme int4{4, 64, true, false};
  nf4.group = fp4.group = 64;
  double eInt =
      relativeError(l.w, quantizeRtn(l.w, l.k, l.n, int4).dequantize(int4));
  double eNf4 =
      relativeError(l.w, quantizeRtn(l.w, l.k, l.n, nf4).dequantize(nf4));
  EXPECT_LT(eNf4, eInt);
  WeightScheme nf4clip = nf4;
  nf4clip.clipSearch = true;
  EXPECT_LE(relativeError(
                l.w, quantizeRtn(l.w, l.k, l.n, nf4clip).dequantize(nf4clip)),
            eNf4 + 1e-9);
  for (const WeightScheme &s : {nf4, fp4}) {
    double rtn = outputError(l.w, quantizeRtn(l.w, l.k, l.n, s).dequantize(s),
                             l.k, l.n, l.h);
    EXPECT_LT(gptqOutputError(l, s, GptqOptions{0.01, 128, true}), rtn);
  }
  WeightScheme bad = nf4;
  bad.symmetric = false;
  EXPECT_EQ(bad.check(128), "nf4 and fp4 codes are 4-bit and symmetric");
  EXPECT_EQ(parseCodeKind("fp4"), CodeKind::FP4);
  EXPECT_FALSE(parseCodeKind("int3").has_value());
}

} // namespace
