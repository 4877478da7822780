//===- CPUPipeline.cpp - Core IR to LLVM for CPUs ---------------*- C++ -*-===//
//
// lowbit-cpu-pipeline: what quant-compile runs for every target, from core
// IR to the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "PipelineInterfaces.h"
#include "lowbit/Codegen/CPU/Passes.h"
#include "lowbit/Codegen/GPU/Passes.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/Transforms/BufferizableOpInterfaceImpl.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToFuncs/MathToFuncs.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::lowbit;

void mlir::lowbit::buildCPUPipeline(OpPassManager &pm,
                                    const CPUPipelineOptions &options) {
  if (options.optimize) {
    // Quantized matmuls with few rows run on the weight-streaming kernels.
    LowbitPackPassOptions pack;
    pack.lanes = std::max<int64_t>(4, options.vectorBits / 32);
    pack.int8Activations = options.int8Activations;
    pack.int8OutlierThreshold = options.int8OutlierThreshold;
    pack.lutMaxBits = options.lutMaxBits;
    pack.amxMinRows = options.amxMinRows;
    pack.gpu = !options.gpuChip.empty();
    pack.int8MaxBits = int8MaxCodeBits(options.dot);
    pm.addNestedPass<func::FuncOp>(createLowbitPackPass(pack));
    // Online Hadamard transforms: SIMD kernels (else the reference lowering).
    LowbitCPUVectorizeHadamardPassOptions hadamard;
    hadamard.lanes = pack.lanes;
    pm.addPass(createLowbitCPUVectorizeHadamardPass(hadamard));
  }
  pm.addPass(createConvertLowbitToLinalgPass());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Producer-consumer fusion of elementwise generics: fewer temporaries.
  pm.addNestedPass<func::FuncOp>(createLowbitCPUFoldConstantTransposesPass());
  pm.addNestedPass<func::FuncOp>(createLowbitCPUFuseElementwisePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  LowbitCPUOutlineWeightsPassOptions weights;
  weights.entry = options.entry;
  pm.addPass(createLowbitCPUOutlineWeightsPass(weights));
  LowbitCPUOutlineKernelsPassOptions kernels;
  kernels.entry = options.entry;
  pm.addPass(createLowbitCPUOutlineKernelsPass(kernels));
  if (options.optimize) {
    // Register tile: rows x (2 vector registers of columns), sized to the
    // register file (32 zmm / 16 ymm / 32 q registers).
    LowbitCPUTileAndVectorizePassOptions tiling;
    int64_t lanes = std::max<int64_t>(4, options.vectorBits / 32);
    tiling.tileN = 2 * lanes;
    tiling.tileM = options.vectorBits == 256 ? 4 : 8;
    if (!options.threads)
      tiling.threadChunks = 0;
    pm.addNestedPass<func::FuncOp>(createLowbitCPUTileAndVectorizePass(tiling));
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
  // Upstream names bufferization's constant globals in an order that changes
  // from run to run: renumber them so that compiles are reproducible.
  pm.addPass(createLowbitCPUNumberConstantGlobalsPass());
  if (options.optimize && !options.gpuChip.empty()) {
    // GPU kernels: generated, launched through the runtime, compiled to
    // PTX before the host code goes to LLVM.
    pm.addPass(createConvertLowbitToGPUPass());
    pm.addPass(createLowbitGPULaunchToRuntimePass());
    GPUKernelPipelineOptions gpu;
    gpu.chip = options.gpuChip;
    buildGPUKernelPipeline(pm, gpu);
  } else if (options.optimize) {
    ConvertLowbitToCPUPassOptions kernels;
    kernels.permute = options.vectorBits == 512;
    kernels.prefetchDistance = options.prefetchDistance;
    kernels.dot = options.dot;
    kernels.lookup = options.lookup;
    pm.addNestedPass<func::FuncOp>(createConvertLowbitToCPUPass(kernels));
  }
  // CSE makes the two subviews of an insert_slice's source and destination
  // one value, and canonicalization then drops the self-copies.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  if (options.optimize) {
    // Accumulators stay in registers across the K loop.
    pm.addNestedPass<func::FuncOp>(createLowbitCPUHoistTransfersPass());
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
      pm.addPass(createLowbitCPUInlineAllocaScopesPass());
    }
  }
  pm.addPass(createConvertMathToFuncs()); // ipowi, fpowi
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  LowbitCPUEmitCInterfacePassOptions entry;
  entry.entry = options.entry;
  pm.addPass(createLowbitCPUEmitCInterfacePass(entry));
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

void mlir::lowbit::detail::registerCPUPipelineInterfaces(
    DialectRegistry &registry) {
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
