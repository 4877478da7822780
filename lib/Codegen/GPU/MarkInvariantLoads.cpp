//===- MarkInvariantLoads.cpp - Kernel loads through ld.global.nc -*- C++ -*-=//
//
// Implements lowbit-gpu-mark-invariant-loads: Lowbit's kernels never read
// memory they write during a launch, so their loads are invariant and NVPTX
// may use the read-only data cache.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/GPU/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITGPUMARKINVARIANTLOADSPASS
#include "lowbit/Codegen/GPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;

namespace {

struct MarkInvariantLoadsPass
    : lowbit::impl::LowbitGPUMarkInvariantLoadsPassBase<
          MarkInvariantLoadsPass> {
  using Base::Base;

  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    if (module.getName() != "lowbit_kernels")
      return;
    module.walk([](LLVM::LoadOp load) { load.setInvariant(true); });
  }
};

} // namespace
