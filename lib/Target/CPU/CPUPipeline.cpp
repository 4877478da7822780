//===- CPUPipeline.cpp - Core IR to LLVM for CPUs ---------------*- C++ -*-===//
//
// The pass pipeline quant-compile runs, registered as --lowbit-cpu-pipeline
// so that quant-opt reproduces it step by step.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Target/CPU/Passes.h"
#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToFuncs/MathToFuncs.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Marks the entry function for a C interface (`_mlir_ciface_<entry>`, all
/// memrefs passed as pointers to descriptors): the runtime's calling
/// convention.
struct EmitCInterfacePass
    : PassWrapper<EmitCInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(EmitCInterfacePass)
  explicit EmitCInterfacePass(std::string entry) : entry(std::move(entry)) {}
  StringRef getArgument() const override { return "lowbit-emit-c-interface"; }
  void runOnOperation() override {
    if (auto f = getOperation().lookupSymbol<func::FuncOp>(entry))
      f->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
  }
  std::string entry;
};

} // namespace

void mlir::lowbit::buildCPUPipelineFront(OpPassManager &pm,
                                         const CPUPipelineOptions &options) {
  pm.addPass(createConvertLowbitToLinalgPass());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Producer-consumer fusion of elementwise generics: fewer temporaries.
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OutlineWeightsPassOptions weights;
  weights.entry = options.entry;
  pm.addPass(createOutlineWeightsPass(weights));
}

void mlir::lowbit::buildCPUPipelineBack(OpPassManager &pm,
                                        const CPUPipelineOptions &options) {
  OutlineKernelsPassOptions kernels;
  kernels.entry = options.entry;
  pm.addPass(createOutlineKernelsPass(kernels));

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Outputs become arguments the runtime allocates.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createCanonicalizerPass());

  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertMathToFuncs()); // ipowi, fpowi
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(std::make_unique<EmitCInterfacePass>(options.entry));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::lowbit::buildCPUPipeline(OpPassManager &pm,
                                    const CPUPipelineOptions &options) {
  buildCPUPipelineFront(pm, options);
  buildCPUPipelineBack(pm, options);
}

void mlir::lowbit::registerCPUPipeline() {
  registerLowbitCPUPasses();
  PassPipelineRegistration<>(
      "lowbit-cpu-pipeline",
      "Core IR to the LLVM dialect for CPUs (what quant-compile runs)",
      [](OpPassManager &pm) { buildCPUPipeline(pm, CPUPipelineOptions()); });
}
