//===- RecipeTest.cpp - Recipes to passes -----------------------*- C++ -*-===//

#include "lowbit/Quantization/Recipe.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace mlir::lowbit;

namespace {

std::string writeTemp(llvm::StringRef text) {
  llvm::SmallString<128> path;
  int fd;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("recipe", "yaml", fd, path));
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << text;
  return path.str().str();
}

TEST(Recipe, RulesBecomePasses) {
  std::string path = writeTemp("method: gptq\nbits: 3\nrules:\n"
                               "  - match: down_proj\n    bits: 8\n"
                               "    method: rtn\n"
                               "  - match: 'layers\\.0\\.'\n    skip: true\n"
                               "  - match: up_proj\n    group: 64\n"
                               "    scale_rule: absmax\n");
  llvm::Expected<Recipe> r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  std::vector<Recipe::Pass> passes = r->passes();
  ASSERT_EQ(passes.size(), 3u);
  EXPECT_EQ(*passes[0].settings.method, "rtn");
  EXPECT_EQ(*passes[0].settings.bits, 8u);
  EXPECT_EQ(passes[0].include, "down_proj");
  EXPECT_EQ(passes[0].exclude, "");
  // Rules after a skip rule exclude what it matched.
  EXPECT_EQ(*passes[1].settings.method, "gptq");
  EXPECT_EQ(*passes[1].settings.group, 64);
  EXPECT_EQ(*passes[1].settings.bits, 3u);
  EXPECT_EQ(passes[1].exclude, "layers\\.0\\.");
  EXPECT_EQ(*passes[1].settings.scaleRule, "absmax");
  EXPECT_EQ(*passes[0].settings.scaleRule, "extreme"); // the default
  // The rest: defaults, the default exclusion and the skip rules.
  EXPECT_EQ(passes[2].include, "");
  EXPECT_NE(passes[2].exclude.find("lm_head"), std::string::npos);
  EXPECT_NE(passes[2].exclude.find("layers\\.0\\."), std::string::npos);
  EXPECT_TRUE(r->needsCalibration());
  EXPECT_EQ(r->activations, "f32");
  llvm::sys::fs::remove(path);
}

TEST(Recipe, Int8Activations) {
  std::string path = writeTemp("method: rtn\nactivations: int8\n");
  llvm::Expected<Recipe> r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_EQ(r->activations, "int8");
  EXPECT_EQ(r->kernels, "dequant");
  llvm::sys::fs::remove(path);
}

TEST(Recipe, LutKernels) {
  std::string path = writeTemp("method: rtn\nbits: 2\nkernels: lut\n");
  llvm::Expected<Recipe> r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_EQ(r->kernels, "lut");
  EXPECT_EQ(*r->passes()[0].settings.format, "int");
  llvm::sys::fs::remove(path);
}

TEST(Recipe, CalibrationTokenCapRoundTrips) {
  llvm::Expected<Recipe> r = Recipe::parse(
      "method: gptq\ncalibration: {samples: 16, passes: 1, token_cap: 10}\n",
      "r.yaml");
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_EQ(r->calibrationTokenCap, 10.0);
  EXPECT_EQ(r->calibrationSamples, 16);
  // The written recipe (recipe.allocated.yaml) keeps it.
  llvm::Expected<Recipe> again = Recipe::parse(r->toYaml(), "again.yaml");
  ASSERT_TRUE(!!again) << llvm::toString(again.takeError());
  EXPECT_EQ(again->calibrationTokenCap, 10.0);
  // Unset: off.
  llvm::Expected<Recipe> plain = Recipe::parse("method: gptq\n", "p.yaml");
  ASSERT_TRUE(!!plain) << llvm::toString(plain.takeError());
  EXPECT_EQ(plain->calibrationTokenCap, 0.0);
}

TEST(Recipe, Smooth) {
  std::string path =
      writeTemp("method: rtn\nsmooth: {method: awq, alpha-grid: 10}\n");
  llvm::Expected<Recipe> r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  ASSERT_TRUE(r->smooth.has_value());
  EXPECT_EQ(r->smooth->method, "awq");
  EXPECT_EQ(r->smooth->alphaGrid, 10);
  EXPECT_FALSE(r->smooth->alpha.has_value());
  // Smoothing needs statistics, but RTN does not need a second pass.
  EXPECT_TRUE(r->needsCalibration());
  EXPECT_FALSE(r->usesGptq());
  EXPECT_EQ(r->calibrationPassCount(), 1);
  llvm::sys::fs::remove(path);

  path =
      writeTemp("smooth: {method: smoothquant, alpha: 0.6, alpha_grid: 5}\n");
  r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_EQ(r->smooth->method, "smoothquant");
  EXPECT_DOUBLE_EQ(*r->smooth->alpha, 0.6);
  EXPECT_EQ(r->smooth->alphaGrid, 5);
  EXPECT_EQ(r->smooth->check, "rtn");
  llvm::sys::fs::remove(path);

  path = writeTemp("method: gptq\nsmooth: {method: awq, check: gptq}\n");
  r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_EQ(r->smooth->check, "gptq");
  llvm::sys::fs::remove(path);

  path = writeTemp("method: gptq\n");
  r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_FALSE(r->smooth.has_value());
  llvm::sys::fs::remove(path);
}

TEST(Recipe, Rotate) {
  std::string path = writeTemp("method: gptq\nrotate: {seed: 3}\n");
  llvm::Expected<Recipe> r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  ASSERT_TRUE(r->rotate.has_value());
  EXPECT_EQ(r->rotate->kind, "hadamard");
  EXPECT_EQ(r->rotate->seed, 3u);
  llvm::sys::fs::remove(path);

  path = writeTemp("rotate: {kind: random}\n");
  r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_EQ(r->rotate->kind, "random");
  EXPECT_EQ(r->rotate->seed, 0u);
  // Rotation is data-free: RTN after it needs no statistics.
  EXPECT_FALSE(r->needsCalibration());
  llvm::sys::fs::remove(path);

  path = writeTemp("method: rtn\n");
  r = Recipe::load(path);
  ASSERT_TRUE(!!r) << llvm::toString(r.takeError());
  EXPECT_FALSE(r->rotate.has_value());
  llvm::sys::fs::remove(path);
}

TEST(Recipe, ErrorsNameTheFileAndTheProblem) {
  struct Case {
    const char *text, *message;
  } cases[] = {
      {"bits: 0\n", "bits = 0 is outside 2..8"},
      {"method: awq\n", "method 'awq' is not rtn, gptq or none"},
      {"group: -1\n", "group = -1 is negative"},
      {"damp: 0\n", "damp must be positive"},
      {"include: '('\n", "is not a valid regular expression"},
      {"rules:\n  - match: x\n    bits: 9\n", "rule 1 (match 'x'): bits = 9"},
      {"rules:\n  - bits: 4\n", "missing required key 'match'"},
      {"bitz: 4\n", "unknown key 'bitz'"},
      {"calibration: {samples: 0}\n", "calibration samples must be at least 1"},
      {"calibration: {passes: 5}\n", "calibration passes = 5 is outside 1..4"},
      {"activations: int4\n", "activations must be f32 or int8, got 'int4'"},
      {"activation_outlier_threshold: -1\n",
       "activation_outlier_threshold = -1.000000 is not a finite value >= 0"},
      {"kernels: tmac\n", "kernels must be dequant or lut, got 'tmac'"},
      {"format: nf5\n", "format 'nf5' is not int, nf4 or fp4"},
      {"scale_rule: minmax\n", "scale_rule 'minmax' is not extreme or absmax"},
      {"- 1\n- 2\n", "not a mapping"},
      {"smooth: {method: gptq}\n",
       "smooth: method 'gptq' is not awq or smoothquant"},
      {"smooth: {alpha: 1.5}\n", "smooth: alpha = 1.500000 is outside [0, 1]"},
      {"smooth: {alpha_grid: 0}\n",
       "smooth: alpha_grid = 0 is outside 1..1000"},
      {"smooth: {method: awq, grid: 3}\n", "unknown key 'grid'"},
      {"smooth: {check: gptqq}\n", "smooth: check 'gptqq' is not rtn or gptq"},
      {"smooth: {method: smoothquant, check: gptq}\n",
       "smooth: check 'gptq' is for method awq"},
      {"rotate: {kind: givens}\n",
       "rotate: kind 'givens' is not hadamard or random"},
      {"rotate: {kind: random, sead: 1}\n", "unknown key 'sead'"},
      // Values of the wrong type name the line and column.
      {"bits: four\n", "1:7: error: invalid number"},
      {"bits: [4]\n", "1:8: error: unexpected scalar"},
      {"bits: 99999999999999999999\n", "1:7: error: invalid number"},
      {"group: 1.5\n", "1:8: error: invalid number"},
      {"damp: x\n", "1:7: error: invalid floating point number"},
      {"symmetric: maybe\n", "1:12: error: invalid boolean"},
      {"rules: 3\n", "1:8: error: not a sequence"},
      {"calibration: 5\n", "1:14: error: not a mapping"},
      {"{\"include\": \"a\xff\"}\n", "include is not UTF-8 text (byte 1)"},
      // What would overflow the YAML parser's stack.
      {"bits: 4\nrules: [{match: a},,,]\n", "line 2: empty entry in a"},
      {"rules: "
       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
       "]]]]]]]]]\n",
       "line 1: collections nested more than 32 deep"},
  };
  for (const Case &c : cases) {
    std::string path = writeTemp(c.text);
    llvm::Expected<Recipe> r = Recipe::load(path);
    ASSERT_FALSE(!!r) << c.text;
    std::string message = llvm::toString(r.takeError());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
    llvm::sys::fs::remove(path);
  }
}

} // namespace
