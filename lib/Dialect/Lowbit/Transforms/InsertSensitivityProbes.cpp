//===- InsertSensitivityProbes.cpp - Switchable layer errors ----*- C++ -*-===//
//
// The lowbit-insert-sensitivity-probes pass: every selected linear layer's
// result becomes y + p[i] * (x D_i), with D_i its RTN quantization error
// and p a new entry argument, so that one compiled artifact runs the model
// with any one layer quantized. The driver (Calibration/Sensitivity.h)
// measures from it how much each layer's error changes the model's output.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITINSERTSENSITIVITYPROBESPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// D = dequant(RTN(W)) - W in the weight's own layout (K x N, or N x K when
/// transposed), and tr(D^T H D) / tr(W^T H W) with `hessian` (0 without).
std::pair<std::vector<float>, double>
probeDelta(const LinearLayer &layer, ArrayRef<float> w,
           const quant::WeightScheme &scheme,
           const std::optional<std::vector<double>> &hessian) {
  quant::QuantizedWeight q = quant::quantizeRtn(
      w, layer.k, layer.n, scheme,
      hessian ? ArrayRef<double>(*hessian) : ArrayRef<double>());
  std::vector<float> dq = q.dequantize(scheme);
  double error = 0.0;
  if (hessian) {
    double energy = quant::outputEnergy(w, layer.k, layer.n, *hessian);
    if (energy > 0)
      error =
          quant::outputErrorEnergy(w, dq, layer.k, layer.n, *hessian) / energy;
  }
  std::vector<float> delta(w.size());
  for (int64_t i = 0; i < layer.k; ++i)
    for (int64_t j = 0; j < layer.n; ++j) {
      float d = dq[i * layer.n + j] - w[i * layer.n + j];
      delta[layer.transposed ? j * layer.k + i : i * layer.n + j] = d;
    }
  return {std::move(delta), error};
}

struct InsertSensitivityProbesPass
    : lowbit::impl::LowbitInsertSensitivityProbesPassBase<
          InsertSensitivityProbesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      module.emitError() << getArgument() << ": no entry function '" << entry
                         << "'";
      return signalPassFailure();
    }
    quant::WeightScheme scheme;
    scheme.bits = bits;
    scheme.group = groupSize;
    if (std::string why = scheme.check(std::max<int64_t>(groupSize, 1));
        !why.empty()) {
      module.emitError() << getArgument() << ": " << why;
      return signalPassFailure();
    }
    FailureOr<LayerFilter> filter =
        LayerFilter::createFor(module, getArgument(), include, exclude);
    if (failed(filter))
      return signalPassFailure();
    std::vector<LinearLayer> layers;
    for (LinearLayer &layer : collectLinearLayers(module, *filter, minSize))
      if (layer.op->getParentOfType<func::FuncOp>() == func)
        layers.push_back(layer);
    if (layers.empty()) {
      module.emitError() << getArgument() << ": no linear layer to probe";
      return signalPassFailure();
    }

    MLIRContext *ctx = &getContext();
    Type f32 = Float32Type::get(ctx);
    auto probeType =
        RankedTensorType::get({static_cast<int64_t>(layers.size())}, f32);
    unsigned argIndex = func.getNumArguments();
    if (failed(func.insertArgument(
            argIndex, probeType,
            DictionaryAttr::get(
                ctx, {NamedAttribute(StringAttr::get(ctx, "onnx.name"),
                                     StringAttr::get(ctx, "lowbit:probe"))}),
            func.getLoc())))
      return signalPassFailure();
    Value probe = func.getArgument(argIndex);

    for (auto [index, layer] : llvm::enumerate(layers)) {
      std::optional<std::vector<float>> w = readWeightKxN(layer);
      if (!w) {
        layer.op->emitError()
            << getArgument() << ": cannot read the weight of layer '"
            << layer.name << "'";
        return signalPassFailure();
      }
      quant::WeightScheme s = scheme;
      if (s.group > layer.k)
        s.group = 0;
      auto [delta, error] =
          probeDelta(layer, *w, s, getInputHessian(layer.input));

      Operation *op = layer.op;
      OpBuilder b(op->getContext());
      b.setInsertionPointAfter(op);
      Location loc = op->getLoc();
      auto weightType = cast<RankedTensorType>(layer.weight.getType());
      auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(
          ArrayRef<float>(delta));
      Value deltaConst = arith::ConstantOp::create(
          b, loc,
          DenseResourceElementsAttr::get(weightType, layer.name + ".probe",
                                         std::move(blob)));
      Operation *perturbed = b.clone(*op);
      perturbed->setOperand(1, deltaConst);
      Value y = op->getResult(0);
      auto yType = cast<RankedTensorType>(y.getType());
      Value idx = arith::ConstantIndexOp::create(b, loc, index);
      Value scale = tensor::ExtractOp::create(b, loc, probe, ValueRange{idx});
      Value init = tensor::EmptyOp::create(b, loc, yType.getShape(), f32);
      AffineMap id = b.getMultiDimIdentityMap(yType.getRank());
      AffineMap scalar = AffineMap::get(yType.getRank(), 0, ctx);
      SmallVector<utils::IteratorType> iterators(yType.getRank(),
                                                 utils::IteratorType::parallel);
      auto sum = linalg::GenericOp::create(
          b, loc, yType, ValueRange{y, perturbed->getResult(0), scale},
          ValueRange{init}, ArrayRef<AffineMap>{id, id, scalar, id}, iterators,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value scaled = arith::MulFOp::create(nb, l, args[2], args[1]);
            linalg::YieldOp::create(
                nb, l,
                ValueRange{arith::AddFOp::create(nb, l, args[0], scaled)});
          });
      y.replaceAllUsesExcept(sum.getResult(0), sum);
      op->setAttr(LowbitDialect::ProbeAttrHelper::getNameStr(),
                  b.getDictionaryAttr(
                      {b.getNamedAttr("index", b.getI64IntegerAttr(index)),
                       b.getNamedAttr("error", b.getF64FloatAttr(error))}));
    }
    // The calibration sites have done their work.
    module.walk([](CalibrateOp site) {
      site.getResult().replaceAllUsesWith(site.getInput());
      site.erase();
    });
  }
};

} // namespace
