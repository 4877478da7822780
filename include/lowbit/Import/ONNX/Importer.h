//===- Importer.h - ONNX models into MLIR -----------------------*- C++ -*-===//
//
// The generic ONNX importer: a ModelProto (with external data) becomes a
// func.func of onnx.node ops, weights as dense_resource constants.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_IMPORT_ONNX_IMPORTER_H
#define LOWBIT_IMPORT_ONNX_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>

namespace mlir::lowbit {

struct ONNXImportOptions {
  /// Static shapes for graph inputs, by name (quant-translate
  /// --input-shape=name:1x512); they replace the model's (dynamic) shapes.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Values for graph inputs, by name (--input-value=starts:0,2): each such
  /// input becomes a constant of the model (shape arguments a static
  /// compiler needs: Slice starts, Reshape shape, TopK k, ...). The values
  /// are text, read as the input's element type.
  llvm::StringMap<llvm::SmallVector<std::string>> inputValues;
  /// Run ONNX shape inference (with data propagation) for values the model
  /// leaves untyped. Shape subgraphs stay nodes: convert-onnx-to-core folds
  /// them once their inputs are static.
  bool inferShapes = true;
  /// Name of the imported function.
  std::string functionName = "main";
  /// Tensors with at most this many elements become inline dense constants
  /// (readable, foldable); larger ones become dense_resource blobs.
  int64_t inlineElementLimit = 64;
};

/// Imports the model held by `buffer`; `modelPath` names it in diagnostics
/// and anchors external-data paths. Errors are emitted on `ctx` with the
/// file, the node and the reason; the result is then failure.
FailureOr<OwningOpRef<ModuleOp>>
importONNXModel(std::unique_ptr<llvm::MemoryBuffer> buffer,
                llvm::StringRef modelPath, MLIRContext *ctx,
                const ONNXImportOptions &options);

/// Parses "name:1x512" into `options.inputShapes`; false on bad syntax.
bool parseInputShape(llvm::StringRef spec, ONNXImportOptions &options);

/// Parses "name:v1,v2,..." (or "name:" for an empty tensor) into
/// `options.inputValues`; false on bad syntax. The values are checked
/// against the input's type at import.
bool parseInputValue(llvm::StringRef spec, ONNXImportOptions &options);

} // namespace mlir::lowbit

#endif // LOWBIT_IMPORT_ONNX_IMPORTER_H
