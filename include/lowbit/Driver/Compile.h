//===- Compile.h - What quant-compile does, as a library --------*- C++ -*-===//
//
// One compile of a model: import (ONNX) or parse (MLIR), convert to core
// dialects, calibrate and quantize as a recipe says, and emit one of the
// phases:
//
//   mlir      the imported module (onnx.node ops)
//   core      after convert-onnx-to-core (linalg/tensor/arith/math)
//   lowbit    after calibration and quantization (lowbit ops)
//   llvm      after lowbit-cpu-pipeline (the LLVM dialect)
//   obj       the object file of a CPU target
//   artifact  the directory the runtime loads (the default)
//
// quant-compile parses its flags into CompileOptions and calls compileModel;
// Python and tests reach the same code through quant-compile.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_COMPILE_H
#define LOWBIT_DRIVER_COMPILE_H

#include "lowbit/Import/ONNX/Importer.h"
#include "lowbit/Quantization/Recipe.h"
#include "lowbit/Target/Artifact.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir {
class DialectRegistry;
class MLIRContext;
class PassManager;

namespace lowbit {

/// Where a compile stops (quant-compile --emit=).
enum class EmitPhase { MLIR, Core, Lowbit, LLVM, Obj, Artifact };

/// `mlir`, `core`, ... as an EmitPhase; std::nullopt for anything else.
std::optional<EmitPhase> parseEmitPhase(StringRef name);

struct CompileOptions {
  /// model.onnx (with its external data beside it) or core IR (.mlir).
  std::string input;
  /// The artifact's directory, or for the other phases a file ("-":
  /// stdout).
  std::string output;
  EmitPhase emit = EmitPhase::Artifact;
  /// Static input shapes and the other import choices.
  ONNXImportOptions import;
  /// The quantization recipe (flags over a file); none: float.
  std::optional<Recipe> recipe;
  /// Calibration inputs (.npy or a directory of <input>.npy) and the
  /// statistics cache (read if it exists, else written).
  std::string calibPath, calibCache;
  /// Threads of the calibration runs (0: all cores).
  int threads = 0;
  /// Where the quantization report (JSON) goes; empty: quant-report.json in
  /// the artifact, and none for the other phases.
  std::string reportPath;
  /// Progress bars and the per-layer table on the log.
  bool progress = true;
  /// Target, kernel choices, ptxas; `artifact.outDir` is `output`.
  ArtifactOptions artifact;
  /// Called on every pass manager of the compile before it runs (a
  /// driver's --mlir-print-ir-after-all, --mlir-timing, ...).
  std::function<LogicalResult(PassManager &)> configurePassManager;
};

/// The dialects and external models a compile needs.
void registerCompileDialects(DialectRegistry &registry);

/// Runs one compile. Diagnostics go to `ctx`'s handler, progress and the
/// summary to `log`. A failed compile removes model.so and manifest.json
/// from the artifact directory, so no half-written artifact loads.
LogicalResult compileModel(MLIRContext &ctx, const CompileOptions &options,
                           raw_ostream &log);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DRIVER_COMPILE_H
