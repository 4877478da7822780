//===- Rounding.h - Integer quantization arithmetic -------------*- C++ -*-===//
//
// Host-side integer quantization as the reference lowering defines it:
// q = clamp(roundeven(x / s + z), qmin, qmax), x' = (q - z) * s. Used by the
// quantization passes to compute codes at compile time and by tests.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_ROUNDING_H
#define LOWBIT_SUPPORT_ROUNDING_H

#include <cstdint>

namespace mlir::lowbit {

/// Rounds to the nearest integer, ties to even (IEEE roundTiesToEven).
float roundHalfEven(float x);

/// Integer code range of a b-bit scheme.
struct IntRange {
  int64_t min, max;
  static IntRange get(unsigned bits, bool symmetric) {
    return symmetric ? IntRange{-(int64_t(1) << (bits - 1)),
                                (int64_t(1) << (bits - 1)) - 1}
                     : IntRange{0, (int64_t(1) << bits) - 1};
  }
};

/// The code of `x` for scale `s` and zero point `z`; a zero scale gives the
/// code of zero.
int64_t quantizeInt(float x, float s, float z, IntRange range);

/// The value of code `q`.
inline float dequantizeInt(int64_t q, float s, float z) {
  return (static_cast<float>(q) - z) * s;
}

} // namespace mlir::lowbit

#endif // LOWBIT_SUPPORT_ROUNDING_H
