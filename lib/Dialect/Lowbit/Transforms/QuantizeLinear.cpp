//===- QuantizeLinear.cpp - Shared driver of weight quantization -*- C++ -*-=//

#include "QuantizeLinear.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Support/BitPacking.h"
#include "lowbit/Support/Progress.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Threading.h"

#include "llvm/ADT/APFloat.h"

#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// A constant holding `data`: inline when small, a dense_resource blob when
/// large, so printed IR stays readable.
template <typename T>
Value createConstant(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<T> data, StringRef blobName) {
  constexpr int64_t kInlineLimit = 64;
  if (type.getNumElements() <= kInlineLimit) {
    // T has the element type's width (f16 values come as their bits).
    ArrayRef<char> raw(reinterpret_cast<const char *>(data.data()),
                       data.size() * sizeof(T));
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::getFromRawBuffer(type, raw));
  }
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(data);
  auto attr = DenseResourceElementsAttr::get(type, blobName, std::move(blob));
  return arith::ConstantOp::create(b, loc, attr);
}

/// Replaces the layer by lowbit.matmul on `job.result`.
void rewriteLayer(LayerJob &job, const QuantizeLinearOptions &options) {
  const quant::WeightScheme &s = job.scheme;
  const quant::QuantizedWeight &q = job.result;
  LinearLayer &layer = job.layer;
  Operation *op = layer.op;
  MLIRContext *ctx = op->getContext();
  OpBuilder b(op);
  Location loc = op->getLoc();
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  bool perChannel = s.group == 0;
  CodeFormat format = s.kind == quant::CodeKind::NF4   ? CodeFormat::NF4
                      : s.kind == quant::CodeKind::FP4 ? CodeFormat::E2M1
                                                       : CodeFormat::Int;
  SchemeAttr scheme =
      SchemeAttr::get(ctx, s.bits, format, s.symmetric,
                      perChannel ? Granularity::Channel : Granularity::Group,
                      perChannel ? 1 : 0, perChannel ? 0 : q.group, f32,
                      s.symmetric ? Type() : i8, 0, Type());
  // Outliers: csr over the K rows, f16 values.
  int64_t nnz = static_cast<int64_t>(q.outlierIndex.size());
  OutliersAttr outliers =
      nnz ? OutliersAttr::get(ctx, OutlierFormat::CSR, nnz, b.getF16Type())
          : OutliersAttr();
  auto qType =
      QTensorType::get(ctx, {q.k, q.n}, f32, scheme, outliers, SparsityAttr());

  std::string prefix = layer.name + "." + options.method.str();
  std::vector<uint8_t> packed = packBits(q.codes, s.bits);
  auto bytesType =
      RankedTensorType::get({static_cast<int64_t>(packed.size())}, i8);
  Value bytes =
      createConstant<uint8_t>(b, loc, bytesType, packed, prefix + ".codes");
  SmallVector<Value> parts{
      UnpackCodesOp::create(b, loc, qType.getCodesType(), bytes)};
  parts.push_back(createConstant<float>(b, loc, qType.getScalesType(), q.scales,
                                        prefix + ".scales"));
  if (!s.symmetric)
    parts.push_back(createConstant<uint8_t>(b, loc, qType.getZeroPointsType(),
                                            q.zeroPoints, prefix + ".zp"));
  if (nnz) {
    SmallVector<Type> types = qType.getOutlierTypes();
    std::vector<int32_t> rowPtr(q.k + 1, 0), cols(nnz);
    std::vector<uint16_t> values(nnz);
    for (int64_t t = 0; t < nnz; ++t) {
      ++rowPtr[q.outlierIndex[t] / q.n + 1];
      cols[t] = static_cast<int32_t>(q.outlierIndex[t] % q.n);
      llvm::APFloat v(q.outlierValue[t]);
      bool lost;
      v.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      values[t] = static_cast<uint16_t>(v.bitcastToAPInt().getZExtValue());
    }
    for (int64_t i = 0; i < q.k; ++i)
      rowPtr[i + 1] += rowPtr[i];
    parts.push_back(createConstant<int32_t>(
        b, loc, cast<RankedTensorType>(types[0]), rowPtr, prefix + ".rows"));
    parts.push_back(createConstant<int32_t>(
        b, loc, cast<RankedTensorType>(types[1]), cols, prefix + ".cols"));
    parts.push_back(createConstant<uint16_t>(b, loc,
                                             cast<RankedTensorType>(types[2]),
                                             values, prefix + ".outliers"));
  }
  Value weight = PackOp::create(b, loc, qType, parts);
  auto matmul = MatmulOp::create(b, loc, op->getResultTypes()[0], layer.input,
                                 weight, /*transpose_weight=*/false);

  std::vector<float> dq = q.dequantize(s);
  matmul->setAttr(LowbitDialect::LayerAttrHelper::getNameStr(),
                  b.getStringAttr(layer.name));
  matmul->setAttr(LowbitDialect::MethodAttrHelper::getNameStr(),
                  b.getStringAttr(options.method));
  matmul->setAttr(LowbitDialect::WeightErrorAttrHelper::getNameStr(),
                  b.getF32FloatAttr(quant::relativeError(job.weight, dq)));
  if (job.hessian)
    matmul->setAttr(LowbitDialect::OutputErrorAttrHelper::getNameStr(),
                    b.getF32FloatAttr(quant::outputError(job.weight, dq, q.k,
                                                         q.n, *job.hessian)));
  if (job.plainOutputError >= 0)
    matmul->setAttr(LowbitDialect::PlainOutputErrorAttrHelper::getNameStr(),
                    b.getF32FloatAttr(job.plainOutputError));
  matmul->setAttr(LowbitDialect::TimeMsAttrHelper::getNameStr(),
                  b.getF32FloatAttr(job.seconds * 1e3));
  for (StringRef kept : {LowbitDialect::SmoothAttrHelper::getNameStr(),
                         LowbitDialect::AllocationAttrHelper::getNameStr(),
                         LowbitDialect::SensitivityAttrHelper::getNameStr()})
    if (Attribute value = op->getAttr(kept))
      matmul->setAttr(kept, value);
  if (auto site = layer.input.getDefiningOp<CalibrateOp>())
    if (job.hessian)
      matmul->setAttr(LowbitDialect::CalibrationSiteAttrHelper::getNameStr(),
                      site.getSiteAttr());

  Operation *weightDef = layer.weight.getDefiningOp();
  Operation *initDef = op->getOperand(op->getNumOperands() - 1).getDefiningOp();
  op->replaceAllUsesWith(matmul->getResults());
  op->erase();
  // Drop the float weight (and the zero fill) once nothing reads them.
  for (Operation *dead : {weightDef, initDef})
    if (dead && dead->use_empty())
      dead->erase();
}

} // namespace

quant::WeightScheme
mlir::lowbit::schemeForLayer(Operation *op, const quant::WeightScheme &scheme) {
  quant::WeightScheme s = scheme;
  auto chosen = op->getAttrOfType<DictionaryAttr>(
      LowbitDialect::AllocationAttrHelper::getNameStr());
  if (!chosen)
    return s;
  // The dialect's verifier checked the keys.
  if (auto bits = chosen.getAs<IntegerAttr>("bits"))
    s.bits = static_cast<unsigned>(bits.getInt());
  if (auto group = chosen.getAs<IntegerAttr>("group"))
    s.group = group.getInt();
  if (auto fraction = chosen.getAs<FloatAttr>("outlier_fraction"))
    s.outlierFraction = fraction.getValueAsDouble();
  return s;
}

LogicalResult
mlir::lowbit::quantizeLinearLayers(ModuleOp module,
                                   const QuantizeLinearOptions &options,
                                   std::function<bool(LayerJob &)> method) {
  FailureOr<LayerFilter> filter = LayerFilter::createFor(
      module, options.passName, options.include, options.exclude);
  if (failed(filter))
    return failure();
  if (options.scheme.bits < 2 || options.scheme.bits > 8)
    return module.emitError()
           << options.passName << ": bits=" << options.scheme.bits
           << " is outside 2..8";
  if (options.scheme.group < 0)
    return module.emitError()
           << options.passName << ": group-size=" << options.scheme.group
           << " is negative";
  std::vector<LinearLayer> layers =
      collectLinearLayers(module, *filter, options.minSize);

  // Check every layer before quantizing any: no half-done module.
  std::vector<LayerJob> jobs;
  for (LinearLayer &layer : layers) {
    quant::WeightScheme scheme = schemeForLayer(layer.op, options.scheme);
    std::string why = scheme.check(layer.k);
    if (!why.empty())
      return layer.op->emitError()
             << options.passName << ": layer '" << layer.name << "': " << why;
    LayerJob job;
    job.layer = layer;
    job.scheme = scheme;
    job.hessian = getInputHessian(layer.input);
    if (options.requireHessian && !job.hessian)
      return layer.op->emitError()
             << options.passName << ": layer '" << layer.name
             << "' has no calibration statistics (its input is not a "
                "lowbit.calibrate with a 'hessian' in lowbit.stats; run "
                "lowbit-insert-calibration and calibrate first)";
    jobs.push_back(std::move(job));
  }

  // Quantize in chunks (bounded memory: weights of a chunk at a time).
  MLIRContext *ctx = module.getContext();
  constexpr size_t kChunk = 8;
  Progress progress(options.progress,
                    options.method.str() + " " +
                        std::to_string(options.scheme.bits) + "-bit",
                    jobs.size(), "layers");
  for (size_t begin = 0; begin < jobs.size(); begin += kChunk) {
    size_t end = std::min(jobs.size(), begin + kChunk);
    for (size_t i = begin; i < end; ++i) {
      std::optional<std::vector<float>> w = readWeightKxN(jobs[i].layer);
      if (!w)
        return jobs[i].layer.op->emitError()
               << options.passName << ": cannot read the weight of layer '"
               << jobs[i].layer.name << "' (missing or short resource blob)";
      // NaN or Inf would become a code (RTN: code 0, or a NaN group):
      // refused, with where.
      const LinearLayer &layer = jobs[i].layer;
      for (size_t at = 0; at < w->size(); ++at)
        if (!std::isfinite((*w)[at]))
          return layer.op->emitError()
                 << options.passName << ": layer '" << layer.name
                 << "': the weight has a non-finite value (" << (*w)[at]
                 << " at k = " << at / layer.n << ", n = " << at % layer.n
                 << "); fix the model or exclude the layer";
      jobs[i].weight = std::move(*w);
    }
    parallelFor(ctx, begin, end, [&](size_t i) {
      // With outliers and calibration data, the same method without them
      // too, for the report's error before -> after (copied first: the
      // method may change its job's weight and Hessian).
      std::optional<LayerJob> plain;
      if (jobs[i].scheme.outlierFraction > 0 && jobs[i].hessian) {
        plain.emplace();
        plain->layer = jobs[i].layer;
        plain->scheme = jobs[i].scheme;
        plain->scheme.outlierFraction = 0;
        plain->weight = jobs[i].weight;
        plain->hessian = jobs[i].hessian;
      }
      auto t0 = std::chrono::steady_clock::now();
      if (!method(jobs[i]) && jobs[i].error.empty())
        jobs[i].error = "quantization failed";
      jobs[i].seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
      if (plain && jobs[i].error.empty() && method(*plain)) {
        const quant::QuantizedWeight &q = plain->result;
        jobs[i].plainOutputError =
            quant::outputError(jobs[i].weight, q.dequantize(plain->scheme), q.k,
                               q.n, *jobs[i].hessian);
      }
      progress.advance();
    });
    for (size_t i = begin; i < end; ++i) {
      LayerJob &job = jobs[i];
      if (!job.error.empty())
        return job.layer.op->emitError()
               << options.passName << ": layer '" << job.layer.name
               << "': " << job.error;
      if (!job.warning.empty())
        job.layer.op->emitWarning() << options.passName << ": layer '"
                                    << job.layer.name << "': " << job.warning;
      rewriteLayer(job, options);
      job.weight = {};
      job.hessian.reset();
      job.result = {};
    }
  }
  return success();
}
