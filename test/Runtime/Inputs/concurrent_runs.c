/* Runs one model from 4 threads at once, 25 runs each, every thread with
 * its own inputs, and checks each result against the serial one (runtime.h
 * promises concurrent lowbit_model_run calls are safe). Built with
 * ThreadSanitizer together with the runtime's sources by
 * test/Runtime/concurrent-runs-tsan.test; the generated model.so is not
 * instrumented. Usage: concurrent_runs ARTIFACT_DIR */
#include "lowbit/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kThreads = 4, kRuns = 25 };

static lowbit_model *model;
static float *inputs[kThreads], *wanted[kThreads];
static size_t inCount, outCount;
static int failures;
static pthread_mutex_t failuresLock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  int t = (int)(size_t)arg;
  float *out = malloc(outCount * sizeof(float));
  char err[512];
  for (int r = 0; r < kRuns; ++r) {
    const void *in[1] = {inputs[t]};
    void *outs[1] = {out};
    int bad = lowbit_model_run(model, in, outs, 1, err, sizeof err) != 0 ||
              memcmp(out, wanted[t], outCount * sizeof(float)) != 0;
    if (bad) {
      pthread_mutex_lock(&failuresLock);
      ++failures;
      pthread_mutex_unlock(&failuresLock);
    }
  }
  free(out);
  return NULL;
}

int main(int argc, char **argv) {
  char err[512];
  if (argc != 2 || lowbit_model_load(argv[1], &model, err, sizeof err)) {
    fprintf(stderr, "load: %s\n", argc == 2 ? err : "usage");
    return 1;
  }
  if (lowbit_model_num_inputs(model) != 1 ||
      lowbit_model_num_outputs(model) != 1) {
    fprintf(stderr, "expected one input and one output\n");
    return 1;
  }
  inCount = (size_t)lowbit_model_input(model, 0)->num_elements;
  outCount = (size_t)lowbit_model_output(model, 0)->num_elements;
  for (int t = 0; t < kThreads; ++t) {
    inputs[t] = malloc(inCount * sizeof(float));
    wanted[t] = malloc(outCount * sizeof(float));
    for (size_t i = 0; i < inCount; ++i)
      inputs[t][i] = (float)((int)((i * 7 + t * 13) % 17) - 8) / 8.0f;
    const void *in[1] = {inputs[t]};
    void *outs[1] = {wanted[t]};
    if (lowbit_model_run(model, in, outs, 1, err, sizeof err)) {
      fprintf(stderr, "run: %s\n", err);
      return 1;
    }
  }
  pthread_t threads[kThreads];
  for (int t = 0; t < kThreads; ++t)
    pthread_create(&threads[t], NULL, worker, (void *)(size_t)t);
  for (int t = 0; t < kThreads; ++t)
    pthread_join(threads[t], NULL);
  printf("%d threads x %d runs: %d results differ from the serial ones\n",
         kThreads, kRuns, failures);
  for (int t = 0; t < kThreads; ++t) {
    free(inputs[t]);
    free(wanted[t]);
  }
  lowbit_model_free(model);
  return failures != 0;
}
