//===- CodeTables.cpp - Values of small float and codebook codes -*- C++
//-*-===//
//
// Decodes every code of a small float format through APFloat, and the NF4
// table.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/CodeTables.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::lowbit;

llvm::SmallVector<float>
mlir::lowbit::getFloatCodeTable(const llvm::fltSemantics &sem) {
  unsigned width = llvm::APFloat::getSizeInBits(sem);
  llvm::SmallVector<float> table;
  table.reserve(size_t(1) << width);
  for (uint64_t code = 0, e = uint64_t(1) << width; code < e; ++code) {
    llvm::APFloat value(sem, llvm::APInt(width, code));
    if (value.isNaN()) {
      table.push_back(std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    bool lost = false;
    value.convert(llvm::APFloat::IEEEsingle(),
                  llvm::APFloat::rmNearestTiesToEven, &lost);
    table.push_back(value.convertToFloat());
  }
  return table;
}

llvm::ArrayRef<float> mlir::lowbit::getNF4Table() {
  // QLoRA (Dettmers et al., 2023), bitsandbytes' NF4 constants.
  static const float kNF4[16] = {-1.0f,
                                 -0.6961928009986877f,
                                 -0.5250730514526367f,
                                 -0.39491748809814453f,
                                 -0.28444138169288635f,
                                 -0.18477343022823334f,
                                 -0.09105003625154495f,
                                 0.0f,
                                 0.07958029955625534f,
                                 0.16093020141124725f,
                                 0.24611230194568634f,
                                 0.33791524171829224f,
                                 0.44070982933044434f,
                                 0.5626170039176941f,
                                 0.7229568362236023f,
                                 1.0f};
  return kNF4;
}

std::pair<float, float>
mlir::lowbit::getFiniteRange(llvm::ArrayRef<float> table) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : table) {
    if (!std::isfinite(v))
      continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return {lo, hi};
}

unsigned mlir::lowbit::nearestCode(llvm::ArrayRef<float> table, float x) {
  unsigned best = 0;
  float bestDist = std::numeric_limits<float>::infinity();
  bool found = false;
  if (std::isnan(x))
    x = 0.0f;
  auto [lo, hi] = getFiniteRange(table);
  x = std::clamp(x, lo, hi);
  for (unsigned c = 0, e = table.size(); c < e; ++c) {
    float d = std::fabs(x - table[c]);
    if (std::isnan(d))
      continue;
    bool better = !found || d < bestDist ||
                  (d == bestDist && (c % 2 == 0) && (best % 2 == 1));
    if (better) {
      best = c;
      bestDist = d;
      found = true;
    }
  }
  return best;
}
