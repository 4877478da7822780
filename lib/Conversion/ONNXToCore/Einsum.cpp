//===- Einsum.cpp - Einsum as one linalg.generic ----------------*- C++ -*-===//
//
// An Einsum equation names one loop per letter: each input is read through
// the map of its letters (a repeated letter reads a diagonal), the output
// is written through the map of the output letters (explicit after "->",
// or in implicit mode the letters that appear once, sorted), and the
// letters not in the output are reductions: the body multiplies the inputs
// and adds into the output. Float operands; no ellipsis ("...") yet.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <map>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct EinsumPattern : ONNXPattern {
  EinsumPattern(MLIRContext *ctx) : ONNXPattern(ctx, "Einsum", 12) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    auto eqAttr = op.getOnnxAttrs().getAs<StringAttr>("equation");
    RankedTensorType resultType = getResultType(op);
    if (!eqAttr || !resultType || !isa<FloatType>(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs an equation, float result");
    std::string eq;
    for (char c : eqAttr.getValue())
      if (c != ' ')
        eq.push_back(c);
    if (StringRef(eq).contains("..."))
      return rewriter.notifyMatchFailure(op, "ellipsis");
    auto [lhs, rhs] = StringRef(eq).split("->");
    bool explicitOut = StringRef(eq).contains("->");
    SmallVector<StringRef> terms;
    lhs.split(terms, ',');
    if (terms.size() != op.getInputs().size())
      return rewriter.notifyMatchFailure(op, "one term per input");
    // Letters in order of first appearance; each one's size.
    std::map<char, int64_t> size;
    std::map<char, int> count;
    SmallVector<char> letters;
    SmallVector<RankedTensorType> types;
    for (auto [term, v] : llvm::zip(terms, op.getInputs())) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t || !t.hasStaticShape() || t.getRank() != (int64_t)term.size() ||
          t.getElementType() != resultType.getElementType())
        return rewriter.notifyMatchFailure(
            op, "static operands of the term's rank");
      types.push_back(t);
      for (auto [i, c] : llvm::enumerate(term)) {
        if (!llvm::isAlpha(c))
          return rewriter.notifyMatchFailure(op, "letters only");
        int64_t d = t.getDimSize(i);
        auto [it, inserted] = size.try_emplace(c, d);
        if (inserted)
          letters.push_back(c);
        else if (it->second != d && it->second != 1 && d != 1)
          return rewriter.notifyMatchFailure(op, "sizes of a letter differ");
        it->second = std::max(it->second, d);
        ++count[c];
      }
    }
    std::string out;
    if (explicitOut) {
      out = rhs.str();
      for (char c : out)
        if (!size.count(c) || llvm::count(out, c) != 1)
          return rewriter.notifyMatchFailure(op, "output letters");
    } else {
      for (auto &[c, n] : count) // std::map: sorted
        if (n == 1)
          out.push_back(c);
    }
    if (resultType.getRank() != (int64_t)out.size())
      return rewriter.notifyMatchFailure(op, "result rank");
    for (auto [i, c] : llvm::enumerate(out))
      if (resultType.getDimSize(i) != size[c])
        return rewriter.notifyMatchFailure(op, "result shape");
    // Loops: the output letters first, then the reduced ones.
    SmallVector<char> loops(out.begin(), out.end());
    for (char c : letters)
      if (!llvm::is_contained(out, c))
        loops.push_back(c);
    MLIRContext *ctx = op.getContext();
    auto loopOf = [&](char c) {
      return getAffineDimExpr(llvm::find(loops, c) - loops.begin(), ctx);
    };
    SmallVector<AffineMap> maps;
    for (auto [term, t] : llvm::zip(terms, types)) {
      SmallVector<AffineExpr> exprs;
      for (auto [i, c] : llvm::enumerate(term))
        // A size-1 dimension broadcasts against its letter's size.
        exprs.push_back(t.getDimSize(i) == 1 && size[c] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : loopOf(c));
      maps.push_back(AffineMap::get(loops.size(), 0, exprs, ctx));
    }
    SmallVector<AffineExpr> outExprs;
    for (char c : out)
      outExprs.push_back(loopOf(c));
    maps.push_back(AffineMap::get(loops.size(), 0, outExprs, ctx));
    SmallVector<utils::IteratorType> iterators;
    for (char c : loops)
      iterators.push_back(llvm::is_contained(out, c)
                              ? utils::IteratorType::parallel
                              : utils::IteratorType::reduction);
    Location loc = op.getLoc();
    Type t = resultType.getElementType();
    Value init =
        linalg::FillOp::create(
            rewriter, loc, floatConst(rewriter, loc, t, 0.0),
            tensor::EmptyOp::create(rewriter, loc, resultType.getShape(), t)
                .getResult())
            .getResult(0);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, op.getInputs(), ValueRange{init},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value p = args[0];
          for (Value a : args.drop_front().drop_back())
            p = arith::MulFOp::create(b, l, p, a);
          linalg::YieldOp::create(
              b, l, arith::AddFOp::create(b, l, p, args.back()).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXEinsumPatterns(RewritePatternSet &patterns) {
  patterns.add<EinsumPattern>(patterns.getContext());
}
