//===- FoldNorms.cpp - Norm weights folded into their readers ---*- C++ -*-===//
//
// lowbit-fold-norms: output heads tied to the embedding get a weight of
// their own, then every RMSNorm weight g the equivalence analysis pairs with
// a group of linear layers moves into those layers (W <- diag(g) W, g <- 1).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/ScaleEquivalence.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITFOLDNORMSPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// The name of a resource constant, or "" for an inline one.
std::string resourceName(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    return resource.getRawHandle().getKey().str();
  return "";
}

/// Gives each contraction whose weight is `linalg.transpose` of a 2-D f32
/// constant a constant of its own holding the transposed values, when that
/// makes it a linear layer. Returns the layers.
std::vector<LinearLayer> untieTransposedWeights(ModuleOp module) {
  std::vector<LinearLayer> untied;
  SmallVector<linalg::GenericOp> contractions;
  module.walk([&](linalg::GenericOp op) {
    if (op.getNumDpsInputs() == 2 && isMulAddBody(op))
      contractions.push_back(op);
  });
  for (linalg::GenericOp op : contractions) {
    OpOperand *operand = op.getDpsInputOperand(1);
    auto transpose = operand->get().getDefiningOp<linalg::TransposeOp>();
    ElementsAttr attr;
    if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0} ||
        !matchPattern(transpose.getInput(), m_Constant(&attr)))
      continue;
    auto type = dyn_cast<RankedTensorType>(attr.getType());
    std::optional<std::vector<float>> values = readWeightF32(attr);
    if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
        !values)
      continue;
    int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    std::vector<float> t(values->size());
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        t[j * rows + i] = (*values)[i * cols + j];
    // The output head of a model whose embedding table it shares.
    bool gathered = llvm::any_of(transpose.getInput().getUsers(),
                                 llvm::IsaPred<tensor::ExtractOp>);
    std::string source = resourceName(attr);
    std::string name =
        gathered || source.empty() ? "lm_head.weight.T" : source + ".T";
    OpBuilder b(transpose);
    auto resultType = cast<RankedTensorType>(transpose->getResult(0).getType());
    auto constant = arith::ConstantOp::create(
        b, transpose.getLoc(),
        DenseResourceElementsAttr::get(
            resultType, name,
            HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef(t))));
    Value old = operand->get();
    operand->set(constant);
    std::optional<LinearLayer> layer = matchLinearLayer(op);
    if (!layer) {
      operand->set(old);
      constant->erase();
      continue;
    }
    untied.push_back(*layer);
    if (transpose->use_empty())
      transpose->erase();
  }
  return untied;
}

struct LowbitFoldNormsPass
    : lowbit::impl::LowbitFoldNormsPassBase<LowbitFoldNormsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Statistics of the unfolded model would be wrong for the folded one.
    WalkResult calibrated = module.walk([&](CalibrateOp op) {
      if (!op->hasAttr(LowbitDialect::StatsAttrHelper::getNameStr()))
        return WalkResult::advance();
      op.emitError() << "lowbit-fold-norms: calibration statistics are "
                        "attached (site '"
                     << op.getSite() << "'): fold norms before calibrating";
      return WalkResult::interrupt();
    });
    if (calibrated.wasInterrupted())
      return signalPassFailure();
    for (const LinearLayer &layer : untieTransposedWeights(module))
      layer.op->emitRemark() << "lowbit-fold-norms: '" << layer.name
                             << "' gets a weight of its own (it was a "
                                "transpose of a shared constant)";
    std::string error;
    FailureOr<LayerFilter> all = LayerFilter::create("", "", error);
    std::vector<ScaleGroup> groups = analyzeScaleEquivalence(module, *all);
    ScaleRewriter rewriter(module);
    for (const ScaleGroup &group : groups) {
      // Not a norm's reader, or not one the analysis can pair (a norm whose
      // output the residual reads too: lowbit-rotate says where it stops).
      if (!group.absorber || group.absorber->kind != ScaleAbsorber::Kind::Norm)
        continue;
      Operation *first = group.layers.front().op;
      std::string why;
      if (failed(rewriter.foldNorm(group, why)))
        first->emitRemark()
            << "lowbit-fold-norms: '" << group.layers.front().name
            << "' not folded: " << why;
    }
  }
};

} // namespace
