//===- metadata.cpp - Reading an artifact's descriptions --------*- C++ -*-===//
//
// The metadata text model.so carries and the manifest fields the runtime
// checks (metadata.h).
//
//===----------------------------------------------------------------------===//

#include "metadata.h"
#include "lowbit/artifact.h"

#include <sstream>

using namespace lowbit_runtime;

namespace {

std::string decodeName(const std::string &s) {
  std::string out(s.size() + 1, '\0');
  out.resize(lowbit_artifact_decode_name(s.c_str(), &out[0], out.size()));
  return out;
}

} // namespace

std::string lowbit_runtime::parseMetadata(const char *text, Metadata &m) {
  std::istringstream in(text);
  std::string line;
  bool versionSeen = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "lowbit-artifact") {
      int v = 0;
      ls >> v;
      if (v != LOWBIT_ARTIFACT_FORMAT_VERSION)
        return "artifact format version " + std::to_string(v) +
               ", this runtime reads version " +
               std::to_string(LOWBIT_ARTIFACT_FORMAT_VERSION) +
               " (recompile the model with this Lowbit)";
      versionSeen = true;
    } else if (kind == "target") {
      std::string triple, cpu;
      ls >> triple >> cpu;
      m.target = triple + " " + cpu;
    } else if (kind == "features") {
      std::string f;
      while (ls >> f)
        m.features.push_back(f);
    } else if (kind == "weights") {
      ls >> m.weightsFile >> m.weightsSize >> m.weightsHash;
    } else if (kind == "input" || kind == "output" || kind == "weight") {
      Tensor t;
      int rank = -1;
      ls >> t.name >> t.dtype >> rank;
      if (rank < 0 || rank > 16 ||
          lowbit_artifact_dtype_bytes(t.dtype.c_str()) == 0)
        return "bad tensor line in the metadata: " + line;
      t.name = decodeName(t.name);
      for (int i = 0; i < rank; ++i) {
        int64_t d = -1;
        ls >> d;
        if (d < 0)
          return "bad shape in the metadata: " + line;
        t.shape.push_back(d);
      }
      if (kind == "weight")
        ls >> t.offset >> t.bytes;
      if (!ls)
        return "truncated metadata line: " + line;
      (kind == "input"    ? m.inputs
       : kind == "output" ? m.outputs
                          : m.weights)
          .push_back(std::move(t));
    } else if (kind == "gpu" || kind == "gpu-kernel") {
      if (kind == "gpu-kernel" && m.gpu.chip.empty())
        return "gpu-kernel line before the gpu line in the metadata";
      std::string message = parseGpuLine(line, m.gpu);
      if (!message.empty())
        return message;
    }
  }
  if (!versionSeen)
    return "model.so carries no Lowbit metadata header";
  return "";
}

/// The value of `"key": value` in the manifest text (a number, or a string
/// without its quotes); false when the key is missing.
bool lowbit_runtime::manifestField(const std::string &text, const char *key,
                                   std::string &value) {
  std::string k = std::string("\"") + key + "\":";
  size_t at = text.find(k);
  if (at == std::string::npos)
    return false;
  at += k.size();
  while (at < text.size() && (text[at] == ' ' || text[at] == '\n'))
    ++at;
  bool quoted = at < text.size() && text[at] == '"';
  size_t end = at + quoted;
  while (end < text.size() &&
         (quoted ? text[end] != '"'
                 : (text[end] != ',' && text[end] != '\n' && text[end] != '}' &&
                    text[end] != ' ')))
    ++end;
  value = text.substr(at + quoted, end - at - quoted);
  return true;
}

std::string lowbit_runtime::checkManifest(const std::string &text,
                                          const std::string &path) {
  if (text.find("\"lowbit-artifact\"") == std::string::npos)
    return path + ": manifest.json is not a Lowbit manifest";
  std::string version;
  if (!manifestField(text, "format_version", version) ||
      version != std::to_string(LOWBIT_ARTIFACT_FORMAT_VERSION))
    return path + ": manifest of artifact format version " +
           (version.empty() ? std::string("?") : version) +
           " (this runtime reads version " +
           std::to_string(LOWBIT_ARTIFACT_FORMAT_VERSION) +
           "); recompile the model";
  return "";
}

std::string lowbit_runtime::checkManifestMatches(const std::string &text,
                                                 const std::string &path,
                                                 const Metadata &metadata) {
  std::string bytes, hash;
  char want[32];
  snprintf(want, sizeof want, "0x%016llx",
           (unsigned long long)metadata.weightsHash);
  if (!manifestField(text, "file_bytes", bytes) ||
      bytes != std::to_string(metadata.weightsSize) ||
      !manifestField(text, "fingerprint", hash) || hash != want)
    return path + " and model.so are of different compiles (weights size "
                  "or fingerprint differ); recompile the model";
  for (const Tensor &w : metadata.weights)
    if (w.offset % LOWBIT_WEIGHTS_ALIGNMENT || w.bytes > metadata.weightsSize ||
        w.offset > metadata.weightsSize - w.bytes)
      return "weight '" + w.name + "' lies outside " + metadata.weightsFile;
  return "";
}
