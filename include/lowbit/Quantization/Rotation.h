//===- Rotation.h - Orthogonal matrices for rotating a network --*- C++ -*-===//
//
// The matrices lowbit-rotate multiplies into the weights (QuaRot, SpinQuant):
// a randomized Hadamard matrix Q = diag(signs) H / sqrt(n) where a Hadamard
// matrix of order n can be built, else a random orthogonal matrix from the
// QR factorization of a seeded Gaussian matrix.
//
// Hadamard orders built: n = 2^k m with m = 1 (Sylvester), or m = q + 1 for a
// prime q = 3 mod 4 (Paley I: 12, 20, 24, 32, 44, ...), or m = 2 (q + 1) for
// a prime q = 1 mod 4 (Paley II: 12, 28, 36, 60, ...), the factors combined
// by Kronecker products (SmolLM2: 576 = 36 x 16, 1536 = 12 x 128).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_ROTATION_H
#define LOWBIT_QUANTIZATION_ROTATION_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit::quant {

/// A Hadamard matrix of order n (entries +-1, H H^T = n I), row-major, with
/// its construction ("paley2(36) x sylvester(16)"), if one is built.
struct HadamardMatrix {
  int64_t order = 0;
  std::vector<int8_t> entries;
  std::string construction;
};
std::optional<HadamardMatrix> buildHadamard(int64_t n);

/// An orthogonal n x n matrix (row-major, f64) and how it was made.
struct Rotation {
  int64_t order = 0;
  std::vector<double> matrix;
  /// "hadamard paley2(36) x sylvester(16), random signs" or
  /// "random orthogonal (QR)".
  std::string kind;
};

/// The rotation of order n: `hadamard` (random signs from `seed`; a random
/// orthogonal matrix when no Hadamard matrix of that order is built) or
/// `random` (always the seeded random orthogonal matrix).
Rotation makeRotation(int64_t n, bool hadamard, uint64_t seed);

/// The rows of the row-major `rows` x n matrix `a` rotated in place:
/// a <- a Q, or a <- a Q^T with `transpose`. f64 arithmetic.
void rotateRows(std::vector<float> &a, int64_t rows, const Rotation &q,
                bool transpose);

/// The columns of the row-major n x `cols` matrix `a` rotated in place:
/// a <- Q^T a, or a <- Q a with `transpose`. f64 arithmetic.
void rotateColumns(std::vector<float> &a, int64_t cols, const Rotation &q,
                   bool transpose);

} // namespace mlir::lowbit::quant

#endif // LOWBIT_QUANTIZATION_ROTATION_H
