//===- BitAllocationTest.cpp - The bit-allocation solver --------*- C++ -*-===//
//
// The solver's choice against exhaustive search on small random problems
// (several seeds, with ties and dominated candidates), the infeasible
// budget's message, bad input, and a time limit too short to prove
// anything still giving a feasible choice with its gap.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Analysis/BitAllocation.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir::lowbit;

namespace {

/// Layers with `perLayer` candidates: costs as for bits 2..8 of a layer of
/// random size, errors falling roughly 4x per bit with noise (so some
/// candidates are dominated).
AllocationProblem randomProblem(unsigned seed, int layers, int perLayer) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> size(1.0, 10.0), noise(0.5, 2.0);
  AllocationProblem p;
  for (int l = 0; l < layers; ++l) {
    double weights = std::round(size(rng));
    double importance = size(rng);
    std::vector<AllocationCandidate> candidates;
    for (int c = 0; c < perLayer; ++c) {
      double bits = 2 + c + (c % 2 ? 0.25 : 0.0);
      candidates.push_back(
          {bits * weights, importance * std::pow(0.25, c) * noise(rng)});
    }
    p.layers.push_back(candidates);
  }
  return p;
}

/// The least error within the budget, by trying every choice.
double bruteForce(const AllocationProblem &p) {
  double best = INFINITY;
  std::vector<size_t> at(p.layers.size(), 0);
  while (true) {
    double cost = 0, error = 0;
    for (size_t l = 0; l < at.size(); ++l) {
      cost += p.layers[l][at[l]].cost;
      error += p.layers[l][at[l]].error;
    }
    if (cost <= p.budget)
      best = std::min(best, error);
    size_t l = 0;
    while (l < at.size() && ++at[l] == p.layers[l].size())
      at[l++] = 0;
    if (l == at.size())
      return best;
  }
}

TEST(BitAllocation, MatchesExhaustiveSearch) {
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    AllocationProblem p = randomProblem(seed, 5, 4);
    double least = minimumCost(p);
    for (double slack : {0.0, 0.1, 0.3, 0.6, 1.0}) {
      double most = 0;
      for (const auto &layer : p.layers)
        most += layer.back().cost;
      p.budget = least + slack * (most - least);
      llvm::Expected<AllocationResult> r = solveAllocation(p);
      ASSERT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
      double expected = bruteForce(p);
      EXPECT_NEAR(r->error, expected, 1e-9 * expected)
          << "seed " << seed << " slack " << slack;
      EXPECT_LE(r->cost, p.budget * (1 + 1e-6));
      EXPECT_TRUE(r->optimal);
      EXPECT_NEAR(r->gap, 0.0, 1e-9);
      // The reported totals are those of the choice.
      double cost = 0, error = 0;
      for (size_t l = 0; l < p.layers.size(); ++l) {
        ASSERT_GE(r->choice[l], 0);
        cost += p.layers[l][r->choice[l]].cost;
        error += p.layers[l][r->choice[l]].error;
      }
      EXPECT_DOUBLE_EQ(cost, r->cost);
      EXPECT_DOUBLE_EQ(error, r->error);
    }
  }
}

TEST(BitAllocation, HandCheckable) {
  // Two layers of 10 weights, candidates 2 or 4 bits per weight. Budget 60
  // bits: one layer gets 4 bits, the one whose error falls most.
  AllocationProblem p;
  p.layers = {{{20, 5.0}, {40, 1.0}}, {{20, 9.0}, {40, 2.0}}};
  p.budget = 60;
  llvm::Expected<AllocationResult> r = solveAllocation(p);
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->choice, (std::vector<int64_t>{0, 1}));
  EXPECT_DOUBLE_EQ(r->error, 7.0);
  EXPECT_DOUBLE_EQ(r->cost, 60.0);
  // A dominated candidate (dearer and worse) is never taken.
  p.layers[0].push_back({30, 6.0});
  r = solveAllocation(p);
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->choice, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(r->candidates, 4);
}

TEST(BitAllocation, InfeasibleBudgetNamesTheLeast) {
  AllocationProblem p;
  p.layers = {{{20, 5.0}, {40, 1.0}}, {{25, 9.0}, {40, 2.0}}};
  p.budget = 44;
  EXPECT_DOUBLE_EQ(minimumCost(p), 45.0);
  llvm::Expected<AllocationResult> r = solveAllocation(p);
  ASSERT_FALSE(static_cast<bool>(r));
  std::string message = llvm::toString(r.takeError());
  EXPECT_NE(message.find("infeasible"), std::string::npos) << message;
  EXPECT_NE(message.find("45"), std::string::npos) << message;
}

TEST(BitAllocation, BadInput) {
  AllocationProblem p;
  p.layers = {{{20, 5.0}}, {}};
  p.budget = 100;
  llvm::Expected<AllocationResult> r = solveAllocation(p);
  ASSERT_FALSE(static_cast<bool>(r));
  EXPECT_NE(llvm::toString(r.takeError()).find("layer 1 has no candidate"),
            std::string::npos);
  p.layers = {{{20, NAN}}};
  r = solveAllocation(p);
  ASSERT_FALSE(static_cast<bool>(r));
  llvm::consumeError(r.takeError());
  p.layers = {{{20, 1.0}}};
  p.budget = 0;
  r = solveAllocation(p);
  ASSERT_FALSE(static_cast<bool>(r));
  llvm::consumeError(r.takeError());
}

TEST(BitAllocation, TimeLimitStillFeasible) {
  // 300 layers x 7 candidates, a time limit too short to prove optimality:
  // a choice within the budget, a gap in [0, 1], and no worse than the
  // cheapest choice.
  AllocationProblem p = randomProblem(7, 300, 7);
  p.budget = minimumCost(p) * 1.6;
  p.timeLimitSeconds = 1e-3;
  llvm::Expected<AllocationResult> r = solveAllocation(p);
  ASSERT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
  EXPECT_LE(r->cost, p.budget * (1 + 1e-6));
  EXPECT_GE(r->gap, 0.0);
  EXPECT_LE(r->gap, 1.0);
  double cheapest = 0;
  for (const auto &layer : p.layers)
    cheapest += layer.front().error;
  EXPECT_LT(r->error, cheapest);
}

} // namespace
