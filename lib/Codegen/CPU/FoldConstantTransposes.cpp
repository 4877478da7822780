//===- FoldConstantTransposes.cpp - Transposed weights ----------*- C++ -*-===//
//
// Implements lowbit-cpu-fold-constant-transposes: linalg.transpose of a
// constant becomes a constant with the data already transposed (a new resource
// blob), so weights are laid out once, at compile time.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUFOLDCONSTANTTRANSPOSESPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// The raw bytes of a constant's value, or empty if not available.
ArrayRef<char> rawData(Attribute value) {
  if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      return blob->getData();
  if (auto dense = dyn_cast<DenseElementsAttr>(value);
      dense && !dense.isSplat())
    return dense.getRawData();
  return {};
}

struct FoldConstantTransposesPass
    : lowbit::impl::LowbitCPUFoldConstantTransposesPassBase<
          FoldConstantTransposesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> ops;
    getOperation().walk([&](linalg::TransposeOp op) { ops.push_back(op); });
    int64_t index = 0;
    for (linalg::TransposeOp op : ops) {
      auto cst = op.getInput().getDefiningOp<arith::ConstantOp>();
      auto inType = dyn_cast<RankedTensorType>(op.getInput().getType());
      auto outType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (!cst || !inType || !outType || !inType.hasStaticShape() ||
          !inType.getElementType().isIntOrFloat() ||
          inType.getElementType().getIntOrFloatBitWidth() % 8)
        continue;
      ArrayRef<char> src = rawData(cst.getValue());
      int64_t elem = inType.getElementType().getIntOrFloatBitWidth() / 8;
      if (src.size() != (size_t)(inType.getNumElements() * elem))
        continue;
      ArrayRef<int64_t> perm = op.getPermutation();
      int64_t rank = inType.getRank();
      SmallVector<int64_t> inStrides(rank, 1), outShape(outType.getShape());
      for (int64_t d = rank - 2; d >= 0; --d)
        inStrides[d] = inStrides[d + 1] * inType.getDimSize(d + 1);
      AsmResourceBlob blob = HeapAsmResourceBlob::allocate(src.size(), 64);
      MutableArrayRef<char> dst = blob.getMutableData();
      SmallVector<int64_t> idx(rank, 0);
      for (int64_t n = 0, total = outType.getNumElements(); n < total; ++n) {
        // out[idx] = in[idx permuted back]
        int64_t off = 0;
        for (int64_t d = 0; d < rank; ++d)
          off += idx[d] * inStrides[perm[d]];
        std::memcpy(dst.data() + n * elem, src.data() + off * elem, elem);
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++idx[d] < outShape[d])
            break;
          idx[d] = 0;
        }
      }
      std::string name = "transposed_" + std::to_string(index++);
      auto attr =
          DenseResourceElementsAttr::get(outType, name, std::move(blob));
      OpBuilder b(op);
      auto folded = arith::ConstantOp::create(b, op.getLoc(), outType, attr);
      op->getResult(0).replaceAllUsesWith(folded.getResult());
      op->erase();
      if (cst->use_empty())
        cst->erase();
    }
  }
};

} // namespace
