//===- LowbitDialect.h - The lowbit dialect ---------------------*- C++ -*-===//
//
// Declares the lowbit dialect class. Include LowbitOps.h for everything.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_H
