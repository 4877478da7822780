//===- OutlineKernels.cpp - One function per linalg op ----------*- C++ -*-===//
//
// Implements lowbit-cpu-outline-kernels. The entry function keeps the data flow
// (calls, tensor.empty, reshapes and slices); each kernel function holds one
// linalg op with the fill of its outputs and the small constants it reads.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUOUTLINEKERNELSPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// True for a value the kernel recomputes instead of taking as an argument:
/// a small constant.
bool isClonedConstant(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return false;
  auto type = dyn_cast<ShapedType>(cst.getType());
  return !type || (type.hasStaticShape() && type.getNumElements() <= 64);
}

struct OutlineKernelsPass
    : lowbit::impl::LowbitCPUOutlineKernelsPassBase<OutlineKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp func = lookupEntryFunction(module, entry);
    if (!func)
      return signalPassFailure();
    SmallVector<DestinationStyleOpInterface> ops;
    for (Operation &op : func.getBody().front())
      if ((isa<linalg::LinalgOp>(&op) && !isa<linalg::FillOp>(&op)) ||
          isa<PackedMatmulOp>(&op))
        ops.push_back(cast<DestinationStyleOpInterface>(&op));
    OpBuilder moduleBuilder(module.getBodyRegion());
    moduleBuilder.setInsertionPointAfter(func);
    int64_t index = 0;
    for (DestinationStyleOpInterface op : ops)
      outline(op, func, moduleBuilder, index++);
    // Fills now recomputed inside kernels are dead in the entry.
    SmallVector<Operation *> dead;
    for (Operation &op : func.getBody().front())
      if (isa<linalg::FillOp>(&op) && op.use_empty())
        dead.push_back(&op);
    for (Operation *op : llvm::reverse(dead))
      op->erase();
  }

  void outline(DestinationStyleOpInterface op, func::FuncOp entryFunc,
               OpBuilder &moduleBuilder, int64_t index) {
    // What the kernel recomputes (in order) and what it takes as arguments.
    SmallVector<Operation *> cloned;
    llvm::SetVector<Value> args;
    auto addOperand = [&](Value v) {
      if (isClonedConstant(v)) {
        if (!llvm::is_contained(cloned, v.getDefiningOp()))
          cloned.push_back(v.getDefiningOp());
        return;
      }
      args.insert(v);
    };
    for (Value v : op->getOperands()) {
      // A slice of an input is taken inside the kernel: passed across the
      // call it would be a strided view, which function boundaries copy to
      // a contiguous buffer.
      if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
          slice && llvm::is_contained(op.getDpsInputs(), v)) {
        for (Value operand : slice->getOperands())
          addOperand(operand);
        if (!llvm::is_contained(cloned, slice.getOperation()))
          cloned.push_back(slice);
        continue;
      }
      // A fill of the outputs moves into the kernel (a copy per user when
      // CSE merged the fills of several ops: each recomputes its own, which
      // is cheaper than the copies bufferization would make of one).
      auto fill = v.getDefiningOp<linalg::FillOp>();
      if (fill && (fill->hasOneUse() ||
                   fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>())) {
        addOperand(fill.getInputs()[0]);
        addOperand(fill.getOutputs()[0]);
        // Once, also when it fills several outputs of this op.
        if (!llvm::is_contained(cloned, fill.getOperation()))
          cloned.push_back(fill);
        continue;
      }
      addOperand(v);
    }
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(op->getRegions(), above);
    for (Value v : above)
      addOperand(v);

    MLIRContext *ctx = op->getContext();
    SmallVector<Type> argTypes;
    for (Value v : args)
      argTypes.push_back(v.getType());
    auto type = FunctionType::get(ctx, argTypes, op->getResultTypes());
    std::string name = (entryFunc.getName() + "_kernel_" + Twine(index)).str();
    auto kernel = func::FuncOp::create(moduleBuilder, op.getLoc(), name, type);
    kernel.setPrivate();
    // Kept out of line in LLVM: compile time stays linear in the model size.
    kernel->setAttr("passthrough",
                    ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
    Block *body = kernel.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(body);
    IRMapping map;
    for (auto [v, arg] : llvm::zip(args, body->getArguments()))
      map.map(v, arg);
    for (Operation *c : cloned)
      b.clone(*c, map);
    Operation *clone = b.clone(*op.getOperation(), map);
    func::ReturnOp::create(b, op.getLoc(), clone->getResults());

    OpBuilder callBuilder(op);
    auto call = func::CallOp::create(callBuilder, op.getLoc(), kernel,
                                     args.getArrayRef());
    op->replaceAllUsesWith(call.getResults());
    op->erase();
  }
};

} // namespace
