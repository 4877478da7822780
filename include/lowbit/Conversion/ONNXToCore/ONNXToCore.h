//===- ONNXToCore.h - onnx.node to upstream dialects ------------*- C++ -*-===//
//
// Pattern sets that give imported ONNX nodes their meaning, one per op
// family, and the report of what is left unsupported.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_ONNXTOCORE_ONNXTOCORE_H
#define LOWBIT_CONVERSION_ONNXTOCORE_ONNXTOCORE_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
class RewritePatternSet;
namespace func {
class FuncOp;
} // namespace func

namespace lowbit {

/// Add, Sub, Mul, Div, Pow, Max, Min, comparisons, logic, Where and the
/// unary math and activation ops.
void populateONNXElementwisePatterns(RewritePatternSet &patterns);
/// MatMul and Gemm.
void populateONNXMatMulPatterns(RewritePatternSet &patterns);
/// Einsum (explicit and implicit equations, no ellipsis).
void populateONNXEinsumPatterns(RewritePatternSet &patterns);
/// Shape, Reshape, Unsqueeze, Squeeze, Transpose, Range, Gather.
void populateONNXShapePatterns(RewritePatternSet &patterns);
/// GatherElements and GatherND.
void populateONNXGatherPatterns(RewritePatternSet &patterns);
/// Concat and Split.
void populateONNXConcatSplitPatterns(RewritePatternSet &patterns);
/// Slice, Flatten, CumSum.
void populateONNXSlicePatterns(RewritePatternSet &patterns);
/// Conv, ConvTranspose, BatchNormalization, Pad.
void populateONNXConvolutionPatterns(RewritePatternSet &patterns);
/// MaxPool, AveragePool, GlobalAveragePool.
void populateONNXPoolingPatterns(RewritePatternSet &patterns);
/// Conv, ConvTranspose, MaxPool and AveragePool on 1-D inputs rewritten to
/// their 2-D forms.
void populateONNXLift1DPatterns(RewritePatternSet &patterns);
/// Expand, ConstantOfShape, Trilu.
void populateONNXGeneratorPatterns(RewritePatternSet &patterns);
/// ReduceSum/Mean/Max, Softmax, LogSoftmax, Hardmax, LayerNormalization.
void populateONNXReductionPatterns(RewritePatternSet &patterns);
/// ArgMax, ArgMin, TopK and Size.
void populateONNXArgReductionPatterns(RewritePatternSet &patterns);
/// Constant and Identity.
void populateONNXConstantPatterns(RewritePatternSet &patterns);
/// Resize (nearest, linear).
void populateONNXResizePatterns(RewritePatternSet &patterns);
/// QuantizeLinear, DequantizeLinear (per tensor, per axis, blocked).
void populateONNXQuantizationPatterns(RewritePatternSet &patterns);
/// ConvInteger and QLinearConv (exact in i32).
void populateONNXIntegerConvolutionPatterns(RewritePatternSet &patterns);
/// onnxruntime's com.microsoft MatMulNBits, as lowbit.matmul on its codes.
void populateONNXMatMulNBitsPatterns(RewritePatternSet &patterns);
/// Ranked result types for nodes that ONNX's shape inference left
/// unranked (a Reshape target it could not propagate, and the nodes after
/// it), from their ranked operands.
void populateONNXTypeRefinementPatterns(RewritePatternSet &patterns);
/// Every family above.
void populateONNXToCorePatterns(RewritePatternSet &patterns);
/// The folding the conversion applies with the patterns: the
/// canonicalization patterns of arith, tensor and linalg ops, and the
/// evaluation of small linalg.generic ops on constants through their body's
/// folders (shape arithmetic of exporters becomes constants).
void populateONNXFoldingPatterns(RewritePatternSet &patterns);

/// Gives `func` the static result types its returned values have when they
/// reach the return through a tensor.cast to a less static or unranked type
/// (graph outputs ONNX shape inference left dynamic or untyped and folding
/// made static).
void refineResultTypes(func::FuncOp func);

/// Emits one error on `root` listing every onnx.node left under it (op type,
/// count, node names); returns failure if there was any.
LogicalResult reportUnsupportedONNXNodes(Operation *root);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_CONVERSION_ONNXTOCORE_ONNXTOCORE_H
