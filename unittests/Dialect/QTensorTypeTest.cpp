//===- QTensorTypeTest.cpp - Tests of !lowbit.qtensor parts -----*- C++ -*-===//
//
// The canonical part list of quantized types, which pack, unpack and the
// lowering depend on.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

QTensorType parse(MLIRContext &ctx, StringRef text) {
  return dyn_cast_or_null<QTensorType>(parseType(text, &ctx));
}

std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

TEST(QTensorType, AllParts) {
  MLIRContext ctx;
  ctx.loadDialect<LowbitDialect>();
  QTensorType t = parse(
      ctx, "!lowbit.qtensor<64x32xf16, #lowbit.scheme<lut3, asym, group = 16, "
           "axis = 0, scale = i8, zero_point = i8, super = 2, super_scale = "
           "f32>, outliers = #lowbit.outliers<csr, nnz = 5, f16>, sparsity = "
           "#lowbit.sparsity<block 8, axis = 1>>");
  ASSERT_TRUE(t);
  SmallVector<StringRef> names = t.getPartNames();
  SmallVector<Type> types = t.getPartTypes();
  ASSERT_EQ(names.size(), types.size());
  std::vector<std::string> expected = {
      "codes:tensor<64x32xi3>",        "scales:tensor<4x32xi8>",
      "zero_points:tensor<4x32xi8>",   "codebook:tensor<8xf16>",
      "super_scales:tensor<2x32xf32>", "outlier_row_ptr:tensor<65xi32>",
      "outlier_col_idx:tensor<5xi32>", "outlier_values:tensor<5xf16>",
      "mask:tensor<64x4xi1>"};
  ASSERT_EQ(names.size(), expected.size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ((names[i] + ":" + str(types[i])).str(), expected[i]);
  EXPECT_EQ(t.getParamTypes().size(), 4u);
  EXPECT_FALSE(t.getDense().getOutliers());
}

TEST(QTensorType, CooIndices) {
  MLIRContext ctx;
  ctx.loadDialect<LowbitDialect>();
  QTensorType t = parse(
      ctx, "!lowbit.qtensor<2x3x4xf32, #lowbit.scheme<int8, sym, tensor, "
           "scale = f32>, outliers = #lowbit.outliers<coo, nnz = 7, f32>>");
  ASSERT_TRUE(t);
  SmallVector<Type> outliers = t.getOutlierTypes();
  ASSERT_EQ(outliers.size(), 2u);
  EXPECT_EQ(str(outliers[0]), "tensor<7x3xi32>");
  EXPECT_EQ(str(t.getScalesType()), "tensor<1x1x1xf32>");
}

} // namespace
