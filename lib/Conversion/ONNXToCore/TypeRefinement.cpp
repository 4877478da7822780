//===- TypeRefinement.cpp - Ranked types for results left unranked -*- C++
//-*-===//
//
// ONNX's shape inference gives up where data propagation does not reach:
// a Reshape whose target is computed through Cast (paddle2onnx's
// Shape -> Cast -> Slice -> Cast -> Concat) leaves the Reshape and every
// node after it untyped (`tensor<*xT>`) or dynamic, and the patterns need
// ranked types. RefineNodeTypes gives result 0 of such a node the type its
// semantics imply from its ranked operands, where that is more static than
// the type it has: Reshape the rank of its target (the exact shape when the
// target is constant, with ONNX's 0 and -1), Shape its length, the
// elementwise ops the numpy broadcast of their operands, MatMul numpy's
// matmul shape, Transpose, Squeeze/Unsqueeze, Slice (constant arguments),
// Concat, 2-D Conv, global pools and reductions theirs, shape-preserving
// ops their input's. An operand that reaches the node through a
// tensor.cast that only forgets sizes is read directly. The node is rebuilt
// with the new type; its users read the refined value (a tensor.cast back
// to the old type where the user is not an onnx.node, e.g. the return).
// The folding of convert-onnx-to-core then makes the rest static.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Ops whose (first) result has the shape of their first input.
const llvm::StringSet<> kSameShape = {"Abs",
                                      "Cast",
                                      "Ceil",
                                      "Clip",
                                      "CumSum",
                                      "Dropout",
                                      "Elu",
                                      "Erf",
                                      "Exp",
                                      "Floor",
                                      "Gelu",
                                      "HardSigmoid",
                                      "HardSwish",
                                      "Hardmax",
                                      "Identity",
                                      "InstanceNormalization",
                                      "IsInf",
                                      "IsNaN",
                                      "LayerNormalization",
                                      "LeakyRelu",
                                      "Log",
                                      "LogSoftmax",
                                      "Neg",
                                      "Not",
                                      "Reciprocal",
                                      "Relu",
                                      "Round",
                                      "Selu",
                                      "Sigmoid",
                                      "Sign",
                                      "Sin",
                                      "Cos",
                                      "Softmax",
                                      "Softplus",
                                      "Sqrt",
                                      "Tanh",
                                      "BatchNormalization",
                                      "CastLike",
                                      "Mish",
                                      "ThresholdedRelu"};

/// Ops whose result is the numpy broadcast of all their inputs.
const llvm::StringSet<> kBroadcast = {
    "Add",  "Sub",         "Mul",     "Div",
    "Pow",  "Mod",         "Max",     "Min",
    "Sum",  "Mean",        "Where",   "Equal",
    "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
    "And",  "Or",          "Xor",     "BitShift",
    "PRelu"};

/// Reductions: axes as attribute or input (as Reductions.cpp reads them).
const llvm::StringSet<> kReductions = {"ReduceSum", "ReduceMean", "ReduceMax",
                                       "ReduceMin", "ReduceProd"};

/// numpy broadcasting of `a` and `b`; failure if two static sizes clash.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == 1)
      out[i] = y;
    else if (y == 1)
      out[i] = x;
    else if (ShapedType::isDynamic(x))
      out[i] = y;
    else if (ShapedType::isDynamic(y) || x == y)
      out[i] = x;
    else
      return failure();
  }
  return out;
}

/// The axes of a Squeeze/Unsqueeze/Reduce* node: its second operand (a
/// constant) from opset `inputSince` on, its `axes` attribute before; empty
/// when absent, nullopt when the operand is not a constant.
std::optional<SmallVector<int64_t>> axesOf(onnx::NodeOp op, ValueRange operands,
                                           ArrayRef<RankedTensorType> in,
                                           int64_t inputSince) {
  if (static_cast<int64_t>(op.getOpset()) >= inputSince)
    return in.size() > 1 && in[1] ? constantInts(operands[1])
                                  : SmallVector<int64_t>();
  if (auto attr = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>("axes"))
    return SmallVector<int64_t>(attr.asArrayRef());
  return SmallVector<int64_t>();
}

/// The shape ONNX gives result 0 of `op` when it reads `operands` (ranked;
/// the node's own or the ones it is about to read).
FailureOr<SmallVector<int64_t>> inferShape(onnx::NodeOp op,
                                           ValueRange operands) {
  StringRef type = op.getOpType();
  SmallVector<RankedTensorType> in;
  for (Value v : operands) {
    if (isa<NoneType>(v.getType())) {
      in.push_back({});
      continue;
    }
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t)
      return failure();
    in.push_back(t);
  }
  if (in.empty() || !in[0])
    return failure();
  if (kSameShape.contains(type))
    return SmallVector<int64_t>(in[0].getShape());
  if (kBroadcast.contains(type)) {
    SmallVector<int64_t> shape(in[0].getShape());
    for (RankedTensorType t : ArrayRef(in).drop_front()) {
      if (!t)
        return failure();
      auto next = broadcastShapes(shape, t.getShape());
      if (failed(next))
        return failure();
      shape = *next;
    }
    return shape;
  }
  if (type == "MatMul" && in.size() == 2 && in[1]) {
    ArrayRef<int64_t> a = in[0].getShape(), b = in[1].getShape();
    if (a.empty() || b.empty())
      return failure();
    SmallVector<int64_t> aa(a), bb(b);
    bool vecA = aa.size() == 1, vecB = bb.size() == 1;
    if (vecA)
      aa.insert(aa.begin(), 1);
    if (vecB)
      bb.push_back(1);
    auto batch =
        broadcastShapes(ArrayRef(aa).drop_back(2), ArrayRef(bb).drop_back(2));
    if (failed(batch))
      return failure();
    SmallVector<int64_t> shape = *batch;
    if (!vecA)
      shape.push_back(aa[aa.size() - 2]);
    if (!vecB)
      shape.push_back(bb.back());
    return shape;
  }
  if (type == "Transpose") {
    int64_t rank = in[0].getRank();
    SmallVector<int64_t> perm;
    if (auto attr = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>("perm")) {
      perm.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    } else {
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    }
    if ((int64_t)perm.size() != rank)
      return failure();
    SmallVector<int64_t> shape;
    for (int64_t p : perm) {
      if (p < 0 || p >= rank)
        return failure();
      shape.push_back(in[0].getDimSize(p));
    }
    return shape;
  }
  if (type == "Shape") {
    int64_t rank = in[0].getRank();
    auto clamp = [&](int64_t v) {
      return std::min(std::max<int64_t>(v < 0 ? v + rank : v, 0), rank);
    };
    int64_t start = clamp(getIntAttr(op, "start", 0));
    int64_t end = clamp(getIntAttr(op, "end", rank));
    return SmallVector<int64_t>{std::max<int64_t>(end - start, 0)};
  }
  if (type == "Squeeze" || type == "Unsqueeze") {
    std::optional<SmallVector<int64_t>> axes = axesOf(op, operands, in, 13);
    if (!axes)
      return failure();
    ArrayRef<int64_t> shape = in[0].getShape();
    if (type == "Unsqueeze") {
      int64_t rank = shape.size() + axes->size();
      SmallVector<bool> inserted(rank, false);
      for (int64_t a : *axes) {
        if (a < -rank || a >= rank)
          return failure();
        inserted[a < 0 ? a + rank : a] = true;
      }
      SmallVector<int64_t> out;
      size_t next = 0;
      for (int64_t d = 0; d < rank; ++d)
        out.push_back(inserted[d] ? 1 : shape[next++]);
      return out;
    }
    int64_t rank = shape.size();
    SmallVector<bool> removed(rank, false);
    for (int64_t a : *axes) {
      if (a < -rank || a >= rank)
        return failure();
      removed[a < 0 ? a + rank : a] = true;
    }
    SmallVector<int64_t> out;
    for (int64_t d = 0; d < rank; ++d) {
      if (axes->empty() && shape[d] == 1)
        continue;
      if (axes->empty() && ShapedType::isDynamic(shape[d]))
        return failure(); // which dimensions are 1 is not known
      if (!removed[d])
        out.push_back(shape[d]);
    }
    return out;
  }
  if (type == "Slice" && op.getOpset() >= 10 && in.size() >= 3) {
    auto starts = constantInts(operands[1]);
    auto ends = constantInts(operands[2]);
    int64_t rank = in[0].getRank();
    std::optional<SmallVector<int64_t>> axes, steps;
    if (in.size() > 3 && in[3])
      axes = constantInts(operands[3]);
    else if (starts) {
      axes = SmallVector<int64_t>();
      for (int64_t i = 0; i < (int64_t)starts->size(); ++i)
        axes->push_back(i);
    }
    if (in.size() > 4 && in[4])
      steps = constantInts(operands[4]);
    else if (starts)
      steps = SmallVector<int64_t>(starts->size(), 1);
    if (!starts || !ends || !axes || !steps || starts->size() != ends->size() ||
        axes->size() != starts->size() || steps->size() != starts->size())
      return failure();
    SmallVector<int64_t> out(in[0].getShape());
    for (size_t i = 0; i < starts->size(); ++i) {
      int64_t a = (*axes)[i];
      if (a < -rank || a >= rank || (*steps)[i] == 0)
        return failure();
      a = a < 0 ? a + rank : a;
      int64_t dim = out[a];
      if (ShapedType::isDynamic(dim))
        continue;
      int64_t step = (*steps)[i];
      auto clampTo = [&](int64_t v, int64_t lo, int64_t hi) {
        if (v < 0)
          v += dim;
        return std::min(std::max(v, lo), hi);
      };
      int64_t b, e;
      if (step > 0) {
        b = clampTo((*starts)[i], 0, dim);
        e = clampTo((*ends)[i], 0, dim);
        out[a] = e > b ? (e - b + step - 1) / step : 0;
      } else {
        b = clampTo((*starts)[i], -1, dim - 1);
        e = clampTo((*ends)[i], -1, dim - 1);
        out[a] = b > e ? (b - e - step - 1) / -step : 0;
      }
    }
    return out;
  }
  if (type == "Concat") {
    int64_t rank = in[0].getRank();
    int64_t axis = getIntAttr(op, "axis", 0);
    if (axis < -rank || axis >= rank)
      return failure();
    axis = axis < 0 ? axis + rank : axis;
    SmallVector<int64_t> out(in[0].getShape());
    for (RankedTensorType t : ArrayRef(in).drop_front()) {
      if (!t || t.getRank() != rank)
        return failure();
      for (int64_t d = 0; d < rank; ++d) {
        int64_t x = t.getDimSize(d);
        if (d == axis)
          out[d] = ShapedType::isDynamic(out[d]) || ShapedType::isDynamic(x)
                       ? ShapedType::kDynamic
                       : out[d] + x;
        else if (ShapedType::isDynamic(out[d]))
          out[d] = x;
      }
    }
    return out;
  }
  if (type == "Conv" && in.size() >= 2 && in[1] && in[0].getRank() == 4 &&
      in[1].getRank() == 4) {
    auto ints = [&](StringRef name, SmallVector<int64_t> dflt) {
      if (auto attr = op.getOnnxAttrs().getAs<DenseI64ArrayAttr>(name))
        return SmallVector<int64_t>(attr.asArrayRef());
      return dflt;
    };
    SmallVector<int64_t> strides = ints("strides", {1, 1});
    SmallVector<int64_t> dilations = ints("dilations", {1, 1});
    SmallVector<int64_t> pads = ints("pads", {0, 0, 0, 0});
    auto autoPad = op.getOnnxAttrs().getAs<StringAttr>("auto_pad");
    StringRef mode = autoPad ? autoPad.getValue() : "NOTSET";
    if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
      return failure();
    SmallVector<int64_t> out = {in[0].getDimSize(0), in[1].getDimSize(0)};
    for (int i = 0; i < 2; ++i) {
      int64_t x = in[0].getDimSize(2 + i), k = in[1].getDimSize(2 + i);
      if (ShapedType::isDynamic(x) || ShapedType::isDynamic(k) ||
          strides[i] <= 0 || dilations[i] <= 0) {
        out.push_back(ShapedType::kDynamic);
        continue;
      }
      int64_t span = dilations[i] * (k - 1) + 1;
      if (mode == "SAME_UPPER" || mode == "SAME_LOWER")
        out.push_back((x + strides[i] - 1) / strides[i]);
      else if (mode == "VALID")
        out.push_back(x >= span ? (x - span) / strides[i] + 1 : 0);
      else if (mode == "NOTSET") {
        int64_t padded = x + pads[i] + pads[i + 2];
        out.push_back(padded >= span ? (padded - span) / strides[i] + 1 : 0);
      } else
        return failure();
    }
    return out;
  }
  if (type == "GlobalAveragePool" || type == "GlobalMaxPool") {
    SmallVector<int64_t> out(in[0].getShape());
    for (size_t d = 2; d < out.size(); ++d)
      out[d] = 1;
    return out;
  }
  if (kReductions.contains(type)) {
    int64_t rank = in[0].getRank();
    std::optional<SmallVector<int64_t>> axes =
        axesOf(op, operands, in, type == "ReduceSum" ? 13 : 18);
    if (!axes)
      return failure();
    if (axes->empty() && getIntAttr(op, "noop_with_empty_axes", 0))
      return SmallVector<int64_t>(in[0].getShape());
    SmallVector<bool> reduced(rank, axes->empty());
    for (int64_t a : *axes) {
      if (a < -rank || a >= rank)
        return failure();
      reduced[a < 0 ? a + rank : a] = true;
    }
    bool keep = getIntAttr(op, "keepdims", 1);
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[d])
        shape.push_back(in[0].getDimSize(d));
      else if (keep)
        shape.push_back(1);
    return shape;
  }
  if (type == "Reshape" && in.size() == 2 && in[1] && in[1].getRank() == 1 &&
      !in[1].isDynamicDim(0)) {
    int64_t n = in[1].getDimSize(0);
    SmallVector<int64_t> shape(n, ShapedType::kDynamic);
    auto target = constantInts(operands[1]);
    if (!target || (int64_t)target->size() != n)
      return shape;
    bool allowZero = getIntAttr(op, "allowzero", 0);
    int64_t inferred = -1, known = 1;
    for (int64_t i = 0; i < n; ++i) {
      int64_t d = (*target)[i];
      if (d == 0 && !allowZero)
        d = i < in[0].getRank() ? in[0].getDimSize(i) : ShapedType::kDynamic;
      if (d == -1) {
        if (inferred >= 0)
          return failure();
        inferred = i;
        continue;
      }
      if (d < 0 && !ShapedType::isDynamic(d))
        return failure();
      shape[i] = d;
      if (!ShapedType::isDynamic(d))
        known *= d;
      else
        known = -1;
    }
    if (inferred >= 0 && in[0].hasStaticShape() && known > 0 &&
        in[0].getNumElements() % known == 0)
      shape[inferred] = in[0].getNumElements() / known;
    return shape;
  }
  return failure();
}

/// `t` where it is at least as static as `than` and agrees with it; null
/// where the two clash (a static size each, different).
RankedTensorType meet(RankedTensorType t, ShapedType than) {
  if (!than.hasRank())
    return t;
  if (t.getRank() != than.getRank())
    return {};
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    int64_t a = t.getDimSize(d), b = than.getDimSize(d);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return {};
    shape.push_back(ShapedType::isDynamic(a) ? b : a);
  }
  return RankedTensorType::get(shape, t.getElementType());
}

struct RefineNodeTypes : OpRewritePattern<onnx::NodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() == 0 || !op.getDomain().empty())
      return failure();
    bool changed = false;
    // An operand that reaches the node through a tensor.cast that only
    // forgets sizes (a folded reshape's static result cast back to the
    // type the node was built for) is read directly.
    SmallVector<Value> operands(op->getOperands());
    for (Value &v : operands) {
      auto castOp = v.getDefiningOp<tensor::CastOp>();
      if (!castOp)
        continue;
      auto from = dyn_cast<RankedTensorType>(castOp.getSource().getType());
      if (!from || meet(from, cast<ShapedType>(castOp.getType())) != from)
        continue;
      v = castOp.getSource();
      changed = true;
    }
    // Result 0 gets the type its operands imply where that is more static
    // than what it has. Only ops whose other results are unused or ranked.
    auto oldType = cast<ShapedType>(op->getResult(0).getType());
    Type newType = oldType;
    for (Value r : op->getResults().drop_front())
      if (isa<UnrankedTensorType>(r.getType()) && !r.use_empty())
        return failure();
    OperationState state(op.getLoc(), op->getName());
    state.addOperands(operands);
    state.addAttributes(op->getAttrs());
    auto shape = inferShape(op, operands);
    if (succeeded(shape)) {
      auto inferred = RankedTensorType::get(*shape, oldType.getElementType());
      RankedTensorType merged = meet(inferred, oldType);
      if (merged && merged != oldType) {
        newType = merged;
        changed = true;
      }
    }
    if (!changed)
      return failure();
    SmallVector<Type> types(op->getResultTypes());
    types[0] = newType;
    state.addTypes(types);
    Operation *refined = rewriter.create(state);
    Value old = op->getResult(0), now = refined->getResult(0);
    for (OpOperand &use : llvm::make_early_inc_range(old.getUses())) {
      if (isa<onnx::NodeOp>(use.getOwner()) || newType == oldType) {
        rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(now); });
        continue;
      }
      rewriter.setInsertionPoint(use.getOwner());
      Value back = tensor::CastOp::create(rewriter, op.getLoc(), oldType, now);
      rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(back); });
    }
    for (unsigned i = 1; i < op->getNumResults(); ++i)
      rewriter.replaceAllUsesWith(op->getResult(i), refined->getResult(i));
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXTypeRefinementPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RefineNodeTypes>(patterns.getContext());
}
