//===- Progress.cpp - Progress bars for long work ---------------*- C++ -*-===//

#include "lowbit/Support/Progress.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::lowbit;

Progress::Progress(bool enabled, llvm::StringRef what, int64_t total,
                   llvm::StringRef unit)
    : what(what.str()), unit(unit.str()), total(enabled ? total : 0),
      start(std::chrono::steady_clock::now()) {
  if (this->total > 0)
    draw(false);
}

Progress::~Progress() {
  if (total > 0)
    draw(true);
}

void Progress::advance(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex);
  done += n;
  if (total > 0 && done < total)
    draw(false);
}

static std::string clock(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600),
             (long long)(s / 60 % 60), (long long)(s % 60));
  else
    snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60),
             (long long)(s % 60));
  return buf;
}

void Progress::draw(bool final) {
  llvm::raw_ostream &os = llvm::errs();
  bool tty = os.is_displayed();
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  int decile = static_cast<int>(10 * done / total);
  if (!tty && !final && decile == lastDecile)
    return;
  lastDecile = decile;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done / total);
  std::string bar(kWidth, ' ');
  for (int i = 0; i < filled; ++i)
    bar[i] = '=';
  if (filled < kWidth)
    bar[filled] = '>';
  std::string tail = final ? clock(elapsed) + " total"
                     : done > 0
                         ? clock(elapsed / done * (total - done)) + " left"
                         : "";
  os << (tty ? "\r" : "") << "  " << what << " [" << bar << "] " << done << "/"
     << total << " " << unit << "  " << tail << (tty && !final ? "   " : "\n");
  os.flush();
}
