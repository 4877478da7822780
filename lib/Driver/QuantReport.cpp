//===- QuantReport.cpp - The quantization summary ---------------*- C++ -*-===//
//
// The per-layer table and quant-report.json of a quantizing compile.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/QuantReport.h"

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Quantization/WeightQuantizer.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace mlir;
using namespace mlir::lowbit;

static std::string padRight(StringRef s, size_t width) {
  std::string out = s.str();
  if (out.size() < width)
    out.append(width - out.size(), ' ');
  return out;
}

int64_t mlir::lowbit::constantBytes(ModuleOp module) {
  int64_t bytes = 0;
  module.walk([&](arith::ConstantOp op) {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type || !type.hasStaticShape())
      return;
    unsigned width = type.getElementType().getIntOrFloatBitWidth();
    bytes += (type.getNumElements() * width + 7) / 8;
  });
  return bytes;
}

llvm::json::Object
mlir::lowbit::printQuantReport(ModuleOp module, int64_t bytesBefore,
                               const ReportTimes &times, llvm::raw_ostream &os,
                               double activationOutlierThreshold) {
  llvm::json::Array layers;
  int64_t splitChannels = 0, splitLayers = 0;
  double weights = 0, bits = 0, codeBits = 0;
  size_t nameWidth = 5;
  SmallVector<MatmulOp> matmuls;
  module.walk([&](MatmulOp op) {
    matmuls.push_back(op);
    if (auto name = op->getAttrOfType<StringAttr>(
            LowbitDialect::LayerAttrHelper::getNameStr()))
      nameWidth = std::max<size_t>(nameWidth, name.size());
  });
  nameWidth = std::min<size_t>(nameWidth, 56);
  bool smoothed = llvm::any_of(matmuls, [](MatmulOp op) {
    return op->hasAttr(LowbitDialect::SmoothAttrHelper::getNameStr());
  });
  os << llvm::formatv("\n  {0} method bits group      K x N   weight err  "
                      "output err   time{1}\n",
                      padRight("layer", nameWidth),
                      smoothed ? "   smooth alpha: RTN error before -> after"
                               : "");
  for (MatmulOp op : matmuls) {
    auto type = cast<QTensorType>(op.getWeight().getType());
    SchemeAttr s = type.getScheme();
    int64_t k = type.getShape()[0], n = type.getShape()[1];
    int64_t group = s.getGroupSize() > 0 ? s.getGroupSize() : k;
    double numel = static_cast<double>(k) * n;
    double groups = static_cast<double>((k + group - 1) / group) * n;
    double layerBits =
        numel * s.getBits() + groups * 32 + (s.getSymmetric() ? 0 : groups * 8);
    // Outliers, counted as the artifact stores them (values and indices).
    int64_t nnz = 0;
    if (OutliersAttr outliers = type.getOutliers()) {
      nnz = outliers.getNnz();
      layerBits += quant::outlierBits(
          k, n, nnz, outliers.getValueType().getIntOrFloatBitWidth());
    }
    weights += numel;
    bits += layerBits;
    codeBits += numel * s.getBits();
    auto attr = [&](StringRef name) -> std::optional<double> {
      if (auto f = op->getAttrOfType<FloatAttr>(name))
        return f.getValueAsDouble();
      return std::nullopt;
    };
    auto name = op->getAttrOfType<StringAttr>(
        LowbitDialect::LayerAttrHelper::getNameStr());
    auto method = op->getAttrOfType<StringAttr>(
        LowbitDialect::MethodAttrHelper::getNameStr());
    std::string layerName = name ? name.str() : "?";
    std::optional<double>
        werr = attr(LowbitDialect::WeightErrorAttrHelper::getNameStr()),
        oerr = attr(LowbitDialect::OutputErrorAttrHelper::getNameStr()),
        plainErr =
            attr(LowbitDialect::PlainOutputErrorAttrHelper::getNameStr()),
        ms = attr(LowbitDialect::TimeMsAttrHelper::getNameStr());
    std::string shown =
        layerName.size() > nameWidth
            ? "..." + layerName.substr(layerName.size() - nameWidth + 3)
            : layerName;
    os << llvm::formatv(
        "  {0} {1,-6} {2,4} {3,5} {4,10}  {5,10}  {6,10} {7,6}",
        padRight(shown, nameWidth), method ? method.str() : "?", s.getBits(),
        s.getGroupSize() > 0 ? std::to_string(group) : std::string("chan"),
        std::to_string(k) + "x" + std::to_string(n),
        werr ? llvm::formatv("{0:f4}", *werr).str() : "-",
        oerr ? llvm::formatv("{0:f4}", *oerr).str() : "-",
        ms ? llvm::formatv("{0:f2}s", *ms / 1e3).str() : "-");
    auto smooth = op->getAttrOfType<DictionaryAttr>(
        LowbitDialect::SmoothAttrHelper::getNameStr());
    auto smoothValue = [&](StringRef key) {
      auto f = smooth ? smooth.getAs<FloatAttr>(key) : FloatAttr();
      return f ? f.getValueAsDouble() : 0.0;
    };
    auto smoothMethod =
        smooth ? smooth.getAs<StringAttr>("method") : StringAttr();
    if (smoothed)
      os << (smooth ? llvm::formatv("   {0,-11} {1,4:f2}: {2:f4} -> {3:f4}",
                                    smoothMethod ? smoothMethod.str() : "?",
                                    smoothValue("alpha"),
                                    smoothValue("error_before"),
                                    smoothValue("error_after"))
                          .str()
                    : std::string("   -"));
    // Outliers: the output error without them -> with them.
    if (nnz)
      os << llvm::formatv("   {0} outliers", nnz)
         << (plainErr && oerr ? llvm::formatv(": output err {0:f4} -> {1:f4}",
                                              *plainErr, *oerr)
                                    .str()
                              : std::string());
    os << "\n";
    llvm::json::Object layer{{"name", layerName},
                             {"method", method ? method.str() : ""},
                             {"bits", s.getBits()},
                             {"group", group},
                             {"k", k},
                             {"n", n},
                             {"bits_per_weight", layerBits / numel},
                             {"outliers", nnz}};
    if (activationOutlierThreshold > 0) {
      std::vector<float> absMax = getInputStatistic(op.getInput(), "abs_max");
      if (static_cast<int64_t>(absMax.size()) == k) {
        int64_t above =
            selectActivationOutlierChannels(absMax, activationOutlierThreshold)
                .size();
        layer["activation_outlier_channels"] = above;
        splitChannels += above;
        splitLayers += above > 0;
      }
    }
    if (werr)
      layer["weight_error"] = *werr;
    if (oerr)
      layer["output_error"] = *oerr;
    if (plainErr)
      layer["plain_output_error"] = *plainErr;
    if (ms)
      layer["seconds"] = *ms / 1e3;
    if (smooth)
      layer["smooth"] =
          llvm::json::Object{{"method", smoothMethod ? smoothMethod.str() : ""},
                             {"alpha", smoothValue("alpha")},
                             {"error_before", smoothValue("error_before")},
                             {"error_after", smoothValue("error_after")}};
    if (smooth && smooth.get("gptq_error_before")) {
      llvm::json::Object &o = *layer["smooth"].getAsObject();
      o["gptq_error_before"] = smoothValue("gptq_error_before");
      o["gptq_error_after"] = smoothValue("gptq_error_after");
    }
    if (auto site = op->getAttrOfType<StringAttr>(
            LowbitDialect::CalibrationSiteAttrHelper::getNameStr()))
      layer["calibration_site"] = site.str();
    // What the bit allocation measured and chose.
    for (StringRef key : {LowbitDialect::SensitivityAttrHelper::getNameStr(),
                          LowbitDialect::AllocationAttrHelper::getNameStr()})
      if (auto dict = op->getAttrOfType<DictionaryAttr>(key)) {
        llvm::json::Object values;
        for (NamedAttribute entry : dict)
          if (auto f = dyn_cast<FloatAttr>(entry.getValue()))
            values[entry.getName().strref()] = f.getValueAsDouble();
          else if (auto i = dyn_cast<IntegerAttr>(entry.getValue()))
            values[entry.getName().strref()] = i.getInt();
        layer[key.drop_front(strlen("lowbit."))] = std::move(values);
      }
    layers.push_back(std::move(layer));
  }
  if (activationOutlierThreshold > 0)
    os << llvm::formatv("\n  int8 activations: {0} input channels of {1} "
                        "layers above abs-max {2} stay f32 (LLM.int8())\n",
                        splitChannels, splitLayers, activationOutlierThreshold);
  int64_t floatLayers = 0;
  module.walk([&](Operation *op) {
    if (matchLinearLayer(op))
      ++floatLayers;
  });
  int64_t bytesAfter = constantBytes(module);
  double bpw = weights > 0 ? bits / weights : 0;
  os << llvm::formatv(
      "\n  {0} layers quantized, {1} linear layers left in float\n"
      "  quantized layers: {2:f3} bits per weight ({3:f3} codes + {4:f3} "
      "scales/zero points), {5:f1} M weights\n"
      "  constants: {6:f1} MB -> {7:f1} MB ({8:f2}x smaller)\n"
      "  time: calibration {9:f1} s, smoothing {11:f1} s, bit allocation "
      "{12:f1} s, quantization {10:f1} s\n",
      matmuls.size(), floatLayers, bpw, weights > 0 ? codeBits / weights : 0,
      weights > 0 ? (bits - codeBits) / weights : 0, weights / 1e6,
      bytesBefore / 1e6, bytesAfter / 1e6,
      bytesAfter > 0 ? static_cast<double>(bytesBefore) / bytesAfter : 0.0,
      times.calibration, times.quantization, times.smoothing, times.allocation);
  return llvm::json::Object{
      {"layers", std::move(layers)},
      {"quantized_layers", static_cast<int64_t>(matmuls.size())},
      {"float_layers", floatLayers},
      {"quantized_weights", weights},
      {"bits_per_weight", bpw},
      {"constant_bytes_before", bytesBefore},
      {"constant_bytes_after", bytesAfter},
      {"calibration_seconds", times.calibration},
      {"smoothing_seconds", times.smoothing},
      {"allocation_seconds", times.allocation},
      {"quantization_seconds", times.quantization}};
}
