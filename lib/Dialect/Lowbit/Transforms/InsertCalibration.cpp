//===- InsertCalibration.cpp - Mark linear-layer inputs ---------*- C++ -*-===//
//
// The lowbit-insert-calibration pass: one lowbit.calibrate per distinct
// input of the selected linear layers.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITINSERTCALIBRATIONPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct InsertCalibrationPass
    : lowbit::impl::LowbitInsertCalibrationPassBase<InsertCalibrationPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<LayerFilter> filter =
        LayerFilter::createFor(getOperation(), getArgument(), include, exclude);
    if (failed(filter))
      return signalPassFailure();
    // Layers grouped by the tensor they read, in program order.
    llvm::MapVector<Value, SmallVector<LinearLayer>> byInput;
    for (LinearLayer &layer : collectLinearLayers(getOperation(), *filter))
      if (!layer.input.getDefiningOp<CalibrateOp>()) // already a site
        byInput[layer.input].push_back(layer);

    MLIRContext *ctx = &getContext();
    auto stats =
        CalibStatsAttr::get(ctx, CalibStats::AbsMax | CalibStats::MinMax |
                                     CalibStats::Mean | CalibStats::Hessian);
    for (auto &[input, layers] : byInput) {
      OpBuilder b(ctx);
      b.setInsertionPointAfterValue(input);
      auto site =
          CalibrateOp::create(b, input.getLoc(), input,
                              b.getStringAttr(layers.front().name + ":in"),
                              stats, b.getI64IntegerAttr(-1));
      for (LinearLayer &layer : layers)
        layer.op->replaceUsesOfWith(input, site.getResult());
    }
  }
};

} // namespace
