//===- QuantizeModel.h - Calibrate and quantize a module --------*- C++ -*-===//
//
// Internal to lib/Driver: the calibration and quantization phase of a
// compile.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_DRIVER_QUANTIZEMODEL_H
#define LOWBIT_LIB_DRIVER_QUANTIZEMODEL_H

#include "lowbit/Driver/Compile.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::lowbit {

/// Inserts the calibration sites, collects (or reads) the statistics and
/// attaches them, then runs the recipe's quantization pipeline and prints
/// the per-layer table; fills `report` (quant-report.json).
LogicalResult quantizeModel(ModuleOp module, const CompileOptions &options,
                            llvm::json::Object &report, raw_ostream &log);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_DRIVER_QUANTIZEMODEL_H
