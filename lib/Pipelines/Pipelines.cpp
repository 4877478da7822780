//===- Pipelines.cpp - Registration of Lowbit's pipelines -------*- C++ -*-===//
//
// The four pipelines as quant-opt flags, and the external models they need.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Pipelines/Pipelines.h"
#include "PipelineInterfaces.h"
#include "lowbit/Quantization/Recipe.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::lowbit;

void mlir::lowbit::registerPipelineInterfaces(DialectRegistry &registry) {
  detail::registerCPUPipelineInterfaces(registry);
  detail::registerGPUKernelPipelineInterfaces(registry);
}

void mlir::lowbit::registerLowbitPipelines() {
  PassPipelineRegistration<>(
      "lowbit-reference-pipeline",
      "Lower lowbit through its reference semantics to the LLVM dialect",
      buildReferencePipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "lowbit-cpu-pipeline",
      "Core IR to the LLVM dialect for CPUs (what quant-compile runs; "
      "quant-compile logs its options)",
      buildCPUPipeline);
  PassPipelineRegistration<GPUKernelPipelineOptions>(
      "lowbit-gpu-kernel-pipeline",
      "Lowbit's gpu.module kernels to a gpu.binary holding PTX",
      buildGPUKernelPipeline);
  // A recipe is a file: reading it can fail, so this one is registered with
  // an error path.
  registerPassPipeline(
      "lowbit-quantization-pipeline",
      "A quantization recipe's passes (lowbit-smooth, lowbit-quantize-rtn, "
      "lowbit-gptq)",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        QuantizationPipelineOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return failure();
        Recipe recipe;
        if (!options.recipe.empty()) {
          llvm::Expected<Recipe> loaded = Recipe::load(options.recipe);
          if (!loaded)
            return errorHandler(llvm::toString(loaded.takeError()));
          recipe = std::move(*loaded);
        } else if (llvm::Error e = recipe.validate()) {
          return errorHandler(llvm::toString(std::move(e)));
        }
        buildSmoothingPipeline(pm, recipe, options.progress);
        buildQuantizationPipeline(pm, recipe, options.progress);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optHandler) {
        optHandler(QuantizationPipelineOptions());
      });
}
