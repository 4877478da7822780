//===- HoistTransfers.cpp - Accumulators out of the K loop ------*- C++ -*-===//
//
// Implements lowbit-cpu-hoist-transfers: loop-invariant vector transfers on
// buffers become loop-carried values, so a microkernel's accumulators stay in
// registers across K.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUHOISTTRANSFERSPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;

namespace {

struct HoistTransfersPass
    : lowbit::impl::LowbitCPUHoistTransfersPassBase<HoistTransfersPass> {
  using Base::Base;

  void runOnOperation() override {
    linalg::hoistRedundantVectorTransfers(getOperation(),
                                          /*verifyNonZeroTrip=*/true);
  }
};

} // namespace
