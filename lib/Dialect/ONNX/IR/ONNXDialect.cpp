//===- ONNXDialect.cpp - The generic onnx import dialect --------*- C++ -*-===//
//
// Registration and verifiers of onnx.node and onnx.none.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::lowbit::onnx;

#include "lowbit/Dialect/ONNX/IR/ONNXOpsDialect.cpp.inc"

void ONNXDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "lowbit/Dialect/ONNX/IR/ONNXOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "lowbit/Dialect/ONNX/IR/ONNXOps.cpp.inc"

LogicalResult NodeOp::verify() {
  if (getOpType().empty())
    return emitOpError() << "op type must not be empty";
  if (getOpset() <= 0)
    return emitOpError() << "opset " << getOpset() << " is not positive";
  return success();
}
