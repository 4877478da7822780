//===- OutlineWeights.cpp - Large constants to entry arguments --*- C++ -*-===//
//
// Implements lowbit-outline-weights: the weights of a model leave the code
// and become arguments the runtime binds to a memory-mapped file.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/CPU/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_OUTLINEWEIGHTSPASS
#include "lowbit/Target/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct OutlineWeightsPass
    : lowbit::impl::OutlineWeightsPassBase<OutlineWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    auto func = getOperation().lookupSymbol<func::FuncOp>(entry);
    if (!func) {
      getOperation().emitError() << "no entry function @" << entry;
      return signalPassFailure();
    }
    SmallVector<arith::ConstantOp> constants;
    func.walk([&](arith::ConstantOp op) {
      auto type = dyn_cast<RankedTensorType>(op.getType());
      if (type && type.hasStaticShape() && type.getNumElements() >= minElements &&
          isa<DenseElementsAttr, DenseResourceElementsAttr>(op.getValue()))
        constants.push_back(op);
    });
    Block &body = func.getBody().front();
    for (arith::ConstantOp op : constants) {
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, op.getType(),
                                     DictionaryAttr::get(&getContext()),
                                     op.getLoc())))
        return signalPassFailure();
      func.setArgAttr(index, "lowbit.weight", op.getValue());
      op.getResult().replaceAllUsesWith(body.getArgument(index));
      op.erase();
    }
  }
};

} // namespace
