//===- gpu_reference.cpp - The CPU reference of the GPU kernels ---------===//
//
// What LOWBIT_GPU=cpu runs instead of a kernel (`ref packed_matmul`): the
// `gpu` packed layout of docs/kernels.md decoded independently of the
// packer, dequantized, times the activations in float64 sums. The runtime
// has no MLIR dependency, so the layout's sizes are derived here again.
//
//===----------------------------------------------------------------------===//

#include "gpu.h"

#include <numeric>

namespace lowbit_runtime {

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
  if (rows * 4 * k.k != k.argBytes[0] ||
      k.argBytes[1] != numTiles * k.tile * paddedK * k.bits / 8 ||
      k.argBytes[2] != numTiles * numGroups * k.tile * perGroup * 4 ||
      k.argBytes[3] != rows * k.n * 4) {
    return "kernel " + k.name + ": argument sizes do not match its layout";
  }
  const float *x = (const float *)args[0];
  const uint8_t *codes = (const uint8_t *)args[1];
  const float *params = (const float *)args[2];
  float *out = (float *)args[3];
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
