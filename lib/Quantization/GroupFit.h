//===- GroupFit.h - Fitting one group's scale and zero point ----*- C++ -*-===//

#ifndef LOWBIT_LIB_QUANTIZATION_GROUPFIT_H
#define LOWBIT_LIB_QUANTIZATION_GROUPFIT_H

#include "lowbit/Quantization/WeightQuantizer.h"

namespace mlir::lowbit::quant {

struct GroupParams {
  float scale = 0.0f;
  float zero = 0.0f; // integer-valued, asymmetric only
};

/// Scale (and zero point) of `count` values `values[i * stride]`: abs-max or
/// min/max with the range widened to include 0; with `clipSearch`, the
/// shrunk range of least squared error.
GroupParams fitGroup(const float *values, int64_t count, int64_t stride,
                     const WeightScheme &scheme);

/// fitGroup on the values whose `mask[i * stride]` is 0 (the outliers
/// excluded); all masked: the fit of a zero group.
GroupParams fitGroupExcept(const float *values, const uint8_t *mask,
                           int64_t count, int64_t stride,
                           const WeightScheme &scheme);

/// `x` rounded to f16 (the outliers' storage) and back.
float roundToHalf(float x);
/// Appends an outlier at row-major `index` adding `residual` (rounded to
/// f16) to its code's value.
void addOutlier(QuantizedWeight &r, int64_t index, float residual);
/// Orders the outliers by position.
void sortOutliers(QuantizedWeight &r);

/// The stored code of `x` (low `bits` bits) and, in `dequantized`, its value.
uint8_t encode(float x, const GroupParams &p, const WeightScheme &scheme,
               float &dequantized);

} // namespace mlir::lowbit::quant

#endif // LOWBIT_LIB_QUANTIZATION_GROUPFIT_H
