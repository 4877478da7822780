//===- Recipe.h - Quantization recipes --------------------------*- C++ -*-===//
//
// A recipe (YAML or JSON) names the method, the scheme and per-layer rules:
//
//   method: gptq          # rtn | gptq | none (left in float; with smooth:
//                         # the smoothed float model)
//   bits: 4               # 2..8
//   group: 128            # weights per scale along K; 0 = per output channel
//   symmetric: true
//   scale_rule: extreme   # symmetric scales: extreme | absmax
//   clip_search: false    # MSE-optimal clipping of group ranges
//   damp: 0.1             # gptq: fraction of mean(diag H)
//   block_size: 128       # gptq: lazy-update block
//   act_order: true       # gptq: inputs by decreasing H_ii, static groups
//   include: ''           # regex on layer names (empty: all)
//   exclude: '...'        # regex; default: embeddings and output heads
//   min_size: 1
//   smooth: {method: awq, alpha_grid: 20}
//                         # lowbit-smooth before quantizing: awq |
//                         # smoothquant, alpha (fixed; default:
//                         # searched on alpha_grid points per group);
//                         # 'alpha-grid' is accepted too; check: gptq
//                         # keeps an AWQ scale only if GPTQ gains from it
//   rotate: {kind: hadamard, seed: 0, online: [down]}
//                         # lowbit-fold-norms and lowbit-rotate before
//                         # calibrating: hadamard | random; online: the
//                         # down projections' inputs rotated at run time
//   allocate: {budget: 'bpw:3.25', bits: [2, 3, 4, 5, 6, 8],
//              groups: [32, 64, 128, 0], outlier_fractions: [0],
//              time_limit: 10, sensitivity_samples: 2}
//                         # lowbit-allocate-bits after the first calibration
//                         # pass: each layer's bits, group and outlier
//                         # fraction chosen within the budget (bpw:B or
//                         # size:S[kB|MB|GB]), each candidate's relative
//                         # output error weighted by the layer's measured
//                         # sensitivity; rules may then only skip layers or
//                         # set other keys
//   calibration: {samples: 128, passes: 2, token_cap: 0}
//                         # passes 2: calibrate again on the model quantized
//                         # with the first statistics, quantize again from
//                         # the float weights with those (default: 2 when
//                         # some layer uses gptq, else 1); token_cap c > 0:
//                         # in the Hessians, a token's squared norm counts
//                         # at most c x the geometric mean of its sample's
//                         # (attention sinks; 0: plain X^T X)
//   rules:                # first match wins; any of the keys above but
//     - match: 'down_proj'  # include/exclude/rules, or skip: true
//       bits: 8
//
// and compiles to a pass pipeline: one quantization pass per rule (include =
// the rule's match, exclude = the earlier skip rules) and one for the rest.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_RECIPE_H
#define LOWBIT_QUANTIZATION_RECIPE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// The settings a rule may override.
struct QuantSettings {
  std::optional<std::string> method;
  std::optional<unsigned> bits;
  std::optional<std::string> format;    // int | nf4 | fp4
  std::optional<std::string> scaleRule; // extreme | absmax
  std::optional<int64_t> group;
  std::optional<bool> symmetric, clipSearch, actOrder;
  std::optional<double> damp;
  /// SpQR-style outliers kept in f16 (fraction of each layer's weights).
  std::optional<double> outlierFraction;
  std::optional<int64_t> blockSize, minSize;

  /// Fields set here replace those of `base`.
  QuantSettings over(const QuantSettings &base) const;
};

/// Smoothing before quantization (lowbit-smooth).
struct SmoothSettings {
  std::string method = "awq"; // awq | smoothquant
  std::optional<double> alpha;
  int64_t alphaGrid = 20;
  /// What AWQ's searched scale is finally checked with: rtn (the search's
  /// own error) | gptq (kept only if GPTQ, quantizing afterwards, gains).
  std::string check = "rtn";
};

/// Rotation of the residual stream before calibration (lowbit-fold-norms,
/// lowbit-rotate).
struct RotateSettings {
  std::string kind = "hadamard"; // hadamard | random
  uint64_t seed = 0;
  /// Layers whose input is rotated at run time (lowbit.hadamard): "down".
  std::vector<std::string> online;
};

/// Mixed precision (lowbit-allocate-bits): the candidates and the budget.
struct AllocateSettings {
  std::string budget; // bpw:<bits per weight> | size:<bytes>[kB|MB|GB]
  /// Empty: the pass's defaults (2,3,4,5,6,8; 32,64,128,0; 0).
  std::vector<unsigned> bits;
  std::vector<int64_t> groups;
  std::vector<double> outlierFractions;
  double timeLimit = 10.0;
  /// Calibration samples each layer's sensitivity is measured on (the
  /// model run once per layer and sample); 0: errors are weighted equally
  /// (relative to each layer's output).
  int64_t sensitivitySamples = 2;
};

struct RecipeRule {
  std::string match;
  bool skip = false;
  QuantSettings settings;
};

struct Recipe {
  std::string source = "<flags>"; // the file, for messages
  QuantSettings settings;         // unset fields take the built-in defaults
  std::string include;
  std::optional<std::string> exclude; // unset: the default exclusion
  int64_t calibrationSamples = 128;
  /// Calibration runs: 1 on the float model; each further one on the model
  /// the previous statistics quantized (1..4). Unset: calibrationPassCount.
  std::optional<int64_t> calibrationPasses;
  /// Hessians with each token's squared norm capped at this multiple of the
  /// geometric mean of its sample's (lowbit-expose-calibration token-cap);
  /// 0: plain X^T X.
  double calibrationTokenCap = 0.0;
  /// Activations of the compiled low-bit matmuls: "f32" (exact) or "int8"
  /// (quantized per group at run time, VNNI kernels).
  std::string activations = "f32";
  /// With int8 activations: input channels whose calibrated abs-max exceeds
  /// this stay f32 in a side matmul (LLM.int8()); 0: none.
  double activationOutlierThreshold = 0.0;
  /// Kernels of the compiled low-bit matmuls: "dequant" or "lut" (table
  /// lookups for 1-2-bit codes).
  std::string kernels = "dequant";
  std::vector<RecipeRule> rules;
  /// Smoothing of the layers the recipe quantizes, with the defaults'
  /// scheme, before quantization; none if unset.
  std::optional<SmoothSettings> smooth;
  /// Rotation of the float model before calibration; none if unset.
  std::optional<RotateSettings> rotate;
  /// Bit allocation after the first calibration pass; none if unset.
  std::optional<AllocateSettings> allocate;

  /// The recipe as YAML that load() reads back to the same recipe, with
  /// one rule per entry of `layerRules` first (each an exact layer name and
  /// its bits, group and outlier fraction: what an allocation chose) and
  /// no `allocate`.
  struct LayerScheme {
    std::string layer;
    unsigned bits;
    int64_t group;
    double outlierFraction;
  };
  std::string toYaml(const std::vector<LayerScheme> &layerRules = {}) const;

  /// Parses and checks a YAML or JSON recipe; errors name the file, the line
  /// and the key.
  static llvm::Expected<Recipe> load(llvm::StringRef path);
  /// load() of a recipe whose text is `text`; errors name `path`.
  static llvm::Expected<Recipe> parse(llvm::StringRef text,
                                      llvm::StringRef path);
  /// Checks the values (bits, group, method, regexes); errors name `source`.
  llvm::Error validate() const;

  /// The settings with every field filled (the built-in defaults under the
  /// recipe's).
  QuantSettings resolved(const QuantSettings &settings) const;
  /// True if some layer is quantized with GPTQ.
  bool usesGptq() const;
  /// True if the recipe needs calibration statistics (GPTQ, smoothing,
  /// allocation).
  bool needsCalibration() const;
  /// The calibration passes: as set, else 2 if usesGptq() (GPTQ is worth
  /// the second pass: docs/quantization.md), else 1.
  int64_t calibrationPassCount() const;

  /// One quantization pass: resolved settings and its layer selection.
  struct Pass {
    QuantSettings settings;
    std::string include, exclude;
  };
  /// The passes, in order: one per non-skip rule, then the defaults.
  std::vector<Pass> passes() const;
};

} // namespace mlir::lowbit

#endif // LOWBIT_QUANTIZATION_RECIPE_H
