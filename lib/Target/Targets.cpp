//===- Targets.cpp - What quant-compile can target --------------*- C++ -*-===//
//
// The --target names, and the lowbit-cpu-pipeline options each implies.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Targets.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::lowbit;

/// The chip of a CUDA target (`cuda-sm80` -> `sm_80`); empty otherwise.
static std::string cudaChip(StringRef target) {
  return llvm::StringSwitch<std::string>(target)
      .Case("cuda-sm80", "sm_80")
      .Case("cuda-sm90", "sm_90")
      .Default("");
}

FailureOr<TargetSpec> mlir::lowbit::resolveTarget(StringRef target,
                                                  std::string &error) {
  TargetSpec spec;
  spec.name = target.str();
  auto x86 = [&](StringRef cpu, ArrayRef<const char *> required) {
    spec.triple = "x86_64-unknown-linux-gnu";
    spec.cpu = cpu.str();
    for (const char *f : required)
      spec.required.push_back(f);
  };
  if (target == "host") {
    spec.triple = llvm::sys::getDefaultTargetTriple();
    spec.cpu = llvm::sys::getHostCPUName().str();
    // Both signs, as clang's -march=native: a feature the CPU model implies
    // but this CPU (or its hypervisor) does not offer stays off.
    SmallVector<std::string> enabled, all;
    for (auto &f : llvm::sys::getHostCPUFeatures()) {
      all.push_back((f.second ? "+" : "-") + f.first().str());
      if (f.second)
        enabled.push_back("+" + f.first().str());
    }
    llvm::sort(all);
    spec.features = llvm::join(all, ",");
    // What the runtime checks: the SIMD features code generation may use.
    static const char *checked[] = {
        "avx",        "avx2",     "fma",      "f16c",     "avx512f",
        "avx512bw",   "avx512cd", "avx512dq", "avx512vl", "avx512vnni",
        "avx512bf16", "neon",     "dotprod",  "fullfp16", "i8mm",
        "amx-tile",   "amx-int8"};
    for (const char *f : checked)
      if (llvm::is_contained(enabled, std::string("+") + f))
        spec.required.push_back(f);
  } else if (target == "x86-64") {
    x86("x86-64", {});
  } else if (target == "x86-64-v2") {
    x86("x86-64-v2", {});
  } else if (target == "x86-64-v3") {
    x86("x86-64-v3", {"avx", "avx2", "fma", "f16c"});
  } else if (target == "x86-64-v4") {
    x86("x86-64-v4", {"avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
                      "avx512cd", "avx512dq", "avx512vl"});
  } else if (target == "aarch64" || target == "aarch64-dotprod") {
    spec.triple = "aarch64-unknown-linux-gnu";
    spec.cpu = "generic";
    spec.features = "+neon";
    spec.required.push_back("neon");
    if (target == "aarch64-dotprod") {
      // ARMv8.2 dot products (sdot/udot): the int8-activation kernels.
      spec.features += ",+dotprod";
      spec.required.push_back("dotprod");
    }
  } else if (!cudaChip(target).empty()) {
    // The host side of a CUDA artifact runs on any x86-64 server CPU of
    // the last decade.
    x86("x86-64-v3", {"avx", "avx2", "fma", "f16c"});
    spec.gpuChip = cudaChip(target);
  } else {
    error = "unknown --target '" + target.str() +
            "' (expected host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4, "
            "aarch64, aarch64-dotprod, cuda-sm80 or cuda-sm90)";
    return failure();
  }
  return spec;
}

void mlir::lowbit::setCPUPipelineOptions(const TargetSpec &spec,
                                         const KernelRequest &request,
                                         CPUPipelineOptions &options,
                                         std::string &notes) {
  llvm::raw_string_ostream log(notes);
  options.entry = request.entry;
  options.optimize = request.optimize;
  options.vectorBits = spec.needs("avx512f") ? 512
                       : spec.needs("avx2")  ? 256
                                             : 128;
  // Threads through LLVM's OpenMP runtime, which exists for the host only.
  options.threads = request.optimize && !spec.isCross();
  options.cachingAllocator = true;
  options.prefetchDistance = request.prefetchDistance;
  // int8 dot products: VNNI vpdpbusd, ARM sdot, or on any other AVX2 CPU
  // vpmaddubsw + vpmaddwd (codes of up to 4 bits).
  options.int8Activations =
      request.int8Activations &&
      (spec.needs("avx512vnni") || spec.needs("dotprod") || spec.needs("avx2"));
  options.int8OutlierThreshold =
      options.int8Activations ? request.int8OutlierThreshold : 0.0;
  options.dot = spec.needs("avx512vnni") ? DotProduct::Vpdpbusd
                : spec.needs("dotprod")  ? DotProduct::Sdot
                                         : DotProduct::Pmaddubsw;
  options.lookup = spec.isAArch64() ? ByteLookup::Tbl : ByteLookup::Pshufb;
  options.lutMaxBits =
      request.lutKernels && (spec.isAArch64() || spec.needs("avx2")) ? 4 : 0;
  options.gpuChip = spec.gpuChip;
  if (!spec.gpuChip.empty()) {
    if (request.lutKernels || request.int8Activations)
      log << "  note: --kernels=lut and --activations=int8 apply to CPU "
             "targets; target '"
          << spec.name << "' runs quantized matmuls on GPU kernels\n";
    options.lutMaxBits = 0;
    options.int8Activations = false;
    options.int8OutlierThreshold = 0.0;
    if (!request.optimize)
      log << "  note: --O0 keeps the reference lowering: nothing runs on the "
             "GPU\n";
  }
  // AMX tdpbusd for int8-activation matmuls of 4 or more rows.
  options.amxMinRows = options.int8Activations && spec.needs("amx-int8") &&
                               spec.needs("amx-tile") && spec.needs("avx512bw")
                           ? 4
                           : 0;
  if (request.lutKernels && !options.lutMaxBits && spec.gpuChip.empty())
    log << "  note: table-lookup kernels need AVX2, AVX-512 or NEON, which "
           "target '"
        << spec.name << "' does not promise: dequantizing kernels\n";
  if (request.int8Activations && !options.int8Activations &&
      spec.gpuChip.empty())
    log << "  note: int8 activations need AVX2, AVX-512 VNNI or ARM dot "
           "products, which target '"
        << spec.name << "' does not promise: f32-activation kernels\n";
}
