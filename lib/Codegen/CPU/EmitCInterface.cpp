//===- EmitCInterface.cpp - The entry's calling convention ------*- C++ -*-===//
//
// Implements lowbit-cpu-emit-c-interface: the entry function gets a C
// interface (`_mlir_ciface_<entry>`, memrefs as pointers to descriptors: the
// convention of the artifact's C wrapper) and loses its interface
// attributes, which the manifest records and LLVM has no use for.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUEMITCINTERFACEPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;

namespace {

struct EmitCInterfacePass
    : lowbit::impl::LowbitCPUEmitCInterfacePassBase<EmitCInterfacePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = lowbit::lookupEntryFunction(getOperation(), entry);
    if (!func)
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      func.setArgAttrs(i, DictionaryAttr::get(ctx));
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      func.setResultAttrs(i, DictionaryAttr::get(ctx));
  }
};

} // namespace
