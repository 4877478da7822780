//===- BufferizableOpInterfaceImpl.cpp - Bufferizing lowbit ops -----------===//
//
// lowbit.packed_matmul bufferizes in place on its init, which it only
// writes: an init from tensor.empty becomes a plain allocation, no copy.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/Transforms/BufferizableOpInterfaceImpl.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::lowbit;

namespace {

struct PackedMatmulOpInterface
    : DstBufferizableOpInterfaceExternalModel<PackedMatmulOpInterface,
                                              PackedMatmulOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<PackedMatmulOp>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto matmul = cast<PackedMatmulOp>(op);
    SmallVector<Value> buffers;
    for (Value v : {matmul.getInput(), matmul.getCodes(), matmul.getParams(),
                    matmul.getInit(), matmul.getOutliers()}) {
      if (!v) {
        buffers.push_back(Value());
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, v, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    auto bufferized = PackedMatmulOp::create(
        rewriter, op->getLoc(), TypeRange{}, buffers[0], buffers[1], buffers[2],
        buffers[4], buffers[3], matmul.getLayout());
    bufferized->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    replaceOpWithBufferizedValues(rewriter, op, buffers[3]);
    return success();
  }
};

} // namespace

void mlir::lowbit::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LowbitDialect *) {
    PackedMatmulOp::attachInterface<PackedMatmulOpInterface>(*ctx);
  });
}
