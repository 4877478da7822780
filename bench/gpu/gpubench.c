/* Times, on an NVIDIA GPU, what bench/gpu/run.py tabulates. It needs no
 * CUDA headers or libraries at build time: the driver and cuBLAS are loaded
 * with dlopen, as the runtime does.
 *
 *   gpubench model ARTIFACT [ITERS]   per-kernel average device time (us) of
 *                                     a CUDA artifact (loaded with gpu_timing)
 *   gpubench hbm [MIB]                device-to-device copy bandwidth (GB/s,
 *                                     bytes read + written)
 *   gpubench cublas M K N [ITERS]     cublasGemmEx FP16 x FP16 -> FP16 with
 *                                     f32 accumulation, y[M,N] = x[M,K] W[K,N]
 *
 * Output lines: "kernel NAME LAUNCHES US", "hbm GBPS", "cublas M K N US".
 */
#include "lowbit/runtime.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext;
typedef void *CUevent;

static struct {
  CUresult (*init)(unsigned);
  CUresult (*deviceGet)(int *, int);
  CUresult (*primaryCtxRetain)(CUcontext *, int);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*memcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventRecord)(CUevent, void *);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent);
} cu;

static void die(const char *what) {
  fprintf(stderr, "gpubench: %s\n", what);
  exit(1);
}

static void *sym(void *lib, const char *name, const char *alt) {
  void *p = dlsym(lib, name);
  if (!p && alt)
    p = dlsym(lib, alt);
  if (!p) {
    fprintf(stderr, "gpubench: %s missing from the driver\n", name);
    exit(1);
  }
  return p;
}

static void check(CUresult rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "gpubench: %s failed (CUDA error %d)\n", what, rc);
    exit(1);
  }
}

/* The driver, a context on GPU 0 and two events. */
static void openDriver(CUevent *start, CUevent *stop) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    die("no NVIDIA driver (libcuda.so.1)");
  *(void **)&cu.init = sym(lib, "cuInit", 0);
  *(void **)&cu.deviceGet = sym(lib, "cuDeviceGet", 0);
  *(void **)&cu.primaryCtxRetain = sym(lib, "cuDevicePrimaryCtxRetain", 0);
  *(void **)&cu.ctxSetCurrent = sym(lib, "cuCtxSetCurrent", 0);
  *(void **)&cu.memAlloc = sym(lib, "cuMemAlloc_v2", 0);
  *(void **)&cu.memsetD8 = sym(lib, "cuMemsetD8_v2", 0);
  *(void **)&cu.memcpyDtoD = sym(lib, "cuMemcpyDtoD_v2", 0);
  *(void **)&cu.eventCreate = sym(lib, "cuEventCreate", 0);
  *(void **)&cu.eventRecord = sym(lib, "cuEventRecord", 0);
  *(void **)&cu.eventSynchronize = sym(lib, "cuEventSynchronize", 0);
  *(void **)&cu.eventElapsedTime =
      sym(lib, "cuEventElapsedTime_v2", "cuEventElapsedTime");
  int dev = 0;
  CUcontext ctx = 0;
  check(cu.init(0), "cuInit");
  check(cu.deviceGet(&dev, 0), "cuDeviceGet");
  check(cu.primaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  check(cu.ctxSetCurrent(ctx), "cuCtxSetCurrent");
  check(cu.eventCreate(start, 0), "cuEventCreate");
  check(cu.eventCreate(stop, 0), "cuEventCreate");
}

static CUdeviceptr deviceZeros(size_t bytes) {
  CUdeviceptr p = 0;
  check(cu.memAlloc(&p, bytes), "cuMemAlloc");
  check(cu.memsetD8(p, 0, bytes), "cuMemsetD8");
  return p;
}

static int benchModel(const char *dir, int iters) {
  lowbit_load_options options;
  lowbit_load_options_init(&options);
  options.gpu_timing = 1;
  char err[1024];
  lowbit_model *m;
  if (lowbit_model_load_with_options(dir, &options, &m, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  int ni = lowbit_model_num_inputs(m), no = lowbit_model_num_outputs(m);
  void **in = calloc(ni, sizeof *in), **out = calloc(no, sizeof *out);
  srand(1);
  for (int i = 0; i < ni; ++i) {
    const lowbit_tensor_info *t = lowbit_model_input(m, i);
    in[i] = calloc(t->num_elements ? t->num_elements : 1, t->element_bytes);
    if (strcmp(t->dtype, "f32") == 0)
      for (int64_t e = 0; e < t->num_elements; ++e)
        ((float *)in[i])[e] = (float)rand() / RAND_MAX * 2 - 1;
  }
  for (int i = 0; i < no; ++i) {
    const lowbit_tensor_info *t = lowbit_model_output(m, i);
    out[i] = calloc(t->num_elements ? t->num_elements : 1, t->element_bytes);
  }
  int kernels = lowbit_model_gpu_num_kernels(m);
  int64_t *warmLaunches = calloc(kernels ? kernels : 1, sizeof(int64_t));
  double *warmMs = calloc(kernels ? kernels : 1, sizeof(double));
  for (int r = 0; r < 3; ++r)
    if (lowbit_model_run(m, (const void *const *)in, out, 0, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
  for (int k = 0; k < kernels; ++k)
    lowbit_model_gpu_kernel_stats(m, k, 0, &warmLaunches[k], &warmMs[k]);
  for (int r = 0; r < iters; ++r)
    if (lowbit_model_run(m, (const void *const *)in, out, 0, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
  for (int k = 0; k < kernels; ++k) {
    const char *name;
    int64_t launches;
    double ms;
    lowbit_model_gpu_kernel_stats(m, k, &name, &launches, &ms);
    launches -= warmLaunches[k];
    ms -= warmMs[k];
    printf("kernel %s %lld %.3f\n", name, (long long)launches,
           launches ? ms * 1000 / launches : 0.0);
  }
  lowbit_model_free(m);
  return 0;
}

static int benchCopy(size_t mib) {
  CUevent start, stop;
  openDriver(&start, &stop);
  size_t bytes = mib << 20;
  CUdeviceptr a = deviceZeros(bytes), b = deviceZeros(bytes);
  check(cu.memcpyDtoD(b, a, bytes), "cuMemcpyDtoD"); /* warm-up */
  const int reps = 10;
  check(cu.eventRecord(start, 0), "cuEventRecord");
  for (int r = 0; r < reps; ++r)
    check(cu.memcpyDtoD(b, a, bytes), "cuMemcpyDtoD");
  check(cu.eventRecord(stop, 0), "cuEventRecord");
  check(cu.eventSynchronize(stop), "cuEventSynchronize");
  float ms = 0;
  check(cu.eventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
  printf("hbm %.1f\n", 2.0 * bytes * reps / (ms * 1e-3) / 1e9);
  return 0;
}

static int benchCublas(int m, int k, int n, int iters) {
  CUevent start, stop;
  openDriver(&start, &stop);
  const char *names[] = {"libcublas.so.13", "libcublas.so.12",
                         "libcublas.so.11", "libcublas.so"};
  void *lib = 0;
  for (unsigned i = 0; i < sizeof names / sizeof *names && !lib; ++i)
    lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    die("no cuBLAS (libcublas.so.*)");
  int (*create)(void **) = (int (*)(void **))dlsym(lib, "cublasCreate_v2");
  int (*gemmEx)(void *, int, int, int, int, int, const void *, const void *,
                int, int, const void *, int, int, const void *, void *, int,
                int, int, int) =
      (int (*)(void *, int, int, int, int, int, const void *, const void *, int,
               int, const void *, int, int, const void *, void *, int, int, int,
               int))dlsym(lib, "cublasGemmEx");
  void *handle = 0;
  if (!create || !gemmEx || create(&handle) != 0)
    die("cublasCreate failed");
  const int R16F = 2, COMPUTE32F = 68, DEFAULT_ALGO = -1, OP_N = 0;
  CUdeviceptr x = deviceZeros((size_t)m * k * 2);
  CUdeviceptr w = deviceZeros((size_t)k * n * 2);
  CUdeviceptr y = deviceZeros((size_t)m * n * 2);
  float alpha = 1, beta = 0;
  /* Row-major y = x W is column-major y^T = W^T x^T. */
#define GEMM()                                                                 \
  gemmEx(handle, OP_N, OP_N, n, m, k, &alpha, (void *)w, R16F, n, (void *)x,   \
         R16F, k, &beta, (void *)y, R16F, n, COMPUTE32F, DEFAULT_ALGO)
  for (int r = 0; r < 3; ++r)
    if (GEMM() != 0)
      die("cublasGemmEx failed");
  check(cu.eventRecord(start, 0), "cuEventRecord");
  for (int r = 0; r < iters; ++r)
    GEMM();
  check(cu.eventRecord(stop, 0), "cuEventRecord");
  check(cu.eventSynchronize(stop), "cuEventSynchronize");
#undef GEMM
  float ms = 0;
  check(cu.eventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
  printf("cublas %d %d %d %.3f\n", m, k, n, ms * 1000 / iters);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "model") == 0)
    return benchModel(argv[2], argc > 3 ? atoi(argv[3]) : 50);
  if (argc >= 2 && strcmp(argv[1], "hbm") == 0)
    return benchCopy(argc > 2 ? (size_t)atoi(argv[2]) : 1024);
  if (argc >= 5 && strcmp(argv[1], "cublas") == 0)
    return benchCublas(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                       argc > 5 ? atoi(argv[5]) : 50);
  fprintf(stderr,
          "usage: %s model ARTIFACT [ITERS] | hbm [MIB] | cublas M K N "
          "[ITERS]\n",
          argv[0]);
  return 2;
}
