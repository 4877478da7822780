//===- BitPacking.h - Dense little-endian bit packing -----------*- C++ -*-===//
//
// The storage form of b-bit codes (lowbit.pack_codes): code k occupies bits
// [k*b, (k+1)*b) of a little-endian bit stream.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_BITPACKING_H
#define LOWBIT_SUPPORT_BITPACKING_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::lowbit {

/// Bytes needed for `count` codes of `bits` bits.
inline int64_t getPackedSize(int64_t count, unsigned bits) {
  return (count * bits + 7) / 8;
}

/// Packs the low `bits` bits (1..8) of each code; higher bits are ignored.
std::vector<uint8_t> packBits(llvm::ArrayRef<uint8_t> codes, unsigned bits);

/// Unpacks `count` codes of `bits` bits; each code is zero-extended.
std::vector<uint8_t> unpackBits(llvm::ArrayRef<uint8_t> bytes, unsigned bits,
                                int64_t count);

} // namespace mlir::lowbit

#endif // LOWBIT_SUPPORT_BITPACKING_H
