//===- Outliers.cpp - Weights kept out of the low-bit grid ------*- C++ -*-===//
//
// SpQR-style outliers (Dettmers et al. 2023; the dense-and-sparse split of
// SqueezeLLM): a small fraction of the weights is excluded from its group's
// scale fit and stored in 16 bits beside the codes, so that a few large
// weights no longer stretch the grid of the other 127 in their group.
// Selection: greedily, the weight whose removal shrinks its group's grid the
// most, weighted by the group's input energy (sum of H_ii over its rows;
// the row count without statistics): each step takes the largest remaining
// weight of the group and output where (w_1^2 - w_2^2) sum H_ii is largest.
//
//===----------------------------------------------------------------------===//

#include "GroupFit.h"
#include "lowbit/Quantization/WeightQuantizer.h"

#include "llvm/ADT/APFloat.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir::lowbit;
using namespace mlir::lowbit::quant;

std::vector<uint8_t> quant::selectOutliers(llvm::ArrayRef<float> w, int64_t k,
                                           int64_t n, int64_t group,
                                           llvm::ArrayRef<double> hessian,
                                           double fraction) {
  std::vector<uint8_t> mask(k * n, 0);
  int64_t count = static_cast<int64_t>(std::floor(fraction * k * n));
  if (count <= 0)
    return mask;
  bool weighted = static_cast<int64_t>(hessian.size()) == k * k;
  int64_t numGroups = (k + group - 1) / group;
  // Per group and output: its rows' input energy and its largest weights
  // by decreasing magnitude; candidates per column are capped at 8 + 8 f G
  // (memory stays O(budget), not O(K N), on large layers), so a column
  // gives at most that many.
  struct Column {
    double energy = 0.0;
    std::vector<int32_t> rows; // the largest |w| first
    size_t taken = 0;
  };
  int64_t cap = std::min<int64_t>(
      group, 8 + static_cast<int64_t>(std::ceil(8 * fraction * group)));
  std::vector<Column> columns(numGroups * n);
  std::vector<int32_t> all;
  for (int64_t g = 0; g < numGroups; ++g) {
    int64_t lo = g * group, hi = std::min(k, lo + group);
    double energy = 0.0;
    for (int64_t i = lo; i < hi; ++i)
      energy += weighted ? std::max(hessian[i * k + i], 0.0) : 1.0;
    int64_t keep = std::min(cap, hi - lo);
    for (int64_t j = 0; j < n; ++j) {
      Column &c = columns[g * n + j];
      c.energy = energy;
      all.resize(hi - lo);
      std::iota(all.begin(), all.end(), static_cast<int32_t>(lo));
      std::partial_sort(all.begin(), all.begin() + keep, all.end(),
                        [&](int32_t a, int32_t b) {
                          float x = std::fabs(w[a * n + j]),
                                y = std::fabs(w[b * n + j]);
                          return x != y ? x > y : a < b;
                        });
      c.rows.assign(all.begin(), all.begin() + keep);
    }
  }
  auto groupSizeOf = [&](int64_t c) {
    int64_t lo = (c / n) * group;
    return std::min(k, lo + group) - lo;
  };
  // The gain of taking a column's largest remaining weight out: the grid's
  // step shrinks from |w_1| to |w_2| (the next one), and every weight of the
  // group gains (step^2 / 12 each, weighted by its input's energy).
  auto gain = [&](int64_t c) {
    const Column &col = columns[c];
    if (col.taken >= col.rows.size())
      return -1.0;
    int64_t j = c % n;
    double m1 = w[col.rows[col.taken] * n + j];
    // The next largest: the next candidate; past the cap, unknown (the
    // column gives no more); the whole group taken: 0.
    double m2 = 0.0;
    if (col.taken + 1 < col.rows.size())
      m2 = w[col.rows[col.taken + 1] * n + j];
    else if (static_cast<int64_t>(col.rows.size()) < groupSizeOf(c))
      return -1.0;
    return (m1 * m1 - m2 * m2) * col.energy;
  };
  using Entry = std::pair<double, int64_t>; // gain, column
  std::vector<Entry> heap;
  heap.reserve(columns.size());
  for (int64_t c = 0; c < static_cast<int64_t>(columns.size()); ++c)
    heap.push_back({gain(c), -c}); // ties: the first column
  std::make_heap(heap.begin(), heap.end());
  for (int64_t t = 0; t < count && !heap.empty(); ++t) {
    std::pop_heap(heap.begin(), heap.end());
    auto [g, negC] = heap.back();
    heap.pop_back();
    if (g < 0.0)
      break;
    int64_t c = -negC;
    Column &col = columns[c];
    mask[static_cast<int64_t>(col.rows[col.taken]) * n + c % n] = 1;
    ++col.taken;
    heap.push_back({gain(c), negC});
    std::push_heap(heap.begin(), heap.end());
  }
  return mask;
}

GroupParams quant::fitGroupExcept(const float *values, const uint8_t *mask,
                                  int64_t count, int64_t stride,
                                  const WeightScheme &scheme) {
  std::vector<float> kept;
  kept.reserve(count);
  for (int64_t i = 0; i < count; ++i)
    if (!mask[i * stride])
      kept.push_back(values[i * stride]);
  if (kept.empty())
    kept.push_back(0.0f);
  return fitGroup(kept.data(), static_cast<int64_t>(kept.size()), 1, scheme);
}

float quant::roundToHalf(float x) {
  llvm::APFloat v(x);
  bool lost;
  v.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  v.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return v.convertToFloat();
}

void quant::addOutlier(QuantizedWeight &r, int64_t index, float residual) {
  r.outlierIndex.push_back(index);
  r.outlierValue.push_back(roundToHalf(residual));
}

void quant::sortOutliers(QuantizedWeight &r) {
  std::vector<int64_t> order(r.outlierIndex.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return r.outlierIndex[a] < r.outlierIndex[b];
  });
  std::vector<int64_t> index(order.size());
  std::vector<float> value(order.size());
  for (size_t t = 0; t < order.size(); ++t) {
    index[t] = r.outlierIndex[order[t]];
    value[t] = r.outlierValue[order[t]];
  }
  r.outlierIndex = std::move(index);
  r.outlierValue = std::move(value);
}
