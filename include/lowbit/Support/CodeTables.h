//===- CodeTables.h - Values of small float and codebook codes --*- C++ -*-===//
//
// The real value of every code of the table-decoded formats: the OCP small
// floats (FP4 e2m1, FP6 e3m2/e2m3, FP8 e4m3fn/e5m2, the e8m0 scale format)
// and the NF4 codebook; and the nearest-code rule quantization uses.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_CODETABLES_H
#define LOWBIT_SUPPORT_CODETABLES_H

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <utility>

namespace mlir::lowbit {

/// The value of each of the 2^width codes of a float format of at most 8
/// bits, as f32 (NaN codes give NaN).
llvm::SmallVector<float> getFloatCodeTable(const llvm::fltSemantics &sem);

/// The 16 NF4 values of QLoRA (normal-distribution quantiles in [-1, 1]).
llvm::ArrayRef<float> getNF4Table();

/// The smallest and largest finite entries of `table`.
std::pair<float, float> getFiniteRange(llvm::ArrayRef<float> table);

/// The code whose table value is nearest to `x`; ties go to the even code,
/// then to the lower one; NaN entries are never chosen. NaN x counts as 0;
/// x outside the finite range of the table saturates to its ends.
unsigned nearestCode(llvm::ArrayRef<float> table, float x);

} // namespace mlir::lowbit

#endif // LOWBIT_SUPPORT_CODETABLES_H
