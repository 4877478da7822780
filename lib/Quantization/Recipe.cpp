//===- Recipe.cpp - Quantization recipes ------------------------*- C++ -*-===//

#include "lowbit/Quantization/Recipe.h"
#include "lowbit/Quantization/Budget.h"
#include "lowbit/Quantization/WeightQuantizer.h"

#include <cmath>
#include <map>
#include <tuple>

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLTraits.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::lowbit;

namespace llvm::yaml {

static void mapSettings(IO &io, QuantSettings &s) {
  io.mapOptional("method", s.method);
  io.mapOptional("bits", s.bits);
  io.mapOptional("format", s.format);
  io.mapOptional("group", s.group);
  io.mapOptional("symmetric", s.symmetric);
  io.mapOptional("scale_rule", s.scaleRule);
  io.mapOptional("clip_search", s.clipSearch);
  io.mapOptional("damp", s.damp);
  io.mapOptional("outlier_fraction", s.outlierFraction);
  io.mapOptional("block_size", s.blockSize);
  io.mapOptional("act_order", s.actOrder);
  io.mapOptional("min_size", s.minSize);
}

template <> struct MappingTraits<RecipeRule> {
  static void mapping(IO &io, RecipeRule &rule) {
    io.mapRequired("match", rule.match);
    io.mapOptional("skip", rule.skip, false);
    mapSettings(io, rule.settings);
  }
};

struct Calibration {
  int64_t samples = 128;
  std::optional<int64_t> passes;
  double tokenCap = 0.0;
};
template <> struct MappingTraits<Calibration> {
  static void mapping(IO &io, Calibration &c) {
    io.mapOptional("samples", c.samples, int64_t(128));
    io.mapOptional("passes", c.passes);
    io.mapOptional("token_cap", c.tokenCap, 0.0);
  }
};

struct Smooth {
  std::string method = "awq";
  std::optional<double> alpha;
  std::optional<int64_t> grid, gridDashed;
  std::string check = "rtn";
};
template <> struct MappingTraits<Smooth> {
  static void mapping(IO &io, Smooth &s) {
    io.mapOptional("method", s.method, std::string("awq"));
    io.mapOptional("alpha", s.alpha);
    io.mapOptional("alpha_grid", s.grid);
    io.mapOptional("alpha-grid", s.gridDashed);
    io.mapOptional("check", s.check, std::string("rtn"));
  }
};

template <> struct MappingTraits<RotateSettings> {
  static void mapping(IO &io, RotateSettings &r) {
    io.mapOptional("kind", r.kind, std::string("hadamard"));
    io.mapOptional("seed", r.seed, uint64_t{0});
    io.mapOptional("online", r.online);
  }
};

template <> struct MappingTraits<AllocateSettings> {
  static void mapping(IO &io, AllocateSettings &a) {
    io.mapRequired("budget", a.budget);
    io.mapOptional("bits", a.bits);
    io.mapOptional("groups", a.groups);
    io.mapOptional("outlier_fractions", a.outlierFractions);
    io.mapOptional("time_limit", a.timeLimit, 10.0);
    io.mapOptional("sensitivity_samples", a.sensitivitySamples, int64_t(2));
  }
};

template <> struct MappingTraits<Recipe> {
  static void mapping(IO &io, Recipe &r) {
    mapSettings(io, r.settings);
    io.mapOptional("include", r.include, std::string());
    io.mapOptional("exclude", r.exclude);
    Calibration c{r.calibrationSamples, r.calibrationPasses,
                  r.calibrationTokenCap};
    io.mapOptional("calibration", c);
    r.calibrationSamples = c.samples;
    r.calibrationPasses = c.passes;
    r.calibrationTokenCap = c.tokenCap;
    io.mapOptional("activations", r.activations, std::string("f32"));
    io.mapOptional("activation_outlier_threshold", r.activationOutlierThreshold,
                   0.0);
    io.mapOptional("kernels", r.kernels, std::string("dequant"));
    io.mapOptional("rules", r.rules);
    io.mapOptional("rotate", r.rotate);
    io.mapOptional("allocate", r.allocate);
    std::optional<Smooth> smooth;
    if (io.outputting() && r.smooth)
      smooth = Smooth{r.smooth->method, r.smooth->alpha, r.smooth->alphaGrid,
                      std::nullopt, r.smooth->check};
    io.mapOptional("smooth", smooth);
    if (!io.outputting() && smooth) {
      SmoothSettings settings;
      settings.method = smooth->method;
      settings.alpha = smooth->alpha;
      settings.alphaGrid =
          smooth->grid.value_or(smooth->gridDashed.value_or(20));
      settings.check = smooth->check;
      r.smooth = settings;
    }
  }
};

} // namespace llvm::yaml

LLVM_YAML_IS_SEQUENCE_VECTOR(RecipeRule)

QuantSettings QuantSettings::over(const QuantSettings &base) const {
  QuantSettings s = base;
  auto take = [](auto &dst, const auto &src) {
    if (src)
      dst = src;
  };
  take(s.method, method);
  take(s.bits, bits);
  take(s.format, format);
  take(s.group, group);
  take(s.symmetric, symmetric);
  take(s.scaleRule, scaleRule);
  take(s.clipSearch, clipSearch);
  take(s.actOrder, actOrder);
  take(s.damp, damp);
  take(s.outlierFraction, outlierFraction);
  take(s.blockSize, blockSize);
  take(s.minSize, minSize);
  return s;
}

QuantSettings Recipe::resolved(const QuantSettings &s) const {
  QuantSettings defaults;
  defaults.method = "rtn";
  defaults.bits = 4;
  defaults.format = "int";
  defaults.group = 128;
  defaults.symmetric = true;
  defaults.scaleRule = "extreme";
  defaults.clipSearch = false;
  defaults.actOrder = true;
  defaults.damp = 0.1;
  defaults.outlierFraction = 0.0;
  defaults.blockSize = 128;
  defaults.minSize = 1;
  return s.over(settings.over(defaults));
}

llvm::Expected<Recipe> Recipe::load(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return llvm::createStringError(buf.getError(), "%s: cannot read: %s",
                                   path.str().c_str(),
                                   buf.getError().message().c_str());
  return parse((*buf)->getBuffer(), path);
}

/// What LLVM's YAML parser would recurse on without bound: it calls itself
/// once per empty entry of a flow collection (`[2,,,,3]`) and once per level
/// of nesting, so a few kilobytes of commas or brackets overflow the stack
/// (found by the fuzzer). A recipe needs neither; "" when `text` is fine.
static std::string checkYamlNesting(llvm::StringRef text) {
  constexpr int kMaxDepth = 32;
  int line = 1, flowDepth = 0;
  char quote = 0, lastInFlow = 0;
  bool lineStart = true;
  int dashes = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line, lineStart = true, dashes = 0;
      continue;
    }
    if (quote) {
      if (c == '\'' && quote == '\'' && i + 1 < text.size() &&
          text[i + 1] == '\'')
        ++i; // '' is a quote inside a single-quoted scalar
      else if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"')
        ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r')
      continue;
    // Block sequences nested on one line: "- - - x".
    if (lineStart && c == '-' && (i + 1 == text.size() || text[i + 1] == ' ')) {
      if (++dashes > kMaxDepth)
        return "line " + std::to_string(line) + ": sequences nested more " +
               "than " + std::to_string(kMaxDepth) + " deep";
      continue;
    }
    lineStart = false;
    if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      while (i + 1 < text.size() && text[i + 1] != '\n')
        ++i;
      continue;
    }
    // A quote opens a quoted scalar only where a node starts; inside a
    // plain scalar (`5.25'`) it is a character (found by the fuzzer).
    // Likewise a bracket outside a flow collection: `e[[` is a plain scalar.
    char prev = i == 0 ? '\n' : text[i - 1];
    bool nodeStart = llvm::StringRef(" \t\r\n[{,:").contains(prev);
    if ((c == '\'' || c == '"') && nodeStart) {
      quote = c, lastInFlow = 'x';
      continue;
    }
    if ((c == '[' || c == '{') && (nodeStart || flowDepth > 0)) {
      if (++flowDepth > kMaxDepth)
        return "line " + std::to_string(line) + ": collections nested more " +
               "than " + std::to_string(kMaxDepth) + " deep";
    } else if ((c == ']' || c == '}') && flowDepth > 0) {
      --flowDepth;
    } else if (c == ',' && flowDepth > 0 &&
               (lastInFlow == ',' || lastInFlow == '[' || lastInFlow == '{')) {
      return "line " + std::to_string(line) +
             ": empty entry in a [...] or {...} list";
    }
    lastInFlow = c;
  }
  return "";
}

llvm::Expected<Recipe> Recipe::parse(llvm::StringRef text,
                                     llvm::StringRef path) {
  if (std::string why = checkYamlNesting(text); !why.empty())
    return llvm::createStringError(std::errc::invalid_argument, "%s: %s",
                                   path.str().c_str(), why.c_str());
  Recipe recipe;
  recipe.source = path.str();
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    auto handler = [](const llvm::SMDiagnostic &d, void *ctx) {
      d.print(nullptr, *static_cast<llvm::raw_string_ostream *>(ctx), false);
    };
    llvm::yaml::Input in(text, nullptr, handler, &os);
    // The file name in messages.
    in.setAllowUnknownKeys(false);
    in >> recipe;
    if (in.error()) {
      os.flush();
      if (diagnostics.empty())
        diagnostics = "not a recipe mapping\n";
      return llvm::createStringError(std::errc::invalid_argument, "%s:%s",
                                     path.str().c_str(), diagnostics.c_str());
    }
  }
  if (llvm::Error e = recipe.validate())
    return std::move(e);
  return recipe;
}

static std::string checkSettings(const QuantSettings &s) {
  if (s.method && *s.method != "rtn" && *s.method != "gptq" &&
      *s.method != "none")
    return "method '" + *s.method + "' is not rtn, gptq or none";
  if (s.bits && (*s.bits < 2 || *s.bits > 8))
    return "bits = " + std::to_string(*s.bits) + " is outside 2..8";
  if (s.format && *s.format != "int" && *s.format != "nf4" &&
      *s.format != "fp4")
    return "format '" + *s.format + "' is not int, nf4 or fp4";
  if (s.scaleRule && !quant::parseScaleRule(*s.scaleRule))
    return "scale_rule '" + *s.scaleRule + "' is not extreme or absmax";
  if (s.group && *s.group < 0)
    return "group = " + std::to_string(*s.group) + " is negative";
  if (s.damp && !(*s.damp > 0.0))
    return "damp must be positive";
  if (s.outlierFraction &&
      !(*s.outlierFraction >= 0.0 && *s.outlierFraction <= 0.25))
    return "outlier_fraction = " + std::to_string(*s.outlierFraction) +
           " is outside [0, 0.25]";
  if (s.blockSize && *s.blockSize <= 0)
    return "block_size must be positive";
  if (s.minSize && *s.minSize < 1)
    return "min_size must be at least 1";
  return "";
}

static std::string checkRegex(llvm::StringRef what, llvm::StringRef re) {
  if (re.empty())
    return "";
  // Layer names are UTF-8 (ONNX strings); the YAML writer of toYaml() cuts
  // a string at its first invalid byte.
  size_t bad = 0;
  if (!llvm::json::isUTF8(re, &bad))
    return what.str() + " is not UTF-8 text (byte " + std::to_string(bad) + ")";
  std::string reason;
  if (!llvm::Regex(re).isValid(reason))
    return what.str() + " '" + re.str() +
           "' is not a valid regular expression: " + reason;
  return "";
}

llvm::Error Recipe::validate() const {
  auto fail = [&](const std::string &why) {
    return llvm::createStringError(std::errc::invalid_argument, "%s: %s",
                                   source.c_str(), why.c_str());
  };
  std::string why = checkSettings(settings);
  if (why.empty())
    why = checkRegex("include", include);
  if (why.empty() && exclude)
    why = checkRegex("exclude", *exclude);
  if (!why.empty())
    return fail(why);
  if (calibrationSamples < 1)
    return fail("calibration samples must be at least 1");
  if (calibrationPasses && (*calibrationPasses < 1 || *calibrationPasses > 4))
    return fail("calibration passes = " + std::to_string(*calibrationPasses) +
                " is outside 1..4");
  if (!(calibrationTokenCap >= 0.0 && std::isfinite(calibrationTokenCap)))
    return fail(
        "calibration token_cap = " + std::to_string(calibrationTokenCap) +
        " must be finite and >= 0");
  if (activations != "f32" && activations != "int8")
    return fail("activations must be f32 or int8, got '" + activations + "'");
  if (!(activationOutlierThreshold >= 0.0 &&
        std::isfinite(activationOutlierThreshold)))
    return fail("activation_outlier_threshold = " +
                std::to_string(activationOutlierThreshold) +
                " is not a finite value >= 0");
  if (kernels != "dequant" && kernels != "lut")
    return fail("kernels must be dequant or lut, got '" + kernels + "'");
  if (smooth) {
    if (smooth->method != "awq" && smooth->method != "smoothquant")
      return fail("smooth: method '" + smooth->method +
                  "' is not awq or smoothquant");
    if (smooth->alpha && !(*smooth->alpha >= 0.0 && *smooth->alpha <= 1.0))
      return fail("smooth: alpha = " + std::to_string(*smooth->alpha) +
                  " is outside [0, 1]");
    if (smooth->alphaGrid < 1 || smooth->alphaGrid > 1000)
      return fail("smooth: alpha_grid = " + std::to_string(smooth->alphaGrid) +
                  " is outside 1..1000");
    if (smooth->check != "rtn" && smooth->check != "gptq")
      return fail("smooth: check '" + smooth->check + "' is not rtn or gptq");
    if (smooth->check == "gptq" && smooth->method != "awq")
      return fail("smooth: check 'gptq' is for method awq");
  }
  if (rotate && rotate->kind != "hadamard" && rotate->kind != "random")
    return fail("rotate: kind '" + rotate->kind +
                "' is not hadamard or random");
  if (rotate)
    for (const std::string &what : rotate->online)
      if (what != "down")
        return fail("rotate: online '" + what + "' is not down");
  for (auto [i, rule] : llvm::enumerate(rules)) {
    std::string where =
        "rule " + std::to_string(i + 1) + " (match '" + rule.match + "'): ";
    if (rule.match.empty())
      return fail(where + "empty match");
    why = checkRegex("match", rule.match);
    if (why.empty())
      why = checkSettings(rule.settings);
    if (!why.empty())
      return fail(where + why);
    const QuantSettings &s = rule.settings;
    if (allocate && !rule.skip &&
        (s.bits || s.group || s.outlierFraction || s.method || s.format))
      return fail(where +
                  "sets the scheme or method of its layers, which "
                  "'allocate' chooses; with a budget rules may only skip "
                  "layers or set other keys");
  }
  if (allocate) {
    std::string error;
    if (!quant::Budget::parse(allocate->budget, error))
      return fail("allocate: " + error);
    for (unsigned b : allocate->bits)
      if (b < 2 || b > 8)
        return fail("allocate: bits " + std::to_string(b) + " is outside 2..8");
    for (int64_t g : allocate->groups)
      if (g < 0)
        return fail("allocate: group " + std::to_string(g) + " is negative");
    for (double f : allocate->outlierFractions)
      if (!(f >= 0.0 && f <= 0.25))
        return fail("allocate: outlier fraction " + std::to_string(f) +
                    " is outside [0, 0.25]");
    if (!(allocate->timeLimit > 0))
      return fail("allocate: time_limit must be positive");
    if (allocate->sensitivitySamples < 0)
      return fail("allocate: sensitivity_samples must not be negative");
    std::string method = *resolved({}).method;
    if (method != "rtn" && method != "gptq")
      return fail("allocate needs method rtn or gptq, not '" + method + "'");
    std::string format = *resolved({}).format;
    if (format != "int")
      return fail("allocate chooses integer codes; format '" + format +
                  "' cannot be allocated");
  }
  return llvm::Error::success();
}

int64_t Recipe::calibrationPassCount() const {
  return calibrationPasses.value_or(usesGptq() ? 2 : 1);
}

bool Recipe::usesGptq() const {
  for (const Pass &p : passes())
    if (*p.settings.method == "gptq")
      return true;
  return false;
}

bool Recipe::needsCalibration() const {
  return usesGptq() || smooth || allocate || activationOutlierThreshold > 0;
}

std::vector<Recipe::Pass> Recipe::passes() const {
  static const char *kDefaultExclude =
      "(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|"
      "lm_head)([._/]|$)";
  std::vector<Pass> out;
  std::string skipped; // alternation of the skip rules so far
  auto alt = [](const std::string &a, const std::string &b) {
    if (a.empty())
      return b;
    if (b.empty())
      return a;
    return "(" + a + ")|(" + b + ")";
  };
  for (const RecipeRule &rule : rules) {
    if (rule.skip) {
      skipped = alt(skipped, rule.match);
      continue;
    }
    out.push_back({resolved(rule.settings), rule.match, skipped});
  }
  out.push_back(
      {resolved({}), include,
       alt(exclude ? *exclude : std::string(kDefaultExclude), skipped)});
  return out;
}

std::string Recipe::toYaml(const std::vector<LayerScheme> &layerRules) const {
  Recipe out = *this;
  out.allocate.reset();
  // One rule per scheme, matching its layers' exact names.
  std::map<std::tuple<unsigned, int64_t, double>, std::string> byScheme;
  for (const LayerScheme &l : layerRules) {
    std::string &match = byScheme[{l.bits, l.group, l.outlierFraction}];
    match += (match.empty() ? "^(" : "|") + llvm::Regex::escape(l.layer);
  }
  std::vector<RecipeRule> rules;
  for (auto &[scheme, match] : byScheme) {
    RecipeRule rule;
    rule.match = match + ")$";
    rule.settings.bits = std::get<0>(scheme);
    rule.settings.group = std::get<1>(scheme);
    if (std::get<2>(scheme) > 0)
      rule.settings.outlierFraction = std::get<2>(scheme);
    rules.push_back(std::move(rule));
  }
  rules.insert(rules.end(), out.rules.begin(), out.rules.end());
  out.rules = std::move(rules);
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::yaml::Output yaml(os);
  yaml << out;
  return text;
}
