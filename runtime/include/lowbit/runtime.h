/*===- runtime.h - Lowbit's C runtime ------------------------------*- C
 *-*-===//
 *
 * Loads a Lowbit artifact (a directory written by quant-compile: model.so,
 * weights.bin, manifest.json), describes its inputs and outputs, and runs it.
 *
 *   lowbit_model *m;
 *   char err[512];
 *   if (lowbit_model_load("out/", &m, err, sizeof err)) { puts(err); ... }
 *   const void *in[] = {input_ids};
 *   void *out[] = {logits};               // caller-allocated, dense
 *   lowbit_model_run(m, in, out, 2, err, sizeof err);
 *   lowbit_model_free(m);
 *
 * No global state: each model owns its library handle and its weights, so
 * two models (even two copies of one) can be loaded in one process. A model
 * may be run from several threads at once.
 *
 * Weights: weights.bin is mapped read-only and checked (its size, and an
 * XXH64 hash of its whole content against the one compiled into model.so:
 * ~10 GB/s, skippable with skip_weights_hash), then copied into
 * anonymous memory on 2 MiB (transparent huge) pages, where weight-streaming
 * kernels read ~1.5x faster from DRAM than from the file's 4 KiB pages.
 * LOWBIT_WEIGHTS_MMAP in the load options keeps the file mapping instead
 * (nothing copied; pages shared between processes and loads).
 *
 * The runtime reads no environment variables: what a load may change is in
 * lowbit_load_options. The tools (quant-run) and the Python package map
 * their LOWBIT_* environment variables onto it.
 *
 * Every function returning int returns 0 on success and non-zero on error,
 * with a message in `err` (if not null).
 *
 *===----------------------------------------------------------------------===*/

#ifndef LOWBIT_RUNTIME_H
#define LOWBIT_RUNTIME_H

#include "lowbit/artifact.h"

#include <stddef.h>
#include <stdint.h>

#if defined(LOWBIT_RUNTIME_BUILD)
#define LOWBIT_API __attribute__((visibility("default")))
#else
#define LOWBIT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lowbit_model lowbit_model;

/** Description of one input or output tensor (valid while the model lives).
 * dtype: "f32", "f16", "bf16", "f64", "i8".."i64", "u8".."u64", "bool". */
typedef struct {
  const char *name;
  const char *dtype;
  int32_t rank;
  const int64_t *shape;
  int64_t element_bytes;
  int64_t num_elements;
} lowbit_tensor_info;

/** Bytes per element of an artifact dtype name ("f32", "u8", ...); 0 for an
 * unknown name (artifact.h's table, exported for bindings). */
LOWBIT_API int64_t lowbit_dtype_bytes(const char *dtype);
/** The number of artifact dtypes, and dtype `i`'s name, kind ('f' float,
 * 'b' bfloat, 'i' signed, 'u' unsigned, '?' bool) and bits; non-zero if `i`
 * is out of range. For bindings that cannot include artifact.h. */
LOWBIT_API int32_t lowbit_num_dtypes(void);

/** 1 if this CPU has the feature LLVM calls `name` (cpu_features.h), 0 if
 * not, -1 if this runtime does not know the name. For bindings that cannot
 * include cpu_features.h. */
LOWBIT_API int lowbit_cpu_has_feature_named(const char *name);
LOWBIT_API int lowbit_dtype_at(int32_t i, const char **name, char *kind,
                               int32_t *bits);

/** Where the weights live after the load. */
typedef enum {
  /** Copied to anonymous 2 MiB pages (the default; fastest from DRAM). */
  LOWBIT_WEIGHTS_HUGE_PAGES = 0,
  /** weights.bin stays mapped (nothing copied; pages shared). */
  LOWBIT_WEIGHTS_MMAP = 1,
} lowbit_weights_mode;

/** Where CUDA artifacts run their kernels. */
typedef enum {
  /** On the GPU (the load fails without a usable one). */
  LOWBIT_GPU_CUDA = 0,
  /** Each kernel's reference on the CPU (slow; no GPU needed). */
  LOWBIT_GPU_CPU_REFERENCE = 1,
} lowbit_gpu_mode;

/** What a load may change. Initialize with lowbit_load_options_init. */
typedef struct {
  /** sizeof(lowbit_load_options), set by lowbit_load_options_init: a later
   * runtime reads only the fields a caller's struct has. */
  size_t struct_size;
  lowbit_weights_mode weights;
  /** Stands in for this CPU's features, by LLVM's names as the manifest's
   * required_features lists them ("avx avx2 fma f16c", spaces or commas);
   * null: the CPU's own (cpu_features.h). Tests use it to check the
   * refusal, deployments to forbid features on purpose. */
  const char *cpu_features;
  lowbit_gpu_mode gpu;
  /** CUDA device ordinal. */
  int32_t cuda_device;
  /** The driver library to dlopen; null: libcuda.so.1, then libcuda.so. */
  const char *cuda_driver;
  /** Time every kernel launch with CUDA events (lowbit_model_gpu_kernel_
   * stats); 0: off. */
  int32_t gpu_timing;
  /** 1: do not hash weights.bin at load (its size is still checked): for
   * huge files on slow disks, where the hash would read every page before
   * the first run. Corruption inside the file then goes unnoticed. */
  int32_t skip_weights_hash;
} lowbit_load_options;

/** The defaults: huge pages, real CPU flags, GPU 0, no timing. */
LOWBIT_API void lowbit_load_options_init(lowbit_load_options *options);

/** Loads the artifact in directory `dir` with `options` (null: the
 * defaults). Checks the format version, the CPU features it was compiled
 * for, and that weights.bin matches. */
LOWBIT_API int
lowbit_model_load_with_options(const char *dir,
                               const lowbit_load_options *options,
                               lowbit_model **model, char *err, size_t err_len);
/** lowbit_model_load_with_options with the defaults. */
LOWBIT_API int lowbit_model_load(const char *dir, lowbit_model **model,
                                 char *err, size_t err_len);

LOWBIT_API int32_t lowbit_model_num_inputs(const lowbit_model *model);
LOWBIT_API int32_t lowbit_model_num_outputs(const lowbit_model *model);
/** Info of input/output `i`; null if out of range. */
LOWBIT_API const lowbit_tensor_info *
lowbit_model_input(const lowbit_model *model, int32_t i);
LOWBIT_API const lowbit_tensor_info *
lowbit_model_output(const lowbit_model *model, int32_t i);
/** The target triple and CPU the artifact was compiled for. */
LOWBIT_API const char *lowbit_model_target(const lowbit_model *model);

/** Runs the model: `inputs[i]` and `outputs[i]` point to dense row-major
 * buffers of the described shapes and dtypes (outputs written). Up to
 * `num_threads` threads (<= 0: all cores). */
LOWBIT_API int lowbit_model_run(lowbit_model *model, const void *const *inputs,
                                void *const *outputs, int32_t num_threads,
                                char *err, size_t err_len);

/** CUDA artifacts: the number of kernels in the launch table (0 for CPU
 * artifacts). */
LOWBIT_API int32_t lowbit_model_gpu_num_kernels(const lowbit_model *model);
/** Kernel `i`'s name, launches so far and their total time in ms: device
 * time between CUDA events around each launch when the model was loaded
 * with `gpu_timing` (wall time of the CPU reference with
 * LOWBIT_GPU_CPU_REFERENCE), else 0. Returns non-zero if `i` is out of
 * range. */
LOWBIT_API int lowbit_model_gpu_kernel_stats(const lowbit_model *model,
                                             int32_t i, const char **name,
                                             int64_t *launches, double *ms);

/** CUDA artifacts: run every kernel launch through `launcher(user, kernel,
 * args)` instead of the GPU or the CPU fallback (`args`: the aligned host
 * pointers of the kernel's arguments, in launch-table order; a non-zero
 * return fails the run). For emulators and tests; null restores the
 * default. Returns non-zero for CPU artifacts. */
typedef int (*lowbit_gpu_launcher)(void *user, int64_t kernel,
                                   const uintptr_t *args);
LOWBIT_API int lowbit_model_set_gpu_launcher(lowbit_model *model,
                                             lowbit_gpu_launcher launcher,
                                             void *user);

LOWBIT_API void lowbit_model_free(lowbit_model *model);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_RUNTIME_H */
