//===- BitAllocation.h - Mixed precision as a knapsack ----------*- C++ -*-===//
//
// The solver behind lowbit-allocate-bits, free of MLIR: every layer has
// candidate schemes, each with a cost (bits of storage, or time) and an
// error; exactly one candidate per layer is chosen so that the total cost
// stays within a budget and the total error is least. This is a
// multiple-choice knapsack, solved as a 0-1 integer program by COIN-OR CBC
// (branch and cut with an LP relaxation; exact up to the time limit, the
// gap reported otherwise).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_ANALYSIS_BITALLOCATION_H
#define LOWBIT_ANALYSIS_BITALLOCATION_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::lowbit {

struct AllocationCandidate {
  double cost = 0.0;  // in the budget's unit (bits, seconds, ...)
  double error = 0.0; // what the allocation minimizes (>= 0)
};

struct AllocationProblem {
  /// Candidates of every layer (each layer needs at least one).
  std::vector<std::vector<AllocationCandidate>> layers;
  double budget = 0.0;
  double timeLimitSeconds = 10.0;
};

struct AllocationResult {
  /// Per layer, the index of the chosen candidate.
  std::vector<int64_t> choice;
  double cost = 0.0, error = 0.0;
  /// The solver's lower bound on the least error; gap = (error - bound) /
  /// error (0 when proven optimal).
  double bound = 0.0, gap = 0.0;
  bool optimal = false;
  bool timedOut = false;
  /// Candidates left after removing the dominated ones (another of the
  /// layer costs no more and errs less).
  int64_t candidates = 0;
  double seconds = 0.0;
};

/// The least total cost any choice has (the cheapest candidate per layer).
double minimumCost(const AllocationProblem &problem);

/// Solves `problem`. Errors: a layer without candidates, a non-finite cost
/// or error, a budget below minimumCost() (the message gives that value),
/// or no solution found within the time limit.
llvm::Expected<AllocationResult>
solveAllocation(const AllocationProblem &problem);

} // namespace mlir::lowbit

#endif // LOWBIT_ANALYSIS_BITALLOCATION_H
