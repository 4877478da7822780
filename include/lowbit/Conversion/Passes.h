//===- Passes.h - Lowbit conversion passes ----------------------*- C++ -*-===//
//
// Declarations and registration of the passes in Conversion/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_H
#define LOWBIT_CONVERSION_PASSES_H

#include "lowbit/Conversion/LowbitToCPU/LowbitToCPU.h"
#include "lowbit/Conversion/LowbitToLinalg/LowbitToLinalg.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::lowbit {

#define GEN_PASS_DECL
#include "lowbit/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowbit/Conversion/Passes.h.inc"

} // namespace mlir::lowbit

#endif // LOWBIT_CONVERSION_PASSES_H
