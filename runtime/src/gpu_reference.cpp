//===- gpu_reference.cpp - The CPU reference of the GPU kernels ---------===//
//
// What LOWBIT_GPU=cpu runs instead of a kernel (`ref packed_matmul`): the
// `gpu` packed layout of docs/kernels.md decoded independently of the
// packer, dequantized, times the activations in float64 sums. The runtime
// has no MLIR dependency, so the layout's sizes are derived here again.
//
//===----------------------------------------------------------------------===//

#include "gpu.h"

#include <cmath>
#include <numeric>

namespace lowbit_runtime {

namespace {
/// IEEE half bits to float (normal, subnormal, zero; Inf/NaN as such).
float halfToFloat(uint16_t h) {
  int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  float v = exponent == 0 ? std::ldexp(float(mantissa), -24)
            : exponent == 31
                ? (mantissa ? NAN : INFINITY)
                : std::ldexp(float(mantissa | 0x400), exponent - 25);
  return (h & 0x8000) ? -v : v;
}
} // namespace

std::string runReference(const GpuKernel &k, const uintptr_t *args) {
  if (!k.hasRef) {
    return "kernel " + k.name + " has no CPU reference (LOWBIT_GPU=cpu)";
  }
  // The `gpu` packed layout (lanes = 128): blocks of 512 bytes per column
  // or, with `mma`, per tile of 8 columns.
  const int64_t lanes = 128;
  const int64_t blockBytes = k.mma ? 4 * lanes / k.tile : 4 * lanes;
  int64_t blockK = blockBytes * 8 / k.bits;
  int64_t super = k.group ? std::lcm(blockK, k.group) : blockK;
  int64_t paddedK = (k.k + super - 1) / super * super;
  int64_t numBlocks = paddedK / blockK;
  int64_t numGroups = k.group ? paddedK / k.group : 1;
  int64_t numTiles = (k.n + k.tile - 1) / k.tile;
  int64_t perGroup = k.zero ? 2 : 1;
  int64_t rows = k.argBytes[0] / (4 * k.k);
  // Outliers: Np + 1 column offsets, one word per outlier, 16 of padding.
  int64_t cols = numTiles * k.tile;
  int64_t outlierWords = k.outliers ? cols + 1 + k.outliers + 16 : 0;
  size_t outIdx = k.outliers ? 4 : 3;
  if (rows * 4 * k.k != k.argBytes[0] ||
      k.argBytes[1] != numTiles * k.tile * paddedK * k.bits / 8 ||
      k.argBytes[2] != numTiles * numGroups * k.tile * perGroup * 4 ||
      (k.outliers && k.argBytes[3] != outlierWords * 4) ||
      k.argBytes[outIdx] != rows * k.n * 4) {
    return "kernel " + k.name + ": argument sizes do not match its layout";
  }
  const float *x = (const float *)args[0];
  const uint8_t *codes = (const uint8_t *)args[1];
  const float *params = (const float *)args[2];
  const uint32_t *outliers = k.outliers ? (const uint32_t *)args[3] : nullptr;
  float *out = (float *)args[outIdx];
  if (outliers) {
    // The offsets index this array: increasing, inside the entries.
    for (int64_t c = 0; c <= cols; ++c)
      if (outliers[c] < uint32_t(cols + 1) ||
          outliers[c] > uint32_t(cols + 1 + k.outliers) ||
          (c && outliers[c] < outliers[c - 1]))
        return "kernel " + k.name + ": bad outlier offsets in its weights";
  }
  std::vector<float> w(k.k);
  uint32_t mask = (1u << k.bits) - 1, sign = 1u << (k.bits - 1);
  for (int64_t col = 0; col < k.n; ++col) {
    int64_t t = col / k.tile, c = col % k.tile;
    for (int64_t kk = 0; kk < k.k; ++kk) {
      int64_t blk = kk / blockK, within = kk % blockK;
      const uint8_t *block =
          codes + ((t * numBlocks + blk) * k.tile + c) * blockBytes;
      uint32_t code;
      if (k.mma) {
        // Thread 4c + t of the tile's 512 bytes; pair 2s + h of its words
        // holds k = 16s + 2t + 8h (low half) and k + 1 (high half).
        int64_t s = within / 16, r = within % 16, perWord = 16 / k.bits;
        int64_t q = 2 * s + r / 8;
        int64_t bit =
            (q / perWord) * 32 + (r % 2) * 16 + (q % perWord) * k.bits;
        const uint8_t *thread =
            codes + (t * numBlocks + blk) * 512 + 16 * (4 * c + (r % 8) / 2);
        code = (thread[bit / 8] >> (bit % 8)) & mask;
        // Stored unsigned.
        if (k.isSigned)
          code = (code - sign) & mask;
      } else if (k.bits == 8) {
        code = block[within];
      } else {
        int64_t bit = (within % lanes) * 32 + (within / lanes) * k.bits;
        code = (block[bit / 8] >> (bit % 8)) & mask;
      }
      float v = k.isSigned && (code & sign) ? float(int64_t(code) - (mask + 1))
                                            : float(code);
      int64_t g = k.group ? kk / k.group : 0;
      const float *p = params + ((t * numGroups + g) * k.tile + c) * perGroup;
      w[kk] = (v - (k.zero ? p[1] : 0.0f)) * p[0];
    }
    // The column's outliers: (k << 16) | f16 bits, added to the weights.
    for (uint32_t j = outliers ? outliers[col] : 0,
                  end = outliers ? outliers[col + 1] : 0;
         j < end; ++j) {
      uint32_t kk = outliers[j] >> 16;
      if (kk >= uint32_t(k.k))
        return "kernel " + k.name + ": an outlier row is outside K";
      w[kk] += halfToFloat(uint16_t(outliers[j] & 0xFFFF));
    }
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (int64_t kk = 0; kk < k.k; ++kk)
        sum += double(x[r * k.k + kk]) * w[kk];
      out[r * k.n + col] = float(sum);
    }
  }
  return "";
}

} // namespace lowbit_runtime
