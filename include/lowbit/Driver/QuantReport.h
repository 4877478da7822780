//===- QuantReport.h - The quantization summary -----------------*- C++ -*-===//
//
// What a quantizing compile prints at the end and writes to
// quant-report.json: per layer its scheme, weight and output errors and
// time (from the lowbit.* attributes the quantization passes leave on each
// lowbit.matmul), and the totals.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_QUANTREPORT_H
#define LOWBIT_DRIVER_QUANTREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::lowbit {

/// Bytes of the constants of `module` (weights, codes, scales, ...).
int64_t constantBytes(ModuleOp module);

struct ReportTimes {
  double calibration = 0, smoothing = 0, quantization = 0, rotation = 0,
         allocation = 0;
};

/// Prints the per-layer table (bits, group, weight and output error, time)
/// and the totals (sizes, bits per weight), and returns the same as JSON.
/// With `activationOutlierThreshold` > 0 (int8 activations), each layer
/// whose input has calibration statistics also gets the count of input
/// channels above it (`activation_outlier_channels`: what lowbit-pack
/// splits off where the layer takes the int8 kernels).
llvm::json::Object printQuantReport(ModuleOp module, int64_t bytesBefore,
                                    const ReportTimes &times,
                                    llvm::raw_ostream &os,
                                    double activationOutlierThreshold = 0.0);

} // namespace mlir::lowbit

#endif // LOWBIT_DRIVER_QUANTREPORT_H
