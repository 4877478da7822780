//===- LinearLayers.cpp - Finding the linear layers of a model --*- C++ -*-===//

#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::lowbit;

bool mlir::lowbit::isZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  FloatAttr value;
  return matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
         value.getValue().isZero();
}

bool mlir::lowbit::isMulAddBody(Operation *generic) {
  auto op = dyn_cast<linalg::GenericOp>(generic);
  if (!op)
    return false;
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  auto add =
      dyn_cast_if_present<arith::AddFOp>(mul ? mul->getNextNode() : nullptr);
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!mul || !add || !yield || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != add.getResult())
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1),
        acc = body.getArgument(2);
  bool mulOk = (mul.getLhs() == a && mul.getRhs() == b) ||
               (mul.getLhs() == b && mul.getRhs() == a);
  bool addOk = (add.getLhs() == acc && add.getRhs() == mul.getResult()) ||
               (add.getRhs() == acc && add.getLhs() == mul.getResult());
  return mulOk && addOk;
}

namespace {

/// Fills in the weight part of `layer` from `weight`; false if it is not a
/// constant 2-D f32 tensor.
bool setWeight(LinearLayer &layer, Value weight) {
  ElementsAttr attr;
  if (!matchPattern(weight, m_Constant(&attr)))
    return false;
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return false;
  layer.weight = weight;
  layer.weightAttr = attr;
  layer.k = type.getDimSize(layer.transposed ? 1 : 0);
  layer.n = type.getDimSize(layer.transposed ? 0 : 1);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    layer.name = resource.getRawHandle().getKey().str();
  else if (auto nameLoc = dyn_cast<NameLoc>(layer.op->getLoc()))
    layer.name = nameLoc.getName().str();
  return true;
}

} // namespace

std::optional<LinearLayer> mlir::lowbit::matchLinearLayer(Operation *op) {
  LinearLayer layer;
  layer.op = op;
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op)) {
    if (matmul.hasUserDefinedMaps() || !isZeroFill(matmul.getOutputs()[0]))
      return std::nullopt;
    layer.input = matmul.getInputs()[0];
    if (!setWeight(layer, matmul.getInputs()[1]))
      return std::nullopt;
  } else if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
    if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
        generic->getNumResults() != 1 || !isZeroFill(generic.getDpsInits()[0]))
      return std::nullopt;
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    unsigned loops = generic.getNumLoops();
    if (loops < 3 || generic.getNumReductionLoops() != 1 ||
        generic.getIteratorTypesArray().back() !=
            utils::IteratorType::reduction)
      return std::nullopt;
    // Loops: batch..., m, n, k.
    MLIRContext *ctx = op->getContext();
    unsigned outRank = loops - 1;
    if (maps[2] !=
        AffineMap::getMultiDimIdentityMap(loops, ctx).getMajorSubMap(outRank))
      return std::nullopt;
    SmallVector<AffineExpr> inExprs;
    for (unsigned d = 0; d + 2 < outRank; ++d)
      inExprs.push_back(getAffineDimExpr(d, ctx));
    AffineExpr m = getAffineDimExpr(outRank - 2, ctx),
               n = getAffineDimExpr(outRank - 1, ctx),
               k = getAffineDimExpr(outRank, ctx);
    inExprs.push_back(m);
    inExprs.push_back(k);
    if (maps[0] != AffineMap::get(loops, 0, inExprs, ctx) ||
        !isMulAddBody(generic))
      return std::nullopt;
    if (maps[1] == AffineMap::get(loops, 0, {n, k}, ctx))
      layer.transposed = true;
    else if (maps[1] != AffineMap::get(loops, 0, {k, n}, ctx))
      return std::nullopt;
    layer.input = generic.getDpsInputs()[0];
    if (!setWeight(layer, generic.getDpsInputs()[1]))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  auto inputType = dyn_cast<RankedTensorType>(layer.input.getType());
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!inputType || !inputType.getElementType().isF32() || !resultType ||
      !resultType.getElementType().isF32())
    return std::nullopt;
  return layer;
}

FailureOr<LayerFilter> LayerFilter::create(StringRef include, StringRef exclude,
                                           std::string &error) {
  LayerFilter filter;
  for (auto [text, slot, what] :
       {std::make_tuple(include, &filter.include, "include"),
        std::make_tuple(exclude, &filter.exclude, "exclude")}) {
    if (text.empty())
      continue;
    llvm::Regex re(text);
    std::string reason;
    if (!re.isValid(reason)) {
      error = std::string(what) + " expression '" + text.str() +
              "' is not a valid regular expression: " + reason;
      return failure();
    }
    slot->emplace(text);
  }
  return filter;
}

FailureOr<LayerFilter> LayerFilter::createFor(Operation *anchor, StringRef pass,
                                              StringRef include,
                                              StringRef exclude) {
  std::string error;
  FailureOr<LayerFilter> filter = create(include, exclude, error);
  if (failed(filter))
    anchor->emitError() << pass << ": " << error;
  return filter;
}

bool LayerFilter::accepts(StringRef name) const {
  if (include && !include->match(name))
    return false;
  return !(exclude && exclude->match(name));
}

std::vector<LinearLayer>
mlir::lowbit::collectLinearLayers(ModuleOp module, const LayerFilter &filter,
                                  int64_t minSize) {
  std::vector<LinearLayer> layers;
  int index = 0;
  module.walk([&](Operation *op) {
    std::optional<LinearLayer> layer = matchLinearLayer(op);
    if (!layer)
      return;
    if (layer->name.empty())
      layer->name = "linear." + std::to_string(index);
    ++index;
    if (layer->k < minSize || layer->n < minSize ||
        !filter.accepts(layer->name))
      return;
    layers.push_back(std::move(*layer));
  });
  return layers;
}

std::optional<std::vector<float>>
mlir::lowbit::readWeightF32(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) != attr.getNumElements())
      return std::nullopt;
    return std::vector<float>(data->begin(), data->end());
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::vector<float>(dense.getNumElements(),
                                dense.getSplatValue<float>());
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  auto values = attr.tryGetValues<float>();
  if (!values)
    return std::nullopt;
  return std::vector<float>(values->begin(), values->end());
}

std::optional<std::vector<float>>
mlir::lowbit::readWeightKxN(const LinearLayer &layer) {
  std::optional<std::vector<float>> w = readWeightF32(layer.weightAttr);
  if (!w || !layer.transposed)
    return w;
  std::vector<float> t(w->size());
  for (int64_t j = 0; j < layer.n; ++j)
    for (int64_t i = 0; i < layer.k; ++i)
      t[i * layer.n + j] = (*w)[j * layer.k + i];
  return t;
}
