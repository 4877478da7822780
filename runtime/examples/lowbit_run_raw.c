/* A minimal client of the runtime's C ABI (and the driver of the AArch64
 * tests under qemu): runs an artifact on raw little-endian input files and
 * writes raw output files.
 *
 *   lowbit_run_raw out/ in_0.bin [in_1.bin ...] -- out_0.bin [out_1.bin ...]
 */
#include "lowbit/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *read_exact(const char *path, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    exit(1);
  }
  void *data = malloc(bytes ? bytes : 1);
  size_t got = fread(data, 1, bytes, f);
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != bytes || extra) {
    fprintf(stderr, "%s: expected exactly %zu bytes\n", path, bytes);
    exit(1);
  }
  return data;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ARTIFACT in... -- out...\n", argv[0]);
    return 1;
  }
  char err[1024];
  lowbit_model *m;
  if (lowbit_model_load(argv[1], &m, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  int nin = lowbit_model_num_inputs(m), nout = lowbit_model_num_outputs(m);
  int sep = 2;
  while (sep < argc && strcmp(argv[sep], "--"))
    ++sep;
  if (sep - 2 != nin || argc - sep - 1 != nout) {
    fprintf(stderr, "the model takes %d inputs and %d outputs\n", nin, nout);
    return 1;
  }
  const void **in = calloc(nin + 1, sizeof *in);
  void **out = calloc(nout + 1, sizeof *out);
  for (int i = 0; i < nin; ++i) {
    const lowbit_tensor_info *t = lowbit_model_input(m, i);
    in[i] =
        read_exact(argv[2 + i], (size_t)(t->num_elements * t->element_bytes));
  }
  for (int i = 0; i < nout; ++i) {
    const lowbit_tensor_info *t = lowbit_model_output(m, i);
    out[i] = malloc((size_t)(t->num_elements * t->element_bytes) + 1);
  }
  if (lowbit_model_run(m, in, out, 1, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  for (int i = 0; i < nout; ++i) {
    const lowbit_tensor_info *t = lowbit_model_output(m, i);
    FILE *f = fopen(argv[sep + 1 + i], "wb");
    if (!f || fwrite(out[i], 1, (size_t)(t->num_elements * t->element_bytes),
                     f) != (size_t)(t->num_elements * t->element_bytes)) {
      fprintf(stderr, "%s: cannot write\n", argv[sep + 1 + i]);
      return 1;
    }
    fclose(f);
  }
  lowbit_model_free(m);
  return 0;
}
