//===- RoundingTest.cpp - Tests of the integer quantizer --------*- C++ -*-===//
//
// Round-half-even, clamping, zero scales and NaN, and the error bound of
// the integer scheme.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/Rounding.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace mlir::lowbit;

TEST(Rounding, HalfEven) {
  EXPECT_EQ(roundHalfEven(0.5f), 0.0f);
  EXPECT_EQ(roundHalfEven(1.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(2.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(-0.5f), -0.0f);
  EXPECT_EQ(roundHalfEven(-1.5f), -2.0f);
  EXPECT_EQ(roundHalfEven(-2.5f), -2.0f);
  EXPECT_EQ(roundHalfEven(2.4f), 2.0f);
  EXPECT_EQ(roundHalfEven(2.6f), 3.0f);
  EXPECT_EQ(roundHalfEven(-7.49f), -7.0f);
}

TEST(Rounding, Ranges) {
  IntRange s4 = IntRange::get(4, true), a4 = IntRange::get(4, false);
  EXPECT_EQ(s4.min, -8);
  EXPECT_EQ(s4.max, 7);
  EXPECT_EQ(a4.min, 0);
  EXPECT_EQ(a4.max, 15);
  EXPECT_EQ(IntRange::get(8, true).min, -128);
  EXPECT_EQ(IntRange::get(1, false).max, 1);
}

TEST(Rounding, ClampZeroScaleAndNaN) {
  IntRange r = IntRange::get(4, true);
  EXPECT_EQ(quantizeInt(100.0f, 1.0f, 0.0f, r), 7);
  EXPECT_EQ(quantizeInt(-100.0f, 1.0f, 0.0f, r), -8);
  EXPECT_EQ(quantizeInt(3.0f, 0.0f, 0.0f, r), 0);
  EXPECT_EQ(quantizeInt(std::numeric_limits<float>::quiet_NaN(), 1.0f, 0.0f, r),
            0);
  IntRange a = IntRange::get(4, false);
  EXPECT_EQ(quantizeInt(0.0f, 0.5f, 3.0f, a), 3);
  EXPECT_EQ(quantizeInt(-10.0f, 0.5f, 3.0f, a), 0);
  EXPECT_FLOAT_EQ(dequantizeInt(3, 0.5f, 3.0f), 0.0f);
}

TEST(Rounding, ErrorWithinHalfScale) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (unsigned bits = 2; bits <= 8; ++bits) {
    IntRange r = IntRange::get(bits, true);
    float s = 1.0f / r.max;
    for (int i = 0; i < 10000; ++i) {
      float x = dist(rng);
      float y = dequantizeInt(quantizeInt(x, s, 0.0f, r), s, 0.0f);
      ASSERT_LE(std::fabs(x - y), s / 2 * (1 + 1e-6f)) << "bits=" << bits;
    }
  }
}
