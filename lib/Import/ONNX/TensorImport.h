//===- TensorImport.h - ONNX types and tensors to MLIR ----------*- C++ -*-===//
//
// Element types, value types, and TensorProto data (inline, raw or external)
// as MLIR attributes; large tensors become dense_resource blobs that own or
// map their bytes instead of copying them.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_IMPORT_ONNX_TENSORIMPORT_H
#define LOWBIT_LIB_IMPORT_ONNX_TENSORIMPORT_H

#include "ONNXProto.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::lowbit {

/// The MLIR element type of an ONNX TensorProto.DataType, or an error.
llvm::Expected<Type> getElementType(MLIRContext *ctx, int32_t dataType);

/// The MLIR type of an ONNX value type (tensor types only).
llvm::Expected<Type> getValueType(MLIRContext *ctx,
                                  const ::onnx::TypeProto &type);

/// Imports the data of `tensor` (consuming its raw bytes where it can).
/// External data is looked up relative to `modelDir` and mapped, not read.
/// Tensors with at most `inlineLimit` elements become DenseElementsAttr.
llvm::Expected<ElementsAttr> importTensor(MLIRContext *ctx,
                                          ::onnx::TensorProto &tensor,
                                          llvm::StringRef modelDir,
                                          int64_t inlineLimit);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_IMPORT_ONNX_TENSORIMPORT_H
