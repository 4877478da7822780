//===- LowbitAttrs.h - Attributes of the lowbit dialect ---------*- C++ -*-===//
//
// Enumerations and attributes: the quantization scheme, outlier format and
// sparsity structure.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectImplementation.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_H
