//===- PartChecks.h - Checks of constant quantized parts --------*- C++ -*-===//
//
// Verifier rules that look into constant parts of a quantized value: outlier
// coordinates inside the logical shape, csr row pointers, N:M masks.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_DIALECT_LOWBIT_IR_PARTCHECKS_H
#define LOWBIT_LIB_DIALECT_LOWBIT_IR_PARTCHECKS_H

#include "lowbit/Dialect/Lowbit/IR/LowbitTypes.h"
#include "mlir/IR/Operation.h"

namespace mlir::lowbit {

/// Checks the constant parts among `parts` (in canonical order for `type`).
/// Parts that are not constants are not checked.
LogicalResult verifyConstantParts(Operation *op, QTensorType type,
                                  ValueRange parts);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_DIALECT_LOWBIT_IR_PARTCHECKS_H
