//===- CodeTablesTest.cpp - Tests of code value tables ----------*- C++ -*-===//
//
// Small-float tables against the OCP definitions, NF4, and the nearest-code
// rule (ties to the even code, NaN entries skipped, saturation).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/CodeTables.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace mlir::lowbit;
using llvm::APFloat;

TEST(CodeTables, E2M1) {
  llvm::SmallVector<float> t = getFloatCodeTable(APFloat::Float4E2M1FN());
  ASSERT_EQ(t.size(), 16u);
  const float positive[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int c = 0; c < 8; ++c) {
    EXPECT_EQ(t[c], positive[c]);
    EXPECT_EQ(t[c + 8], -positive[c]);
  }
}

TEST(CodeTables, FP8Extremes) {
  llvm::SmallVector<float> e4m3 = getFloatCodeTable(APFloat::Float8E4M3FN());
  ASSERT_EQ(e4m3.size(), 256u);
  EXPECT_EQ(e4m3[0x7E], 448.0f);
  EXPECT_TRUE(std::isnan(e4m3[0x7F]));
  EXPECT_TRUE(std::isnan(e4m3[0xFF]));
  EXPECT_EQ(e4m3[0x01], std::ldexp(1.0f, -9)); // smallest subnormal
  llvm::SmallVector<float> e5m2 = getFloatCodeTable(APFloat::Float8E5M2());
  EXPECT_EQ(e5m2[0x7B], 57344.0f);
  EXPECT_TRUE(std::isinf(e5m2[0x7C]));
  llvm::SmallVector<float> e8m0 = getFloatCodeTable(APFloat::Float8E8M0FNU());
  EXPECT_EQ(e8m0[127], 1.0f);
  EXPECT_EQ(e8m0[128], 2.0f);
  EXPECT_TRUE(std::isnan(e8m0[255]));
}

TEST(CodeTables, FP6) {
  EXPECT_EQ(getFloatCodeTable(APFloat::Float6E3M2FN())[31], 28.0f);
  EXPECT_EQ(getFloatCodeTable(APFloat::Float6E2M3FN())[31], 7.5f);
}

TEST(CodeTables, NF4) {
  llvm::ArrayRef<float> t = getNF4Table();
  ASSERT_EQ(t.size(), 16u);
  EXPECT_EQ(t[0], -1.0f);
  EXPECT_EQ(t[7], 0.0f);
  EXPECT_EQ(t[15], 1.0f);
  for (int c = 1; c < 16; ++c)
    EXPECT_LT(t[c - 1], t[c]);
}

TEST(CodeTables, NearestTiesToEven) {
  llvm::SmallVector<float> t = getFloatCodeTable(APFloat::Float4E2M1FN());
  // The same cases as test/Integration/quantize-fp4-nearest.mlir.
  EXPECT_EQ(t[nearestCode(t, 0.25f)], 0.0f);
  EXPECT_EQ(t[nearestCode(t, 0.75f)], 1.0f);
  EXPECT_EQ(t[nearestCode(t, 1.25f)], 1.0f);
  EXPECT_EQ(t[nearestCode(t, 2.5f)], 2.0f);
  EXPECT_EQ(t[nearestCode(t, 5.0f)], 4.0f);
  EXPECT_EQ(t[nearestCode(t, 7.0f)], 6.0f);
  EXPECT_EQ(t[nearestCode(t, -0.3f)], -0.5f);
  EXPECT_EQ(t[nearestCode(t, 100.0f)], 6.0f);
  EXPECT_EQ(t[nearestCode(t, std::numeric_limits<float>::infinity())], 6.0f);
  EXPECT_EQ(nearestCode(t, std::numeric_limits<float>::quiet_NaN()), 0u);
}

TEST(CodeTables, NearestSkipsNaNAndAgreesWithAPFloat) {
  llvm::SmallVector<float> t = getFloatCodeTable(APFloat::Float8E4M3FN());
  for (float x = -500.0f; x <= 500.0f; x += 0.37f) {
    APFloat a(x);
    bool lost;
    a.convert(APFloat::Float8E4M3FN(), APFloat::rmNearestTiesToEven, &lost);
    float expect =
        std::fabs(x) >= 448.0f ? std::copysign(448.0f, x) : a.convertToFloat();
    if (a.isNaN())
      expect = std::copysign(448.0f, x); // saturating, unlike APFloat
    EXPECT_EQ(t[nearestCode(t, x)], expect) << "x=" << x;
  }
}
