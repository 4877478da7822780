//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//
//
// Declarations and registration of the passes in Codegen/CPU/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CODEGEN_CPU_PASSES_H
#define LOWBIT_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <string>

namespace mlir::lowbit {

#define GEN_PASS_DECL
#include "lowbit/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowbit/Codegen/CPU/Passes.h.inc"

/// The entry function `name` of `module`; null, with an error on the
/// module, when there is none.
inline func::FuncOp lookupEntryFunction(ModuleOp module, StringRef name) {
  auto func = module.lookupSymbol<func::FuncOp>(name);
  if (!func)
    module.emitError() << "no entry function @" << name;
  return func;
}

} // namespace mlir::lowbit

#endif // LOWBIT_CODEGEN_CPU_PASSES_H
