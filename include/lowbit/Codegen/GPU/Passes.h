//===- Passes.h - NVIDIA GPU code generation passes -------------*- C++ -*-===//
//
// Declarations and registration of the passes in Codegen/GPU/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CODEGEN_GPU_PASSES_H
#define LOWBIT_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::lowbit {

#define GEN_PASS_DECL
#include "lowbit/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowbit/Codegen/GPU/Passes.h.inc"

} // namespace mlir::lowbit

#endif // LOWBIT_CODEGEN_GPU_PASSES_H
