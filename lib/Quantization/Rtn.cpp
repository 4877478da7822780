//===- Rtn.cpp - Group scales and round to nearest --------------*- C++ -*-===//

#include "GroupFit.h"
#include "lowbit/Quantization/WeightQuantizer.h"
#include "lowbit/Support/Rounding.h"

#include <algorithm>
#include <cmath>

using namespace mlir::lowbit;
using namespace mlir::lowbit::quant;

std::string WeightScheme::check(int64_t k) const {
  if (bits < 2 || bits > 8)
    return "bits = " + std::to_string(bits) + " is outside 2..8";
  if (group < 0)
    return "group size " + std::to_string(group) + " is negative";
  if (group > k)
    return "group size " + std::to_string(group) + " is larger than K = " +
           std::to_string(k);
  return "";
}

GroupParams quant::fitGroup(const float *values, int64_t count, int64_t stride,
                            const WeightScheme &scheme) {
  IntRange range = IntRange::get(scheme.bits, scheme.symmetric);
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, values[i * stride]);
    hi = std::max(hi, values[i * stride]);
  }
  auto paramsFor = [&](float l, float h, float divisor) {
    GroupParams p;
    if (scheme.symmetric) {
      p.scale = std::max(-l, h) / divisor;
    } else {
      p.scale = (h - l) / static_cast<float>(range.max);
      p.zero = p.scale == 0.0f
                   ? 0.0f
                   : std::clamp(roundHalfEven(-l / p.scale), 0.0f,
                                static_cast<float>(range.max));
    }
    return p;
  };
  float qmax = static_cast<float>(range.max);
  GroupParams best = paramsFor(lo, hi, qmax);
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
  // Shrink the range in 2% steps down to 62%; symmetric schemes also try
  // mapping the extreme to the extra negative code (divisor qmax + 1).
  double bestErr = errorOf(best);
  for (int step = 0; step < 20; ++step) {
    float f = 1.0f - 0.02f * step;
    for (float divisor : {qmax, qmax + 1.0f}) {
      if (!scheme.symmetric && divisor != qmax)
        continue;
      if (step == 0 && divisor == qmax)
        continue;
      GroupParams p = paramsFor(lo * f, hi * f, divisor);
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
  IntRange range = IntRange::get(scheme.bits, scheme.symmetric);
  int64_t q = quantizeInt(x, p.scale, p.zero, range);
  dequantized = dequantizeInt(q, p.scale, p.zero);
  return static_cast<uint8_t>(q) & static_cast<uint8_t>((1u << scheme.bits) - 1);
}

std::vector<float> QuantizedWeight::dequantize(const WeightScheme &scheme) const {
  std::vector<float> out(k * n);
  IntRange range = IntRange::get(scheme.bits, scheme.symmetric);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t g = (i / group) * n + j;
      int64_t q = codes[i * n + j];
      if (range.min < 0 && q > range.max) // sign-extend
        q -= int64_t(1) << scheme.bits;
      float z = zeroPoints.empty() ? 0.0f : zeroPoints[g];
      out[i * n + j] = dequantizeInt(q, scales[g], z);
    }
  return out;
}

QuantizedWeight quant::quantizeRtn(llvm::ArrayRef<float> w, int64_t k,
                                   int64_t n, const WeightScheme &scheme) {
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
      GroupParams p = fitGroup(col, end - g * r.group, n, scheme);
      r.scales[g * n + j] = p.scale;
      if (!scheme.symmetric)
        r.zeroPoints[g * n + j] = static_cast<uint8_t>(p.zero);
      float unused;
      for (int64_t i = g * r.group; i < end; ++i)
        r.codes[i * n + j] = encode(w[i * n + j], p, scheme, unused);
    }
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
