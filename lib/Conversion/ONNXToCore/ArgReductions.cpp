//===- ArgReductions.cpp - ArgMax, ArgMin, TopK, Size -----------*- C++ -*-===//
//
// ArgMax/ArgMin over one axis as a linalg.generic with two outputs, the
// best value so far and its index (i64): an element replaces them when it
// is strictly better (the first extreme wins) or, with select_last_index,
// at least as good (the last wins). keepdims keeps the axis as a 1. Floats
// compare ordered, so a NaN never wins (an all-NaN slice gives 0). TopK
// repeats such a reduction K times over the elements not taken yet; Size
// is the element count.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

struct ArgReducePattern : ONNXPattern {
  ArgReducePattern(MLIRContext *ctx, StringRef name, bool isMax)
      : ONNXPattern(ctx, name), isMax(isMax) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType resultType = getResultType(op);
    if (!type || !resultType || type.getRank() == 0 ||
        !resultType.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(op,
                                         "needs a ranked input, i64 result");
    Type t = type.getElementType();
    bool isFloat = isa<FloatType>(t);
    if (!isFloat && !isa<IntegerType>(t))
      return rewriter.notifyMatchFailure(op, "float or integer input");
    int64_t rank = type.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", 0, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr;
    bool keep = getIntAttr(op, "keepdims", 1);
    bool last = getIntAttr(op, "select_last_index", 0);
    if (resultType.getRank() != (keep ? rank : rank - 1))
      return rewriter.notifyMatchFailure(op, "result rank");
    bool isUnsigned = isUnsignedElement(x.getType());

    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value input = toSignless(rewriter, loc, x);
    Type st = signlessElement(t);
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    SmallVector<AffineExpr> outExprs;
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      shape.push_back(type.getDimSize(d));
      outExprs.push_back(getAffineDimExpr(d, ctx));
      if (type.isDynamicDim(d))
        dyn.push_back(tensor::DimOp::create(rewriter, loc, input, d));
    }
    // The worst value of the type, so that the first element always wins.
    TypedAttr worst;
    if (auto ft = dyn_cast<FloatType>(st)) {
      worst = rewriter.getFloatAttr(
          ft, isMax ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity());
    } else {
      unsigned w = st.getIntOrFloatBitWidth();
      APInt v = isUnsigned
                    ? (isMax ? APInt::getMinValue(w) : APInt::getMaxValue(w))
                    : (isMax ? APInt::getSignedMinValue(w)
                             : APInt::getSignedMaxValue(w));
      worst = rewriter.getIntegerAttr(st, v);
    }
    Type i64 = rewriter.getI64Type();
    Value valInit =
        linalg::FillOp::create(
            rewriter, loc,
            arith::ConstantOp::create(rewriter, loc, worst).getResult(),
            tensor::EmptyOp::create(rewriter, loc, shape, st, dyn).getResult())
            .getResult(0);
    Value idxInit =
        linalg::FillOp::create(
            rewriter, loc, i64Const(rewriter, loc, 0),
            tensor::EmptyOp::create(rewriter, loc, shape, i64, dyn).getResult())
            .getResult(0);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap out = AffineMap::get(rank, 0, outExprs, ctx);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valInit.getType(), idxInit.getType()},
        ValueRange{input}, ValueRange{valInit, idxInit},
        ArrayRef<AffineMap>{id, out, out}, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value in = args[0], best = args[1], bestIdx = args[2];
          Value better;
          if (isFloat) {
            auto pred = isMax ? (last ? arith::CmpFPredicate::OGE
                                      : arith::CmpFPredicate::OGT)
                              : (last ? arith::CmpFPredicate::OLE
                                      : arith::CmpFPredicate::OLT);
            better = arith::CmpFOp::create(b, l, pred, in, best);
          } else {
            arith::CmpIPredicate pred;
            if (isUnsigned)
              pred = isMax ? (last ? arith::CmpIPredicate::uge
                                   : arith::CmpIPredicate::ugt)
                           : (last ? arith::CmpIPredicate::ule
                                   : arith::CmpIPredicate::ult);
            else
              pred = isMax ? (last ? arith::CmpIPredicate::sge
                                   : arith::CmpIPredicate::sgt)
                           : (last ? arith::CmpIPredicate::sle
                                   : arith::CmpIPredicate::slt);
            better = arith::CmpIOp::create(b, l, pred, in, best);
          }
          // The first element of the slice always wins (an all-NaN or
          // all-worst slice then points at its first element, or with
          // select_last_index at the last that ties).
          Value pos = arith::IndexCastOp::create(
              b, l, i64, linalg::IndexOp::create(b, l, axis));
          Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              pos, i64Const(b, l, 0));
          better = arith::OrIOp::create(b, l, better, first);
          Value v = arith::SelectOp::create(b, l, better, in, best);
          Value i = arith::SelectOp::create(b, l, better, pos, bestIdx);
          linalg::YieldOp::create(b, l, ValueRange{v, i});
        });
    Value indices = generic.getResult(1);
    if (keep) {
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(d == axis ? indexConst(rewriter, loc, 1)
                                  : dimSize(rewriter, loc, input, d));
      indices = reshapeTo(rewriter, loc, indices, resultType, sizes);
    } else if (cast<RankedTensorType>(indices.getType()) != resultType) {
      indices = tensor::CastOp::create(rewriter, loc, resultType, indices);
    }
    rewriter.replaceOp(op, indices);
    return success();
  }

  bool isMax;
};

/// Size: the number of elements, an i64 scalar.
struct SizePattern : ONNXPattern {
  SizePattern(MLIRContext *ctx) : ONNXPattern(ctx, "Size") {}
  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    RankedTensorType resultType = getResultType(op);
    if (!type || !resultType || resultType.getRank() != 0 ||
        !resultType.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(op, "needs a ranked input");
    Location loc = op.getLoc();
    Value n = indexConst(rewriter, loc, 1);
    for (int64_t d = 0; d < type.getRank(); ++d)
      n = arith::MulIOp::create(rewriter, loc, n,
                                dimSize(rewriter, loc, op.getInputs()[0], d));
    Value v =
        arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, resultType,
                                                        ValueRange{v});
    return success();
  }
};
/// TopK (K a constant): K rounds of an arg-reduction over the elements not
/// taken yet, each writing its value and index at position j of the
/// outputs and marking its element taken. Ties go to the lower index (as
/// onnxruntime orders them); results come sorted whatever `sorted` says
/// (an order ONNX allows). O(K N): meant for the small K of classifier and
/// detector heads. Floats compare ordered, so NaNs are never taken while
/// another element is left.
struct TopKPattern : ONNXPattern {
  TopKPattern(MLIRContext *ctx) : ONNXPattern(ctx, "TopK", 10) {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    if (op.getInputs().size() != 2 || op->getNumResults() != 2)
      return failure();
    Value x = op.getInputs()[0];
    auto type = dyn_cast<RankedTensorType>(x.getType());
    RankedTensorType valType = getResultType(op, 0),
                     idxType = getResultType(op, 1);
    auto kValues = constantInts(op.getInputs()[1]);
    if (!type || !valType || !idxType || !kValues || kValues->size() != 1 ||
        !type.hasStaticShape() ||
        !isa<FloatType, IntegerType>(type.getElementType()) ||
        !idxType.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(
          op, "needs a static input and a constant K");
    int64_t rank = type.getRank();
    FailureOr<int64_t> axisOr = getAxisAttr(op, "axis", -1, rank);
    if (failed(axisOr))
      return rewriter.notifyMatchFailure(op, "axis out of range");
    int64_t axis = *axisOr, k = (*kValues)[0];
    SmallVector<int64_t> outShape(type.getShape());
    outShape[axis] = k;
    if (k < 0 || k > type.getDimSize(axis) ||
        valType.getShape() != ArrayRef<int64_t>(outShape) ||
        idxType.getShape() != ArrayRef<int64_t>(outShape) ||
        valType.getElementType() != type.getElementType())
      return rewriter.notifyMatchFailure(op, "K or result types");
    bool largest = getIntAttr(op, "largest", 1);

    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    bool isFloat = isa<FloatType>(type.getElementType());
    bool isUnsigned = isUnsignedElement(type);
    x = toSignless(rewriter, loc, x);
    Type t = signlessElement(type.getElementType()),
         i64 = rewriter.getI64Type(), i1 = rewriter.getI1Type();
    SmallVector<int64_t> redShape;
    SmallVector<AffineExpr> redExprs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) {
        redShape.push_back(type.getDimSize(d));
        redExprs.push_back(getAffineDimExpr(d, ctx));
      }
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap red = AffineMap::get(rank, 0, redExprs, ctx);
    auto fill = [&](ArrayRef<int64_t> shape, Type et, TypedAttr v) {
      return linalg::FillOp::create(
                 rewriter, loc,
                 arith::ConstantOp::create(rewriter, loc, v).getResult(),
                 tensor::EmptyOp::create(rewriter, loc, shape, et).getResult())
          .getResult(0);
    };
    Value values0 = fill(outShape, t, cast<TypedAttr>(rewriter.getZeroAttr(t)));
    Value indices0 = fill(outShape, i64, rewriter.getI64IntegerAttr(0));
    Value taken0 = fill(type.getShape(), i1, rewriter.getBoolAttr(false));
    SmallVector<utils::IteratorType> reduceIters(rank,
                                                 utils::IteratorType::parallel);
    reduceIters[axis] = utils::IteratorType::reduction;
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    auto loop = scf::ForOp::create(
        rewriter, loc, indexConst(rewriter, loc, 0),
        indexConst(rewriter, loc, k), indexConst(rewriter, loc, 1),
        ValueRange{values0, indices0, taken0},
        [&](OpBuilder &b, Location l, Value j, ValueRange args) {
          // The best element not taken yet, per slice.
          Value bestInit =
              linalg::FillOp::create(
                  b, l,
                  arith::ConstantOp::create(b, l,
                                            cast<TypedAttr>(b.getZeroAttr(t)))
                      .getResult(),
                  tensor::EmptyOp::create(b, l, redShape, t).getResult())
                  .getResult(0);
          Value idxInit =
              linalg::FillOp::create(
                  b, l, i64Const(b, l, -1),
                  tensor::EmptyOp::create(b, l, redShape, i64).getResult())
                  .getResult(0);
          auto pick = linalg::GenericOp::create(
              b, l, TypeRange{bestInit.getType(), idxInit.getType()},
              ValueRange{x, args[2]}, ValueRange{bestInit, idxInit},
              ArrayRef<AffineMap>{id, id, red, red}, reduceIters,
              [&](OpBuilder &nb, Location nl, ValueRange s) {
                Value in = s[0], taken = s[1], best = s[2], bestIdx = s[3];
                Value none =
                    arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                          bestIdx, i64Const(nb, nl, -1));
                Value beats;
                if (isFloat)
                  beats =
                      arith::CmpFOp::create(nb, nl,
                                            largest ? arith::CmpFPredicate::OGT
                                                    : arith::CmpFPredicate::OLT,
                                            in, best);
                else
                  beats = arith::CmpIOp::create(
                      nb, nl,
                      largest ? (isUnsigned ? arith::CmpIPredicate::ugt
                                            : arith::CmpIPredicate::sgt)
                              : (isUnsigned ? arith::CmpIPredicate::ult
                                            : arith::CmpIPredicate::slt),
                      in, best);
                Value better = arith::AndIOp::create(
                    nb, nl,
                    arith::XOrIOp::create(nb, nl, taken,
                                          arith::ConstantOp::create(
                                              nb, nl, nb.getBoolAttr(true))),
                    arith::OrIOp::create(nb, nl, none, beats));
                Value pos = arith::IndexCastOp::create(
                    nb, nl, i64, linalg::IndexOp::create(nb, nl, axis));
                linalg::YieldOp::create(
                    nb, nl,
                    ValueRange{
                        arith::SelectOp::create(nb, nl, better, in, best),
                        arith::SelectOp::create(nb, nl, better, pos, bestIdx)});
              });
          Value best = pick.getResult(0), bestIdx = pick.getResult(1);
          // Written at position j along the axis.
          SmallVector<OpFoldResult> offsets, sizes, strides;
          for (int64_t d = 0; d < rank; ++d) {
            offsets.push_back(d == axis ? OpFoldResult(j) : b.getIndexAttr(0));
            sizes.push_back(b.getIndexAttr(d == axis ? 1 : outShape[d]));
            strides.push_back(b.getIndexAttr(1));
          }
          Value values = tensor::InsertSliceOp::create(b, l, best, args[0],
                                                       offsets, sizes, strides);
          Value indices = tensor::InsertSliceOp::create(
              b, l, bestIdx, args[1], offsets, sizes, strides);
          // Mark the picked elements taken.
          Value taken =
              linalg::GenericOp::create(
                  b, l, TypeRange{args[2].getType()}, ValueRange{bestIdx},
                  ValueRange{args[2]}, ArrayRef<AffineMap>{red, id}, parallel,
                  [&](OpBuilder &nb, Location nl, ValueRange s) {
                    Value pos = arith::IndexCastOp::create(
                        nb, nl, i64, linalg::IndexOp::create(nb, nl, axis));
                    Value hit = arith::CmpIOp::create(
                        nb, nl, arith::CmpIPredicate::eq, pos, s[0]);
                    linalg::YieldOp::create(
                        nb, nl,
                        arith::OrIOp::create(nb, nl, s[1], hit).getResult());
                  })
                  .getResult(0);
          scf::YieldOp::create(b, l, ValueRange{values, indices, taken});
        });
    rewriter.replaceOp(op,
                       {fromSignless(rewriter, loc, loop.getResult(0), valType),
                        loop.getResult(1)});
    return success();
  }
};

} // namespace

void mlir::lowbit::populateONNXArgReductionPatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ArgReducePattern>(ctx, "ArgMax", true);
  patterns.add<ArgReducePattern>(ctx, "ArgMin", false);
  patterns.add<SizePattern, TopKPattern>(ctx);
}
