//===- QuantizedParts.h - The parts of a quantized value --------*- C++ -*-===//
//
// Names the parts of a !lowbit.qtensor value by role, and builds the affine
// maps that index scales, super scales and masks from element coordinates.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_QUANTIZEDPARTS_H
#define LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_QUANTIZEDPARTS_H

#include "lowbit/Dialect/Lowbit/IR/LowbitTypes.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Value.h"

namespace mlir::lowbit {

/// The parts of one quantized value, by role; absent parts are null.
struct QuantizedParts {
  Value codes, scales, zeroPoints, codebook, superScales, mask;
  SmallVector<Value> outliers; // coo: indices, values; csr: ptr, col, values

  /// Splits `parts` (canonical order of `type`) by role.
  static QuantizedParts get(QTensorType type, ValueRange parts);
  /// Splits the scheme parameters of lowbit.quantize (scales first).
  static QuantizedParts getParams(QTensorType type, ValueRange params);
};

/// Map from element coordinates to scale (and zero-point) coordinates.
AffineMap getScaleMap(QTensorType type);
/// Map from element coordinates to super-scale coordinates.
AffineMap getSuperScaleMap(QTensorType type);
/// Map from element coordinates to mask coordinates.
AffineMap getMaskMap(QTensorType type);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_QUANTIZEDPARTS_H
