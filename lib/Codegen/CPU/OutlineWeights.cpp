//===- OutlineWeights.cpp - Large constants to entry arguments --*- C++ -*-===//
//
// Implements lowbit-cpu-outline-weights: the weights of a model leave the code
// and become arguments the runtime binds to a memory-mapped file; their
// values go to the module attribute `lowbit.weights` for the artifact writer.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUOUTLINEWEIGHTSPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct OutlineWeightsPass
    : lowbit::impl::LowbitCPUOutlineWeightsPassBase<OutlineWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = lowbit::lookupEntryFunction(getOperation(), entry);
    if (!func)
      return signalPassFailure();
    SmallVector<arith::ConstantOp> constants;
    func.walk([&](arith::ConstantOp op) {
      auto type = dyn_cast<RankedTensorType>(op.getType());
      if (type && type.hasStaticShape() &&
          type.getNumElements() >= minElements &&
          isa<DenseElementsAttr, DenseResourceElementsAttr>(op.getValue()))
        constants.push_back(op);
    });
    if (constants.empty())
      return;
    // Appended to the values of earlier runs: entry i is the i-th outlined
    // argument.
    StringRef attrName = LowbitDialect::WeightsAttrHelper::getNameStr();
    SmallVector<Attribute> values;
    if (auto earlier = getOperation()->getAttrOfType<ArrayAttr>(attrName))
      llvm::append_range(values, earlier.getValue());
    Block &body = func.getBody().front();
    for (arith::ConstantOp op : constants) {
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, op.getType(),
                                     DictionaryAttr::get(&getContext()),
                                     op.getLoc())))
        return signalPassFailure();
      values.push_back(op.getValue());
      op.getResult().replaceAllUsesWith(body.getArgument(index));
      op.erase();
    }
    getOperation()->setAttr(attrName, ArrayAttr::get(&getContext(), values));
  }
};

} // namespace
