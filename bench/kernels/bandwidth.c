/* Read bandwidth of this machine, measured beside the kernels: a sum over
 * a buffer (threads split it), the limit a weight-streaming GEMV can reach.
 * Built by bench/kernels/run.py with the system C compiler. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Seconds for one pass over `bytes` of `buf` with `threads` threads
 * (best of `reps`); the sum goes to *sink so that nothing is elided. */
double lowbit_bench_read(const uint8_t *buf, size_t bytes, int threads,
                         int reps, uint64_t *sink) {
  double best = 1e30;
  size_t words = bytes / 8;
  const uint64_t *p = (const uint64_t *)buf;
  for (int r = 0; r < reps; ++r) {
    uint64_t total = 0;
    double t0 = now();
#pragma omp parallel for num_threads(threads) reduction(+ : total)             \
    schedule(static)
    for (size_t i = 0; i < words; i += 8) {
      __builtin_prefetch(p + i + 512, 0, 2);
      total += p[i] + p[i + 1] + p[i + 2] + p[i + 3] + p[i + 4] + p[i + 5] +
               p[i + 6] + p[i + 7];
    }
    double t = now() - t0;
    if (t < best)
      best = t;
    *sink += total;
  }
  return best;
}
