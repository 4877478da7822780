//===- LowbitToCPU.cpp - lowbit.packed_matmul to CPU kernels ----*- C++ -*-===//
//
// Implements convert-lowbit-to-cpu: each bufferized lowbit.packed_matmul on
// a CPU layout becomes the weight-streaming kernel KernelBuilder generates
// for its layout and shape (PackedMatmul*.cpp).
//
//===----------------------------------------------------------------------===//

#include "PackedMatmulKernels.h"
#include "lowbit/Conversion/Passes.h"
#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOCPUPASS
#include "lowbit/Conversion/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

namespace {

struct ConvertLowbitToCPUPass
    : lowbit::impl::ConvertLowbitToCPUPassBase<ConvertLowbitToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<PackedMatmulOp> ops;
    getOperation().walk([&](PackedMatmulOp op) { ops.push_back(op); });
    for (PackedMatmulOp op : ops) {
      if (op.getNumResults() != 0) {
        op.emitOpError("must be bufferized before kernel generation");
        return signalPassFailure();
      }
      if (op.getLayout().getGpu()) {
        op.emitOpError("has a 'gpu' layout: its kernel comes from "
                       "convert-lowbit-to-gpu");
        return signalPassFailure();
      }
      if (op.getLayout().getLut() && lookup == ByteLookup::Pshufb &&
          op.getLayout().getLanes() < 8) {
        op.emitOpError("lut kernels on x86 need AVX2 or AVX-512 (8 or 16 "
                       "lanes), got ")
            << op.getLayout().getLanes() << " lanes";
        return signalPassFailure();
      }
      if (op.getLayout().getLut() && lookup == ByteLookup::Tbl &&
          op.getLayout().getLanes() != 4) {
        op.emitOpError("lut kernels on NEON take 4 lanes, got ")
            << op.getLayout().getLanes();
        return signalPassFailure();
      }
      if (op.getLayout().getInt8() && !op.getLayout().getAmx() &&
          op.getLayout().getBits() > int8MaxCodeBits(dot)) {
        op.emitOpError("int8 kernels with dot=")
            << (dot == DotProduct::Sdot ? "sdot" : "pmaddubsw")
            << " take codes of up to " << int8MaxCodeBits(dot) << " bits, got "
            << op.getLayout().getBits();
        return signalPassFailure();
      }
      KernelBuilder(op, permute, prefetchDistance, dot, lookup).build();
      op.erase();
    }
  }
};

} // namespace
