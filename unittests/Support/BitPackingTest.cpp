//===- BitPackingTest.cpp - Tests of dense bit packing ----------*- C++ -*-===//
//
// Round trips for every width 1..8 and odd lengths, and the exact byte layout.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/BitPacking.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir::lowbit;

TEST(BitPacking, PackedSize) {
  EXPECT_EQ(getPackedSize(0, 4), 0);
  EXPECT_EQ(getPackedSize(1, 1), 1);
  EXPECT_EQ(getPackedSize(8, 1), 1);
  EXPECT_EQ(getPackedSize(9, 1), 2);
  EXPECT_EQ(getPackedSize(3, 3), 2);
  EXPECT_EQ(getPackedSize(8, 3), 3);
  EXPECT_EQ(getPackedSize(35, 5), 22);
}

TEST(BitPacking, KnownLayout3Bit) {
  // Codes 1..7,0 as a little-endian stream of 3-bit fields:
  // 001 010 011 100 101 110 111 000 (code 0 in the low bits) packs to
  // 0b10011001 = 0x99? Compute: bits = c0 | c1<<3 | c2<<6 | ...
  std::vector<uint8_t> codes = {1, 2, 3, 4, 5, 6, 7, 0};
  uint32_t stream = 0;
  for (size_t k = 0; k < codes.size(); ++k)
    stream |= uint32_t(codes[k]) << (3 * k);
  std::vector<uint8_t> bytes = packBits(codes, 3);
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(bytes[0], stream & 0xFF);
  EXPECT_EQ(bytes[1], (stream >> 8) & 0xFF);
  EXPECT_EQ(bytes[2], (stream >> 16) & 0xFF);
  EXPECT_EQ(bytes[0], 0xD1);
  EXPECT_EQ(bytes[1], 0x58);
  EXPECT_EQ(bytes[2], 0x1F);
}

TEST(BitPacking, KnownLayout4Bit) {
  std::vector<uint8_t> bytes = packBits({0x1, 0x2, 0xF}, 4);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x21);
  EXPECT_EQ(bytes[1], 0x0F); // unused high bits are zero
}

TEST(BitPacking, HighBitsIgnored) {
  EXPECT_EQ(packBits({0xFF}, 2), std::vector<uint8_t>{0x03});
}

class BitPackingRoundTrip : public ::testing::TestWithParam<unsigned> {};

TEST_P(BitPackingRoundTrip, RandomOddLengths) {
  unsigned bits = GetParam();
  std::mt19937 rng(1234 + bits);
  for (int64_t count : {1, 2, 7, 8, 9, 31, 33, 1000, 1001}) {
    std::vector<uint8_t> codes(count);
    for (auto &c : codes)
      c = rng() & ((1u << bits) - 1);
    std::vector<uint8_t> bytes = packBits(codes, bits);
    EXPECT_EQ(static_cast<int64_t>(bytes.size()), getPackedSize(count, bits));
    EXPECT_EQ(unpackBits(bytes, bits, count), codes)
        << "bits=" << bits << " count=" << count;
  }
}

INSTANTIATE_TEST_SUITE_P(AllWidths, BitPackingRoundTrip,
                         ::testing::Range(1u, 9u));
