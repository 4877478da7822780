//===- SchemeAttrTest.cpp - Tests of #lowbit.scheme -------------*- C++ -*-===//
//
// The verifier rules the textual syntax cannot reach (the format keyword
// fixes the width; the scale type is mandatory in text), and the shape rules.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

class SchemeAttrTest : public ::testing::Test {
protected:
  SchemeAttrTest() {
    ctx.loadDialect<LowbitDialect>();
    ctx.getDiagEngine().registerHandler([this](Diagnostic &d) {
      messages.push_back(d.str());
      return success();
    });
  }

  SchemeAttr getChecked(unsigned bits, CodeFormat format, Type scale,
                        bool symmetric = true) {
    Location loc = UnknownLoc::get(&ctx);
    return SchemeAttr::getChecked([&] { return emitError(loc); }, &ctx, bits,
                                  format, symmetric, Granularity::Group,
                                  int64_t(0), int64_t(32), scale, Type(),
                                  int64_t(0), Type());
  }

  MLIRContext ctx;
  std::vector<std::string> messages;
};

TEST_F(SchemeAttrTest, FixedWidthFormatsRejectOtherWidths) {
  Type f16 = Float16Type::get(&ctx);
  EXPECT_FALSE(getChecked(3, CodeFormat::E2M1, f16));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages.back(), "code format e2m1 has 4 bits, not 3");
  EXPECT_FALSE(getChecked(8, CodeFormat::NF4, f16));
  EXPECT_FALSE(getChecked(4, CodeFormat::E4M3, f16));
  EXPECT_FALSE(getChecked(8, CodeFormat::E3M2, f16));
  EXPECT_TRUE(getChecked(8, CodeFormat::E5M2, f16));
  EXPECT_TRUE(getChecked(6, CodeFormat::E2M3, f16));
}

TEST_F(SchemeAttrTest, ScaleTypeRequired) {
  EXPECT_FALSE(getChecked(4, CodeFormat::Int, Type()));
  EXPECT_EQ(messages.back(), "scheme needs a scale type");
}

TEST_F(SchemeAttrTest, ShapesFollowKeepdims) {
  SchemeAttr s = getChecked(4, CodeFormat::Int, Float32Type::get(&ctx));
  ASSERT_TRUE(s);
  EXPECT_EQ(s.getScaleShape({256, 64}), (SmallVector<int64_t>{8, 64}));
  EXPECT_EQ(s.getQMin(), -8);
  EXPECT_EQ(s.getQMax(), 7);
  SchemeAttr channel =
      SchemeAttr::get(&ctx, 3u, CodeFormat::Int, false, Granularity::Channel,
                      int64_t(1), int64_t(0), Float32Type::get(&ctx),
                      IntegerType::get(&ctx, 8), int64_t(0), Type());
  EXPECT_EQ(channel.getScaleShape({256, 64}), (SmallVector<int64_t>{1, 64}));
  EXPECT_EQ(channel.getQMin(), 0);
  EXPECT_EQ(channel.getQMax(), 7);
  SchemeAttr super =
      SchemeAttr::get(&ctx, 4u, CodeFormat::Int, true, Granularity::Group,
                      int64_t(0), int64_t(32), IntegerType::get(&ctx, 6),
                      Type(), int64_t(8), Float16Type::get(&ctx));
  EXPECT_EQ(super.getSuperScaleShape({512, 16}), (SmallVector<int64_t>{2, 16}));
}

TEST_F(SchemeAttrTest, ParsesAndPrints) {
  const char *text =
      "#lowbit.scheme<e2m1, group = 16, axis = 1, scale = f8E4M3FN, "
      "super = tensor, super_scale = f32>";
  Attribute attr = parseAttribute(text, &ctx);
  ASSERT_TRUE(attr);
  std::string printed;
  llvm::raw_string_ostream os(printed);
  attr.print(os);
  EXPECT_EQ(printed, text);
}

} // namespace
