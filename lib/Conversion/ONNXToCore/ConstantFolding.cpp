//===- ConstantFolding.cpp - MLIR folding during convert-onnx-to-core ----===//
//
// Exporters compute reshape targets, position ranges and masks from the
// input's shape (Shape -> Gather -> Unsqueeze -> Concat -> Reshape). Once the
// input shapes are static, those computations are constants, and the
// conversion folds them with MLIR's own machinery, so that each ONNX op's
// meaning stays in its one pattern:
//
// - the canonicalization patterns of the ops the patterns create (tensor,
//   linalg, arith), which turn dynamic sizes that became constants into
//   static types;
// - FoldConstantGeneric: a small linalg.generic whose inputs are constants
//   is evaluated point by point by the folders of the ops in its body (each
//   op's own `fold`), giving a constant. It defines no op semantics; an op
//   without a folder leaves the generic as it is;
// - FoldConstantInsertSlices: insert_slice chains of constants that define
//   every element of a tensor (Concat's lowering) are that constant;
// - upstream's extract_slice-of-constant folding (Slice's lowering), for
//   results of at most kMaxFoldedElements;
// - RefineReshapeWithConstantShape: a tensor.reshape whose shape operand is
//   a constant has the static type the shape says.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Results of at most this many elements are folded.
constexpr int64_t kMaxFoldedElements = 4096;

/// Steps the multi-index `at` over `sizes` in row-major order.
void nextIndex(MutableArrayRef<int64_t> at, ArrayRef<int64_t> sizes) {
  for (int64_t d = (int64_t)at.size() - 1; d >= 0; --d) {
    if (++at[d] < sizes[d])
      return;
    at[d] = 0;
  }
}

/// Evaluates a static, all-parallel linalg.generic with constant inputs, a
/// result of at most kMaxFoldedElements elements and an identity output map
/// by folding its body at every point of the iteration space.
struct FoldConstantGeneric : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getNumResults() != 1 || op.getNumDpsInits() != 1 ||
        op.getNumReductionLoops() != 0 || !op.hasPureTensorSemantics())
      return failure();
    auto type = dyn_cast<RankedTensorType>(op.getResult(0).getType());
    if (!type || !type.hasStaticShape() ||
        type.getNumElements() > kMaxFoldedElements ||
        !type.getElementType().isIntOrIndexOrFloat())
      return failure();
    if (!op.getIndexingMapsArray().back().isIdentity())
      return failure();
    Block &body = op.getRegion().front();
    if (!body.getArguments().back().use_empty())
      return failure(); // reads its init
    SmallVector<DenseElementsAttr> inputs;
    for (Value in : op.getDpsInputs()) {
      DenseElementsAttr attr;
      if (!matchPattern(in, m_Constant(&attr)))
        return failure();
      inputs.push_back(attr);
    }
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    MLIRContext *ctx = op.getContext();
    SmallVector<Attribute> results;
    results.reserve(type.getNumElements());
    SmallVector<int64_t> point(ranges.size(), 0);
    for (int64_t n = 0; n < type.getNumElements(); ++n) {
      // Values of the body at this point.
      DenseMap<Value, Attribute> env;
      auto valueOf = [&](Value v) -> Attribute {
        if (Attribute a = env.lookup(v))
          return a;
        Attribute outside;
        if (!op.getRegion().isAncestor(v.getParentRegion()) &&
            matchPattern(v, m_Constant(&outside)))
          return outside;
        return {};
      };
      for (auto [i, attr] : llvm::enumerate(inputs)) {
        SmallVector<int64_t> at = maps[i].compose(point);
        ArrayRef<int64_t> shape = attr.getType().getShape();
        uint64_t linear = 0;
        for (auto [d, size] : llvm::enumerate(shape))
          linear = linear * size + at[d];
        env[body.getArgument(i)] = attr.isSplat()
                                       ? attr.getSplatValue<Attribute>()
                                       : attr.getValues<Attribute>()[linear];
      }
      for (Operation &inner : body.without_terminator()) {
        if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
          env[index.getResult()] =
              IntegerAttr::get(IndexType::get(ctx), point[index.getDim()]);
          continue;
        }
        if (inner.getNumRegions() || inner.getNumResults() != 1)
          return failure();
        SmallVector<Attribute> operands;
        for (Value v : inner.getOperands())
          operands.push_back(valueOf(v));
        SmallVector<OpFoldResult> folded;
        if (failed(inner.fold(operands, folded)) || folded.size() != 1)
          return failure();
        Attribute value = dyn_cast<Attribute>(folded[0]);
        if (!value)
          value = valueOf(cast<Value>(folded[0]));
        if (!value)
          return failure();
        env[inner.getResult(0)] = value;
      }
      Attribute yielded = valueOf(body.getTerminator()->getOperand(0));
      if (!yielded || !isa<TypedAttr>(yielded) ||
          cast<TypedAttr>(yielded).getType() != type.getElementType())
        return failure();
      results.push_back(yielded);
      nextIndex(point, ranges);
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, results));
    return success();
  }
};

/// A chain of tensor.insert_slice ops with constant sources and static
/// offsets, sizes and strides into a constant or a tensor.empty: when the
/// chain defines every element, the last insert is that constant.
struct FoldConstantInsertSlices : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::InsertSliceOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResultType();
    if (!type.hasStaticShape() || type.getNumElements() > kMaxFoldedElements)
      return failure();
    // The chain, outermost first, down to its base.
    SmallVector<tensor::InsertSliceOp> chain;
    Value base = op.getResult();
    while (auto insert = base.getDefiningOp<tensor::InsertSliceOp>()) {
      chain.push_back(insert);
      base = insert.getDest();
    }
    int64_t n = type.getNumElements();
    SmallVector<Attribute> values(n);
    DenseElementsAttr baseAttr;
    if (matchPattern(base, m_Constant(&baseAttr))) {
      for (int64_t i = 0; i < n; ++i)
        values[i] = baseAttr.isSplat() ? baseAttr.getSplatValue<Attribute>()
                                       : baseAttr.getValues<Attribute>()[i];
    } else if (!base.getDefiningOp<tensor::EmptyOp>()) {
      return failure();
    }
    ArrayRef<int64_t> shape = type.getShape();
    for (tensor::InsertSliceOp insert : llvm::reverse(chain)) {
      DenseElementsAttr source;
      if (!matchPattern(insert.getSource(), m_Constant(&source)) ||
          insert.getSourceType().getRank() != type.getRank() ||
          ShapedType::isDynamicShape(insert.getStaticOffsets()) ||
          ShapedType::isDynamicShape(insert.getStaticSizes()) ||
          ShapedType::isDynamicShape(insert.getStaticStrides()))
        return failure();
      ArrayRef<int64_t> offsets = insert.getStaticOffsets(),
                        sizes = insert.getStaticSizes(),
                        strides = insert.getStaticStrides();
      SmallVector<int64_t> at(sizes.size(), 0);
      int64_t count = insert.getSourceType().getNumElements();
      for (int64_t i = 0; i < count; ++i) {
        int64_t linear = 0;
        for (size_t d = 0; d < at.size(); ++d)
          linear = linear * shape[d] + offsets[d] + at[d] * strides[d];
        values[linear] = source.isSplat() ? source.getSplatValue<Attribute>()
                                          : source.getValues<Attribute>()[i];
        nextIndex(at, sizes);
      }
    }
    if (llvm::any_of(values, [](Attribute a) { return !a; }))
      return failure(); // an element of the tensor.empty is never written
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, values));
    return success();
  }
};

/// tensor.reshape with a constant shape gets the static result type the
/// shape says (and the static type of a tensor.cast source), with a cast
/// back to the old type for its users.
struct RefineReshapeWithConstantShape : OpRewritePattern<tensor::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getResult().getType());
    Value source = op.getSource();
    auto castOp = source.getDefiningOp<tensor::CastOp>();
    bool staticSource =
        castOp && isa<RankedTensorType>(castOp.getSource().getType());
    if (type.hasStaticShape() && !staticSource)
      return failure();
    DenseIntElementsAttr shape;
    SmallVector<int64_t> dims;
    if (!type.hasStaticShape()) {
      if (!matchPattern(op.getShape(), m_Constant(&shape)))
        return failure();
      for (const APInt &d : shape.getValues<APInt>())
        dims.push_back(d.getSExtValue());
      if (llvm::any_of(dims, [](int64_t d) { return d < 0; }))
        return failure();
    } else {
      dims.assign(type.getShape().begin(), type.getShape().end());
    }
    if (staticSource)
      source = castOp.getSource();
    auto refined = RankedTensorType::get(dims, type.getElementType());
    Value result = tensor::ReshapeOp::create(rewriter, op.getLoc(), refined,
                                             source, op.getShape());
    if (refined != type)
      result = tensor::CastOp::create(rewriter, op.getLoc(), type, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXFoldingPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<FoldConstantGeneric, FoldConstantInsertSlices,
               RefineReshapeWithConstantShape>(ctx);
  // Slices of small constants (an exporter's Slice of a Shape result).
  tensor::populateFoldConstantExtractSlicePatterns(
      patterns, [](tensor::ExtractSliceOp op) {
        return op.getResultType().hasStaticShape() &&
               op.getResultType().getNumElements() <= kMaxFoldedElements;
      });
  Dialect *dialects[] = {ctx->getLoadedDialect<arith::ArithDialect>(),
                         ctx->getLoadedDialect<tensor::TensorDialect>(),
                         ctx->getLoadedDialect<linalg::LinalgDialect>()};
  for (Dialect *dialect : dialects)
    if (dialect)
      dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    if (llvm::is_contained(dialects, &name.getDialect()))
      name.getCanonicalizationPatterns(patterns, ctx);
}
