//===- Rotation.h - Orthogonal matrices for rotating a network --*- C++ -*-===//
//
// The matrices lowbit-rotate multiplies into the weights (QuaRot, SpinQuant):
// a randomized Hadamard matrix Q = diag(signs) H / sqrt(n) where a Hadamard
// matrix of order n can be built, else a random orthogonal matrix from the
// QR factorization of a seeded Gaussian matrix.
//
// The Hadamard matrices are lowbit/Support/Hadamard.h's.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_ROTATION_H
#define LOWBIT_QUANTIZATION_ROTATION_H

#include "lowbit/Support/Hadamard.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit::quant {

/// An orthogonal n x n matrix (row-major, f64) and how it was made.
struct Rotation {
  int64_t order = 0;
  std::vector<double> matrix;
  /// "hadamard paley2(36) x sylvester(16), random signs" or
  /// "random orthogonal (QR)".
  std::string kind;
  /// Hadamard: the signs (+-1) of Q = diag(signs) H / sqrt(n); empty for a
  /// random orthogonal matrix.
  std::vector<double> signs;
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
