//===- FingerprintTest.cpp - The weights file's fingerprint -----*- C++ -*-===//
//
// lowbit_artifact_fingerprint (runtime/include/lowbit/artifact.h) is XXH64
// with seed 0: reference values from the xxHash project's own
// implementation (the Python `xxhash` package) on a fixed byte pattern,
// covering every tail path (stripes of 32, words of 8, 4, single bytes).
//
//===----------------------------------------------------------------------===//

#include "lowbit/artifact.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

std::vector<unsigned char> pattern(size_t n) {
  std::vector<unsigned char> b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<unsigned char>(i * 131 + 7);
  return b;
}

TEST(Fingerprint, MatchesXXH64) {
  struct Case {
    size_t n;
    uint64_t want;
  } cases[] = {{0, 0xef46db3751d8e999ull},    {1, 0xa96c7f0ce858bbb7ull},
               {3, 0xbed43740ee6332bbull},    {4, 0xfa212ae44b3bb23dull},
               {7, 0x2744460dd675d2c0ull},    {8, 0x994b676b71ce94ddull},
               {31, 0x6711d55e306b5d8full},   {32, 0x07f7b8e3bc5d6e25ull},
               {33, 0x09f85eeb4e1cbe9full},   {100, 0x9ddada11d3dc2d8full},
               {1000, 0x0bf0bdbcc82eb373ull}, {4099, 0xc2c15a86d6a1985bull}};
  for (const Case &c : cases) {
    std::vector<unsigned char> b = pattern(c.n);
    EXPECT_EQ(lowbit_artifact_fingerprint(b.data(), c.n), c.want) << c.n;
  }
}

TEST(Fingerprint, EveryByteCounts) {
  std::vector<unsigned char> b = pattern(1 << 20);
  uint64_t whole = lowbit_artifact_fingerprint(b.data(), b.size());
  for (size_t at : {size_t(0), size_t(4096), size_t(1 << 19), b.size() - 1}) {
    b[at] ^= 1;
    EXPECT_NE(lowbit_artifact_fingerprint(b.data(), b.size()), whole) << at;
    b[at] ^= 1;
  }
}

} // namespace
