//===- PartChecks.cpp - Checks of constant quantized parts ------*- C++ -*-===//
//
// Verifier rules of lowbit.pack that need the data of constant parts.
//
//===----------------------------------------------------------------------===//

#include "PartChecks.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::lowbit;

/// Returns the values of a constant integer tensor, or nothing if `v` is not
/// a constant with inline data.
static std::optional<SmallVector<int64_t>> getConstantInts(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> values;
  values.reserve(attr.getNumElements());
  bool isBool = attr.getElementType().isInteger(1);
  for (const APInt &x : attr.getValues<APInt>())
    values.push_back(isBool ? x.getZExtValue() : x.getSExtValue());
  return values;
}

static LogicalResult checkCoo(Operation *op, QTensorType type, Value indices) {
  std::optional<SmallVector<int64_t>> idx = getConstantInts(indices);
  if (!idx)
    return success();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = shape.size();
  for (int64_t k = 0, e = idx->size() / rank; k < e; ++k)
    for (int64_t d = 0; d < rank; ++d) {
      int64_t x = (*idx)[k * rank + d];
      if (x < 0 || x >= shape[d])
        return op->emitOpError()
               << "outlier #" << k << " index " << x << " on axis " << d
               << " is out of range [0, " << shape[d] << ")";
    }
  return success();
}

static LogicalResult checkCsr(Operation *op, QTensorType type, Value rowPtr,
                              Value colIdx) {
  int64_t nnz = type.getOutliers().getNnz();
  if (std::optional<SmallVector<int64_t>> rows = getConstantInts(rowPtr)) {
    if (rows->front() != 0)
      return op->emitOpError()
             << "csr row pointers must start at 0, got " << rows->front();
    for (size_t r = 1; r < rows->size(); ++r)
      if ((*rows)[r] < (*rows)[r - 1])
        return op->emitOpError()
               << "csr row pointers decrease at row " << r - 1;
    if (rows->back() != nnz)
      return op->emitOpError() << "csr row pointers end at " << rows->back()
                               << " but the outlier count is " << nnz;
  }
  if (std::optional<SmallVector<int64_t>> cols = getConstantInts(colIdx)) {
    int64_t n = type.getShape()[1];
    for (auto [k, c] : llvm::enumerate(*cols))
      if (c < 0 || c >= n)
        return op->emitOpError() << "outlier #" << k << " column " << c
                                 << " is out of range [0, " << n << ")";
  }
  return success();
}

static LogicalResult checkNMMask(Operation *op, QTensorType type, Value mask) {
  SparsityAttr sparsity = type.getSparsity();
  if (sparsity.getKind() != SparsityKind::NM)
    return success();
  std::optional<SmallVector<int64_t>> bits = getConstantInts(mask);
  if (!bits)
    return success();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t axis = sparsity.getAxis(), m = sparsity.getM(), n = sparsity.getN();
  int64_t stride = 1;
  for (int64_t d = axis + 1, e = shape.size(); d < e; ++d)
    stride *= shape[d];
  int64_t extent = shape[axis];
  SmallVector<int64_t> kept(bits->size() / m, 0);
  for (auto [f, b] : llvm::enumerate(*bits)) {
    int64_t flat = f;
    int64_t outer = flat / (stride * extent);
    int64_t a = (flat / stride) % extent;
    int64_t inner = flat % stride;
    int64_t key = (outer * (extent / m) + a / m) * stride + inner;
    if (b && ++kept[key] > n)
      return op->emitOpError()
             << "mask keeps more than " << n << " of " << m
             << " elements along axis " << axis << " (window starting at "
             << (a / m) * m << ", element " << f << ")";
  }
  return success();
}

LogicalResult mlir::lowbit::verifyConstantParts(Operation *op, QTensorType type,
                                                ValueRange parts) {
  size_t next = 1 + type.getParamTypes().size();
  if (OutliersAttr outliers = type.getOutliers()) {
    if (outliers.getFormat() == OutlierFormat::COO) {
      if (failed(checkCoo(op, type, parts[next])))
        return failure();
      next += 2;
    } else {
      if (failed(checkCsr(op, type, parts[next], parts[next + 1])))
        return failure();
      next += 3;
    }
  }
  if (type.getSparsity())
    return checkNMMask(op, type, parts[next]);
  return success();
}
