//===- InlineAllocaScopes.cpp - Alloca-free scopes inlined ------*- C++ -*-===//
//
// Implements lowbit-cpu-inline-alloca-scopes: the memref.alloca_scope ops
// that convert-scf-to-openmp wraps around parallel bodies are inlined when
// they hold no alloca, so that scf-to-cf can run inside those bodies.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUINLINEALLOCASCOPESPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;

namespace {

struct InlineAllocaScopesPass
    : lowbit::impl::LowbitCPUInlineAllocaScopesPassBase<
          InlineAllocaScopesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp op) {
      bool hasAlloca = false;
      op.walk([&](memref::AllocaOp) { hasAlloca = true; });
      if (!hasAlloca)
        scopes.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocaScopeOp op : scopes) {
      Block &body = op.getBodyRegion().front();
      auto ret = cast<memref::AllocaScopeReturnOp>(body.getTerminator());
      SmallVector<Value> results(ret.getResults());
      rewriter.eraseOp(ret);
      rewriter.inlineBlockBefore(&body, op);
      rewriter.replaceOp(op, results);
    }
  }
};

} // namespace
