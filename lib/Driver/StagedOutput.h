//===- StagedOutput.h - All of an artifact, or none of it -------*- C++ -*-===//
//
// quant-compile writes an artifact into a staging directory beside -o
// (`<out>.partial-<pid>`) and moves its files into -o only once every file
// is written and closed without error. A compile that fails (or is killed)
// leaves -o as it was; the staging directory is removed on failure, and one
// left by a killed compile is removed by the next compile to the same -o.
//
// The files move one rename at a time (each atomic), weights and GPU code
// first, model.so, then manifest.json; a reader between two renames sees
// files of two compiles, which the runtime refuses (the weights'
// fingerprint is compiled into model.so). Files of a previous artifact
// that this compile does not produce (model.ptx after a CPU compile) are
// removed; other files in -o are left alone.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_DRIVER_STAGEDOUTPUT_H
#define LOWBIT_LIB_DRIVER_STAGEDOUTPUT_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::lowbit {

class StagedOutput {
public:
  /// Prepares the staging directory for `out` (an error at `loc` if -o
  /// exists and is not a directory, or the staging directory cannot be
  /// made).
  static FailureOr<StagedOutput> create(StringRef out, Location loc);
  StagedOutput(StagedOutput &&other) noexcept;
  StagedOutput(const StagedOutput &) = delete;
  /// Removes the staging directory unless committed.
  ~StagedOutput();

  /// Where the compile writes.
  const std::string &directory() const { return staging; }
  /// Moves the staged files into -o.
  LogicalResult commit(Location loc);

private:
  StagedOutput(std::string out, std::string staging)
      : out(std::move(out)), staging(std::move(staging)) {}
  std::string out, staging;
};

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_DRIVER_STAGEDOUTPUT_H
