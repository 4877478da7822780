//===- NumberConstantGlobals.cpp - Deterministic constant globals -*- C++ -*-=//
//
// Implements lowbit-cpu-number-constant-globals: bufferization's constant
// globals renamed and ordered by first use, so that compiles are
// reproducible byte for byte.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUNUMBERCONSTANTGLOBALSPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;

namespace {

constexpr StringLiteral kPrefix = "__constant_";

struct NumberConstantGlobalsPass
    : lowbit::impl::LowbitCPUNumberConstantGlobalsPassBase<
          NumberConstantGlobalsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // The globals in the order of their first use.
    llvm::MapVector<StringAttr, memref::GlobalOp> order;
    module.walk([&](memref::GetGlobalOp get) {
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      if (global && global.getConstant() && global.isPrivate() &&
          global.getSymName().starts_with(kPrefix))
        order.insert({global.getSymNameAttr(), global});
    });
    // Unused ones keep their relative order, after the used ones.
    for (auto global : module.getOps<memref::GlobalOp>())
      if (global.getConstant() && global.isPrivate() &&
          global.getSymName().starts_with(kPrefix))
        order.insert({global.getSymNameAttr(), global});
    if (order.empty())
      return;
    // Through temporary names, so that no new name meets an old one.
    MLIRContext *ctx = &getContext();
    SmallVector<memref::GlobalOp> globals;
    for (auto [i, entry] : llvm::enumerate(order)) {
      memref::GlobalOp global = entry.second;
      auto temp =
          StringAttr::get(ctx, "__lowbit_renaming_" + std::to_string(i));
      if (symbols.lookup(temp) || failed(symbols.rename(global, temp))) {
        global.emitError("cannot rename the constant global");
        return signalPassFailure();
      }
      globals.push_back(global);
    }
    Block *body = module.getBody();
    for (auto [i, global] : llvm::enumerate(globals)) {
      auto name = StringAttr::get(ctx, kPrefix + std::to_string(i));
      if (symbols.lookup(name) || failed(symbols.rename(global, name))) {
        global.emitError("cannot rename the constant global to ") << name;
        return signalPassFailure();
      }
    }
    for (memref::GlobalOp global : llvm::reverse(globals))
      global->moveBefore(body, body->begin());
  }
};

} // namespace
