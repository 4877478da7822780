//===- Rtn.cpp - Group scales and round to nearest --------------*- C++ -*-===//

#include "GroupFit.h"
#include "lowbit/Quantization/WeightQuantizer.h"
#include "lowbit/Support/CodeTables.h"
#include "lowbit/Support/Rounding.h"

#include <algorithm>
#include <cmath>

using namespace mlir::lowbit;
using namespace mlir::lowbit::quant;

std::optional<CodeKind> quant::parseCodeKind(llvm::StringRef name) {
  if (name == "int")
    return CodeKind::Int;
  if (name == "nf4")
    return CodeKind::NF4;
  if (name == "fp4")
    return CodeKind::FP4;
  return std::nullopt;
}

std::optional<ScaleRule> quant::parseScaleRule(llvm::StringRef name) {
  if (name == "extreme")
    return ScaleRule::Extreme;
  if (name == "absmax")
    return ScaleRule::AbsMax;
  return std::nullopt;
}

llvm::ArrayRef<float> WeightScheme::table() const {
  static const llvm::SmallVector<float> fp4 =
      getFloatCodeTable(llvm::APFloat::Float4E2M1FN());
  switch (kind) {
  case CodeKind::NF4:
    return getNF4Table();
  case CodeKind::FP4:
    return fp4;
  case CodeKind::Int:
    break;
  }
  return {};
}

double quant::storedBits(int64_t k, int64_t n, const WeightScheme &scheme,
                         int64_t outliers) {
  int64_t g = scheme.groupFor(k);
  double groups = static_cast<double>((k + g - 1) / g) * n;
  double bits = static_cast<double>(k) * n * scheme.bits + groups * 32 +
                (scheme.symmetric ? 0.0 : groups * 8);
  return bits + outlierBits(k, n, outliers, 16);
}

double quant::outlierBits(int64_t k, int64_t n, int64_t nnz,
                          int64_t valueBits) {
  if (nnz <= 0)
    return 0.0;
  if (valueBits == 16 && k <= 65536)
    return (n + 1 + 16) * 32.0 + nnz * 32.0;
  return (k + 1) * 32.0 + nnz * (32.0 + valueBits);
}

std::string WeightScheme::check(int64_t k) const {
  if (bits < 2 || bits > 8)
    return "bits = " + std::to_string(bits) + " is outside 2..8";
  if (kind != CodeKind::Int && (bits != 4 || !symmetric))
    return "nf4 and fp4 codes are 4-bit and symmetric";
  if (group < 0)
    return "group size " + std::to_string(group) + " is negative";
  if (group > k)
    return "group size " + std::to_string(group) +
           " is larger than K = " + std::to_string(k);
  if (!(outlierFraction >= 0.0 && outlierFraction <= 0.25))
    return "outlier fraction " + std::to_string(outlierFraction) +
           " is outside [0, 0.25]";
  return "";
}

/// A table format's group: s = max|w| / max|table| (the largest weight on
/// the table's end); with `clipSearch` the shrunk range of least squared
/// error.
static GroupParams fitTableGroup(const float *values, int64_t count,
                                 int64_t stride, const WeightScheme &scheme) {
  llvm::ArrayRef<float> table = scheme.table();
  auto [tlo, thi] = getFiniteRange(table);
  float tmax = std::max(-tlo, thi), m = 0.0f;
  for (int64_t i = 0; i < count; ++i)
    m = std::max(m, std::fabs(values[i * stride]));
  GroupParams best{m / tmax, 0.0f};
  if (!scheme.clipSearch || best.scale == 0.0f)
    return best;
  auto errorOf = [&](float s) {
    double err = 0.0;
    for (int64_t i = 0; i < count; ++i) {
      float x = values[i * stride];
      double e = x - table[nearestCode(table, x / s)] * s;
      err += e * e;
    }
    return err;
  };
  double bestErr = errorOf(best.scale);
  for (int step = 1; step < 20; ++step) {
    float s = m * (1.0f - 0.02f * step) / tmax;
    double err = errorOf(s);
    if (err < bestErr) {
      bestErr = err;
      best.scale = s;
    }
  }
  return best;
}

GroupParams quant::fitGroup(const float *values, int64_t count, int64_t stride,
                            const WeightScheme &scheme) {
  if (scheme.kind != CodeKind::Int)
    return fitTableGroup(values, count, stride, scheme);
  IntRange range = IntRange::get(scheme.bits, scheme.symmetric);
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, values[i * stride]);
    hi = std::max(hi, values[i * stride]);
  }
  // Symmetric: `extreme` puts the value of largest magnitude m on the extra
  // negative code, s = m / -2^(b-1) (s < 0 when m > 0): steps of |m|/8
  // instead of |m|/7 at 4 bits, the other sign reaching 7/8 of |m|; else
  // s = max|w| / (2^(b-1) - 1). The search tries both.
  float qmax = static_cast<float>(range.max);
  bool extremeRule = scheme.scaleRule == ScaleRule::Extreme;
  float signedMax = -lo > hi ? lo : hi;
  auto paramsFor = [&](float factor, bool extreme) {
    GroupParams p;
    if (scheme.symmetric) {
      p.scale = extreme ? signedMax * factor / -(qmax + 1.0f)
                        : std::max(-lo, hi) * factor / qmax;
    } else {
      float l = lo * factor, h = hi * factor;
      p.scale = (h - l) / qmax;
      p.zero = p.scale == 0.0f
                   ? 0.0f
                   : std::clamp(roundHalfEven(-l / p.scale), 0.0f, qmax);
    }
    return p;
  };
  GroupParams best = paramsFor(1.0f, extremeRule);
  if (!scheme.clipSearch || best.scale == 0.0f)
    return best;
  auto errorOf = [&](const GroupParams &p) {
    double err = 0.0;
    for (int64_t i = 0; i < count; ++i) {
      float x = values[i * stride];
      double e = x - dequantizeInt(quantizeInt(x, p.scale, p.zero, range),
                                   p.scale, p.zero);
      err += e * e;
    }
    return err;
  };
  // Shrink the range in 2% steps down to 62%; symmetric schemes try both
  // rules.
  double bestErr = errorOf(best);
  for (int step = 0; step < 20; ++step) {
    float f = 1.0f - 0.02f * step;
    for (bool extreme : {true, false}) {
      if ((!scheme.symmetric && !extreme) ||
          (step == 0 && extreme == extremeRule))
        continue;
      GroupParams p = paramsFor(f, extreme);
      double err = errorOf(p);
      if (err < bestErr) {
        bestErr = err;
        best = p;
      }
    }
  }
  return best;
}

uint8_t quant::encode(float x, const GroupParams &p, const WeightScheme &scheme,
                      float &dequantized) {
  if (scheme.kind != CodeKind::Int) {
    // A zero scale maps every weight to the code of 0.
    llvm::ArrayRef<float> table = scheme.table();
    unsigned code = nearestCode(table, p.scale == 0.0f ? 0.0f : x / p.scale);
    dequantized = table[code] * p.scale;
    return static_cast<uint8_t>(code);
  }
  IntRange range = IntRange::get(scheme.bits, scheme.symmetric);
  int64_t q = quantizeInt(x, p.scale, p.zero, range);
  dequantized = dequantizeInt(q, p.scale, p.zero);
  return static_cast<uint8_t>(q) &
         static_cast<uint8_t>((1u << scheme.bits) - 1);
}

std::vector<float>
QuantizedWeight::dequantize(const WeightScheme &scheme) const {
  std::vector<float> out(k * n);
  IntRange range = IntRange::get(scheme.bits, scheme.symmetric);
  llvm::ArrayRef<float> table = scheme.table();
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t g = (i / group) * n + j;
      int64_t q = codes[i * n + j];
      if (!table.empty()) {
        out[i * n + j] = table[q] * scales[g];
        continue;
      }
      if (range.min < 0 && q > range.max) // sign-extend
        q -= int64_t(1) << scheme.bits;
      float z = zeroPoints.empty() ? 0.0f : zeroPoints[g];
      out[i * n + j] = dequantizeInt(q, scales[g], z);
    }
  for (size_t t = 0; t < outlierIndex.size(); ++t)
    out[outlierIndex[t]] += outlierValue[t];
  return out;
}

QuantizedWeight quant::quantizeRtn(llvm::ArrayRef<float> w, int64_t k,
                                   int64_t n, const WeightScheme &scheme,
                                   llvm::ArrayRef<double> hessian) {
  std::vector<uint8_t> outliers;
  if (scheme.outlierFraction > 0.0)
    outliers = selectOutliers(w, k, n, scheme.groupFor(k), hessian,
                              scheme.outlierFraction);
  QuantizedWeight r;
  r.k = k;
  r.n = n;
  r.group = scheme.groupFor(k);
  int64_t numGroups = r.numGroups();
  r.codes.resize(k * n);
  r.scales.resize(numGroups * n);
  if (!scheme.symmetric)
    r.zeroPoints.resize(numGroups * n);
  for (int64_t g = 0; g < numGroups; ++g)
    for (int64_t j = 0; j < n; ++j) {
      const float *col = w.data() + g * r.group * n + j;
      int64_t end = std::min(k, (g + 1) * r.group);
      GroupParams p =
          outliers.empty()
              ? fitGroup(col, end - g * r.group, n, scheme)
              : fitGroupExcept(col, outliers.data() + g * r.group * n + j,
                               end - g * r.group, n, scheme);
      r.scales[g * n + j] = p.scale;
      if (!scheme.symmetric)
        r.zeroPoints[g * n + j] = static_cast<uint8_t>(p.zero);
      float dq;
      for (int64_t i = g * r.group; i < end; ++i) {
        r.codes[i * n + j] = encode(w[i * n + j], p, scheme, dq);
        if (!outliers.empty() && outliers[i * n + j])
          addOutlier(r, i * n + j, w[i * n + j] - dq);
      }
    }
  sortOutliers(r);
  return r;
}

double quant::relativeError(llvm::ArrayRef<float> w, llvm::ArrayRef<float> wq) {
  double err = 0.0, norm = 0.0;
  for (size_t i = 0; i < w.size(); ++i) {
    double e = static_cast<double>(w[i]) - wq[i];
    err += e * e;
    norm += static_cast<double>(w[i]) * w[i];
  }
  return norm > 0 ? std::sqrt(err / norm) : 0.0;
}
