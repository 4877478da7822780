//===- LowbitTypes.h - Types of the lowbit dialect --------------*- C++ -*-===//
//
// The quantized tensor type `!lowbit.qtensor`.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITTYPES_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITTYPES_H

#include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "lowbit/Dialect/Lowbit/IR/LowbitTypes.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITTYPES_H
