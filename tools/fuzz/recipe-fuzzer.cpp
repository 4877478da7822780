//===- recipe-fuzzer.cpp - libFuzzer target: recipes ------------*- C++ -*-===//
//
// Arbitrary bytes as a YAML/JSON recipe: a recipe or an error naming the
// file, never a crash. A recipe that parses must survive its own round
// trip (toYaml, then parse again), which is what recipe.allocated.yaml in
// every allocated artifact relies on.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quantization/Recipe.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<mlir::lowbit::Recipe> recipe =
      mlir::lowbit::Recipe::parse(text, "fuzz.yaml");
  if (!recipe) {
    llvm::consumeError(recipe.takeError());
    return 0;
  }
  std::string yaml = recipe->toYaml();
  llvm::Expected<mlir::lowbit::Recipe> again =
      mlir::lowbit::Recipe::parse(yaml, "fuzz.roundtrip.yaml");
  if (!again) {
    std::string message = llvm::toString(again.takeError());
    fprintf(stderr, "recipe round trip failed: %s\n--- written ---\n%s\n",
            message.c_str(), yaml.c_str());
    abort();
  }
  return 0;
}
