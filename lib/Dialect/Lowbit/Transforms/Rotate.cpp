//===- Rotate.cpp - The residual stream rotated by an orthogonal Q -*- C++ -*-//
//
// lowbit-rotate: traces the residual stream from the embedding lookup
// through the ops that commute with an orthogonal Q (residual adds, RMSNorm
// without a weight, channel-preserving reshapes), collecting the layers
// that read it (W <- Q^T W) and write it (W <- W Q); then rotates the
// table, the readers and the writers. Nothing changes unless the whole
// stream is placed.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/ScaleEquivalence.h"
#include "lowbit/Quantization/Rotation.h"
#include "lowbit/Support/Hadamard.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITROTATEPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// An embedding lookup: a generic whose body extracts from a constant
/// V x d f32 table at (index, linalg.index of the last loop).
struct Lookup {
  linalg::GenericOp op;
  arith::ConstantOp table;
  int64_t rows = 0, dim = 0;
};

std::optional<Lookup> matchLookup(linalg::GenericOp op) {
  if (op->getNumResults() != 1)
    return std::nullopt;
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType || !resultType.hasStaticShape())
    return std::nullopt;
  std::optional<Lookup> found;
  op.getRegion().walk([&](tensor::ExtractOp extract) {
    auto table = extract.getTensor().getDefiningOp<arith::ConstantOp>();
    auto type = cast<RankedTensorType>(extract.getTensor().getType());
    if (!table || type.getRank() != 2 || !type.getElementType().isF32() ||
        type.getDimSize(1) != resultType.getShape().back())
      return;
    auto index = extract.getIndices()[1].getDefiningOp<linalg::IndexOp>();
    if (!index || index.getDim() != op.getNumLoops() - 1)
      return;
    found = Lookup{op, table, type.getDimSize(0), type.getDimSize(1)};
  });
  return found;
}

/// The result of tracing: the layers reading and writing the stream, or the
/// first op that could not be placed.
struct Trace {
  std::vector<LinearLayer> readers, writers;
  Operation *failedAt = nullptr;
  std::string reason;
};

/// True if `map`'s results do not use loop `dim`.
bool ignoresDim(AffineMap map, unsigned dim) {
  return llvm::none_of(map.getResults(),
                       [&](AffineExpr e) { return e.isFunctionOfDim(dim); });
}

/// True if `op` is `linalg.reduce` summing over the last dimension only.
bool isChannelSum(Operation *op) {
  auto reduce = dyn_cast<linalg::ReduceOp>(op);
  if (!reduce || reduce.getInputs().size() != 1)
    return false;
  auto type = cast<RankedTensorType>(reduce.getInputs()[0].getType());
  if (reduce.getDimensions() != ArrayRef<int64_t>{type.getRank() - 1})
    return false;
  Block &body = reduce.getCombiner().front();
  return body.getOperations().size() == 2 && isa<arith::AddFOp>(body.front());
}

/// True if the constant `v` is a vector of ones.
bool isOnes(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  std::optional<std::vector<float>> values = readWeightF32(attr);
  return values && llvm::all_of(*values, [](float x) { return x == 1.0f; });
}

class Tracer {
public:
  Tracer(int64_t dim) : dim(dim) {}

  Trace run(Value start) {
    rotated.insert(start);
    for (size_t i = 0; i < rotated.size() && !trace.failedAt; ++i)
      for (OpOperand &use : rotated[i].getUses()) {
        place(use);
        if (trace.failedAt)
          break;
      }
    return std::move(trace);
  }

private:
  void fail(Operation *op, const std::string &reason) {
    if (!trace.failedAt) {
      trace.failedAt = op;
      trace.reason = reason;
    }
  }

  bool keepsChannels(Type type) {
    auto t = dyn_cast<RankedTensorType>(type);
    return t && t.getRank() >= 1 && t.getShape().back() == dim;
  }

  void place(OpOperand &use) {
    Operation *op = use.getOwner();
    if (!placed.insert(op).second)
      return;
    Value v = use.get();
    if (auto calibrate = dyn_cast<CalibrateOp>(op)) {
      if (calibrate->hasAttr(LowbitDialect::StatsAttrHelper::getNameStr()))
        return fail(op, "calibration statistics are attached: rotate before "
                        "calibrating");
      rotated.insert(calibrate.getResult());
      return;
    }
    if (isa<tensor::ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
            op)) {
      if (use.getOperandNumber() != 0 ||
          !keepsChannels(op->getResult(0).getType()))
        return fail(op, "a reshape that does not keep the channel dimension");
      rotated.insert(op->getResult(0));
      return;
    }
    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      return placeGeneric(generic, v);
    if (isa<linalg::ReduceOp>(op))
      return fail(op, "a reduction over the stream that is not the sum of "
                      "squares of an RMSNorm (a mean: LayerNorm?)");
    if (isa<func::ReturnOp>(op))
      return fail(op, "the stream is a result of the function");
    return fail(op, "an op that does not commute with a rotation of the "
                    "channels");
  }

  void placeGeneric(linalg::GenericOp op, Value v) {
    if (std::optional<LinearLayer> layer = matchLinearLayer(op)) {
      if (layer->input != v)
        return fail(op, "the stream is the weight of a contraction");
      trace.readers.push_back(std::move(*layer));
      return;
    }
    unsigned loops = op.getNumLoops();
    if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
        !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity() ||
        !keepsChannels(op->getResult(0).getType()) || op.getNumDpsInputs() != 2)
      return fail(op, "an op that does not commute with a rotation of the "
                      "channels");
    Block &body = op.getRegion().front();
    Operation *yielded = body.getTerminator()->getOperand(0).getDefiningOp();
    if (!yielded || body.getOperations().size() != 2 ||
        yielded->getNumOperands() != 2 ||
        !llvm::all_of(yielded->getOperands(), [&](Value x) {
          auto arg = dyn_cast<BlockArgument>(x);
          return arg && arg.getOwner() == &body &&
                 arg.getArgNumber() < op.getNumDpsInputs();
        }))
      return fail(op, "an elementwise op that is not one add or multiply");
    auto inputIndex = [](Value x) {
      return cast<BlockArgument>(x).getArgNumber();
    };
    unsigned a = inputIndex(yielded->getOperand(0));
    unsigned b = inputIndex(yielded->getOperand(1));
    Value lhs = op.getDpsInputOperand(a)->get();
    Value rhs = op.getDpsInputOperand(b)->get();
    AffineMap lhsMap = op.getMatchingIndexingMap(op.getDpsInputOperand(a));
    AffineMap rhsMap = op.getMatchingIndexingMap(op.getDpsInputOperand(b));
    bool identity = lhsMap.isIdentity() && rhsMap.isIdentity();
    Value other = lhs == v ? rhs : lhs;
    AffineMap otherMap = lhs == v ? rhsMap : lhsMap;

    if (isa<arith::AddFOp>(yielded)) {
      if (!identity || a == b)
        return fail(op, "an add that broadcasts the stream");
      if (!rotated.contains(other)) {
        // The residual add: the other term's layer writes the stream.
        std::optional<LinearLayer> writer;
        if (Operation *def = other.getDefiningOp())
          writer = matchLinearLayer(def);
        if (!writer || !other.hasOneUse() || writer->n != dim)
          return fail(op, "an add to the stream of a value no linear layer "
                          "writes alone");
        trace.writers.push_back(std::move(*writer));
      }
      rotated.insert(op->getResult(0));
      return;
    }
    if (!isa<arith::MulFOp>(yielded))
      return fail(op, "an elementwise op that is not one add or multiply");
    if (a == b || (lhs == v && rhs == v)) {
      // x * x: only its sum over the channels (RMSNorm) is invariant.
      if (!identity)
        return fail(op, "a square that broadcasts the stream");
      for (Operation *user : op->getResult(0).getUsers())
        if (!isChannelSum(user))
          return fail(user, "squares of the stream read by anything but "
                            "their sum over the channels");
      return;
    }
    if (rotated.contains(other))
      return fail(op, "a product of two rotated values");
    if (ignoresDim(otherMap, loops - 1)) {
      rotated.insert(op->getResult(0)); // a per-row factor (1 / rms)
      return;
    }
    if (isOnes(other)) {
      rotated.insert(op->getResult(0)); // a folded norm weight
      return;
    }
    return fail(op, "a per-channel factor (a norm weight: run "
                    "lowbit-fold-norms first)");
  }

  int64_t dim;
  llvm::SetVector<Value> rotated;
  llvm::SmallPtrSet<Operation *, 32> placed;
  Trace trace;
};

/// The arith.constant of a layer's weight.
arith::ConstantOp weightConstant(const LinearLayer &layer) {
  return layer.weight.getDefiningOp<arith::ConstantOp>();
}

std::string resourceKey(arith::ConstantOp op) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(op.getValue()))
    return resource.getRawHandle().getKey().str();
  return "";
}

struct LowbitRotatePass : lowbit::impl::LowbitRotatePassBase<LowbitRotatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (kind != "hadamard" && kind != "random") {
      module.emitError() << "lowbit-rotate: kind must be hadamard or random, "
                         << "got '" << kind << "'";
      return signalPassFailure();
    }
    // The embedding: the lookup from the largest table.
    std::optional<Lookup> lookup;
    module.walk([&](linalg::GenericOp op) {
      if (std::optional<Lookup> l = matchLookup(op))
        if (!lookup || l->rows * l->dim > lookup->rows * lookup->dim)
          lookup = l;
    });
    if (!lookup) {
      module.emitError() << "lowbit-rotate: no embedding lookup (a gather "
                            "from a constant table) to start the residual "
                            "stream from; nothing rotated";
      return signalPassFailure();
    }
    int64_t dim = lookup->dim;
    Trace trace = Tracer(dim).run(lookup->op->getResult(0));
    if (trace.failedAt) {
      InFlightDiagnostic diag = trace.failedAt->emitError()
                                << "lowbit-rotate: the residual stream cannot "
                                   "be rotated here: "
                                << trace.reason << "; nothing rotated";
      diag.attachNote(lookup->op.getLoc()) << "the stream starts here";
      return signalPassFailure();
    }
    if (trace.readers.empty()) {
      lookup->op.emitError() << "lowbit-rotate: no linear layer reads the "
                                "residual stream; nothing rotated";
      return signalPassFailure();
    }

    // Every constant rewritten once and read by nothing else.
    llvm::StringMap<unsigned> keyUses;
    module.walk([&](arith::ConstantOp op) {
      if (std::string key = resourceKey(op); !key.empty())
        ++keyUses[key];
    });
    llvm::SmallPtrSet<Operation *, 32> seen;
    auto exclusive = [&](arith::ConstantOp constant, Operation *reader,
                         StringRef what) -> bool {
      std::string key = resourceKey(constant);
      bool shared = !key.empty() && keyUses.lookup(key) != 1;
      if (!constant || !seen.insert(constant).second || shared ||
          !llvm::all_of(constant->getUsers(), [&](Operation *user) {
            return user == reader || reader->isAncestor(user);
          })) {
        reader->emitError()
            << "lowbit-rotate: " << what << " '" << key
            << "' is also read elsewhere (a tied or shared weight: run "
               "lowbit-fold-norms first); nothing rotated";
        return false;
      }
      return true;
    };
    if (!exclusive(lookup->table, lookup->op, "the embedding table"))
      return signalPassFailure();
    for (const LinearLayer &layer : trace.readers)
      if (!exclusive(weightConstant(layer), layer.op, "the weight"))
        return signalPassFailure();
    for (const LinearLayer &layer : trace.writers)
      if (!exclusive(weightConstant(layer), layer.op, "the weight"))
        return signalPassFailure();

    // The online rotations, checked before anything changes.
    std::vector<const ScaleGroup *> onlineGroups;
    std::vector<ScaleGroup> groups;
    for (const std::string &what : online)
      if (what != "down") {
        module.emitError() << "lowbit-rotate: online takes 'down', got '"
                           << what << "'";
        return signalPassFailure();
      }
    if (!online.empty()) {
      std::string error;
      FailureOr<LayerFilter> all = LayerFilter::create("", "", error);
      groups = analyzeScaleEquivalence(module, *all);
      llvm::SmallPtrSet<Operation *, 32> onlineSeen;
      for (const ScaleGroup &group : groups) {
        const std::optional<ScaleAbsorber> &a = group.absorber;
        if (!a || a->kind != ScaleAbsorber::Kind::Linear || !a->product)
          continue;
        if (!buildHadamardFactors(group.channels)) {
          group.layers.front().op->emitError()
              << "lowbit-rotate: no Hadamard matrix of order " << group.channels
              << " for the online rotation of '" << group.layers.front().name
              << "'; nothing rotated";
          return signalPassFailure();
        }
        auto isExclusive = [&](arith::ConstantOp constant, Operation *reader) {
          std::string key = resourceKey(constant);
          return constant && onlineSeen.insert(constant).second &&
                 (key.empty() || keyUses.lookup(key) == 1) &&
                 llvm::all_of(constant->getUsers(),
                              [&](Operation *user) { return user == reader; });
        };
        bool ok = isExclusive(weightConstant(*a->linear), a->op);
        if (a->biasAdd)
          ok = ok && isExclusive(cast<linalg::GenericOp>(a->biasAdd)
                                     .getDpsInputOperand(a->biasAddOperand)
                                     ->get()
                                     .getDefiningOp<arith::ConstantOp>(),
                                 a->biasAdd);
        for (const LinearLayer &layer : group.layers)
          ok = ok && isExclusive(weightConstant(layer), layer.op);
        if (!ok) {
          group.layers.front().op->emitError()
              << "lowbit-rotate: the weights around '"
              << group.layers.front().name
              << "' are also read elsewhere; nothing rotated";
          return signalPassFailure();
        }
        onlineGroups.push_back(&group);
      }
    }

    quant::Rotation q = quant::makeRotation(dim, kind == "hadamard", seed);
    auto readValues = [](arith::ConstantOp op) {
      return *readWeightF32(cast<ElementsAttr>(op.getValue()));
    };
    std::vector<float> table = readValues(lookup->table);
    quant::rotateRows(table, lookup->rows, q, /*transpose=*/false);
    setConstantValues(lookup->table, table);
    for (const LinearLayer &layer : trace.readers) {
      // x W = (x Q) (Q^T W): K x N rows of K rotated, or N x K rows.
      std::vector<float> w = readValues(weightConstant(layer));
      if (layer.transposed)
        quant::rotateRows(w, layer.n, q, false);
      else
        quant::rotateColumns(w, layer.n, q, false);
      setConstantValues(weightConstant(layer), w);
    }
    for (const LinearLayer &layer : trace.writers) {
      // (h W) Q = h (W Q).
      std::vector<float> w = readValues(weightConstant(layer));
      if (layer.transposed)
        quant::rotateColumns(w, layer.k, q, false);
      else
        quant::rotateRows(w, layer.k, q, false);
      setConstantValues(weightConstant(layer), w);
    }
    for (const ScaleGroup *group : onlineGroups)
      rotateOnline(*group, readValues);

    MLIRContext *ctx = module.getContext();
    Builder b(ctx);
    module->setAttr(
        LowbitDialect::RotationAttrHelper::getNameStr(),
        b.getDictionaryAttr(
            {b.getNamedAttr("kind", b.getStringAttr(q.kind)),
             b.getNamedAttr("seed", b.getI64IntegerAttr(seed)),
             b.getNamedAttr("dim", b.getI64IntegerAttr(dim)),
             b.getNamedAttr("readers",
                            b.getI64IntegerAttr(trace.readers.size())),
             b.getNamedAttr("writers",
                            b.getI64IntegerAttr(trace.writers.size())),
             b.getNamedAttr("online",
                            b.getI64IntegerAttr(onlineGroups.size()))}));
  }

  /// x W = (x Q) (Q^T W) with Q = diag(s) H / sqrt(n): s into the columns
  /// of the absorbing layer (and its bias), lowbit.hadamard in front of the
  /// group, Q^T into the group's weights.
  template <typename ReadFn>
  void rotateOnline(const ScaleGroup &group, ReadFn readValues) {
    const ScaleAbsorber &a = *group.absorber;
    int64_t n = group.channels;
    quant::Rotation q = quant::makeRotation(n, /*hadamard=*/true, seed + 1);
    arith::ConstantOp up = weightConstant(*a.linear);
    std::vector<float> w = readValues(up);
    int64_t k = a.linear->k;
    for (int64_t j = 0; j < n; ++j) {
      float sign = static_cast<float>(q.signs[j]);
      int64_t col = a.channelOf(j);
      for (int64_t i = 0; i < k; ++i)
        w[a.linear->transposed ? col * k + i : i * n + col] *= sign;
    }
    setConstantValues(up, w);
    if (a.biasAdd) {
      auto bias = cast<linalg::GenericOp>(a.biasAdd)
                      .getDpsInputOperand(a.biasAddOperand)
                      ->get()
                      .getDefiningOp<arith::ConstantOp>();
      std::vector<float> v = readValues(bias);
      for (int64_t j = 0; j < n; ++j)
        v[a.channelOf(j)] *= static_cast<float>(q.signs[j]);
      setConstantValues(bias, v);
    }
    OpBuilder builder(group.layers.front().op);
    Value input = group.layers.front().input;
    Value rotated = HadamardOp::create(builder, input.getLoc(), input);
    for (const LinearLayer &layer : group.layers) {
      layer.op->replaceUsesOfWith(input, rotated);
      std::vector<float> v = readValues(weightConstant(layer));
      if (layer.transposed)
        quant::rotateRows(v, layer.n, q, false);
      else
        quant::rotateColumns(v, layer.n, q, false);
      setConstantValues(weightConstant(layer), v);
    }
  }
};

} // namespace
