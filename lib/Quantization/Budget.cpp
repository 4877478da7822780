//===- Budget.cpp - The budget of a bit allocation --------------*- C++ -*-===//

#include "lowbit/Quantization/Budget.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <utility>

using namespace mlir::lowbit::quant;

std::string Budget::format(double bits, double weights) const {
  if (kind == BitsPerWeight)
    // Rounded up: the budget written covers `bits`.
    return llvm::formatv("bpw:{0:f4}",
                         weights > 0 ? std::ceil(bits / weights * 1e4) / 1e4
                                     : 0.0)
        .str();
  return llvm::formatv("size:{0:f0}", std::ceil(bits / 8.0)).str();
}

std::optional<Budget> Budget::parse(llvm::StringRef text, std::string &error) {
  auto [kind, rest] = text.split(':');
  Budget budget;
  double scale = 1.0;
  if (kind == "bpw") {
    budget.kind = BitsPerWeight;
  } else if (kind == "size") {
    budget.kind = Bytes;
    for (auto [suffix, factor] : {std::pair<llvm::StringRef, double>{"kB", 1e3},
                                  {"KB", 1e3},
                                  {"MB", 1e6},
                                  {"GB", 1e9},
                                  {"B", 1.0}})
      if (rest.consume_back(suffix)) {
        scale = factor;
        break;
      }
  } else {
    error =
        "budget '" + text.str() +
        "' is not bpw:<bits per weight> or size:<bytes>[kB|MB|GB]" +
        (kind == "latency" ? " (latency budgets are not implemented yet)" : "");
    return std::nullopt;
  }
  if (rest.trim().getAsDouble(budget.value) || !std::isfinite(budget.value) ||
      budget.value <= 0) {
    error = "budget '" + text.str() + "' needs a positive number after '" +
            kind.str() + ":'";
    return std::nullopt;
  }
  budget.value *= scale;
  return budget;
}
