//===- ONNXOps.h - The generic onnx import dialect --------------*- C++ -*-===//
//
// The onnx dialect: onnx.node and onnx.none.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_ONNX_IR_ONNXOPS_H
#define LOWBIT_DIALECT_ONNX_IR_ONNXOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "lowbit/Dialect/ONNX/IR/ONNXOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h.inc"

#endif // LOWBIT_DIALECT_ONNX_IR_ONNXOPS_H
