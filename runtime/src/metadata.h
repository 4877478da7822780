//===- metadata.h - Reading an artifact's descriptions (internal) -*- C++
//-*-===//
//
// The two texts an artifact describes itself with: the metadata model.so
// returns from lowbit_metadata() (format version, target, CPU features,
// weights file, tensors, GPU launch table) and manifest.json's fields the
// runtime checks. Parsed apart from loading so that the fuzzer
// (tools/fuzz/artifact-fuzzer.cpp) can feed them arbitrary bytes.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_METADATA_H
#define LOWBIT_RUNTIME_METADATA_H

#include "gpu.h"
#include "lowbit/runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lowbit_runtime {

struct Tensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t offset = 0, bytes = 0; // weights
  lowbit_tensor_info info{};
};

/// What the metadata text says.
struct Metadata {
  std::string target;
  std::vector<std::string> features;
  std::string weightsFile;
  uint64_t weightsSize = 0, weightsHash = 0;
  std::vector<Tensor> inputs, outputs, weights;
  GpuInfo gpu;
};

/// Parses the metadata text into `out`; returns an error message or "".
std::string parseMetadata(const char *text, Metadata &out);

/// The value of `"key": value` in the manifest text (a number, or a string
/// without its quotes); false when the key is missing.
bool manifestField(const std::string &text, const char *key,
                   std::string &value);

/// Checks that `text` is a Lowbit manifest of this runtime's format
/// version; returns an error message (naming `path`) or "".
std::string checkManifest(const std::string &text, const std::string &path);

/// Checks that the manifest describes the weights the metadata names (one
/// compile); returns an error message or "".
std::string checkManifestMatches(const std::string &text,
                                 const std::string &path,
                                 const Metadata &metadata);

} // namespace lowbit_runtime

#endif // LOWBIT_RUNTIME_METADATA_H
