//===- OpVerifierTest.cpp - Op verifier rules the syntax cannot reach -*- C++
//-*-===//
//
// lowbit.calibrate with an empty statistics set can only be built from C++
// (the textual bit-enum syntax needs at least one name).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::lowbit;

TEST(OpVerifier, CalibrateNeedsAStatistic) {
  MLIRContext ctx;
  ctx.loadDialect<LowbitDialect, func::FuncDialect>();
  std::vector<std::string> messages;
  ctx.getDiagEngine().registerHandler([&](Diagnostic &d) {
    messages.push_back(d.str());
    return success();
  });
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto type = RankedTensorType::get({4, 8}, b.getF32Type());
  auto func = func::FuncOp::create(b, loc, "f", b.getFunctionType({type}, {}));
  b.setInsertionPointToEnd(func.addEntryBlock());
  auto op = CalibrateOp::create(
      b, loc, type, func.getArgument(0), b.getStringAttr("site"),
      CalibStatsAttr::get(&ctx, CalibStats(0)), b.getI64IntegerAttr(-1));
  func::ReturnOp::create(b, loc);
  EXPECT_TRUE(failed(verify(op)));
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.back(),
            "'lowbit.calibrate' op must collect at least one statistic");
  op->setAttr("stats", CalibStatsAttr::get(&ctx, CalibStats::AbsMax));
  EXPECT_TRUE(succeeded(verify(op)));
}
