//===- QuantizationPipeline.cpp - A recipe's quantization passes ---------===//
//
// lowbit-quantization-pipeline: a recipe (Quantization/Recipe.h) compiled to
// lowbit-smooth (if the recipe smooths), then lowbit-quantize-rtn and
// lowbit-gptq passes, one per rule.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Quantization/Recipe.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::lowbit;

/// The options every weight-scheme pass shares (WeightSchemeOptions in
/// Passes.td), from a recipe pass.
template <typename OptionsT>
static void setSchemeOptions(OptionsT &o, const Recipe::Pass &p,
                             bool progress) {
  const QuantSettings &s = p.settings;
  o.bits = *s.bits;
  o.format = *quant::parseCodeKind(*s.format);
  o.groupSize = *s.group;
  o.symmetric = *s.symmetric;
  o.scaleRule = *quant::parseScaleRule(*s.scaleRule);
  o.clipSearch = *s.clipSearch;
  o.outlierFraction = *s.outlierFraction;
  o.minSize = *s.minSize;
  o.include = p.include;
  o.exclude = p.exclude;
  o.progress = progress;
}

void mlir::lowbit::buildQuantizationPipeline(OpPassManager &pm,
                                             const Recipe &recipe,
                                             bool progress) {
  for (const Recipe::Pass &p : recipe.passes()) {
    const QuantSettings &s = p.settings;
    if (*s.method == "none") // left in float
      continue;
    if (*s.method == "gptq") {
      LowbitGptqPassOptions o;
      setSchemeOptions(o, p, progress);
      o.damp = *s.damp;
      o.blockSize = *s.blockSize;
      o.actOrder = *s.actOrder;
      pm.addPass(createLowbitGptqPass(o));
    } else {
      LowbitQuantizeRtnPassOptions o;
      setSchemeOptions(o, p, progress);
      pm.addPass(createLowbitQuantizeRtnPass(o));
    }
  }
}

void mlir::lowbit::buildRotationPipeline(OpPassManager &pm,
                                         const Recipe &recipe) {
  if (!recipe.rotate)
    return;
  pm.addPass(createLowbitFoldNormsPass());
  LowbitRotatePassOptions o;
  o.kind = recipe.rotate->kind;
  o.seed = recipe.rotate->seed;
  o.online.assign(recipe.rotate->online.begin(), recipe.rotate->online.end());
  pm.addPass(createLowbitRotatePass(o));
}

void mlir::lowbit::buildSmoothingPipeline(OpPassManager &pm,
                                          const Recipe &recipe, bool progress) {
  if (!recipe.smooth)
    return;
  // The last pass (the defaults) selects every layer the recipe quantizes:
  // the rules' layers are not excluded by it, only skipped ones.
  std::vector<Recipe::Pass> passes = recipe.passes();
  LowbitSmoothPassOptions o;
  setSchemeOptions(o, passes.back(), progress);
  o.method = recipe.smooth->method;
  o.alpha = recipe.smooth->alpha.value_or(-1.0);
  o.alphaGrid = recipe.smooth->alphaGrid;
  // Opt-in: GPTQ's error decides whether AWQ's scale stays. Off by
  // default: on SmolLM2 it cost +1.08 perplexity (docs/quantization.md).
  const QuantSettings &s = passes.back().settings;
  if (recipe.smooth->check == "gptq") {
    o.quantizer = "gptq";
    o.damp = *s.damp;
    o.actOrder = *s.actOrder;
  }
  pm.addPass(createLowbitSmoothPass(o));
}

void mlir::lowbit::buildAllocationPipeline(OpPassManager &pm,
                                           const Recipe &recipe,
                                           bool progress) {
  if (!recipe.allocate)
    return;
  // As for smoothing: the defaults' pass selects every layer the recipe
  // quantizes (rules may only skip layers when allocating).
  std::vector<Recipe::Pass> passes = recipe.passes();
  const Recipe::Pass &p = passes.back();
  const QuantSettings &s = p.settings;
  const AllocateSettings &a = *recipe.allocate;
  LowbitAllocateBitsPassOptions o;
  o.budget = a.budget;
  o.method = *s.method;
  o.candidateBits.assign(a.bits.begin(), a.bits.end());
  o.candidateGroups.assign(a.groups.begin(), a.groups.end());
  o.candidateOutliers.assign(a.outlierFractions.begin(),
                             a.outlierFractions.end());
  o.symmetric = *s.symmetric;
  o.scaleRule = *quant::parseScaleRule(*s.scaleRule);
  o.clipSearch = *s.clipSearch;
  o.damp = *s.damp;
  o.blockSize = *s.blockSize;
  o.actOrder = *s.actOrder;
  o.timeLimit = a.timeLimit;
  // The driver measures the sensitivities first when asked to.
  o.errorMeasure = a.sensitivitySamples > 0 ? "sensitivity" : "relative";
  o.minSize = *s.minSize;
  o.include = p.include;
  o.exclude = p.exclude;
  o.progress = progress;
  pm.addPass(createLowbitAllocateBitsPass(o));
}
