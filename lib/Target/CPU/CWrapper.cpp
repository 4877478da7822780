//===- CWrapper.cpp - The C side of an artifact -----------------*- C++ -*-===//
//
// Generates the C source linked into model.so beside the compiled model:
// the metadata the runtime reads, the entry taking descriptor pointers, the
// caching allocator the generated code calls, and memrefCopy.
//
//===----------------------------------------------------------------------===//

#include "CWrapper.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {

/// The allocator the generated code calls (finalize-memref-to-llvm with
/// generic functions): 64-byte aligned blocks, rounded up to 4 KiB classes
/// above 4 KiB, and freed blocks kept per class for the next run. Memory
/// stays at the peak of one run until the runtime unloads the model and
/// calls lowbit_release_memory (documented in docs/compile-and-run.md).
constexpr const char *kAllocatorSource = R"c(
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#define LOWBIT_CLASSES 4096
typedef struct lowbit_block { struct lowbit_block *next; size_t size; } lowbit_block;
static struct { size_t size; lowbit_block *free; } lowbit_cache[LOWBIT_CLASSES];
static pthread_mutex_t lowbit_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t lowbit_round(size_t n) {
  return n <= 4096 ? (n + 63) & ~(size_t)63 : (n + 4095) & ~(size_t)4095;
}
static void *lowbit_alloc(size_t n) {
  size_t size = lowbit_round(n ? n : 1);
  pthread_mutex_lock(&lowbit_lock);
  for (int i = 0; i < LOWBIT_CLASSES && lowbit_cache[i].size; ++i)
    if (lowbit_cache[i].size == size && lowbit_cache[i].free) {
      lowbit_block *b = lowbit_cache[i].free;
      lowbit_cache[i].free = b->next;
      pthread_mutex_unlock(&lowbit_lock);
      return (char *)b + 64;
    }
  pthread_mutex_unlock(&lowbit_lock);
  void *p = 0;
  if (posix_memalign(&p, 64, size + 64))
    return 0;
  ((lowbit_block *)p)->size = size;
  return (char *)p + 64;
}
void *_mlir_memref_to_llvm_alloc(size_t n) { return lowbit_alloc(n); }
void *_mlir_memref_to_llvm_aligned_alloc(size_t align, size_t n) {
  (void)align; /* every block is 64-byte aligned */
  return lowbit_alloc(n);
}
/* memref.copy between non-contiguous layouts (what MLIR's runner utils
   provide as memrefCopy): an element-by-element strided copy. */
typedef struct { int64_t rank; void *descriptor; } lowbit_unranked;
void memrefCopy(int64_t elem, lowbit_unranked *src, lowbit_unranked *dst) {
  int64_t rank = src->rank;
  int64_t *s = (int64_t *)src->descriptor, *d = (int64_t *)dst->descriptor;
  char *sp = (char *)s[1] + s[2] * elem, *dp = (char *)d[1] + d[2] * elem;
  int64_t *sizes = s + 3, *ss = s + 3 + rank, *ds = d + 3 + rank;
  int64_t total = 1, index[64] = {0};
  for (int64_t i = 0; i < rank; ++i)
    total *= sizes[i];
  if (total == 0)
    return;
  if (rank == 0) {
    memcpy(dp, sp, elem);
    return;
  }
  /* Unit dimensions are dropped; the innermost remaining one is the row. A
     row contiguous on both sides is one memcpy; otherwise a strided loop. */
  int64_t dims[64], sst[64], tst[64], r = 0;
  for (int64_t i = 0; i < rank && r < 64; ++i)
    if (sizes[i] != 1) {
      dims[r] = sizes[i];
      sst[r] = ss[i];
      tst[r] = ds[i];
      ++r;
    }
  if (r == 0) {
    memcpy(dp, sp, elem);
    return;
  }
  int64_t inner = dims[r - 1], is = sst[r - 1] * elem, id = tst[r - 1] * elem;
  int contiguous = sst[r - 1] == 1 && tst[r - 1] == 1;
  int64_t rows = total / inner, so = 0, dof = 0;
  for (int64_t row = 0; row < rows; ++row) {
    char *s0 = sp + so * elem, *d0 = dp + dof * elem;
    if (contiguous)
      memcpy(d0, s0, inner * elem);
    else if (elem == 4)
      for (int64_t k = 0; k < inner; ++k)
        *(uint32_t *)(d0 + k * id) = *(const uint32_t *)(s0 + k * is);
    else
      for (int64_t k = 0; k < inner; ++k)
        memcpy(d0 + k * id, s0 + k * is, elem);
    /* Odometer over the outer dimensions, offsets kept incrementally. */
    for (int64_t i = r - 2; i >= 0; --i) {
      so += sst[i];
      dof += tst[i];
      if (++index[i] < dims[i])
        break;
      so -= sst[i] * dims[i];
      dof -= tst[i] * dims[i];
      index[i] = 0;
    }
  }
}
void _mlir_memref_to_llvm_free(void *q) {
  if (!q)
    return;
  lowbit_block *b = (lowbit_block *)((char *)q - 64);
  pthread_mutex_lock(&lowbit_lock);
  int i = 0;
  while (i < LOWBIT_CLASSES && lowbit_cache[i].size && lowbit_cache[i].size != b->size)
    ++i;
  if (i == LOWBIT_CLASSES) {
    pthread_mutex_unlock(&lowbit_lock);
    free(b);
    return;
  }
  lowbit_cache[i].size = b->size;
  b->next = lowbit_cache[i].free;
  lowbit_cache[i].free = b;
  pthread_mutex_unlock(&lowbit_lock);
}
/* The runtime calls this when it unloads the model: the cached blocks go
   back to the system. */
void lowbit_release_memory(void) {
  pthread_mutex_lock(&lowbit_lock);
  for (int i = 0; i < LOWBIT_CLASSES && lowbit_cache[i].size; ++i)
    while (lowbit_cache[i].free) {
      lowbit_block *b = lowbit_cache[i].free;
      lowbit_cache[i].free = b->next;
      free(b);
    }
  pthread_mutex_unlock(&lowbit_lock);
}
)c";

} // namespace

/// The GPU launch hook: model.so is loaded RTLD_LOCAL, so it cannot call
/// the runtime by name; the runtime hands it a function pointer instead.
/// After a failed launch the hook skips the rest of the run and the
/// runtime reports the first error.
constexpr const char *kGPUHookSource = R"c(
typedef int (*lowbit_gpu_hook_fn)(void *state, int64_t kernel,
                                  const uintptr_t *args);
static lowbit_gpu_hook_fn lowbit_gpu_hook;
static void *lowbit_gpu_state;
void lowbit_set_gpu_hook(lowbit_gpu_hook_fn hook, void *state) {
  lowbit_gpu_hook = hook;
  lowbit_gpu_state = state;
}
void lowbit_gpu_launch(int64_t kernel, const uintptr_t *args) {
  if (lowbit_gpu_hook)
    lowbit_gpu_hook(lowbit_gpu_state, kernel, args);
}
)c";

std::string mlir::lowbit::generateCWrapper(StringRef entry, unsigned numArgs,
                                           StringRef metadata, bool gpu) {
  std::string wrapper;
  llvm::raw_string_ostream c(wrapper);
  c << "/* Generated by quant-compile: the artifact's C interface. */\n";
  c << "extern void _mlir_ciface_" << entry << "(";
  for (unsigned i = 0; i < numArgs; ++i)
    c << (i ? ", " : "") << "void *";
  c << ");\n";
  c << "const char *lowbit_metadata(void) {\n  return \"";
  for (char ch : metadata) {
    if (ch == '\n')
      c << "\\n\"\n    \"";
    else if (ch == '"' || ch == '\\')
      c << '\\' << ch;
    else if ((unsigned char)ch < 32 || (unsigned char)ch > 126)
      c << llvm::formatv("\\{0:o3}", (unsigned)(unsigned char)ch);
    else
      c << ch;
  }
  c << "\";\n}\n";
  c << kAllocatorSource;
  if (gpu)
    c << kGPUHookSource;
  c << "void lowbit_entry(void **d) {\n  _mlir_ciface_" << entry << "(";
  for (unsigned i = 0; i < numArgs; ++i)
    c << (i ? ", " : "") << "d[" << i << "]";
  c << ");\n}\n";
  return wrapper;
}
