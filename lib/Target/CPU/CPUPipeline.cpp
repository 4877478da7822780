//===- CPUPipeline.cpp - Core IR to LLVM for CPUs ---------------*- C++ -*-===//
//
// The pass pipeline quant-compile runs, registered as --lowbit-cpu-pipeline
// so that quant-opt reproduces it step by step.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/BufferizableOpInterfaceImpl.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Target/CPU/Passes.h"
#include "lowbit/Target/GPU/Passes.h"
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
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
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

/// Hoists loop-invariant vector transfers (the accumulator of a register
/// tile) out of scf.for loops on buffers.
struct HoistTransfersPass
    : PassWrapper<HoistTransfersPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HoistTransfersPass)
  StringRef getArgument() const override { return "lowbit-hoist-transfers"; }
  void runOnOperation() override {
    linalg::hoistRedundantVectorTransfers(getOperation(),
                                          /*verifyNonZeroTrip=*/true);
  }
};

/// Producer-consumer fusion of elementwise linalg ops, but never into an op
/// with a reduction (a matmul would recompute its fused producer once per
/// output column; upstream's pass does that).
struct FuseElementwisePass
    : PassWrapper<FuseElementwisePass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwisePass)
  StringRef getArgument() const override { return "lowbit-fuse-elementwise"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect, tensor::TensorDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *operand) {
          auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
          Operation *producer = operand->get().getDefiningOp();
          return consumer && producer &&
                 consumer.getNumReductionLoops() == 0 && producer->hasOneUse();
        });
    linalg::populateFoldReshapeOpsByExpansionPatterns(
        patterns, [](OpOperand *) { return false; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// convert-scf-to-openmp wraps each parallel body in memref.alloca_scope,
/// which must stay a single block; bodies without allocas (ours: transfers
/// are fully unrolled) are inlined so that scf-to-cf can run inside them.
struct InlineAllocaScopesPass
    : PassWrapper<InlineAllocaScopesPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(InlineAllocaScopesPass)
  StringRef getArgument() const override {
    return "lowbit-inline-alloca-scopes";
  }
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp op) {
      bool hasAlloca = false;
      op.walk([&](memref::AllocaOp) { hasAlloca = true; });
      if (!hasAlloca)
        scopes.push_back(op);
    });
    for (memref::AllocaScopeOp op : scopes) {
      Block &body = op.getBodyRegion().front();
      auto ret = cast<memref::AllocaScopeReturnOp>(body.getTerminator());
      SmallVector<Value> results(ret.getResults());
      ret.erase();
      op->getBlock()->getOperations().splice(op->getIterator(),
                                             body.getOperations());
      op->replaceAllUsesWith(results);
      op.erase();
    }
  }
};

} // namespace

void mlir::lowbit::buildCPUPipelineFront(OpPassManager &pm,
                                         const CPUPipelineOptions &options) {
  if (options.optimize) {
    // Quantized matmuls with few rows run on the weight-streaming kernels.
    LowbitPackPassOptions pack;
    pack.lanes = std::max<int64_t>(4, options.vectorBits / 32);
    pack.int8Activations = options.int8Activations;
    pack.lutMaxBits = options.lutMaxBits;
    pack.amxMinRows = options.amxMinRows;
    pack.gpu = !options.gpuChip.empty();
    // sdot multiplies signed bytes: unsigned codes must stay below 128.
    if (options.armDot)
      pack.int8MaxBits = 4;
    pm.addNestedPass<func::FuncOp>(createLowbitPackPass(pack));
  }
  pm.addPass(createConvertLowbitToLinalgPass());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Producer-consumer fusion of elementwise generics: fewer temporaries.
  pm.addNestedPass<func::FuncOp>(createFoldConstantTransposesPass());
  pm.addNestedPass<func::FuncOp>(std::make_unique<FuseElementwisePass>());
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
  if (options.optimize) {
    // Register tile: rows x (2 vector registers of columns), sized to the
    // register file (32 zmm / 16 ymm / 32 q registers).
    TileAndVectorizePassOptions tiling;
    int64_t lanes = std::max<int64_t>(4, options.vectorBits / 32);
    tiling.tileN = 2 * lanes;
    tiling.tileM = options.vectorBits == 256 ? 4 : 8;
    if (!options.threads)
      tiling.threadChunks = 0;
    pm.addNestedPass<func::FuncOp>(createTileAndVectorizePass(tiling));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Kernels write their outputs in place: results equal to arguments go.
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  // Outputs become arguments the runtime allocates.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createConvertBufferizationToMemRefPass());
  if (options.optimize && !options.gpuChip.empty()) {
    // GPU kernels: generated, launched through the runtime, compiled to
    // PTX before the host code goes to LLVM.
    pm.addPass(createLowerPackedMatmulToGPUPass());
    pm.addPass(createGPULaunchToRuntimePass());
    buildGPUKernelPipeline(pm, options.gpuChip);
  } else if (options.optimize) {
    LowerPackedMatmulPassOptions kernels;
    kernels.permute = options.vectorBits == 512;
    kernels.prefetchDistance = options.prefetchDistance;
    kernels.dot = options.armDot ? "sdot" : "vpdpbusd";
    kernels.lookup = options.arm ? "tbl" : "pshufb";
    pm.addNestedPass<func::FuncOp>(createLowerPackedMatmulPass(kernels));
  }
  // CSE makes the two subviews of an insert_slice's source and destination
  // one value, and canonicalization then drops the self-copies.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  if (options.optimize) {
    // Accumulators stay in registers across the K loop.
    pm.addNestedPass<func::FuncOp>(std::make_unique<HoistTransfersPass>());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll(); // no temporary buffers
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(transfers));
  if (options.optimize) {
    pm.addPass(createForallToParallelLoopPass());
    if (options.threads) {
      pm.addPass(createConvertSCFToOpenMPPass());
      pm.addPass(std::make_unique<InlineAllocaScopesPass>());
    }
  }
  pm.addPass(createConvertMathToFuncs()); // ipowi, fpowi
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(std::make_unique<EmitCInterfacePass>(options.entry));
  // Allocations go through _mlir_memref_to_llvm_alloc/free, which the
  // artifact's C wrapper implements with a cache of freed blocks: a model
  // run reuses the buffers of the previous one instead of faulting in fresh
  // pages.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = options.cachingAllocator;
  // (Before the vector and OpenMP conversions, which would otherwise lower
  // allocations inside their regions to plain malloc.)
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering =
      vector::VectorContractLowering::OuterProduct;
  vectorToLLVM.amx = options.amxMinRows > 0;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::lowbit::buildCPUPipeline(OpPassManager &pm,
                                    const CPUPipelineOptions &options) {
  buildCPUPipelineFront(pm, options);
  buildCPUPipelineBack(pm, options);
}

void mlir::lowbit::registerCPUInterfaces(DialectRegistry &registry) {
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  lowbit::registerBufferizableOpInterfaceExternalModels(registry);
}

namespace {
struct CPUPipelineCLOptions : PassPipelineOptions<CPUPipelineCLOptions> {
  Option<std::string> gpuChip{
      *this, "gpu-chip",
      llvm::cl::desc("quantized matmuls on CUDA kernels for this chip "
                     "(sm_80, sm_90; empty: CPU kernels)"),
      llvm::cl::init("")};
};
} // namespace

void mlir::lowbit::registerCPUPipeline() {
  registerLowbitCPUPasses();
  PassRegistration<FuseElementwisePass>();
  PassRegistration<HoistTransfersPass>();
  PassRegistration<InlineAllocaScopesPass>();
  PassPipelineRegistration<CPUPipelineCLOptions>(
      "lowbit-cpu-pipeline",
      "Core IR to the LLVM dialect for CPUs (what quant-compile runs)",
      [](OpPassManager &pm, const CPUPipelineCLOptions &cl) {
        CPUPipelineOptions options;
        options.gpuChip = cl.gpuChip;
        buildCPUPipeline(pm, options);
      });
}
