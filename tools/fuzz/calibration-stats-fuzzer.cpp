//===- calibration-stats-fuzzer.cpp - libFuzzer: --calib-cache -*- C++ -*-===//
//
// Arbitrary bytes as a calibration statistics file (quant-compile
// --calib-cache, lowbit-attach-calibration): statistics whose every site has
// C x C finite Hessian entries, or an error naming the file. Nothing of a
// site's claimed size is allocated before the file is known to hold it.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  llvm::Expected<mlir::lowbit::CalibrationStats> stats =
      mlir::lowbit::CalibrationStats::parse(bytes, "fuzz.lbcal");
  if (!stats) {
    llvm::consumeError(stats.takeError());
    return 0;
  }
  for (const mlir::lowbit::SiteStats &s : stats->sites) {
    if (s.hessian.size() != static_cast<size_t>(s.channels * s.channels))
      abort();
    for (double h : s.hessian)
      if (!std::isfinite(h))
        abort();
  }
  return 0;
}
