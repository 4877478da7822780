//===- gpu.cpp - The runtime's GPU side -------------------------*- C++ -*-===//
//
// The CUDA driver API through dlopen and the launch hook (weights copied to
// the device once, activations in and outputs out per launch, or the CPU
// reference of gpu_reference.cpp with LOWBIT_GPU=cpu).
//
//===----------------------------------------------------------------------===//

#include "gpu.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <map>
#include <sstream>

namespace lowbit_runtime {
namespace {

// The few driver API declarations the runtime needs (cuda.h, CUDA 12/13).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUevent_st;
using CUevent = CUevent_st *;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;
constexpr CUresult kNoBinaryForGpu = 209;

struct Driver {
  void *library = nullptr;
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*deviceGetCount)(int *) = nullptr;
  CUresult (*deviceGet)(CUdevice *, int) = nullptr;
  CUresult (*deviceGetAttribute)(int *, int, CUdevice) = nullptr;
  CUresult (*deviceGetName)(char *, int, CUdevice) = nullptr;
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*primaryCtxRelease)(CUdevice) = nullptr;
  CUresult (*ctxSetCurrent)(CUcontext) = nullptr;
  CUresult (*ctxSynchronize)() = nullptr;
  CUresult (*moduleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*moduleUnload)(CUmodule) = nullptr;
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *) = nullptr;
  CUresult (*memAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*memFree)(CUdeviceptr) = nullptr;
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t) = nullptr;
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, void *, void **,
                           void **) = nullptr;
  CUresult (*getErrorName)(CUresult, const char **) = nullptr;
  // LOWBIT_GPU_TIMING=1 only.
  CUresult (*eventCreate)(CUevent *, unsigned) = nullptr;
  CUresult (*eventDestroy)(CUevent) = nullptr;
  CUresult (*eventRecord)(CUevent, void *) = nullptr;
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent) = nullptr;

  std::string describe(CUresult rc) const {
    const char *name = nullptr;
    if (getErrorName)
      getErrorName(rc, &name);
    return name ? std::string(name) : "CUDA error " + std::to_string(rc);
  }
};

template <typename F> bool bind(void *lib, const char *name, F &fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

std::string readFile(const std::string &path, bool &ok) {
  std::ifstream in(path, std::ios::binary);
  ok = bool(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

class GpuState {
public:
  GpuInfo info;
  bool fallback = false;
  Driver cu;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  std::vector<CUfunction> functions;
  /// Per kernel and argument: the device buffer of `in`/`out` arguments.
  std::vector<std::vector<CUdeviceptr>> buffers;
  /// `const` arguments by host address: copied once.
  std::map<uintptr_t, CUdeviceptr> constants;
  std::string description, error;
  /// Per kernel: launches and their time (LOWBIT_GPU_TIMING=1).
  bool timing = false;
  std::vector<int64_t> launches;
  std::vector<double> milliseconds;
  CUevent start = nullptr, stop = nullptr;
  /// lowbit_model_set_gpu_launcher.
  int (*launcher)(void *, int64_t, const uintptr_t *) = nullptr;
  void *launcherUser = nullptr;

  ~GpuState() {
    if (!cu.library)
      return;
    if (context) {
      cu.ctxSetCurrent(context);
      if (start)
        cu.eventDestroy(start);
      if (stop)
        cu.eventDestroy(stop);
      for (auto &perKernel : buffers)
        for (CUdeviceptr p : perKernel)
          if (p)
            cu.memFree(p);
      for (auto &c : constants)
        cu.memFree(c.second);
      if (module)
        cu.moduleUnload(module);
      cu.primaryCtxRelease(device);
    }
    dlclose(cu.library);
  }

  std::string initCuda(const std::string &dir, const GpuOptions &options);
  int launch(int64_t id, const uintptr_t *args);
};

std::string parseGpuLine(const std::string &line, GpuInfo &info) {
  std::istringstream ls(line);
  std::string kind;
  ls >> kind;
  if (kind == "gpu") {
    size_t count = 0;
    ls >> info.chip >> info.cubin >> info.ptx >> count;
    auto bad = [](const std::string &f) {
      return f.empty() || f.find('/') != std::string::npos;
    };
    if (!ls || bad(info.cubin) || bad(info.ptx) || count > 100000)
      return "bad gpu line in the metadata: " + line;
    info.kernels.reserve(count);
    return "";
  }
  GpuKernel k;
  int64_t id = -1, args = -1;
  ls >> id >> k.name;
  for (int64_t &g : k.grid)
    ls >> g;
  for (int64_t &b : k.block)
    ls >> b;
  ls >> args;
  if (!ls || id != (int64_t)info.kernels.size() || args < 0 || args > 64)
    return "bad gpu-kernel line in the metadata: " + line;
  for (int64_t i = 0; i < args; ++i) {
    int64_t bytes = -1;
    std::string role;
    ls >> bytes >> role;
    if (!ls || bytes < 0 || (role != "in" && role != "const" && role != "out"))
      return "bad kernel argument in the metadata: " + line;
    k.argBytes.push_back(bytes);
    k.argRoles.push_back(role == "in" ? 'i' : role == "const" ? 'c' : 'o');
  }
  std::string ref, what;
  if (ls >> ref) {
    int s = 0, z = 0, m = 0;
    ls >> what >> k.bits >> k.k >> k.n >> k.tile >> k.group >> s >> z >> m;
    // An optional outlier count (then the kernel has 5 arguments).
    int64_t outliers = 0;
    if (ls && !(ls >> outliers)) {
      if (!ls.eof())
        return "bad kernel reference in the metadata: " + line;
      ls.clear();
    }
    if (!ls || ref != "ref" || what != "packed_matmul" ||
        args != (outliers ? 5 : 4) || outliers < 0 || outliers > (1 << 30) ||
        (outliers && k.k > 65536) ||
        (k.bits != 2 && k.bits != 4 && k.bits != 8) || k.k <= 0 || k.n <= 0 ||
        k.tile <= 0 || k.group < 0 || k.k % 4 || k.group % 4 ||
        (m && (k.tile != 8 || k.bits == 2 || k.group % 16)))
      return "bad kernel reference in the metadata: " + line;
    k.hasRef = true;
    k.isSigned = s;
    k.zero = z;
    k.mma = m;
    k.outliers = outliers;
  }
  for (int64_t v :
       {k.grid[0], k.grid[1], k.grid[2], k.block[0], k.block[1], k.block[2]})
    if (v <= 0 || v > (int64_t(1) << 31))
      return "bad launch sizes in the metadata: " + line;
  info.kernels.push_back(std::move(k));
  return "";
}

std::string GpuState::initCuda(const std::string &dir,
                               const GpuOptions &options) {
  // Another driver library may be named (tests use a missing one to check
  // the refusal on machines that have a GPU).
  std::vector<const char *> names{"libcuda.so.1", "libcuda.so"};
  if (!options.driver.empty())
    names = {options.driver.c_str()};
  std::string why;
  for (const char *n : names) {
    cu.library = dlopen(n, RTLD_NOW | RTLD_LOCAL);
    if (cu.library)
      break;
    if (why.empty())
      why = dlerror();
  }
  if (!cu.library)
    return "cannot load the NVIDIA driver (" + std::string(names[0]) + ": " +
           why + "): no NVIDIA driver on this machine";
  bool ok =
      bind(cu.library, "cuInit", cu.init) &&
      bind(cu.library, "cuDeviceGetCount", cu.deviceGetCount) &&
      bind(cu.library, "cuDeviceGet", cu.deviceGet) &&
      bind(cu.library, "cuDeviceGetAttribute", cu.deviceGetAttribute) &&
      bind(cu.library, "cuDeviceGetName", cu.deviceGetName) &&
      bind(cu.library, "cuDevicePrimaryCtxRetain", cu.primaryCtxRetain) &&
      bind(cu.library, "cuDevicePrimaryCtxRelease_v2", cu.primaryCtxRelease) &&
      bind(cu.library, "cuCtxSetCurrent", cu.ctxSetCurrent) &&
      bind(cu.library, "cuCtxSynchronize", cu.ctxSynchronize) &&
      bind(cu.library, "cuModuleLoadData", cu.moduleLoadData) &&
      bind(cu.library, "cuModuleUnload", cu.moduleUnload) &&
      bind(cu.library, "cuModuleGetFunction", cu.moduleGetFunction) &&
      bind(cu.library, "cuMemAlloc_v2", cu.memAlloc) &&
      bind(cu.library, "cuMemFree_v2", cu.memFree) &&
      bind(cu.library, "cuMemcpyHtoD_v2", cu.memcpyHtoD) &&
      bind(cu.library, "cuMemcpyDtoH_v2", cu.memcpyDtoH) &&
      bind(cu.library, "cuLaunchKernel", cu.launchKernel) &&
      bind(cu.library, "cuGetErrorName", cu.getErrorName);
  if (!ok)
    return "the NVIDIA driver (libcuda.so.1) lacks a function the runtime "
           "needs: too old";
  CUresult rc = cu.init(0);
  if (rc != 0)
    return "no usable NVIDIA GPU (cuInit: " + cu.describe(rc) + ")";
  int count = 0;
  cu.deviceGetCount(&count);
  int ordinal = options.device;
  if (count <= 0 || ordinal < 0 || ordinal >= count)
    return "no NVIDIA GPU " + std::to_string(ordinal) + " (" +
           std::to_string(count) + " found)";
  if ((rc = cu.deviceGet(&device, ordinal)) != 0 ||
      (rc = cu.primaryCtxRetain(&context, device)) != 0 ||
      (rc = cu.ctxSetCurrent(context)) != 0)
    return "cannot open GPU " + std::to_string(ordinal) + ": " +
           cu.describe(rc);
  int major = 0, minor = 0;
  cu.deviceGetAttribute(&major, kComputeCapabilityMajor, device);
  cu.deviceGetAttribute(&minor, kComputeCapabilityMinor, device);
  char name[256] = {0};
  cu.deviceGetName(name, sizeof name - 1, device);
  description = std::string("cuda ") + name + " (sm_" + std::to_string(major) +
                std::to_string(minor) + ")";
  int chip = atoi(info.chip.c_str() + 3); // sm_80 -> 80
  if (major * 10 + minor < chip)
    return "the kernels were compiled for " + info.chip + ", and " + name +
           " is sm_" + std::to_string(major) + std::to_string(minor) +
           " (recompile with an older --target)";
  // The cubin where it matches the GPU, else the PTX, which the driver
  // compiles for it (newer GPUs).
  rc = kNoBinaryForGpu;
  bool read = false;
  if (info.cubin != "-") {
    std::string cubin = readFile(dir + "/" + info.cubin, read);
    if (read)
      rc = cu.moduleLoadData(&module, cubin.data());
  }
  if (rc != 0) {
    std::string ptx = readFile(dir + "/" + info.ptx, read);
    if (!read)
      return "cannot read " + dir + "/" + info.ptx;
    rc = cu.moduleLoadData(&module, ptx.c_str());
    if (rc != 0)
      return "the driver cannot load " + dir + "/" + info.ptx + ": " +
             cu.describe(rc);
  }
  if (timing) {
    if (!bind(cu.library, "cuEventCreate", cu.eventCreate) ||
        !bind(cu.library, "cuEventDestroy_v2", cu.eventDestroy) ||
        !bind(cu.library, "cuEventRecord", cu.eventRecord) ||
        !(bind(cu.library, "cuEventElapsedTime_v2", cu.eventElapsedTime) ||
          bind(cu.library, "cuEventElapsedTime", cu.eventElapsedTime)))
      return "the NVIDIA driver lacks the event functions LOWBIT_GPU_TIMING "
             "needs";
    if ((rc = cu.eventCreate(&start, 0)) != 0 ||
        (rc = cu.eventCreate(&stop, 0)) != 0)
      return "cuEventCreate: " + cu.describe(rc);
  }
  for (const GpuKernel &k : info.kernels) {
    CUfunction f = nullptr;
    if ((rc = cu.moduleGetFunction(&f, module, k.name.c_str())) != 0)
      return "kernel " + k.name +
             " is not in the GPU module: " + cu.describe(rc);
    functions.push_back(f);
    buffers.emplace_back(k.argBytes.size(), 0);
  }
  return "";
}

int GpuState::launch(int64_t id, const uintptr_t *args) {
  if (!error.empty())
    return 1; // the run already failed: skip the rest
  if (id < 0 || id >= (int64_t)info.kernels.size()) {
    error = "launch of unknown kernel " + std::to_string(id);
    return 1;
  }
  const GpuKernel &k = info.kernels[id];
  ++launches[id];
  if (launcher) {
    if (launcher(launcherUser, id, args) != 0) {
      error = "kernel " + k.name + ": the application's launcher failed";
      return 1;
    }
    return 0;
  }
  if (fallback) {
    auto t0 = std::chrono::steady_clock::now();
    std::string why = runReference(k, args);
    int rc = why.empty() ? 0 : 1;
    if (rc)
      error = why;
    if (timing)
      milliseconds[id] += std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - t0)
                              .count();
    return rc;
  }
  auto check = [&](CUresult rc, const char *what) {
    if (rc != 0 && error.empty())
      error = "kernel " + k.name + ": " + what + ": " + cu.describe(rc);
    return rc == 0;
  };
  cu.ctxSetCurrent(context);
  std::vector<CUdeviceptr> device(k.argBytes.size());
  for (size_t i = 0; i < k.argBytes.size(); ++i) {
    size_t bytes = k.argBytes[i];
    if (k.argRoles[i] == 'c') {
      // Weights: copied the first time, keyed by their host address (the
      // runtime's weights live as long as the model).
      auto it = constants.find(args[i]);
      if (it == constants.end()) {
        CUdeviceptr p = 0;
        if (!check(cu.memAlloc(&p, bytes ? bytes : 1), "cuMemAlloc") ||
            !check(cu.memcpyHtoD(p, (const void *)args[i], bytes),
                   "copying weights to the GPU"))
          return 1;
        it = constants.emplace(args[i], p).first;
      }
      device[i] = it->second;
      continue;
    }
    CUdeviceptr &buffer = buffers[id][i];
    if (!buffer &&
        !check(cu.memAlloc(&buffer, bytes ? bytes : 1), "cuMemAlloc"))
      return 1;
    device[i] = buffer;
    if (k.argRoles[i] == 'i' &&
        !check(cu.memcpyHtoD(buffer, (const void *)args[i], bytes),
               "copying activations to the GPU"))
      return 1;
  }
  std::vector<void *> params;
  for (CUdeviceptr &p : device)
    params.push_back(&p);
  if (timing && !check(cu.eventRecord(start, nullptr), "cuEventRecord"))
    return 1;
  if (!check(cu.launchKernel(functions[id], k.grid[0], k.grid[1], k.grid[2],
                             k.block[0], k.block[1], k.block[2], 0, nullptr,
                             params.data(), nullptr),
             "cuLaunchKernel"))
    return 1;
  if (timing && !check(cu.eventRecord(stop, nullptr), "cuEventRecord"))
    return 1;
  for (size_t i = 0; i < k.argBytes.size(); ++i)
    if (k.argRoles[i] == 'o' &&
        !check(cu.memcpyDtoH((void *)args[i], device[i], k.argBytes[i]),
               "copying results from the GPU (the kernel failed)"))
      return 1;
  if (timing) {
    // The copy back waited for the kernel, so both events have completed.
    float ms = 0;
    if (!check(cu.eventElapsedTime(&ms, start, stop), "cuEventElapsedTime"))
      return 1;
    milliseconds[id] += ms;
  }
  return 0;
}

GpuState *createGpuState(const std::string &dir, const GpuInfo &info,
                         const GpuOptions &options, std::string &error) {
  auto state = new GpuState();
  state->info = info;
  state->launches.assign(info.kernels.size(), 0);
  state->milliseconds.assign(info.kernels.size(), 0.0);
  state->timing = options.timing;
  if (options.cpuReference) {
    state->fallback = true;
    state->description = "cpu fallback (the GPU kernels' CPU reference)";
    return state;
  }
  std::string why = state->initCuda(dir, options);
  if (!why.empty()) {
    error = "compiled for CUDA (" + info.chip + "), but " + why +
            "; load it with its GPU kernels' reference on the CPU instead "
            "(slow): LOWBIT_GPU_CPU_REFERENCE in the load options, "
            "LOWBIT_GPU=cpu for quant-run and Python";
    delete state;
    return nullptr;
  }
  return state;
}

void destroyGpuState(GpuState *state) { delete state; }

extern "C" int lowbit_runtime_gpu_hook(void *state, int64_t kernel,
                                       const uintptr_t *args) {
  return static_cast<GpuState *>(state)->launch(kernel, args);
}

std::string takeGpuError(GpuState *state) {
  std::string e;
  std::swap(e, state->error);
  return e;
}

std::string gpuDescription(const GpuState *state) { return state->description; }

void setGpuLauncher(GpuState *state,
                    int (*launcher)(void *, int64_t, const uintptr_t *),
                    void *user) {
  state->launcher = launcher;
  state->launcherUser = user;
}

void gpuKernelStats(const GpuState *state, size_t i, int64_t &launches,
                    double &ms) {
  launches = state->launches[i];
  ms = state->milliseconds[i];
}

} // namespace lowbit_runtime
