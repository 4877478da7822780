//===- GPUPipeline.cpp - Lowbit's kernels to PTX ----------------*- C++ -*-===//
//
// The pipeline from gpu.module to gpu.binary (PTX), the pass that marks
// kernel loads invariant, and the registration of both and of what
// gpu-module-to-binary needs (NVVM target, LLVM IR translations).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/GPU/Passes.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_MARKINVARIANTLOADSPASS
#include "lowbit/Target/GPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct MarkInvariantLoadsPass
    : lowbit::impl::MarkInvariantLoadsPassBase<MarkInvariantLoadsPass> {
  using Base::Base;
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    if (module.getName() != "lowbit_kernels")
      return;
    module.walk([](LLVM::LoadOp load) { load.setInvariant(true); });
  }
};

} // namespace

std::string mlir::lowbit::cudaChip(StringRef target) {
  return llvm::StringSwitch<std::string>(target)
      .Case("cuda-sm80", "sm_80")
      .Case("cuda-sm90", "sm_90")
      .Default("");
}

void mlir::lowbit::buildGPUKernelPipeline(OpPassManager &pm, StringRef chip) {
  GpuNVVMAttachTargetOptions target;
  target.moduleMatcher = "lowbit_kernels";
  target.chip = chip.str();
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  // ldmatrix, mma.sync and cp.async of the MMA GEMM (after scf: the pass
  // would convert scf.for's types, which WMMA fragments have none for).
  kernels.addPass(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  kernels.addPass(createMarkInvariantLoadsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mlir::lowbit::registerGPUInterfaces(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect, nvgpu::NVGPUDialect, NVVM::NVVMDialect,
                  LLVM::LLVMDialect>();
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

namespace {
struct GPUKernelPipelineOptions
    : public PassPipelineOptions<GPUKernelPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("CUDA chip: sm_80 or sm_90"),
                           llvm::cl::init("sm_80")};
};
} // namespace

void mlir::lowbit::registerGPUPasses() {
  registerLowbitGPUPasses();
  PassPipelineRegistration<GPUKernelPipelineOptions>(
      "lowbit-gpu-kernel-pipeline",
      "Lowbit's gpu.module kernels to a gpu.binary holding PTX",
      [](OpPassManager &pm, const GPUKernelPipelineOptions &options) {
        buildGPUKernelPipeline(pm, options.chip);
      });
}
