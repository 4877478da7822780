//===- runtime.cpp - Lowbit's C runtime -------------------------*- C++ -*-===//
//
// Loads an artifact: dlopen(model.so, RTLD_LOCAL) so that two models keep
// their symbols apart, parses the metadata text model.so carries, checks the
// version, the CPU features and weights.bin (size and fingerprint), maps
// weights.bin read-only (and by default copies it into huge pages), and
// calls `lowbit_entry` with memref descriptors for inputs, weights and
// outputs.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime.h"
#include "gpu.h"
#include "lowbit/cpu_features.h"
#include "metadata.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace {

int fail(char *err, size_t len, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return 1;
}

/// The features of `wanted` (LLVM's names) this CPU lacks, and those this
/// runtime cannot detect; against the load options' stand-in list (LLVM's
/// names separated by spaces or commas) when one is given.
void missingFeatures(const std::vector<std::string> &wanted,
                     const lowbit_load_options &options, std::string &missing,
                     std::string &unknown) {
  std::string standIn;
  if (options.cpu_features) {
    standIn = std::string(" ") + options.cpu_features + " ";
    for (char &c : standIn)
      if (c == ',' || c == '\t' || c == '\n')
        c = ' ';
  }
  for (const std::string &f : wanted) {
    int has = options.cpu_features
                  ? standIn.find(" " + f + " ") != std::string::npos
                  : lowbit_cpu_has_feature(f.c_str());
    std::string &list = has < 0 ? unknown : missing;
    if (has != 1)
      list += (list.empty() ? "" : ", ") + f;
  }
}

/// A read-only copy of `bytes` at `src` in anonymous memory aligned to and
/// advised for 2 MiB pages; null on failure. Weight streams read from
/// file-backed 4 KiB pages reach ~65% of the DRAM bandwidth of huge pages
/// here (a page walk every 64 lines).
void *copyToHugePages(const void *src, size_t bytes, void *&mapping,
                      size_t &mappingBytes) {
  const size_t huge = size_t(2) << 20;
  size_t len = (bytes + huge - 1) / huge * huge;
  mappingBytes = len + huge;
  mapping = mmap(nullptr, mappingBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) {
    mapping = nullptr;
    return nullptr;
  }
  char *aligned = (char *)(((uintptr_t)mapping + huge - 1) & ~(huge - 1));
#ifdef MADV_HUGEPAGE
  madvise(aligned, len, MADV_HUGEPAGE);
#endif
  memcpy(aligned, src, bytes);
  mprotect(aligned, len, PROT_READ);
  return aligned;
}

} // namespace

struct lowbit_model {
  void *library = nullptr;
  void (*entry)(void **) = nullptr;
  void (*setThreads)(int) = nullptr;
  void *weights = nullptr;
  size_t weightsBytes = 0;
  // The mapping to unmap: the file's, or the huge-page copy's.
  void *mapping = nullptr;
  size_t mappingBytes = 0;
  std::string target;
  std::vector<lowbit_runtime::Tensor> inputs, outputs, weightTensors;
  // CUDA artifacts: the launch table and the device side (or CPU fallback).
  lowbit_runtime::GpuInfo gpuInfo;
  lowbit_runtime::GpuState *gpu = nullptr;
  // Runs of a GPU model share its device buffers: one at a time.
  std::mutex gpuRuns;
};

namespace {

void finishInfo(std::vector<lowbit_runtime::Tensor> &ts) {
  for (lowbit_runtime::Tensor &t : ts) {
    int64_t n = 1;
    for (int64_t d : t.shape)
      n *= d;
    t.info = {t.name.c_str(),
              t.dtype.c_str(),
              (int32_t)t.shape.size(),
              t.shape.data(),
              lowbit_dtype_bytes(t.dtype.c_str()),
              n};
  }
}

} // namespace

extern "C" {

int64_t lowbit_dtype_bytes(const char *dtype) {
  return lowbit_artifact_dtype_bytes(dtype);
}

int lowbit_cpu_has_feature_named(const char *name) {
  return lowbit_cpu_has_feature(name);
}

int32_t lowbit_num_dtypes(void) { return (int32_t)LOWBIT_ARTIFACT_NUM_DTYPES; }

int lowbit_dtype_at(int32_t i, const char **name, char *kind, int32_t *bits) {
  if (i < 0 || i >= (int32_t)LOWBIT_ARTIFACT_NUM_DTYPES)
    return 1;
  const lowbit_artifact_dtype &d = lowbit_artifact_dtypes[i];
  if (name)
    *name = d.name;
  if (kind)
    *kind = d.kind;
  if (bits)
    *bits = d.bits;
  return 0;
}

void lowbit_load_options_init(lowbit_load_options *options) {
  if (!options)
    return;
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->weights = LOWBIT_WEIGHTS_HUGE_PAGES;
  options->gpu = LOWBIT_GPU_CUDA;
}

int lowbit_model_load(const char *dir, lowbit_model **out, char *err,
                      size_t errLen) {
  return lowbit_model_load_with_options(dir, nullptr, out, err, errLen);
}

int lowbit_model_load_with_options(const char *dir,
                                   const lowbit_load_options *given,
                                   lowbit_model **out, char *err,
                                   size_t errLen) {
  if (!dir || !out)
    return fail(err, errLen, "lowbit_model_load: null argument");
  // The caller's fields over the defaults (an older caller's struct is a
  // prefix of this one).
  lowbit_load_options options;
  lowbit_load_options_init(&options);
  if (given) {
    if (given->struct_size < sizeof(size_t) ||
        given->struct_size > sizeof options)
      return fail(err, errLen,
                  "lowbit_model_load: options.struct_size is %zu; initialize "
                  "the options with lowbit_load_options_init",
                  given->struct_size);
    memcpy(&options, given, given->struct_size);
    options.struct_size = sizeof options;
  }
  if (options.weights != LOWBIT_WEIGHTS_HUGE_PAGES &&
      options.weights != LOWBIT_WEIGHTS_MMAP)
    return fail(err, errLen, "lowbit_model_load: unknown weights mode %d",
                (int)options.weights);
  if (options.gpu != LOWBIT_GPU_CUDA && options.gpu != LOWBIT_GPU_CPU_REFERENCE)
    return fail(err, errLen, "lowbit_model_load: unknown gpu mode %d",
                (int)options.gpu);
  *out = nullptr;
  std::string base(dir);
  std::string manifest = base + "/manifest.json";
  std::string manifestText;
  {
    std::ifstream in(manifest);
    if (!in)
      return fail(err, errLen, "%s: not a Lowbit artifact (no manifest.json)",
                  dir);
    std::stringstream ss;
    ss << in.rdbuf();
    manifestText = ss.str();
    std::string message = lowbit_runtime::checkManifest(manifestText, manifest);
    if (!message.empty())
      return fail(err, errLen, "%s", message.c_str());
  }
  std::string so = base + "/model.so";
  auto m = new lowbit_model();
  auto cleanup = [&](int rc) {
    lowbit_model_free(m);
    return rc;
  };
  m->library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->library)
    return cleanup(
        fail(err, errLen, "%s: cannot load: %s", so.c_str(), dlerror()));
  auto metadata = (const char *(*)())dlsym(m->library, "lowbit_metadata");
  m->entry = (void (*)(void **))dlsym(m->library, "lowbit_entry");
  if (!metadata || !m->entry)
    return cleanup(fail(err, errLen,
                        "%s: not a Lowbit model (no lowbit_metadata / "
                        "lowbit_entry)",
                        so.c_str()));
  m->setThreads = (void (*)(int))dlsym(m->library, "omp_set_num_threads");
  lowbit_runtime::Metadata meta;
  std::string message = lowbit_runtime::parseMetadata(metadata(), meta);
  if (!message.empty())
    return cleanup(fail(err, errLen, "%s: %s", so.c_str(), message.c_str()));
  m->target = meta.target;
  m->gpuInfo = std::move(meta.gpu);
  const std::string &weightsFile = meta.weightsFile;
  uint64_t weightsSize = meta.weightsSize, weightsHash = meta.weightsHash;
  const std::vector<std::string> &features = meta.features;
  std::string missing, unknown;
  missingFeatures(features, options, missing, unknown);
  if (!unknown.empty())
    return cleanup(fail(err, errLen,
                        "%s was compiled for %s with CPU features this "
                        "runtime does not know: %s (a newer Lowbit compiled "
                        "it, or for another architecture)",
                        dir, m->target.c_str(), unknown.c_str()));
  if (!missing.empty())
    return cleanup(fail(err, errLen,
                        "%s was compiled for %s and needs CPU features this "
                        "CPU lacks: %s (recompile for an older --target, e.g. "
                        "x86-64-v3 instead of x86-64-v4 or host)",
                        dir, m->target.c_str(), missing.c_str()));
#if defined(__x86_64__) && defined(SYS_arch_prctl)
  // Linux hands out the AMX tile state only to processes that ask for it
  // (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); without it tileloadd faults.
  for (const std::string &f : features)
    if (f == "amx-tile" && syscall(SYS_arch_prctl, 0x1023, 18) != 0)
      return cleanup(fail(err, errLen,
                          "%s uses AMX, but the kernel refused this process "
                          "the AMX tile state (arch_prctl "
                          "ARCH_REQ_XCOMP_PERM: %s); recompile for "
                          "x86-64-v4",
                          dir, strerror(errno)));
#endif
  if (weightsFile.empty() || weightsFile.find('/') != std::string::npos)
    return cleanup(fail(err, errLen, "%s: bad weights file name", so.c_str()));
  std::string wpath = base + "/" + weightsFile;
  int fd = open(wpath.c_str(), O_RDONLY);
  if (fd < 0)
    return cleanup(fail(err, errLen, "%s: cannot open: %s", wpath.c_str(),
                        strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != weightsSize) {
    close(fd);
    return cleanup(fail(err, errLen,
                        "%s: %lld bytes, the model expects %llu (not this "
                        "model's weights, or truncated)",
                        wpath.c_str(), (long long)st.st_size,
                        (unsigned long long)weightsSize));
  }
  m->weightsBytes = weightsSize;
  m->weights = mmap(nullptr, weightsSize, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m->weights == MAP_FAILED) {
    m->weights = nullptr;
    return cleanup(fail(err, errLen, "%s: mmap failed: %s", wpath.c_str(),
                        strerror(errno)));
  }
  // manifest.json and model.so must be of one compile.
  message = lowbit_runtime::checkManifestMatches(manifestText, manifest, meta);
  if (!message.empty())
    return cleanup(fail(err, errLen, "%s", message.c_str()));
  if (!options.skip_weights_hash &&
      lowbit_artifact_fingerprint(m->weights, weightsSize) != weightsHash)
    return cleanup(fail(err, errLen,
                        "%s does not belong to %s or is corrupted (its XXH64 "
                        "hash differs from the one compiled into the model)",
                        wpath.c_str(), so.c_str()));
  m->mapping = m->weights;
  m->mappingBytes = weightsSize;
  // LOWBIT_WEIGHTS_MMAP keeps the file mapping (pages shared between
  // processes, nothing copied); by default weights move to huge pages.
  if (options.weights == LOWBIT_WEIGHTS_HUGE_PAGES) {
    void *mapping = nullptr;
    size_t mappingBytes = 0;
    if (void *copy =
            copyToHugePages(m->weights, weightsSize, mapping, mappingBytes)) {
      munmap(m->weights, weightsSize);
      m->weights = copy;
      m->mapping = mapping;
      m->mappingBytes = mappingBytes;
    }
  }
  if (!m->gpuInfo.chip.empty()) {
    using Hook = int (*)(void *, int64_t, const uintptr_t *);
    auto setHook =
        (void (*)(Hook, void *))dlsym(m->library, "lowbit_set_gpu_hook");
    if (!setHook)
      return cleanup(
          fail(err, errLen, "%s: GPU kernels but no GPU hook", so.c_str()));
    std::string message;
    lowbit_runtime::GpuOptions gpuOptions;
    gpuOptions.cpuReference = options.gpu == LOWBIT_GPU_CPU_REFERENCE;
    gpuOptions.device = options.cuda_device;
    if (options.cuda_driver)
      gpuOptions.driver = options.cuda_driver;
    gpuOptions.timing = options.gpu_timing != 0;
    m->gpu =
        lowbit_runtime::createGpuState(base, m->gpuInfo, gpuOptions, message);
    if (!m->gpu)
      return cleanup(fail(err, errLen, "%s: %s", dir, message.c_str()));
    setHook(lowbit_runtime::lowbit_runtime_gpu_hook, m->gpu);
    m->target += " + " + lowbit_runtime::gpuDescription(m->gpu);
  }
  m->inputs = std::move(meta.inputs);
  m->outputs = std::move(meta.outputs);
  m->weightTensors = std::move(meta.weights);
  finishInfo(m->inputs);
  finishInfo(m->outputs);
  *out = m;
  return 0;
}

int32_t lowbit_model_num_inputs(const lowbit_model *m) {
  return m ? (int32_t)m->inputs.size() : 0;
}
int32_t lowbit_model_num_outputs(const lowbit_model *m) {
  return m ? (int32_t)m->outputs.size() : 0;
}
const lowbit_tensor_info *lowbit_model_input(const lowbit_model *m, int32_t i) {
  if (!m || i < 0 || i >= (int32_t)m->inputs.size())
    return nullptr;
  return &m->inputs[i].info;
}
const lowbit_tensor_info *lowbit_model_output(const lowbit_model *m,
                                              int32_t i) {
  if (!m || i < 0 || i >= (int32_t)m->outputs.size())
    return nullptr;
  return &m->outputs[i].info;
}
const char *lowbit_model_target(const lowbit_model *m) {
  return m ? m->target.c_str() : "";
}

int lowbit_model_run(lowbit_model *m, const void *const *inputs,
                     void *const *outputs, int32_t numThreads, char *err,
                     size_t errLen) {
  if (!m || (!inputs && !m->inputs.empty()) ||
      (!outputs && !m->outputs.empty()))
    return fail(err, errLen, "lowbit_model_run: null argument");
  // One descriptor per argument, in the entry's order: inputs, weights,
  // outputs. {allocated, aligned, offset, sizes[rank], strides[rank]}.
  size_t total = m->inputs.size() + m->weightTensors.size() + m->outputs.size();
  std::vector<std::vector<int64_t>> descs;
  descs.reserve(total);
  std::vector<void *> args;
  auto add = [&](const lowbit_runtime::Tensor &t, const void *data) {
    std::vector<int64_t> d(3 + 2 * t.shape.size());
    d[0] = d[1] = (int64_t)(intptr_t)data;
    d[2] = 0;
    int64_t stride = 1;
    for (size_t i = t.shape.size(); i-- > 0;) {
      d[3 + i] = t.shape[i];
      d[3 + t.shape.size() + i] = stride;
      stride *= t.shape[i];
    }
    descs.push_back(std::move(d));
    args.push_back(descs.back().data());
  };
  for (size_t i = 0; i < m->inputs.size(); ++i) {
    if (!inputs[i])
      return fail(err, errLen, "input %zu ('%s') is null", i,
                  m->inputs[i].name.c_str());
    add(m->inputs[i], inputs[i]);
  }
  for (const lowbit_runtime::Tensor &w : m->weightTensors)
    add(w, (const char *)m->weights + w.offset);
  for (size_t i = 0; i < m->outputs.size(); ++i) {
    if (!outputs[i])
      return fail(err, errLen, "output %zu ('%s') is null", i,
                  m->outputs[i].name.c_str());
    add(m->outputs[i], outputs[i]);
  }
  if (m->setThreads) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    m->setThreads(numThreads > 0 ? numThreads : (int)(cores > 0 ? cores : 1));
  }
  if (!m->gpu) {
    m->entry(args.data());
    return 0;
  }
  std::lock_guard<std::mutex> lock(m->gpuRuns);
  m->entry(args.data());
  std::string message = lowbit_runtime::takeGpuError(m->gpu);
  if (!message.empty())
    return fail(err, errLen, "GPU: %s", message.c_str());
  return 0;
}

int32_t lowbit_model_gpu_num_kernels(const lowbit_model *m) {
  return m && m->gpu ? (int32_t)m->gpuInfo.kernels.size() : 0;
}

int lowbit_model_gpu_kernel_stats(const lowbit_model *m, int32_t i,
                                  const char **name, int64_t *launches,
                                  double *ms) {
  if (!m || !m->gpu || i < 0 || i >= (int32_t)m->gpuInfo.kernels.size())
    return 1;
  int64_t n = 0;
  double t = 0;
  lowbit_runtime::gpuKernelStats(m->gpu, i, n, t);
  if (name)
    *name = m->gpuInfo.kernels[i].name.c_str();
  if (launches)
    *launches = n;
  if (ms)
    *ms = t;
  return 0;
}

int lowbit_model_set_gpu_launcher(lowbit_model *m, lowbit_gpu_launcher launcher,
                                  void *user) {
  if (!m || !m->gpu)
    return 1;
  lowbit_runtime::setGpuLauncher(m->gpu, launcher, user);
  return 0;
}

void lowbit_model_free(lowbit_model *m) {
  if (!m)
    return;
  lowbit_runtime::destroyGpuState(m->gpu);
  if (m->mapping)
    munmap(m->mapping, m->mappingBytes);
  else if (m->weights)
    munmap(m->weights, m->weightsBytes);
  if (m->library) {
    // The artifact's allocator keeps freed blocks for the next run; they
    // go back to the system with the model.
    if (auto release = (void (*)())dlsym(m->library, "lowbit_release_memory"))
      release();
    dlclose(m->library);
  }
  delete m;
}

} // extern "C"
