//===- BitAllocation.cpp - Mixed precision as a knapsack --------*- C++ -*-===//
//
// The multiple-choice knapsack of lowbit-allocate-bits as a 0-1 program for
// COIN-OR CBC: x_lc = 1 when layer l takes candidate c; sum_c x_lc = 1 per
// layer; sum cost_lc x_lc <= budget; minimize sum error_lc x_lc. Dominated
// candidates are dropped first, costs are scaled to the budget and errors
// to the cheapest choice's total (the solver's tolerances are absolute),
// and a greedy upgrade path (cheapest choice, then the upgrade of most
// error saved per cost that still fits) is given as the MIP start, so a
// time-out still returns a feasible choice with its gap.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Analysis/BitAllocation.h"

#include "llvm/Support/FormatVariadic.h"

#include <coin/Cbc_C_Interface.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>

using namespace mlir::lowbit;

namespace {

/// The candidates of one layer that no other candidate dominates, by
/// increasing cost (and so decreasing error), as indices into the layer's
/// list.
std::vector<int64_t>
undominated(const std::vector<AllocationCandidate> &candidates) {
  std::vector<int64_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (candidates[a].cost != candidates[b].cost)
      return candidates[a].cost < candidates[b].cost;
    return candidates[a].error < candidates[b].error;
  });
  std::vector<int64_t> kept;
  for (int64_t c : order)
    if (kept.empty() || candidates[c].error < candidates[kept.back()].error)
      kept.push_back(c);
  return kept;
}

/// A feasible start: every layer at its cheapest candidate, then upgrades
/// by most error saved per unit of cost while they fit.
std::vector<int64_t>
greedyStart(const std::vector<std::vector<AllocationCandidate>> &layers,
            const std::vector<std::vector<int64_t>> &kept, double budget) {
  std::vector<int64_t> at(layers.size(), 0); // position in kept[l]
  double cost = 0;
  for (size_t l = 0; l < layers.size(); ++l)
    cost += layers[l][kept[l][0]].cost;
  while (true) {
    int64_t bestLayer = -1, bestTo = -1;
    double bestRate = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      const AllocationCandidate &now = layers[l][kept[l][at[l]]];
      for (size_t to = at[l] + 1; to < kept[l].size(); ++to) {
        const AllocationCandidate &next = layers[l][kept[l][to]];
        double extra = next.cost - now.cost;
        if (cost + extra > budget)
          break;
        double rate = (now.error - next.error) / std::max(extra, 1e-300);
        if (rate > bestRate) {
          bestRate = rate;
          bestLayer = static_cast<int64_t>(l);
          bestTo = static_cast<int64_t>(to);
        }
      }
    }
    if (bestLayer < 0)
      break;
    cost += layers[bestLayer][kept[bestLayer][bestTo]].cost -
            layers[bestLayer][kept[bestLayer][at[bestLayer]]].cost;
    at[bestLayer] = bestTo;
  }
  return at;
}

struct CbcDeleter {
  void operator()(Cbc_Model *model) const { Cbc_deleteModel(model); }
};

} // namespace

double mlir::lowbit::minimumCost(const AllocationProblem &problem) {
  double total = 0;
  for (const std::vector<AllocationCandidate> &layer : problem.layers) {
    double cheapest = INFINITY;
    for (const AllocationCandidate &c : layer)
      cheapest = std::min(cheapest, c.cost);
    total += cheapest;
  }
  return total;
}

llvm::Expected<AllocationResult>
mlir::lowbit::solveAllocation(const AllocationProblem &problem) {
  auto t0 = std::chrono::steady_clock::now();
  auto fail = [](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), why);
  };
  const auto &layers = problem.layers;
  for (auto [l, layer] : llvm::enumerate(layers)) {
    if (layer.empty())
      return fail(llvm::formatv("layer {0} has no candidate", l));
    for (const AllocationCandidate &c : layer)
      if (!std::isfinite(c.cost) || !std::isfinite(c.error) || c.cost < 0 ||
          c.error < 0)
        return fail(llvm::formatv("layer {0} has a candidate with cost {1} "
                                  "and error {2} (both must be finite and "
                                  "non-negative)",
                                  l, c.cost, c.error));
  }
  if (!(problem.budget > 0) || !std::isfinite(problem.budget))
    return fail(llvm::formatv("the budget {0} is not a positive number",
                              problem.budget));
  if (!(problem.timeLimitSeconds > 0))
    return fail("the time limit must be positive");
  double least = minimumCost(problem);
  if (least > problem.budget)
    return fail(llvm::formatv("the budget {0} is infeasible: the cheapest "
                              "candidates of all layers cost {1}",
                              problem.budget, least));

  std::vector<std::vector<int64_t>> kept;
  AllocationResult result;
  for (const std::vector<AllocationCandidate> &layer : layers) {
    kept.push_back(undominated(layer));
    result.candidates += static_cast<int64_t>(kept.back().size());
  }
  std::vector<int64_t> start = greedyStart(layers, kept, problem.budget);
  double errorScale = 0;
  for (size_t l = 0; l < layers.size(); ++l)
    errorScale += layers[l][kept[l][0]].error;
  if (!(errorScale > 0))
    errorScale = 1;

  // Columns: the kept candidates, layer by layer. Rows: one choice per
  // layer (= 1), then the budget (<= 1 after scaling).
  int numRows = static_cast<int>(layers.size()) + 1;
  std::vector<CoinBigIndex> colStart{0};
  std::vector<int> rowIndex;
  std::vector<double> value, lower, upper, objective;
  std::vector<int> columnLayer;
  for (size_t l = 0; l < layers.size(); ++l)
    for (int64_t c : kept[l]) {
      rowIndex.push_back(static_cast<int>(l));
      value.push_back(1.0);
      rowIndex.push_back(numRows - 1);
      value.push_back(layers[l][c].cost / problem.budget);
      colStart.push_back(static_cast<CoinBigIndex>(rowIndex.size()));
      lower.push_back(0.0);
      upper.push_back(1.0);
      objective.push_back(layers[l][c].error / errorScale);
      columnLayer.push_back(static_cast<int>(l));
    }
  int numCols = static_cast<int>(objective.size());
  std::vector<double> rowLower(numRows, 1.0), rowUpper(numRows, 1.0);
  rowLower.back() = 0.0;
  rowUpper.back() = 1.0;

  std::unique_ptr<Cbc_Model, CbcDeleter> model(Cbc_newModel());
  Cbc_loadProblem(model.get(), numCols, numRows, colStart.data(),
                  rowIndex.data(), value.data(), lower.data(), upper.data(),
                  objective.data(), rowLower.data(), rowUpper.data());
  for (int c = 0; c < numCols; ++c)
    Cbc_setInteger(model.get(), c);
  Cbc_setObjSense(model.get(), 1.0); // minimize
  Cbc_setLogLevel(model.get(), 0);
  Cbc_setMaximumSeconds(model.get(), problem.timeLimitSeconds);
  Cbc_setAllowableFractionGap(model.get(), 1e-9);
  Cbc_setAllowableGap(model.get(), 0.0);
  {
    std::vector<int> startCols;
    std::vector<double> startValues;
    int first = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      for (size_t i = 0; i < kept[l].size(); ++i) {
        startCols.push_back(first + static_cast<int>(i));
        startValues.push_back(static_cast<int64_t>(i) == start[l] ? 1.0 : 0.0);
      }
      first += static_cast<int>(kept[l].size());
    }
    Cbc_setMIPStartI(model.get(), numCols, startCols.data(),
                     startValues.data());
  }
  Cbc_solve(model.get());

  const double *solution = Cbc_bestSolution(model.get());
  result.choice.assign(layers.size(), -1);
  if (solution) {
    int column = 0;
    for (size_t l = 0; l < layers.size(); ++l)
      for (int64_t c : kept[l]) {
        if (solution[column] > 0.5)
          result.choice[l] = c;
        ++column;
      }
  }
  if (llvm::is_contained(result.choice, -1)) {
    // No integer solution from the solver (it should at least keep the
    // start): the start is feasible, so fall back to it, unproven.
    for (size_t l = 0; l < layers.size(); ++l)
      result.choice[l] = kept[l][start[l]];
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    result.cost += layers[l][result.choice[l]].cost;
    result.error += layers[l][result.choice[l]].error;
  }
  result.optimal = Cbc_isProvenOptimal(model.get());
  result.timedOut = Cbc_isSecondsLimitReached(model.get());
  double bound = Cbc_getBestPossibleObjValue(model.get()) * errorScale;
  result.bound =
      result.optimal ? result.error : std::clamp(bound, 0.0, result.error);
  result.gap =
      result.error > 0 ? (result.error - result.bound) / result.error : 0.0;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  // The solver's feasibility tolerance is 1e-7 of the (scaled) budget.
  if (result.cost > problem.budget * (1 + 1e-6))
    return fail(llvm::formatv("the solver's choice costs {0}, over the "
                              "budget {1}",
                              result.cost, problem.budget));
  return result;
}
