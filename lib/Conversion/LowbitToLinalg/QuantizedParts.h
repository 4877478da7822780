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
#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <memory>

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

/// The scale-side operands of a generic over the logical shape (scales,
/// zero points, super scales): which tensors go in, with which maps, and how
/// their block arguments become the f32 scale s(i) and zero point z(i).
class ScaleOperands {
public:
  /// Creates the decode tables the types need at `b`'s insertion point.
  ScaleOperands(OpBuilder &b, Location loc, QTensorType type,
                const QuantizedParts &parts);
  ~ScaleOperands();

  /// Appends the tensors and their indexing maps to a generic's inputs.
  void appendInputs(SmallVectorImpl<Value> &inputs,
                    SmallVectorImpl<AffineMap> &maps) const;
  /// The number of block arguments appendInputs adds.
  unsigned getNumInputs() const;
  /// s(i) and z(i) (null when symmetric) from the block arguments that
  /// appendInputs added, in order.
  std::pair<Value, Value> build(OpBuilder &b, Location loc,
                                ValueRange args) const;

private:
  struct Decoders;
  QTensorType type;
  const QuantizedParts &parts;
  std::unique_ptr<Decoders> decoders;
};

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_QUANTIZEDPARTS_H
