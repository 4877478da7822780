//===- Pipelines.h - Lowbit's pass pipelines --------------------*- C++ -*-===//
//
// Every pass pipeline Lowbit runs, built by this library and registered in
// quant-opt, so that quant-compile, calibration, Python and the tests run
// the same sequences and each one replays pass by pass under quant-opt:
//
//   lowbit-quantization-pipeline  a recipe's quantization passes
//   lowbit-reference-pipeline     lowbit -> reference linalg -> LLVM dialect
//   lowbit-cpu-pipeline           core IR -> LLVM dialect for CPUs (what
//                                 quant-compile runs for every target;
//                                 gpu-chip adds the CUDA kernels)
//   lowbit-gpu-kernel-pipeline    Lowbit's gpu.module kernels -> PTX
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_PIPELINES_PIPELINES_H
#define LOWBIT_PIPELINES_PIPELINES_H

#include "lowbit/Conversion/LowbitToCPU/LowbitToCPU.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class DialectRegistry;
class OpPassManager;

namespace lowbit {

struct Recipe;

/// Options of `lowbit-cpu-pipeline`. quant-compile derives them from its
/// target and flags (Target/Targets.h) and logs them, so that
/// `quant-opt --lowbit-cpu-pipeline="<those options>"` reproduces its LLVM
/// dialect module exactly.
struct CPUPipelineOptions : PassPipelineOptions<CPUPipelineOptions> {
  Option<std::string> entry{*this, "entry",
                            llvm::cl::desc("entry function of the model"),
                            llvm::cl::init("main")};
  Option<bool> optimize{
      *this, "optimize",
      llvm::cl::desc("pack, tile, vectorize and thread (false: the reference "
                     "lowering as scalar loops on one thread)"),
      llvm::cl::init(true)};
  Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("width of the target's vector registers (512: AVX-512, "
                     "256: AVX2, 128: SSE or NEON); sets the packed layouts' "
                     "lanes and the register tiles"),
      llvm::cl::init(512)};
  Option<bool> threads{
      *this, "threads",
      llvm::cl::desc("split work across threads (OpenMP; the artifact links "
                     "libomp)"),
      llvm::cl::init(true)};
  Option<bool> cachingAllocator{
      *this, "caching-allocator",
      llvm::cl::desc("allocate through _mlir_memref_to_llvm_alloc/free (the "
                     "artifact's caching allocator) instead of malloc/free"),
      llvm::cl::init(false)};
  Option<int64_t> prefetchDistance{
      *this, "prefetch-distance",
      llvm::cl::desc("software prefetch distance of the low-bit kernels, in "
                     "bytes (0: none)"),
      llvm::cl::init(4096)};
  Option<bool> int8Activations{
      *this, "int8-activations",
      llvm::cl::desc("low-bit matmuls quantize their activations to int8 "
                     "(VNNI, AVX2 or ARM dot-product kernels)"),
      llvm::cl::init(false)};
  Option<double> int8OutlierThreshold{
      *this, "int8-outlier-threshold",
      llvm::cl::desc("with int8 activations: input channels whose "
                     "calibrated abs-max exceeds this stay f32 in a side "
                     "matmul (0: none)"),
      llvm::cl::init(0.0)};
  Option<DotProduct> dot{
      *this, "dot", llvm::cl::desc("int8 dot product of those kernels"),
      llvm::cl::init(DotProduct::Vpdpbusd),
      llvm::cl::values(
          clEnumValN(DotProduct::Vpdpbusd, "vpdpbusd", "x86 AVX-512 VNNI"),
          clEnumValN(DotProduct::Sdot, "sdot",
                     "ARMv8.2 dot product (codes below 128)"),
          clEnumValN(DotProduct::Pmaddubsw, "pmaddubsw",
                     "x86 AVX2 vpmaddubsw + vpmaddwd (codes of up to 4 "
                     "bits)"))};
  Option<int64_t> lutMaxBits{
      *this, "lut-max-bits",
      llvm::cl::desc("integer codes of at most this many bits (0: none, up "
                     "to 4) run on the table-lookup kernels"),
      llvm::cl::init(0)};
  Option<ByteLookup> lookup{
      *this, "lookup",
      llvm::cl::desc("byte-table lookup of the table-lookup kernels"),
      llvm::cl::init(ByteLookup::Pshufb),
      llvm::cl::values(
          clEnumValN(ByteLookup::Pshufb, "pshufb", "x86 AVX2/AVX-512BW"),
          clEnumValN(ByteLookup::Tbl, "tbl", "ARM NEON"))};
  Option<int64_t> amxMinRows{
      *this, "amx-min-rows",
      llvm::cl::desc("int8-activation matmuls of at least this many rows run "
                     "on AMX tdpbusd (0: never)"),
      llvm::cl::init(0)};
  Option<std::string> gpuChip{
      *this, "gpu-chip",
      llvm::cl::desc("CUDA chip (sm_80, sm_90) of the quantized matmuls: "
                     "packed for and lowered to GPU kernels, compiled to PTX "
                     "in a gpu.binary, launched through the runtime; empty: "
                     "CPU kernels"),
      llvm::cl::init("")};
};

/// Core IR (linalg/tensor/arith/math, lowbit) -> LLVM dialect: quantized
/// matmuls packed and lowered to kernels, weights outlined (their values in
/// the module attribute `lowbit.weights`), one function per kernel, tiled
/// and vectorized contractions, OpenMP threads, bufferized with outputs as
/// arguments, the entry function given a C interface.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// lowbit -> reference linalg -> bufferized loops -> LLVM dialect, ready for
/// mlir-runner or translation to LLVM IR. No vectorization or threading: the
/// numerics reference, not the fast path.
void buildReferencePipeline(OpPassManager &pm);

/// Options of `lowbit-gpu-kernel-pipeline`.
struct GPUKernelPipelineOptions
    : PassPipelineOptions<GPUKernelPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("CUDA chip: sm_80 or sm_90"),
                           llvm::cl::init("sm_80")};
};

/// On a module holding Lowbit's kernels (`gpu.module @lowbit_kernels` after
/// convert-lowbit-to-gpu): attach an NVVM target for the chip, lower the
/// kernels to NVVM (bare-pointer arguments), mark their loads invariant,
/// and replace the gpu.module by a gpu.binary holding its PTX.
void buildGPUKernelPipeline(OpPassManager &pm,
                            const GPUKernelPipelineOptions &options);

/// Options of `lowbit-quantization-pipeline`.
struct QuantizationPipelineOptions
    : PassPipelineOptions<QuantizationPipelineOptions> {
  Option<std::string> recipe{*this, "recipe",
                             llvm::cl::desc("quantization recipe (YAML or "
                                            "JSON); empty: the defaults")};
  Option<bool> progress{*this, "progress",
                        llvm::cl::desc("progress bars on stderr"),
                        llvm::cl::init(false)};
};

/// The recipe's smoothing (one lowbit-smooth over the layers the recipe
/// quantizes, with the scheme of its defaults), or nothing when the recipe
/// has no `smooth`. It needs the calibration statistics on the IR; the
/// driver runs it once, after the first calibration pass.
void buildSmoothingPipeline(OpPassManager &pm, const Recipe &recipe,
                            bool progress);

/// lowbit-allocate-bits over the layers the recipe quantizes, with its
/// `allocate` candidates and budget and the method and settings of its
/// defaults; nothing when the recipe has no `allocate`. It needs the
/// calibration statistics on the IR; the driver runs it once, after
/// smoothing, before the later calibration passes.
void buildAllocationPipeline(OpPassManager &pm, const Recipe &recipe,
                             bool progress);

/// lowbit-fold-norms then lowbit-rotate with the recipe's rotate: settings
/// (nothing if unset). Data-free: quant-compile runs it on the float model
/// before calibration, so that the statistics are the rotated model's.
void buildRotationPipeline(OpPassManager &pm, const Recipe &recipe);

/// The quantization passes of `recipe`, in order: one lowbit-quantize-rtn
/// or lowbit-gptq per rule (include = the rule's match, exclude = the
/// earlier skip rules), then one for the remaining layers. GPTQ needs the
/// calibration statistics on the IR (lowbit-attach-calibration or
/// quant-compile --calib).
void buildQuantizationPipeline(OpPassManager &pm, const Recipe &recipe,
                               bool progress = false);

/// Registers the external models the pipelines need on `registry`:
/// bufferization and tiling of the upstream dialects (CPU), the NVVM target
/// and the LLVM IR translations of gpu-module-to-binary (GPU).
void registerPipelineInterfaces(DialectRegistry &registry);

/// Registers the four pipelines with the global pipeline registry.
void registerLowbitPipelines();

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_PIPELINES_PIPELINES_H
