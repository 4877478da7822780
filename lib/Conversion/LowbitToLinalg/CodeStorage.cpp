//===- CodeStorage.cpp - Reference lowering of code bit packing -*- C++ -*-===//
//
// lowbit.pack_codes and lowbit.unpack_codes as generics over the flattened
// code tensor and the byte stream: code k holds stream bits [k*b, (k+1)*b),
// stream bit j is bit j%8 of byte j/8.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/LowbitToLinalg/LowbitToLinalg.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::lowbit;

/// Reassociation that collapses all dims of a rank-`rank` tensor into one.
static SmallVector<ReassociationIndices> collapseAll(int64_t rank) {
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return {all};
}

/// A 1-D generic over `initType` whose body gets the loop index.
static Value
build1DGeneric(OpBuilder &b, Location loc, RankedTensorType initType,
               function_ref<Value(OpBuilder &, Location, Value)> body) {
  Value init = tensor::EmptyOp::create(b, loc, initType.getShape(),
                                       initType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{initType}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(1)},
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange) {
        Value i = linalg::IndexOp::create(nb, l, 0);
        linalg::YieldOp::create(nb, l, body(nb, l, i));
      });
  return generic.getResult(0);
}

namespace {

struct PackCodesLowering : OpRewritePattern<PackCodesOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackCodesOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType codesType = op.getCodes().getType();
    int64_t numel = codesType.getNumElements();
    unsigned bits = codesType.getElementTypeBitWidth();
    Value flat = op.getCodes();
    if (codesType.getRank() != 1)
      flat = tensor::CollapseShapeOp::create(rewriter, loc, flat,
                                             collapseAll(codesType.getRank()));
    Value result = build1DGeneric(
        rewriter, loc, op.getBytes().getType(),
        [&](OpBuilder &b, Location l, Value byteIdx) -> Value {
          Type i32 = b.getI32Type();
          auto cIdx = [&](int64_t v) -> Value {
            return arith::ConstantIndexOp::create(b, l, v);
          };
          Value zero = cIdx(0), one = cIdx(1), eight = cIdx(8);
          Value width = cIdx(bits), last = cIdx(numel - 1), count = cIdx(numel);
          Value firstBit = arith::MulIOp::create(b, l, byteIdx, eight);
          Value init = arith::ConstantIntOp::create(b, l, i32, 0);
          auto loop = scf::ForOp::create(
              b, l, zero, eight, one, ValueRange{init},
              [&](OpBuilder &lb, Location ll, Value k, ValueRange args) {
                Value bit = arith::AddIOp::create(lb, ll, firstBit, k);
                Value elem = arith::DivUIOp::create(lb, ll, bit, width);
                Value within = arith::RemUIOp::create(lb, ll, bit, width);
                Value inRange = arith::CmpIOp::create(
                    lb, ll, arith::CmpIPredicate::ult, elem, count);
                Value safe = arith::MinUIOp::create(lb, ll, elem, last);
                Value code =
                    tensor::ExtractOp::create(lb, ll, flat, ValueRange{safe});
                Value code32 = arith::ExtUIOp::create(lb, ll, i32, code);
                Value shift = arith::IndexCastUIOp::create(lb, ll, i32, within);
                Value c1 = arith::ConstantIntOp::create(lb, ll, i32, 1);
                Value c0 = arith::ConstantIntOp::create(lb, ll, i32, 0);
                Value v = arith::AndIOp::create(
                    lb, ll, arith::ShRUIOp::create(lb, ll, code32, shift), c1);
                v = arith::SelectOp::create(lb, ll, inRange, v, c0);
                Value dest = arith::IndexCastUIOp::create(lb, ll, i32, k);
                Value acc = arith::OrIOp::create(
                    lb, ll, args[0], arith::ShLIOp::create(lb, ll, v, dest));
                scf::YieldOp::create(lb, ll, acc);
              });
          return arith::TruncIOp::create(b, l, b.getI8Type(),
                                         loop.getResult(0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct UnpackCodesLowering : OpRewritePattern<UnpackCodesOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackCodesOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType codesType = op.getCodes().getType();
    int64_t numel = codesType.getNumElements();
    unsigned bits = codesType.getElementTypeBitWidth();
    int64_t numBytes = op.getBytes().getType().getDimSize(0);
    Value bytes = op.getBytes();
    auto flatType = RankedTensorType::get({numel}, codesType.getElementType());
    Value flat = build1DGeneric(
        rewriter, loc, flatType,
        [&](OpBuilder &b, Location l, Value elem) -> Value {
          Type i32 = b.getI32Type();
          auto cIdx = [&](int64_t v) -> Value {
            return arith::ConstantIndexOp::create(b, l, v);
          };
          Value bit = arith::MulIOp::create(b, l, elem, cIdx(bits));
          Value byte0 = arith::DivUIOp::create(b, l, bit, cIdx(8));
          Value byte1 = arith::AddIOp::create(b, l, byte0, cIdx(1));
          Value hasNext = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                                byte1, cIdx(numBytes));
          Value safe1 = arith::MinUIOp::create(b, l, byte1, cIdx(numBytes - 1));
          Value lo = arith::ExtUIOp::create(
              b, l, i32,
              tensor::ExtractOp::create(b, l, bytes, ValueRange{byte0}));
          Value hi = arith::ExtUIOp::create(
              b, l, i32,
              tensor::ExtractOp::create(b, l, bytes, ValueRange{safe1}));
          Value c0 = arith::ConstantIntOp::create(b, l, i32, 0);
          hi = arith::SelectOp::create(b, l, hasNext, hi, c0);
          Value word = arith::OrIOp::create(
              b, l, lo,
              arith::ShLIOp::create(
                  b, l, hi, arith::ConstantIntOp::create(b, l, i32, 8)));
          Value shift = arith::IndexCastUIOp::create(
              b, l, i32, arith::RemUIOp::create(b, l, bit, cIdx(8)));
          Value v = arith::ShRUIOp::create(b, l, word, shift);
          return arith::TruncIOp::create(b, l, codesType.getElementType(), v);
        });
    Value result = flat;
    if (codesType.getRank() != 1)
      result = tensor::ExpandShapeOp::create(rewriter, loc, codesType, flat,
                                             collapseAll(codesType.getRank()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::lowbit::populateLowbitCodeStoragePatterns(
    RewritePatternSet &patterns) {
  patterns.add<PackCodesLowering, UnpackCodesLowering>(patterns.getContext());
}
