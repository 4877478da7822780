//===- LowbitToCPU.h - lowbit.packed_matmul to CPU kernels ------*- C++ -*-===//
//
// The instruction choices of convert-lowbit-to-cpu's kernels, as the enum
// options of the pass (Conversion/Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_LOWBITTOCPU_LOWBITTOCPU_H
#define LOWBIT_CONVERSION_LOWBITTOCPU_LOWBITTOCPU_H

#include <cstdint>

namespace mlir::lowbit {

/// The int8 dot product of the int8-activation kernels.
enum class DotProduct {
  /// x86 AVX-512 VNNI vpdpbusd: unsigned codes x signed activations.
  Vpdpbusd,
  /// ARMv8.2 sdot: signed bytes, so codes must stay below 128.
  Sdot,
  /// x86 AVX2 vpmaddubsw (unsigned codes x signed activations, pairs summed
  /// into saturating i16) then vpmaddwd by ones into i32: codes of up to 4
  /// bits, so that no i16 sum saturates.
  Pmaddubsw,
};

/// The widest packed codes (storage bits) the int8 kernels take with `dot`:
/// sdot's signed bytes hold unsigned codes below 128 only, and pmaddubsw's
/// i16 pair sums must not saturate; vpdpbusd takes bytes.
inline int64_t int8MaxCodeBits(DotProduct dot) {
  return dot == DotProduct::Vpdpbusd ? 8 : 4;
}

/// The byte-table lookup of the table-lookup (lut) kernels.
enum class ByteLookup {
  /// x86 pshufb (AVX2/AVX-512BW), with pmaddubsw.
  Pshufb,
  /// ARM NEON tbl.
  Tbl,
};

} // namespace mlir::lowbit

#endif // LOWBIT_CONVERSION_LOWBITTOCPU_LOWBITTOCPU_H
