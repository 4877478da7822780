//===- ScalarCodec.h - Scalar code arithmetic for the lowering --*- C++ -*-===//
//
// Builds the scalar IR inside linalg.generic bodies that turns codes, scales
// and zero points into f32 values and back, following #lowbit.scheme. Tables
// (small-float decodings, NF4) are constants created before the generic.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_SCALARCODEC_H
#define LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_SCALARCODEC_H

#include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.h"
#include "mlir/IR/Builders.h"

namespace mlir::lowbit {

/// Converts scalars of one element type (f32/f16/bf16, small floats through
/// a table, unsigned integers) to f32.
class ToF32 {
public:
  /// Creates the table `type` needs, if any, at `b`'s insertion point.
  ToF32(OpBuilder &b, Location loc, Type type);
  Value operator()(OpBuilder &b, Location loc, Value v) const;

private:
  Type type;
  Value table;
};

/// Encodes and decodes codes of one scheme.
class ScalarCodec {
public:
  /// Creates the code table at `b`'s insertion point. `codebook` is the
  /// codebook part of `lut` schemes (null otherwise).
  ScalarCodec(OpBuilder &b, Location loc, SchemeAttr scheme, Value codebook);

  /// The f32 value of code `code` (an `i<bits>`) before scaling.
  Value decode(OpBuilder &b, Location loc, Value code) const;

  /// The code of `t` = x / scale (f32); `zeroPoint` (f32) is used by int
  /// formats and may be null when symmetric.
  Value encode(OpBuilder &b, Location loc, Value t, Value zeroPoint) const;

private:
  SchemeAttr scheme;
  Value table;     // f32 (or codebook element type) values of each code
  Value low, high; // f32 finite range of the table (saturation bounds)
};

/// Returns the f32 constant `value`.
Value createF32(OpBuilder &b, Location loc, float value);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_CONVERSION_LOWBITTOLINALG_SCALARCODEC_H
