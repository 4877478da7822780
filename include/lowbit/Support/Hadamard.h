//===- Hadamard.h - Hadamard matrices of many orders ------------*- C++ -*-===//
//
// Hadamard matrices (entries +-1, H H^T = n I) of order n = 2^k m with
// m = 1 (Sylvester), or m = q + 1 for a prime q = 3 mod 4 (Paley I: 12, 20,
// 24, 32, 44, ...), or m = 2 (q + 1) for a prime q = 1 mod 4 (Paley II: 12,
// 28, 36, 60, ...), H = H_m (x) H_2^k (SmolLM2: 576 = paley2(36) x
// sylvester(16), 1536 = paley1(12) x sylvester(128)). The rotation passes
// and the lowbit.hadamard op share them.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_HADAMARD_H
#define LOWBIT_SUPPORT_HADAMARD_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// A Hadamard matrix of order `order` = `core` x 2^k, row-major, with its
/// construction ("paley2(36) x sylvester(16)").
struct HadamardMatrix {
  int64_t order = 0;
  std::vector<int8_t> entries;
  std::string construction;
  /// The order m of the Paley factor (1: Sylvester alone) and its entries
  /// (m x m, row-major): H = H_m (x) H_2^k, H_2^k the Sylvester matrix.
  int64_t core = 1;
  std::vector<int8_t> coreEntries;
};

/// The Hadamard matrix of order n with the smallest Paley factor, if one is
/// built.
std::optional<HadamardMatrix> buildHadamard(int64_t n);
/// Its factors only (`entries` left empty): cheap, for verifiers and the
/// fast transform.
std::optional<HadamardMatrix> buildHadamardFactors(int64_t n);

} // namespace mlir::lowbit

#endif // LOWBIT_SUPPORT_HADAMARD_H
