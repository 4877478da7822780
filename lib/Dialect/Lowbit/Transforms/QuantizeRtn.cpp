//===- QuantizeRtn.cpp - Round-to-nearest weight quantization ---*- C++ -*-===//
//
// The lowbit-quantize-rtn pass: quantizes constant matmul weights at compile
// time with min/max (asymmetric) or abs-max (symmetric) group scales and
// rewrites the matmul into lowbit.matmul on the packed result.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Support/BitPacking.h"
#include "lowbit/Support/Rounding.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITQUANTIZERTNPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// A K x N weight quantized in groups along K.
struct RtnResult {
  std::vector<uint8_t> codes;      // K*N codes, low `bits` bits, row-major
  std::vector<float> scales;       // (K/G) x N, or N per channel
  std::vector<uint8_t> zeroPoints; // like scales, asymmetric only
  double relError = 0.0;           // ||W - W'||_F / ||W||_F
};

RtnResult quantizeRtn(ArrayRef<float> w, int64_t k, int64_t n, unsigned bits,
                      int64_t group, bool symmetric) {
  RtnResult r;
  IntRange range = IntRange::get(bits, symmetric);
  int64_t numGroups = k / group;
  r.codes.resize(k * n);
  r.scales.resize(numGroups * n);
  if (!symmetric)
    r.zeroPoints.resize(numGroups * n);
  double errSq = 0.0, normSq = 0.0;
  uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  for (int64_t g = 0; g < numGroups; ++g) {
    for (int64_t j = 0; j < n; ++j) {
      float lo = 0.0f, hi = 0.0f;
      for (int64_t i = g * group; i < (g + 1) * group; ++i) {
        lo = std::min(lo, w[i * n + j]);
        hi = std::max(hi, w[i * n + j]);
      }
      float s, z = 0.0f;
      if (symmetric) {
        s = std::max(-lo, hi) / static_cast<float>(range.max);
      } else {
        s = (hi - lo) / static_cast<float>(range.max);
        z = s == 0.0f ? 0.0f
                      : std::clamp(roundHalfEven(-lo / s), 0.0f,
                                   static_cast<float>(range.max));
        r.zeroPoints[g * n + j] = static_cast<uint8_t>(z);
      }
      r.scales[g * n + j] = s;
      for (int64_t i = g * group; i < (g + 1) * group; ++i) {
        float x = w[i * n + j];
        int64_t q = quantizeInt(x, s, z, range);
        r.codes[i * n + j] = static_cast<uint8_t>(q) & mask;
        double e = x - dequantizeInt(q, s, z);
        errSq += e * e;
        normSq += static_cast<double>(x) * x;
      }
    }
  }
  r.relError = normSq > 0 ? std::sqrt(errSq / normSq) : 0.0;
  return r;
}

/// A constant holding `data`: inline when small, a dense_resource blob when
/// large, so printed IR stays readable.
template <typename T>
Value createConstant(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<T> data, StringRef blobName) {
  constexpr int64_t kInlineLimit = 64;
  if (type.getNumElements() <= kInlineLimit) {
    Type elem = type.getElementType();
    if (elem.isInteger(8)) {
      SmallVector<int8_t> v(data.begin(), data.end());
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(v)));
    }
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, data));
  }
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(data);
  auto attr = DenseResourceElementsAttr::get(type, blobName, std::move(blob));
  return arith::ConstantOp::create(b, loc, attr);
}

/// The f32 values of a constant weight, inline or in a dense_resource blob.
std::optional<std::vector<float>> readF32(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) != attr.getNumElements())
      return std::nullopt;
    return std::vector<float>(data->begin(), data->end());
  }
  auto values = attr.tryGetValues<float>();
  if (!values)
    return std::nullopt;
  return std::vector<float>(values->begin(), values->end());
}

/// True if `v` is a zero-filled init tensor.
bool isZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  FloatAttr value;
  return matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
         value.getValue().isZero();
}

struct LowbitQuantizeRtnPass
    : lowbit::impl::LowbitQuantizeRtnPassBase<LowbitQuantizeRtnPass> {
  using Base::Base;

  void runOnOperation() override {
    if (bits < 2 || bits > 8) {
      getOperation().emitError() << "lowbit-quantize-rtn: bits=" << bits
                                 << " is outside 2..8";
      return signalPassFailure();
    }
    if (groupSize < 0) {
      getOperation().emitError() << "lowbit-quantize-rtn: group-size="
                                 << groupSize << " is negative";
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    int layer = 0;
    for (linalg::MatmulOp op : matmuls)
      if (failed(rewrite(op, layer)))
        return signalPassFailure();
  }

  LogicalResult rewrite(linalg::MatmulOp op, int &layer) {
    if (op.hasUserDefinedMaps() || !isZeroFill(op.getOutputs()[0]))
      return success();
    ElementsAttr weightAttr;
    if (!matchPattern(op.getInputs()[1], m_Constant(&weightAttr)))
      return success();
    auto weightType = dyn_cast<RankedTensorType>(weightAttr.getType());
    auto inputType = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    if (!weightType || !weightType.getElementType().isF32() || !inputType ||
        !inputType.getElementType().isF32())
      return success();
    int64_t k = weightType.getDimSize(0), n = weightType.getDimSize(1);
    if (k < minSize || n < minSize)
      return success();
    int64_t group = groupSize == 0 ? k : groupSize;
    if (k % group != 0)
      return op.emitError() << "lowbit-quantize-rtn: group size " << group
                            << " does not divide K = " << k;
    std::optional<std::vector<float>> w = readF32(weightAttr);
    if (!w)
      return op.emitError() << "lowbit-quantize-rtn: cannot read the weight "
                               "(missing or short resource blob)";
    RtnResult q = quantizeRtn(*w, k, n, bits, group, symmetric);

    MLIRContext *ctx = &getContext();
    OpBuilder b(op);
    Location loc = op.getLoc();
    std::string prefix = "rtn_w" + std::to_string(layer++);
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    bool perChannel = groupSize == 0;
    SchemeAttr scheme = SchemeAttr::get(
        ctx, bits, CodeFormat::Int, symmetric,
        perChannel ? Granularity::Channel : Granularity::Group,
        perChannel ? 1 : 0, perChannel ? 0 : group, f32,
        symmetric ? Type() : i8, 0, Type());
    auto qType = QTensorType::get({k, n}, f32, scheme);

    std::vector<uint8_t> packed = packBits(q.codes, bits);
    auto bytesType =
        RankedTensorType::get({static_cast<int64_t>(packed.size())}, i8);
    Value bytes = createConstant<uint8_t>(b, loc, bytesType, packed,
                                          prefix + "_codes");
    Value codes =
        UnpackCodesOp::create(b, loc, qType.getCodesType(), bytes);
    SmallVector<Value> parts{codes};
    parts.push_back(createConstant<float>(b, loc, qType.getScalesType(),
                                          q.scales, prefix + "_scales"));
    if (!symmetric)
      parts.push_back(createConstant<uint8_t>(b, loc, qType.getZeroPointsType(),
                                              q.zeroPoints, prefix + "_zp"));
    Value packedWeight = PackOp::create(b, loc, qType, parts);
    auto matmul = MatmulOp::create(b, loc, op.getResultTypes()[0],
                                   op.getInputs()[0], packedWeight,
                                   /*transpose_weight=*/false);
    matmul->setAttr("lowbit.weight_error", b.getF32FloatAttr(q.relError));
    Operation *weightDef = op.getInputs()[1].getDefiningOp();
    Operation *fillDef = op.getOutputs()[0].getDefiningOp();
    op->replaceAllUsesWith(matmul->getResults());
    op->erase();
    // Drop the float weight (and the zero fill) once nothing reads them.
    for (Operation *dead : {weightDef, fillDef})
      if (dead && dead->use_empty())
        dead->erase();
    return success();
  }
};

} // namespace
