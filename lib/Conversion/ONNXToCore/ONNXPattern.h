//===- ONNXPattern.h - Base of the onnx.node patterns -----------*- C++ -*-===//
//
// A pattern over onnx.node that matches one op type in a range of opsets,
// and the helpers every family uses: attribute access and numpy
// broadcasting into linalg.generic.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_ONNXTOCORE_ONNXPATTERN_H
#define LOWBIT_LIB_CONVERSION_ONNXTOCORE_ONNXPATTERN_H

#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::lowbit {

/// The newest default-domain opset the conversions were checked against:
/// ONNX 1.23's opset 28 (the onnx package the tests pin). A later opset may
/// give an op new semantics that no pattern here knows, so a node of a
/// model importing one matches no pattern and is refused by name
/// (reportUnsupportedONNXNodes says why), instead of being converted with
/// the semantics of an older opset.
constexpr int64_t kNewestKnownONNXOpset = 28;

/// Matches onnx.node with a given op type (of the default domain, or of
/// `domain`) whose model opset (of that domain) lies in [minOpset,
/// maxOpset].
class ONNXPattern : public OpRewritePattern<onnx::NodeOp> {
public:
  ONNXPattern(MLIRContext *ctx, StringRef opType, int64_t minOpset = 1,
              int64_t maxOpset = kNewestKnownONNXOpset, StringRef domain = "")
      : OpRewritePattern(ctx), opType(opType), domain(domain),
        minOpset(minOpset), maxOpset(maxOpset) {}

  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const final {
    int64_t opset = op.getOpset();
    if (op.getOpType() != opType || op.getDomain() != domain ||
        opset < minOpset || opset > maxOpset)
      return failure();
    return rewriteNode(op, rewriter);
  }

protected:
  virtual LogicalResult rewriteNode(onnx::NodeOp op,
                                    PatternRewriter &rewriter) const = 0;
  StringRef getOpType() const { return opType; }

private:
  std::string opType, domain;
  int64_t minOpset, maxOpset;
};

/// The window helpers of the 2-D CNN ops (Convolution.cpp, Pooling.cpp).
/// An integer-list attribute of the node, or `defaultValue`.
SmallVector<int64_t> intsAttr(onnx::NodeOp op, StringRef name,
                              SmallVector<int64_t> defaultValue);
/// Spatial padding [top, left, bottom, right] of a 2-D window op from `pads`
/// or `auto_pad` (SAME_* needs static spatial sizes).
std::optional<SmallVector<int64_t>>
getPads(onnx::NodeOp op, RankedTensorType in, ArrayRef<int64_t> kernel,
        ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations);
/// Pads the spatial dims of an NCHW tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> pads,
                 Value value);
/// A tensor of `type` filled with `scalar`; only the batch dimension is
/// dynamic, sized from `x`.
Value filledLike(OpBuilder &b, Location loc, RankedTensorType type, Value x,
                 Value scalar);

/// The 2-D convolution (group 1 or depthwise) of NCHW `x` by `w` (static
/// [M, C/group, kh, kw]) into `rt`, with `op`'s strides, dilations and
/// padding (pads or auto_pad); the padding value `padValue`. Failure with
/// `why` set.
FailureOr<Value> buildConv2D(OpBuilder &b, onnx::NodeOp op, Value x, Value w,
                             RankedTensorType rt, Value padValue,
                             std::string &why);

/// The scalar steps of onnxruntime's integer ops. `widenToI32`: an 8-bit
/// integer (signed or unsigned) as i32. `requantize`: an i32 accumulator to
/// an 8-bit code as QLinearMatMul / QLinearConv define it (in f32),
///   clamp(roundeven(float(acc) * (aScale * bScale / yScale)) + yZp).
Value widenToI32(OpBuilder &b, Location loc, Value v, bool isUnsigned);
Value requantize(OpBuilder &b, Location loc, Value acc, Value aScale,
                 Value bScale, Value yScale, Value yZp, bool outUnsigned);

/// Why a com.microsoft MatMulNBits node cannot be converted, or "" (for
/// the unsupported-node report).
std::string explainMatMulNBits(onnx::NodeOp op);

/// An integer attribute of the node, or `defaultValue`.
int64_t getIntAttr(onnx::NodeOp op, StringRef name, int64_t defaultValue);
/// The node's axis attribute `name` (or `defaultValue`) made non-negative
/// for a tensor of rank `rank`; failure when it lies outside
/// [-rank, rank) (or [-rank, rank] with `inclusive`, as Flatten allows).
FailureOr<int64_t> getAxisAttr(onnx::NodeOp op, StringRef name,
                               int64_t defaultValue, int64_t rank,
                               bool inclusive = false);
/// A float attribute of the node, or `defaultValue`.
float getFloatAttr(onnx::NodeOp op, StringRef name, float defaultValue);

/// The ranked tensor type of result `i`, or null.
RankedTensorType getResultType(onnx::NodeOp op, unsigned i = 0);

/// Computes `body` elementwise over `inputs` broadcast with numpy rules to
/// `resultType` (a linalg.generic). A dynamic result dimension takes its size
/// from an input that has that dimension (not a static 1); broadcasting a
/// dynamic dimension of size 1 at run time is not supported.
FailureOr<Value> buildBroadcastGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// `index` (an integer of any width) as an index into an axis of `size`
/// elements: negative ones from the end, then clamped to [0, size), so
/// that an index outside the axis (an error in ONNX) cannot read outside
/// the tensor.
Value normalizeIndex(OpBuilder &b, Location loc, Value index, Value size);
/// An index constant.
Value indexConst(OpBuilder &b, Location loc, int64_t v);
/// A float constant of type `t`.
Value floatConst(OpBuilder &b, Location loc, Type t, double v);
/// tensor.empty of `type` whose dynamic dimensions take their sizes from the
/// same dimensions of `source` (which has `type`'s rank).
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                Value source);
/// An i64 constant.
Value i64Const(OpBuilder &b, Location loc, int64_t v);
/// Size of dimension `d` of ranked tensor `v` as index (constant if static).
Value dimSize(OpBuilder &b, Location loc, Value v, int64_t d);
/// The values of a constant integer tensor operand.
std::optional<SmallVector<int64_t>> constantInts(Value v);
/// The values of a constant float tensor operand.
std::optional<SmallVector<double>> constantFloats(Value v);
/// tensor.reshape of `input` to `resultType`, dimension sizes `sizes`.
Value reshapeTo(OpBuilder &b, Location loc, Value input,
                RankedTensorType resultType, ArrayRef<Value> sizes);

/// ONNX keeps integer signedness in types (ui8, i8 is signless = signed);
/// upstream dialects want signless integers and say signedness in the op
/// (divui, cmpi ult). Patterns bitcast ui/si operands to signless, compute,
/// and bitcast back; the pass erases the remaining signed types at the end.

/// The signless integer type of the same width for ui/si, else `t`.
Type signlessElement(Type t);
/// `t` with a signless element type.
Type signlessType(Type t);
/// True if `t` (a scalar or shaped type) has an unsigned integer element.
bool isUnsignedElement(Type t);
/// `v` bitcast to its signless type (itself if already signless).
Value toSignless(OpBuilder &b, Location loc, Value v);
/// Signless `v` bitcast back to `type` (itself if the types agree).
Value fromSignless(OpBuilder &b, Location loc, Value v, Type type);
/// Rewrites every ui/si integer type in `func` (arguments, results, values,
/// constants) to the signless type of the same width, recording unsigned
/// function arguments and results with a `lowbit.unsigned` attribute.
void eraseSignedness(Operation *func);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_CONVERSION_ONNXTOCORE_ONNXPATTERN_H
