//===- StagedOutput.cpp - All of an artifact, or none of it -----*- C++ -*-===//

#include "StagedOutput.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <vector>

using namespace mlir;
using namespace mlir::lowbit;

/// The files an artifact can hold, in the order they move into -o: the
/// runtime opens manifest.json and model.so, which must come last.
static const char *const kArtifactFiles[] = {
    "weights.bin",       "model.ptx",
    "model.cubin",       "model.ptxas.txt",
    "model.ll",          "lowbit_wrapper.c",
    "quant-report.json", "recipe.allocated.yaml",
    "model.so",          "manifest.json"};

static std::string join(StringRef dir, StringRef file) {
  SmallString<256> p(dir);
  llvm::sys::path::append(p, file);
  return std::string(p);
}

/// Staging directories of compiles to `out` whose process is gone.
static void removeAbandoned(StringRef out) {
  StringRef parent = llvm::sys::path::parent_path(out);
  std::string prefix = (llvm::sys::path::filename(out) + ".partial-").str();
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(parent.empty() ? "." : parent, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (!name.starts_with(prefix))
      continue;
    unsigned pid = 0;
    if (name.drop_front(prefix.size()).getAsInteger(10, pid) || pid == 0)
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      llvm::sys::fs::remove_directories(it->path());
  }
}

FailureOr<StagedOutput> StagedOutput::create(StringRef out, Location loc) {
  std::string target = out.rtrim('/').str();
  if (target.empty())
    target = out.str();
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(target, status) &&
      status.type() != llvm::sys::fs::file_type::directory_file)
    return emitError(loc) << target
                          << " exists and is not a directory: -o names the "
                             "artifact directory";
  removeAbandoned(target);
  std::string staging =
      target + ".partial-" + std::to_string(llvm::sys::Process::getProcessId());
  llvm::sys::fs::remove_directories(staging);
  if (std::error_code ec = llvm::sys::fs::create_directories(staging))
    return emitError(loc) << "cannot create " << staging << ": "
                          << ec.message();
  return StagedOutput(target, staging);
}

StagedOutput::StagedOutput(StagedOutput &&other) noexcept
    : out(std::move(other.out)), staging(std::move(other.staging)) {
  other.staging.clear();
}

StagedOutput::~StagedOutput() {
  if (!staging.empty())
    llvm::sys::fs::remove_directories(staging);
}

LogicalResult StagedOutput::commit(Location loc) {
  if (std::error_code ec = llvm::sys::fs::create_directories(out))
    return emitError(loc) << "cannot create " << out << ": " << ec.message();
  // Everything staged: the known files in their order, anything else
  // (none today) before them.
  std::vector<std::string> staged;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(staging, ec), end; !ec && it != end;
       it.increment(ec))
    staged.push_back(llvm::sys::path::filename(it->path()).str());
  if (ec)
    return emitError(loc) << "cannot list " << staging << ": " << ec.message();
  auto rank = [](const std::string &name) {
    auto *it =
        std::find_if(std::begin(kArtifactFiles), std::end(kArtifactFiles),
                     [&](const char *f) { return name == f; });
    return it - std::begin(kArtifactFiles);
  };
  std::stable_sort(staged.begin(), staged.end(),
                   [&](const std::string &a, const std::string &b) {
                     return rank(a) < rank(b);
                   });
  // Files of a previous artifact this compile does not replace go first: a
  // stale model.ptx must not sit beside a new CPU model.so.
  for (const char *f : kArtifactFiles)
    if (!llvm::is_contained(staged, f))
      llvm::sys::fs::remove(join(out, f));
  for (const std::string &name : staged)
    if (std::error_code rc =
            llvm::sys::fs::rename(join(staging, name), join(out, name)))
      return emitError(loc) << "cannot move " << name << " into " << out << ": "
                            << rc.message();
  llvm::sys::fs::remove_directories(staging);
  staging.clear();
  return success();
}
