//===- artifact-fuzzer.cpp - libFuzzer target: artifact texts --*- C++ -*-===//
//
// The runtime's readers of an artifact's descriptions with arbitrary bytes:
// the input up to its first NUL is manifest.json, the rest the metadata text
// model.so returns (runtime/src/metadata.h). The same checks as
// lowbit_model_load: the manifest's format, the metadata's lines, tensors
// and GPU launch table, and the manifest against the metadata (weights that
// lie inside the file). An error message or success, never a crash.
//
//===----------------------------------------------------------------------===//

#include "metadata.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  size_t nul = bytes.find('\0');
  std::string manifest = bytes.substr(0, nul);
  std::string metadata = nul == std::string::npos ? "" : bytes.substr(nul + 1);
  std::string message =
      lowbit_runtime::checkManifest(manifest, "fuzz/manifest.json");
  lowbit_runtime::Metadata meta;
  std::string parsed = lowbit_runtime::parseMetadata(metadata.c_str(), meta);
  if (!parsed.empty())
    return 0;
  for (const lowbit_runtime::Tensor &t : meta.inputs)
    if (t.shape.size() > 16)
      abort();
  if (message.empty())
    (void)lowbit_runtime::checkManifestMatches(manifest, "fuzz/manifest.json",
                                               meta);
  return 0;
}
