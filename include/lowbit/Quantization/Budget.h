//===- Budget.h - The budget of a bit allocation ----------------*- C++ -*-===//
//
// What `--budget=`, the recipe's `allocate: {budget: ...}` and
// lowbit-allocate-bits take: `bpw:B` (bits per weight over the allocated
// layers, scales, zero points and outliers counted) or `size:S` (their
// bytes; S with an optional B, kB, MB or GB suffix, powers of 1000).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_BUDGET_H
#define LOWBIT_QUANTIZATION_BUDGET_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::lowbit::quant {

struct Budget {
  enum Kind { BitsPerWeight, Bytes } kind = BitsPerWeight;
  double value = 0.0; // bits per weight, or bytes

  /// The budget in bits for layers of `weights` weights in all.
  double bits(double weights) const {
    return kind == BitsPerWeight ? value * weights : value * 8.0;
  }
  /// `bits` for `weights` weights written as a budget of this kind.
  std::string format(double bits, double weights) const;

  /// std::nullopt with `error` set (naming the text) when `text` is not a
  /// budget.
  static std::optional<Budget> parse(llvm::StringRef text, std::string &error);
};

} // namespace mlir::lowbit::quant

#endif // LOWBIT_QUANTIZATION_BUDGET_H
