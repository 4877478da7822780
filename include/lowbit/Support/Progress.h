//===- Progress.h - Progress bars for long work -----------------*- C++ -*-===//
//
// `[=========>        ] 37/128 samples  0:41 left` on stderr, redrawn in
// place on a terminal and printed every 10% otherwise (logs, CI). Whoever
// owns the work says whether to draw (a pass or calibration option that the
// driver sets), so passes under quant-opt and lit stay quiet.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_PROGRESS_H
#define LOWBIT_SUPPORT_PROGRESS_H

#include "llvm/ADT/StringRef.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace mlir::lowbit {

class Progress {
public:
  /// A bar over `total` items of `unit`; draws nothing unless `enabled`.
  Progress(bool enabled, llvm::StringRef what, int64_t total,
           llvm::StringRef unit);
  ~Progress();
  /// Marks `n` more items done (thread-safe).
  void advance(int64_t n = 1);

private:
  void draw(bool final);
  std::string what, unit;
  int64_t total, done = 0;
  int lastDecile = -1;
  std::chrono::steady_clock::time_point start;
  std::mutex mutex;
};

} // namespace mlir::lowbit

#endif // LOWBIT_SUPPORT_PROGRESS_H
