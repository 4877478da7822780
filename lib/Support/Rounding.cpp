//===- Rounding.cpp - Integer quantization arithmetic -----------*- C++ -*-===//
//
// Round-half-even and the integer quantizer of the reference semantics.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/Rounding.h"

#include <algorithm>
#include <cmath>

using namespace mlir::lowbit;

float mlir::lowbit::roundHalfEven(float x) {
  // nearbyint rounds in the current mode, which is to-nearest-even unless a
  // caller changed it; do not depend on that.
  float r = std::round(x); // ties away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5f)
    r = 2.0f * std::round(x / 2.0f);
  return r;
}

int64_t mlir::lowbit::quantizeInt(float x, float s, float z, IntRange range) {
  float t = s == 0.0f ? 0.0f : x / s;
  if (std::isnan(t))
    t = 0.0f;
  float q = roundHalfEven(t + z);
  q = std::clamp(q, static_cast<float>(range.min),
                 static_cast<float>(range.max));
  return static_cast<int64_t>(q);
}
