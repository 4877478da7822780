//===- BitPacking.cpp - Dense little-endian bit packing ---------*- C++ -*-===//
//
// Host implementation of the lowbit.pack_codes storage format.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/BitPacking.h"

using namespace mlir::lowbit;

std::vector<uint8_t> mlir::lowbit::packBits(llvm::ArrayRef<uint8_t> codes,
                                            unsigned bits) {
  std::vector<uint8_t> bytes(getPackedSize(codes.size(), bits), 0);
  uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  for (size_t k = 0; k < codes.size(); ++k) {
    uint64_t bit = k * bits;
    uint16_t v = static_cast<uint16_t>(codes[k] & mask) << (bit % 8);
    bytes[bit / 8] |= static_cast<uint8_t>(v);
    if (v >> 8)
      bytes[bit / 8 + 1] |= static_cast<uint8_t>(v >> 8);
  }
  return bytes;
}

std::vector<uint8_t> mlir::lowbit::unpackBits(llvm::ArrayRef<uint8_t> bytes,
                                              unsigned bits, int64_t count) {
  std::vector<uint8_t> codes(count);
  unsigned mask = (1u << bits) - 1;
  for (int64_t k = 0; k < count; ++k) {
    uint64_t bit = k * bits;
    uint64_t byte = bit / 8;
    unsigned v = bytes[byte];
    if (byte + 1 < bytes.size())
      v |= static_cast<unsigned>(bytes[byte + 1]) << 8;
    codes[k] = static_cast<uint8_t>((v >> (bit % 8)) & mask);
  }
  return codes;
}
