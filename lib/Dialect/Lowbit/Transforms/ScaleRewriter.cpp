//===- ScaleRewriter.cpp - Folding per-channel scales into constants ------===//
//
// ScaleRewriter (ScaleEquivalence.h): the rewrite half of the equivalence
// analysis, shared by lowbit-smooth and the rotation and outlier passes to
// come.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/ScaleEquivalence.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// One constant to rewrite: its value (an arith.constant's result) and the
/// operand reading it.
struct ConstantSite {
  OpOperand *operand = nullptr;
  ElementsAttr attr;
};

/// The resource key of `attr`, if it is a dense_resource.
std::optional<std::string> resourceKey(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    return resource.getRawHandle().getKey().str();
  return std::nullopt;
}

/// Replaces the values of `attr` by `values`: a dense_resource in place (its
/// key, and everything naming it, unchanged), anything else by a new inline
/// DenseElementsAttr.
ElementsAttr withValues(ElementsAttr attr, ArrayRef<float> values) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    resource.getRawHandle().getResource()->setBlob(
        HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
    return attr;
  }
  return DenseElementsAttr::get(cast<ShapedType>(attr.getType()), values);
}

/// Rewrites the constant at `site` with `values`. The constant op is kept
/// (it has no other reader), so values and layers found before stay valid.
void rewriteConstant(const ConstantSite &site, ArrayRef<float> values) {
  ElementsAttr updated = withValues(site.attr, values);
  if (updated != site.attr)
    cast<arith::ConstantOp>(site.operand->get().getDefiningOp())
        .setValueAttr(cast<TypedAttr>(updated));
}

/// The operand of `op` reading `value`.
OpOperand *operandOf(Operation *op, Value value) {
  for (OpOperand &operand : op->getOpOperands())
    if (operand.get() == value)
      return &operand;
  return nullptr;
}

/// The statistic arrays of a calibration site that scale with the input.
constexpr const char *kChannelStats[] = {"abs_max", "min", "max", "mean"};

} // namespace

void mlir::lowbit::setConstantValues(arith::ConstantOp constant,
                                     ArrayRef<float> values) {
  auto attr = cast<ElementsAttr>(constant.getValue());
  ElementsAttr updated = withValues(attr, values);
  if (updated != attr)
    constant.setValueAttr(cast<TypedAttr>(updated));
}

ScaleRewriter::ScaleRewriter(ModuleOp module) {
  module.walk([&](arith::ConstantOp op) {
    if (auto attr = dyn_cast<ElementsAttr>(op.getValue()))
      if (std::optional<std::string> key = resourceKey(attr))
        ++resourceUses[*key];
  });
}

namespace {

/// The constants `group`'s rewrite touches (absorber first), or why they
/// cannot be rewritten.
struct GroupConstants {
  std::vector<ConstantSite> absorber; // norm g, b / linear W, bias
  std::vector<ConstantSite> layers;   // the group's weights
  std::string error;
};

GroupConstants collectConstants(const ScaleGroup &group,
                                const llvm::StringMap<unsigned> &uses) {
  GroupConstants out;
  auto take = [&](OpOperand *operand, std::vector<ConstantSite> &into) {
    if (!out.error.empty())
      return;
    ElementsAttr attr;
    if (!operand || !operand->get().getDefiningOp<arith::ConstantOp>() ||
        !matchPattern(operand->get(), m_Constant(&attr))) {
      out.error = "a constant to rewrite is not an arith.constant";
      return;
    }
    std::optional<std::string> key = resourceKey(attr);
    if (!operand->get().hasOneUse() || (key && uses.lookup(*key) != 1)) {
      out.error = "constant '" + (key ? *key : std::string("<inline>")) +
                  "' is also read elsewhere (a shared or tied weight)";
      return;
    }
    if (!readWeightF32(attr)) {
      out.error = "constant '" + (key ? *key : std::string("<inline>")) +
                  "' cannot be read (missing blob)";
      return;
    }
    into.push_back({operand, attr});
  };
  if (!group.absorber) {
    out.error = group.reason.empty() ? "no absorber" : group.reason;
    return out;
  }
  const ScaleAbsorber &a = *group.absorber;
  if (a.kind == ScaleAbsorber::Kind::Norm) {
    auto norm = cast<linalg::GenericOp>(a.op);
    take(norm.getDpsInputOperand(a.scaleOperand), out.absorber);
    if (a.biasOperand >= 0)
      take(norm.getDpsInputOperand(a.biasOperand), out.absorber);
  } else {
    take(operandOf(a.op, a.linear->weight), out.absorber);
    if (a.biasAdd)
      take(cast<linalg::GenericOp>(a.biasAdd).getDpsInputOperand(
               a.biasAddOperand),
           out.absorber);
  }
  for (const LinearLayer &layer : group.layers)
    take(operandOf(layer.op, layer.weight), out.layers);
  return out;
}

/// The group's weights with input channel i (row i of K) scaled by
/// `scale[i]`.
void scaleInputs(const ScaleGroup &group, const GroupConstants &constants,
                 ArrayRef<float> scale) {
  for (auto [layer, site] : llvm::zip_equal(group.layers, constants.layers)) {
    std::vector<float> v = *readWeightF32(site.attr);
    int64_t k = layer.k, n = layer.n;
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j)
        v[layer.transposed ? j * k + i : i * n + j] *= scale[i];
    rewriteConstant(site, v);
  }
}

} // namespace

std::string ScaleRewriter::check(const ScaleGroup &group) const {
  return collectConstants(group, resourceUses).error;
}

LogicalResult ScaleRewriter::apply(const ScaleGroup &group,
                                   ArrayRef<float> scale, std::string &error) {
  int64_t c = group.channels;
  if (static_cast<int64_t>(scale.size()) != c) {
    error = "the scale has " + std::to_string(scale.size()) + " values, " +
            std::to_string(c) + " channels";
    return failure();
  }
  for (float s : scale)
    if (!std::isfinite(s) || !(s > 0.0f)) {
      error = "the scale has a value that is not finite and positive";
      return failure();
    }
  GroupConstants constants = collectConstants(group, resourceUses);
  if (!constants.error.empty()) {
    error = constants.error;
    return failure();
  }

  const ScaleAbsorber &a = *group.absorber;
  // The absorber's constants: channel vectors (norm g, b; a bias), or the
  // absorbing layer's weight, whose output channels are N.
  for (const ConstantSite &site : constants.absorber) {
    std::vector<float> v = *readWeightF32(site.attr);
    bool isWeight = a.kind == ScaleAbsorber::Kind::Linear &&
                    site.operand->get() == a.linear->weight;
    if (!isWeight) {
      for (int64_t i = 0; i < c; ++i)
        v[a.channelOf(i)] /= scale[i];
    } else if (a.linear->transposed) { // N x K
      for (int64_t j = 0; j < c; ++j)
        for (int64_t i = 0; i < a.linear->k; ++i)
          v[a.channelOf(j) * a.linear->k + i] /= scale[j];
    } else { // K x N
      for (int64_t i = 0; i < a.linear->k; ++i)
        for (int64_t j = 0; j < c; ++j)
          v[i * c + a.channelOf(j)] /= scale[j];
    }
    rewriteConstant(site, v);
  }
  // The group's weights: inputs K scaled by s.
  scaleInputs(group, constants, scale);

  // The statistics of the input site: those of X diag(1/s).
  auto calibrate = group.input.getDefiningOp<CalibrateOp>();
  auto stats = calibrate ? calibrate->getAttrOfType<DictionaryAttr>(
                               LowbitDialect::StatsAttrHelper::getNameStr())
                         : DictionaryAttr();
  if (!stats)
    return success();
  NamedAttrList updated(stats);
  for (const char *name : kChannelStats)
    if (auto attr = stats.getAs<ElementsAttr>(name))
      if (std::optional<std::vector<float>> v = readWeightF32(attr);
          v && static_cast<int64_t>(v->size()) == c) {
        for (int64_t i = 0; i < c; ++i)
          (*v)[i] /= scale[i];
        updated.set(name, withValues(attr, *v));
      }
  if (auto attr = stats.getAs<ElementsAttr>("hessian"))
    if (std::optional<std::vector<float>> h = readWeightF32(attr);
        h && static_cast<int64_t>(h->size()) == c * c) {
      for (int64_t i = 0; i < c; ++i)
        for (int64_t j = 0; j < c; ++j)
          (*h)[i * c + j] /= scale[i] * scale[j];
      updated.set("hessian", withValues(attr, *h));
    }
  calibrate->setAttr(LowbitDialect::StatsAttrHelper::getNameStr(),
                     updated.getDictionary(calibrate->getContext()));
  return success();
}

LogicalResult ScaleRewriter::foldNorm(const ScaleGroup &group,
                                      std::string &error) {
  if (!group.absorber || group.absorber->kind != ScaleAbsorber::Kind::Norm) {
    error = group.absorber
                ? "the input is not a norm's output"
                : (group.reason.empty() ? "no absorber" : group.reason);
    return failure();
  }
  if (group.absorber->biasOperand >= 0) {
    error = "the norm has a bias (LayerNorm): folding it would add a bias "
            "to every reader";
    return failure();
  }
  if (auto calibrate = group.input.getDefiningOp<CalibrateOp>())
    if (calibrate->hasAttr(LowbitDialect::StatsAttrHelper::getNameStr())) {
      error = "calibration statistics are attached: fold norms before "
              "calibrating";
      return failure();
    }
  GroupConstants constants = collectConstants(group, resourceUses);
  if (!constants.error.empty()) {
    error = constants.error;
    return failure();
  }
  const ConstantSite &normSite = constants.absorber.front();
  std::vector<float> g = *readWeightF32(normSite.attr);
  scaleInputs(group, constants, g);
  rewriteConstant(normSite, std::vector<float>(g.size(), 1.0f));
  return success();
}
