//===- QuantizationPipeline.cpp - A recipe's quantization passes ---------===//
//
// lowbit-quantization-pipeline: a recipe (Quantization/Recipe.h) compiled to
// lowbit-quantize-rtn and lowbit-gptq passes, one per rule.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Quantization/Recipe.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::lowbit;

void mlir::lowbit::buildQuantizationPipeline(OpPassManager &pm,
                                             const Recipe &recipe,
                                             bool progress) {
  for (const Recipe::Pass &p : recipe.passes()) {
    const QuantSettings &s = p.settings;
    // The options both passes share (WeightSchemeOptions in Passes.td).
    auto scheme = [&](auto &o) {
      o.bits = *s.bits;
      o.format = *quant::parseCodeKind(*s.format);
      o.groupSize = *s.group;
      o.symmetric = *s.symmetric;
      o.scaleRule = *quant::parseScaleRule(*s.scaleRule);
      o.clipSearch = *s.clipSearch;
      o.minSize = *s.minSize;
      o.include = p.include;
      o.exclude = p.exclude;
      o.progress = progress;
    };
    if (*s.method == "gptq") {
      LowbitGptqPassOptions o;
      scheme(o);
      o.damp = *s.damp;
      o.blockSize = *s.blockSize;
      o.actOrder = *s.actOrder;
      pm.addPass(createLowbitGptqPass(o));
    } else {
      LowbitQuantizeRtnPassOptions o;
      scheme(o);
      pm.addPass(createLowbitQuantizeRtnPass(o));
    }
  }
}
