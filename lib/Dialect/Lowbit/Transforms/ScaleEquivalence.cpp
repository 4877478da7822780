//===- ScaleEquivalence.cpp - Where a per-channel scale folds exactly -----===//

#include "lowbit/Dialect/Lowbit/Transforms/ScaleEquivalence.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// The name of a constant for messages: its resource key, if it has one.
std::string constantName(Value v) {
  ElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr)))
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      return resource.getRawHandle().getKey().str();
  return "<inline constant>";
}

/// True if `op` is an elementwise generic: parallel loops only, one result
/// with an identity map.
bool isElementwise(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
      op.getNumReductionLoops() != 0)
    return false;
  return op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

/// True if input `index` of the elementwise `op` is a constant f32 vector of
/// `channels` values indexed by the last loop only.
bool isChannelConstant(linalg::GenericOp op, int64_t index, int64_t channels) {
  OpOperand *operand = op.getDpsInputOperand(index);
  ElementsAttr attr;
  if (!matchPattern(operand->get(), m_Constant(&attr)))
    return false;
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!type || type.getRank() != 1 || type.getDimSize(0) != channels ||
      !type.getElementType().isF32())
    return false;
  unsigned loops = op.getNumLoops();
  AffineMap map = op.getMatchingIndexingMap(operand);
  return map ==
         AffineMap::get(loops, 0, getAffineDimExpr(loops - 1, op.getContext()));
}

/// The input index of `v` if it is a block argument of `op`'s body bound to
/// an input (not the init), else -1.
int64_t inputIndexOf(linalg::GenericOp op, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != &op.getRegion().front() ||
      arg.getArgNumber() >= op.getNumDpsInputs())
    return -1;
  return arg.getArgNumber();
}

/// The two operands of `v`'s defining op if it is `OpT`.
template <typename OpT>
std::optional<std::pair<Value, Value>> operandsOf(Value v) {
  auto op = v.getDefiningOp<OpT>();
  if (!op)
    return std::nullopt;
  return std::make_pair(op.getLhs(), op.getRhs());
}

/// The value the body of the elementwise `op` yields.
Value yielded(linalg::GenericOp op) {
  return op.getRegion().front().getTerminator()->getOperand(0);
}

/// Matches the norm tail `t * g[c]` or `t * g[c] + b[c]` (either operand
/// order) of the elementwise `op`.
std::optional<ScaleAbsorber> matchNorm(linalg::GenericOp op, int64_t channels) {
  auto channelArg = [&](Value v) -> int64_t {
    int64_t i = inputIndexOf(op, v);
    return i >= 0 && v.hasOneUse() && isChannelConstant(op, i, channels) ? i
                                                                         : -1;
  };
  ScaleAbsorber absorber;
  absorber.kind = ScaleAbsorber::Kind::Norm;
  absorber.op = op;
  Value product = yielded(op);
  if (auto add = operandsOf<arith::AddFOp>(product)) {
    for (auto [m, b] : {*add, std::make_pair(add->second, add->first)}) {
      int64_t bi = channelArg(b);
      if (bi >= 0 && m.getDefiningOp<arith::MulFOp>()) {
        absorber.biasOperand = bi;
        product = m;
        break;
      }
    }
    if (absorber.biasOperand < 0)
      return std::nullopt;
  }
  auto mul = operandsOf<arith::MulFOp>(product);
  if (!mul)
    return std::nullopt;
  for (auto [t, g] : {*mul, std::make_pair(mul->second, mul->first)}) {
    int64_t gi = channelArg(g);
    if (gi >= 0 && gi != absorber.biasOperand && t != g) {
      absorber.scaleOperand = gi;
      return absorber;
    }
  }
  return std::nullopt;
}

/// Matches a linear layer's output, with an optional constant bias added
/// by an elementwise generic, as `v`; each intermediate value read only by
/// the next step.
std::optional<ScaleAbsorber> matchLinearOutput(Value v, int64_t channels) {
  ScaleAbsorber absorber;
  absorber.kind = ScaleAbsorber::Kind::Linear;
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (std::optional<LinearLayer> layer = matchLinearLayer(def)) {
    absorber.op = def;
    absorber.linear = std::move(layer);
    return absorber;
  }
  auto generic = dyn_cast<linalg::GenericOp>(def);
  if (!generic || !isElementwise(generic) || generic.getNumDpsInputs() != 2)
    return std::nullopt;
  auto add = operandsOf<arith::AddFOp>(yielded(generic));
  if (!add)
    return std::nullopt;
  for (auto [x, b] : {*add, std::make_pair(add->second, add->first)}) {
    int64_t xi = inputIndexOf(generic, x), bi = inputIndexOf(generic, b);
    if (xi < 0 || bi < 0 || xi == bi ||
        !isChannelConstant(generic, bi, channels))
      continue;
    OpOperand *xOperand = generic.getDpsInputOperand(xi);
    if (!generic.getMatchingIndexingMap(xOperand).isIdentity() ||
        !xOperand->get().hasOneUse())
      continue;
    auto producer = xOperand->get().getDefiningOp();
    std::optional<LinearLayer> layer =
        producer ? matchLinearLayer(producer) : std::nullopt;
    if (!layer)
      continue;
    absorber.op = producer;
    absorber.linear = std::move(layer);
    absorber.biasAdd = generic;
    absorber.biasAddOperand = bi;
    return absorber;
  }
  return std::nullopt;
}

/// Matches an elementwise product `a * P` where P is a linear layer's
/// output (with its bias), read only by the product.
std::optional<ScaleAbsorber> matchProduct(linalg::GenericOp op,
                                          int64_t channels) {
  if (op.getNumDpsInputs() != 2)
    return std::nullopt;
  auto mul = operandsOf<arith::MulFOp>(yielded(op));
  if (!mul)
    return std::nullopt;
  int64_t a = inputIndexOf(op, mul->first), b = inputIndexOf(op, mul->second);
  if (a < 0 || b < 0 || a == b)
    return std::nullopt;
  for (int64_t i : {b, a}) {
    OpOperand *operand = op.getDpsInputOperand(i);
    if (!op.getMatchingIndexingMap(operand).isIdentity() ||
        !operand->get().hasOneUse())
      continue;
    if (std::optional<ScaleAbsorber> absorber =
            matchLinearOutput(operand->get(), channels)) {
      absorber->product = op;
      return absorber;
    }
  }
  return std::nullopt;
}

/// Where each channel of a group's input lives in a tensor further up: the
/// tensor's channel dims, and per group channel its coordinates on them.
struct ChannelTrace {
  Value value;
  SmallVector<int64_t> dims;
  std::vector<SmallVector<int64_t>> coords;
};

/// The trace on the source of a reshape (any of tensor.reshape,
/// collapse_shape, expand_shape) whose result is `t.value`: dims are grouped
/// where the two shapes' products agree; a group holding channel dims must
/// hold no other dim of size > 1, and all of its source dims become channel
/// dims.
FailureOr<ChannelTrace> throughReshape(const ChannelTrace &t, Value source,
                                       std::string &reason) {
  auto st = dyn_cast<RankedTensorType>(source.getType());
  auto tt = dyn_cast<RankedTensorType>(t.value.getType());
  if (!st || !tt || !st.hasStaticShape() || !tt.hasStaticShape()) {
    reason = "a reshape with dynamic shapes";
    return failure();
  }
  ArrayRef<int64_t> ss = st.getShape(), ts = tt.getShape();
  // Groups of (source dims, result dims) with equal products.
  SmallVector<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>> groups;
  size_t i = 0, j = 0;
  while (i < ss.size() || j < ts.size()) {
    SmallVector<int64_t> gs, gt;
    int64_t ps = 1, pt = 1;
    do {
      if (i < ss.size() && (ps <= pt || j >= ts.size()))
        gs.push_back(i), ps *= ss[i++];
      else if (j < ts.size())
        gt.push_back(j), pt *= ts[j++];
      else
        break;
    } while (ps != pt || gs.empty() || gt.empty());
    if (ps != pt) {
      reason = "a reshape whose shapes do not match";
      return failure();
    }
    groups.push_back({gs, gt});
  }
  ChannelTrace out;
  out.value = source;
  out.coords.resize(t.coords.size());
  for (auto &[gs, gt] : groups) {
    SmallVector<int64_t> inGroup; // positions in t.dims of gt's dims
    for (int64_t d : gt) {
      auto it = llvm::find(t.dims, d);
      if (it != t.dims.end())
        inGroup.push_back(it - t.dims.begin());
      else if (ts[d] != 1 && llvm::any_of(gt, [&](int64_t e) {
                 return llvm::is_contained(t.dims, e);
               })) {
        reason = "a reshape that mixes channels with positions";
        return failure();
      }
    }
    if (inGroup.empty())
      continue;
    for (int64_t d : gs)
      out.dims.push_back(d);
    for (auto [c, coord] : llvm::enumerate(t.coords)) {
      int64_t flat = 0;
      for (int64_t d : gt) {
        auto it = llvm::find(t.dims, d);
        flat = flat * ts[d] +
               (it == t.dims.end() ? 0 : coord[it - t.dims.begin()]);
      }
      SmallVector<int64_t> sub(gs.size());
      for (int64_t k = gs.size() - 1; k >= 0; --k) {
        sub[k] = flat % ss[gs[k]];
        flat /= ss[gs[k]];
      }
      out.coords[c].append(sub.begin(), sub.end());
    }
  }
  return out;
}

/// The trace on the value operand V of an attention-style contraction
/// (out = sum_k P[.., k] * V[.., k, ..], zero init) whose result is
/// `t.value`: every channel dim is a parallel loop that V indexes directly,
/// so a per-channel factor on V comes out on the result unchanged.
FailureOr<ChannelTrace> throughContraction(const ChannelTrace &t,
                                           linalg::GenericOp op,
                                           std::string &reason) {
  if (op.getNumDpsInputs() != 2 || !isMulAddBody(op) ||
      !isZeroFill(op.getDpsInits()[0])) {
    reason = "a contraction that is not a plain product with a zero init";
    return failure();
  }
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  SmallVector<unsigned> loops;
  for (int64_t d : t.dims) {
    auto dim = dyn_cast<AffineDimExpr>(outMap.getResult(d));
    if (!dim || op.getIteratorTypesArray()[dim.getPosition()] !=
                    utils::IteratorType::parallel) {
      reason = "a contraction over channels";
      return failure();
    }
    loops.push_back(dim.getPosition());
  }
  std::optional<ChannelTrace> found;
  for (OpOperand *operand : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    ChannelTrace in{operand->get(), {}, t.coords};
    for (unsigned loop : loops) {
      std::optional<unsigned> pos =
          map.getResultPosition(getAffineDimExpr(loop, op.getContext()));
      if (!pos)
        break;
      in.dims.push_back(*pos);
    }
    if (in.dims.size() != loops.size())
      continue;
    if (found) {
      reason = "a contraction whose two operands both carry the channels";
      return failure();
    }
    found = std::move(in);
  }
  if (!found) {
    reason = "a contraction none of whose operands carries every channel";
    return failure();
  }
  return *found;
}

/// The producer of a group's input `source` (C channels on its last dim)
/// through attention: reshapes, transposes and the batch matmul P @ V back
/// to a linear layer's output (with its bias); or why not.
std::optional<ScaleAbsorber> matchAttentionValue(Value source, int64_t channels,
                                                 std::string &reason) {
  auto type = cast<RankedTensorType>(source.getType());
  ChannelTrace t{source, {type.getRank() - 1}, {}};
  for (int64_t c = 0; c < channels; ++c)
    t.coords.push_back({c});
  auto fail = [&](Operation *at, StringRef why) {
    reason = "its channels come through attention's reshapes and transposes "
             "to " +
             (at ? "a '" + at->getName().getStringRef().str() + "': "
                 : std::string()) +
             why.str();
    return std::nullopt;
  };
  while (true) {
    Operation *def = t.value.getDefiningOp();
    if (!def)
      return fail(nullptr, "a function argument");
    if (t.value != source && !t.value.hasOneUse())
      return fail(def, "a value also read elsewhere");
    // The end: a linear layer's output (with its bias), channels on the
    // last dim, one to one.
    auto resultType = cast<RankedTensorType>(t.value.getType());
    if (t.dims.size() == 1 && t.dims[0] == resultType.getRank() - 1 &&
        resultType.getDimSize(t.dims[0]) == channels) {
      if (std::optional<ScaleAbsorber> absorber =
              matchLinearOutput(t.value, channels)) {
        std::vector<int64_t> map(channels, -1);
        std::vector<bool> seen(channels, false);
        for (int64_t c = 0; c < channels; ++c) {
          map[c] = t.coords[c][0];
          if (seen[map[c]])
            return fail(def, "a layer whose channels do not map one to one");
          seen[map[c]] = true;
        }
        bool identity = true;
        for (int64_t c = 0; c < channels; ++c)
          identity &= map[c] == c;
        if (!identity)
          absorber->channelMap = std::move(map);
        absorber->attention = true;
        return absorber;
      }
    }
    std::string why;
    FailureOr<ChannelTrace> next = failure();
    if (isa<tensor::ReshapeOp>(def))
      next = throughReshape(t, def->getOperand(0), why);
    else if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def))
      next = throughReshape(t, def->getOperand(0), why);
    else if (auto transpose = dyn_cast<linalg::TransposeOp>(def)) {
      ChannelTrace in{transpose.getInput(), {}, t.coords};
      for (int64_t d : t.dims)
        in.dims.push_back(transpose.getPermutation()[d]);
      next = in;
    } else if (auto generic = dyn_cast<linalg::GenericOp>(def)) {
      if (generic.getNumReductionLoops() == 1)
        next = throughContraction(t, generic, why);
      else if (generic.getNumDpsInputs() == 1)
        why = "a broadcast: one channel of its source feeds several of the "
              "group's (grouped-query attention repeats kv heads; AWQ leaves "
              "these layers alone too)";
      else
        why = "an elementwise op";
    } else {
      why = "an op that is not a reshape, transpose, attention's batch "
            "matmul or a linear layer";
    }
    if (failed(next))
      return fail(def, why);
    t = std::move(*next);
  }
}

/// Why the readers of `value` (and of the site `site`, if any) are not all
/// in `group`; empty if they are.
std::string otherReader(Value value, CalibrateOp site,
                        const llvm::SmallPtrSetImpl<Operation *> &group) {
  auto describe = [](Operation *reader) {
    if (std::optional<LinearLayer> layer = matchLinearLayer(reader))
      return "layer '" + layer->name + "', which is not selected";
    return "a '" + reader->getName().getStringRef().str() +
           "' that is not a linear layer (e.g. a residual add)";
  };
  for (Operation *reader : value.getUsers())
    if (reader != site.getOperation() && !group.contains(reader))
      return "its input is also read by " + describe(reader);
  if (site)
    for (Operation *reader : site->getUsers())
      if (!group.contains(reader))
        return "its input is also read by " + describe(reader);
  return "";
}

/// Fills in `group.absorber` or `group.reason`.
void analyzeGroup(ScaleGroup &group) {
  auto site = group.input.getDefiningOp<CalibrateOp>();
  Value source = site ? site.getInput() : group.input;
  llvm::SmallPtrSet<Operation *, 4> readers;
  for (LinearLayer &layer : group.layers)
    readers.insert(layer.op);
  group.reason = otherReader(source, site, readers);
  if (!group.reason.empty())
    return;

  Operation *def = source.getDefiningOp();
  if (!def) {
    group.reason = "its input is a function argument";
    return;
  }
  if (matchLinearLayer(def)) {
    group.absorber = matchLinearOutput(source, group.channels);
    return;
  }
  if (isa<tensor::ReshapeOp, tensor::CollapseShapeOp, tensor::ExpandShapeOp,
          linalg::TransposeOp>(def)) {
    group.absorber = matchAttentionValue(source, group.channels, group.reason);
    return;
  }
  auto generic = dyn_cast<linalg::GenericOp>(def);
  if (!generic) {
    group.reason = "its input comes from a '" +
                   def->getName().getStringRef().str() +
                   "' that is not a norm, a linear layer or attention";
    return;
  }
  std::optional<ScaleAbsorber> absorber;
  if (isElementwise(generic))
    if (!(absorber = matchNorm(generic, group.channels)))
      if (!(absorber = matchLinearOutput(source, group.channels)))
        absorber = matchProduct(generic, group.channels);
  if (absorber) {
    group.absorber = std::move(absorber);
    return;
  }
  group.reason = isElementwise(generic)
                     ? "its input comes from an elementwise op that is not a "
                       "per-channel scale (norm weight), a bias add or a "
                       "product with a linear layer's output (e.g. an "
                       "activation such as GELU)"
                     : "its input comes from a non-elementwise linalg.generic "
                       "that is not a linear layer";
}

} // namespace

std::string ScaleAbsorber::describe() const {
  if (kind == Kind::Norm) {
    auto g = cast<linalg::GenericOp>(op);
    std::string s = "norm weight '" +
                    constantName(g.getDpsInputOperand(scaleOperand)->get()) +
                    "'";
    if (biasOperand >= 0)
      s += " and bias '" +
           constantName(g.getDpsInputOperand(biasOperand)->get()) + "'";
    return s;
  }
  std::string s = "the output columns of layer '" + linear->name + "'";
  if (biasAdd)
    s += " and bias '" +
         constantName(cast<linalg::GenericOp>(biasAdd)
                          .getDpsInputOperand(biasAddOperand)
                          ->get()) +
         "'";
  if (product)
    s += " through an elementwise product";
  if (attention)
    s += channelMap.empty() ? " through attention"
                            : " through attention (channels permuted)";
  return s;
}

std::vector<ScaleGroup>
mlir::lowbit::analyzeScaleEquivalence(ModuleOp module,
                                      const LayerFilter &filter) {
  llvm::MapVector<Value, ScaleGroup> byInput;
  for (LinearLayer &layer : collectLinearLayers(module, filter)) {
    ScaleGroup &group = byInput[layer.input];
    group.input = layer.input;
    group.channels = layer.k;
    group.layers.push_back(std::move(layer));
  }
  std::vector<ScaleGroup> groups;
  for (auto &entry : byInput) {
    analyzeGroup(entry.second);
    groups.push_back(std::move(entry.second));
  }
  return groups;
}
