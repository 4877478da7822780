//===- quant-opt.cpp - Lowbit's mlir-opt ------------------------*- C++ -*-===//
//
// Registers the lowbit dialect and passes, Lowbit's pipelines, and the
// upstream dialects and passes Lowbit uses, then runs MlirOptMain.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "lowbit/Codegen/GPU/Passes.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

/// Upstream passes Lowbit's pipelines use, so each step runs alone too.
static void registerUpstreamPasses() {
  registerTransformsPasses();
  registerLinalgPasses();
  bufferization::registerBufferizationPasses();
  memref::registerMemRefPasses();
  registerLowerAffinePass();
  registerArithToLLVMConversionPass();
  registerConvertControlFlowToLLVMPass();
  registerConvertFuncToLLVMPass();
  registerConvertIndexToLLVMPass();
  registerConvertMathToLLVMPass();
  registerConvertMathToLibmPass();
  registerFinalizeMemRefToLLVMConversionPass();
  registerReconcileUnrealizedCastsPass();
  registerSCFToControlFlowPass();
  registerConvertVectorToLLVMPass();
}

int main(int argc, char **argv) {
  DialectRegistry registry;
  registry.insert<lowbit::LowbitDialect, lowbit::onnx::ONNXDialect,
                  affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, gpu::GPUDialect, index::IndexDialect,
                  linalg::LinalgDialect, LLVM::LLVMDialect, math::MathDialect,
                  memref::MemRefDialect, NVVM::NVVMDialect, scf::SCFDialect,
                  tensor::TensorDialect, tosa::TosaDialect,
                  vector::VectorDialect>();
  // Bufferization and tiling models, the NVVM target, LLVM IR translations.
  lowbit::registerPipelineInterfaces(registry);

  lowbit::registerLowbitConversionPasses();
  lowbit::registerLowbitPasses();
  lowbit::registerLowbitCPUPasses();
  lowbit::registerLowbitGPUPasses();
  lowbit::registerLowbitPipelines();
  registerUpstreamPasses();

  return asMainReturnCode(
      MlirOptMain(argc, argv, "Lowbit optimizer driver\n", registry));
}
