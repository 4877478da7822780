//===- ShapeFolding.h - Folding shape subgraphs of a ModelProto -*- C++ -*-===//
//
// Evaluates the small integer computations of a model (shape arithmetic,
// position ranges) whose inputs are constants or static shapes, replacing
// the nodes by initializers.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_IMPORT_ONNX_SHAPEFOLDING_H
#define LOWBIT_LIB_IMPORT_ONNX_SHAPEFOLDING_H

#include "ONNXProto.h"

#include <string>

namespace mlir::lowbit {

/// Folds, in rounds alternating with ONNX shape inference, every node whose
/// result is a small integer tensor computable from initializers, Constant
/// nodes and static shapes. Returns the number of nodes folded; sets
/// `warning` if shape inference stopped early.
int foldShapeSubgraphs(::onnx::ModelProto &model, std::string &warning);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_IMPORT_ONNX_SHAPEFOLDING_H
