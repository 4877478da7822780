//===- LowbitToLinalg.cpp - Reference lowering of lowbit --------*- C++ -*-===//
//
// Patterns lowering quantize, dequantize, matmul, fake_quant, hadamard and
// calibrate to linalg generics on tensors, and the convert-lowbit-to-linalg
// pass that applies them together with the code-storage patterns
// (CodeStorage.cpp).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/LowbitToLinalg/LowbitToLinalg.h"
#include "QuantizedParts.h"
#include "ScalarCodec.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Support/Hadamard.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOLINALGPASS
#include "lowbit/Conversion/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

static SmallVector<utils::IteratorType> parallelLoops(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

/// The parts of `value` if it is produced by lowbit.pack.
static std::optional<QuantizedParts> getKnownParts(Value value) {
  auto pack = value.getDefiningOp<PackOp>();
  if (!pack)
    return std::nullopt;
  return QuantizedParts::get(pack.getType(), pack.getParts());
}

namespace {

//===----------------------------------------------------------------------===//
// quantize
//===----------------------------------------------------------------------===//

struct QuantizeLowering : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    QTensorType type = op.getType();
    SchemeAttr scheme = type.getScheme();
    QuantizedParts parts = QuantizedParts::getParams(type, op.getParams());
    int64_t rank = type.getRank();

    ScalarCodec codec(rewriter, loc, scheme, parts.codebook);
    ToF32 inputToF32(rewriter, loc, type.getElementType());
    ScaleOperands scales(rewriter, loc, type, parts);

    SmallVector<Value> inputs{op.getInput()};
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
    scales.appendInputs(inputs, maps);
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         scheme.getCodeType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
        maps, parallelLoops(rank),
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto [s, z] = scales.build(b, l, args.drop_front());
          Value x = inputToF32(b, l, args[0]);
          Value zero = createF32(b, l, 0.0f);
          Value scaleIsZero =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, s, zero);
          Value t = arith::SelectOp::create(b, l, scaleIsZero, zero,
                                            arith::DivFOp::create(b, l, x, s));
          linalg::YieldOp::create(b, l, codec.encode(b, l, t, z));
        });
    SmallVector<Value> packParts{generic.getResult(0)};
    llvm::append_range(packParts, op.getParams());
    rewriter.replaceOpWithNewOp<PackOp>(op, type, packParts);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// dequantize
//===----------------------------------------------------------------------===//

/// Adds the outliers of `parts` to `dense` (element type of `type`).
static Value addOutliers(OpBuilder &b, Location loc, QTensorType type,
                         const QuantizedParts &parts, Value dense) {
  OutliersAttr outliers = type.getOutliers();
  Type elemType = type.getElementType();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto addAt = [&](OpBuilder &nb, Location nl, Value acc, ValueRange coords,
                   Value k) {
    Value values = parts.outliers.back();
    Value v = tensor::ExtractOp::create(nb, nl, values, ValueRange{k});
    Value old = tensor::ExtractOp::create(nb, nl, acc, coords);
    Value sum = arith::AddFOp::create(
        nb, nl, ToF32(nb, nl, elemType)(nb, nl, old),
        ToF32(nb, nl, outliers.getValueType())(nb, nl, v));
    if (!elemType.isF32())
      sum = arith::TruncFOp::create(nb, nl, elemType, sum);
    return tensor::InsertOp::create(nb, nl, sum, acc, coords).getResult();
  };
  auto toIndex = [](OpBuilder &nb, Location nl, Value v) -> Value {
    return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), v);
  };
  if (outliers.getFormat() == OutlierFormat::COO) {
    Value nnz = arith::ConstantIndexOp::create(b, loc, outliers.getNnz());
    auto loop = scf::ForOp::create(
        b, loc, zero, nnz, one, ValueRange{dense},
        [&](OpBuilder &nb, Location nl, Value k, ValueRange args) {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < type.getRank(); ++d) {
            Value dIdx = arith::ConstantIndexOp::create(nb, nl, d);
            coords.push_back(
                toIndex(nb, nl,
                        tensor::ExtractOp::create(nb, nl, parts.outliers[0],
                                                  ValueRange{k, dIdx})));
          }
          scf::YieldOp::create(nb, nl, addAt(nb, nl, args[0], coords, k));
        });
    return loop.getResult(0);
  }
  Value rows = arith::ConstantIndexOp::create(b, loc, type.getShape()[0]);
  auto outer = scf::ForOp::create(
      b, loc, zero, rows, one, ValueRange{dense},
      [&](OpBuilder &nb, Location nl, Value r, ValueRange args) {
        Value rNext = arith::AddIOp::create(nb, nl, r, one);
        Value begin = toIndex(nb, nl,
                              tensor::ExtractOp::create(
                                  nb, nl, parts.outliers[0], ValueRange{r}));
        Value end = toIndex(nb, nl,
                            tensor::ExtractOp::create(nb, nl, parts.outliers[0],
                                                      ValueRange{rNext}));
        auto inner = scf::ForOp::create(
            nb, nl, begin, end, one, args,
            [&](OpBuilder &ib, Location il, Value k, ValueRange iargs) {
              Value c = toIndex(ib, il,
                                tensor::ExtractOp::create(
                                    ib, il, parts.outliers[1], ValueRange{k}));
              scf::YieldOp::create(
                  ib, il, addAt(ib, il, iargs[0], ValueRange{r, c}, k));
            });
        scf::YieldOp::create(nb, nl, inner.getResults());
      });
  return outer.getResult(0);
}

/// Builds the reference dequantization of a value with known parts.
static Value buildDequantize(OpBuilder &b, Location loc, QTensorType type,
                             const QuantizedParts &parts) {
  SchemeAttr scheme = type.getScheme();
  int64_t rank = type.getRank();
  Type elemType = type.getElementType();
  ScalarCodec codec(b, loc, scheme, parts.codebook);
  ScaleOperands scales(b, loc, type, parts);

  SmallVector<Value> inputs{parts.codes};
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  scales.appendInputs(inputs, maps);
  if (parts.mask) {
    inputs.push_back(parts.mask);
    maps.push_back(getMaskMap(type));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), elemType);
  unsigned maskArg = 1 + scales.getNumInputs();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      parallelLoops(rank), [&](OpBuilder &nb, Location l, ValueRange args) {
        auto [s, z] = scales.build(nb, l, args.drop_front());
        Value v = codec.decode(nb, l, args[0]);
        if (z)
          v = arith::SubFOp::create(nb, l, v, z);
        Value x = arith::MulFOp::create(nb, l, v, s);
        if (parts.mask)
          x = arith::SelectOp::create(nb, l, args[maskArg], x,
                                      createF32(nb, l, 0.0f));
        if (!elemType.isF32())
          x = arith::TruncFOp::create(nb, l, elemType, x);
        linalg::YieldOp::create(nb, l, x);
      });
  Value result = generic.getResult(0);
  if (type.getOutliers())
    result = addOutliers(b, loc, type, parts, result);
  return result;
}

struct DequantizeLowering : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedParts> parts = getKnownParts(op.getInput());
    if (!parts)
      return rewriter.notifyMatchFailure(op, "parts of the input not known");
    auto type = cast<QTensorType>(op.getInput().getType());
    rewriter.replaceOp(op,
                       buildDequantize(rewriter, op.getLoc(), type, *parts));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

struct MatmulLowering : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QuantizedParts> parts = getKnownParts(op.getWeight());
    if (!parts)
      return rewriter.notifyMatchFailure(op, "parts of the weight not known");
    Location loc = op.getLoc();
    auto weightType = cast<QTensorType>(op.getWeight().getType());
    Value weight = buildDequantize(rewriter, loc, weightType, *parts);
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Type elemType = resultType.getElementType();
    Type f32 = rewriter.getF32Type();
    int64_t rank = inputType.getRank(); // batch..., m, k -> batch..., m, n

    // Loops: batch..., m, n, k.
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> inputExprs, outputExprs;
    for (int64_t d = 0; d < rank - 1; ++d) {
      inputExprs.push_back(getAffineDimExpr(d, ctx));
      outputExprs.push_back(getAffineDimExpr(d, ctx));
    }
    AffineExpr n = getAffineDimExpr(rank - 1, ctx);
    AffineExpr k = getAffineDimExpr(rank, ctx);
    inputExprs.push_back(k);
    outputExprs.push_back(n);
    SmallVector<AffineExpr> weightExprs{k, n};
    if (op.getTransposeWeight())
      std::swap(weightExprs[0], weightExprs[1]);
    SmallVector<AffineMap> maps{AffineMap::get(rank + 1, 0, inputExprs, ctx),
                                AffineMap::get(rank + 1, 0, weightExprs, ctx),
                                AffineMap::get(rank + 1, 0, outputExprs, ctx)};
    SmallVector<utils::IteratorType> iterators = parallelLoops(rank);
    iterators.push_back(utils::IteratorType::reduction);

    SmallVector<Value> dynSizes;
    for (int64_t d = 0; d < rank - 1; ++d)
      if (inputType.isDynamicDim(d))
        dynSizes.push_back(
            tensor::DimOp::create(rewriter, loc, op.getInput(), d));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         f32, dynSizes);
    Value zero = createF32(rewriter, loc, 0.0f);
    Value acc0 = linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);
    ToF32 toF32(rewriter, loc, elemType);
    auto matmul = linalg::GenericOp::create(
        rewriter, loc, TypeRange{acc0.getType()},
        ValueRange{op.getInput(), weight}, ValueRange{acc0}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value prod = arith::MulFOp::create(b, l, toF32(b, l, args[0]),
                                             toF32(b, l, args[1]));
          linalg::YieldOp::create(
              b, l, arith::AddFOp::create(b, l, args[2], prod).getResult());
        });
    Value result = matmul.getResult(0);
    if (!elemType.isF32()) {
      Value out = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                          elemType, dynSizes);
      int64_t outRank = resultType.getRank();
      result = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{resultType}, ValueRange{result},
                   ValueRange{out},
                   SmallVector<AffineMap>(
                       2, rewriter.getMultiDimIdentityMap(outRank)),
                   parallelLoops(outRank),
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     linalg::YieldOp::create(
                         b, l,
                         arith::TruncFOp::create(b, l, elemType, args[0])
                             .getResult());
                   })
                   .getResult(0);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// fake_quant
//===----------------------------------------------------------------------===//

/// Two generics: max |x| per row and block (a reduction over the block),
/// then the elementwise rounding with each element's block maximum.
struct FakeQuantLowering : OpRewritePattern<FakeQuantOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FakeQuantOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = op.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    int64_t block = op.getBlock();
    Type f32 = rewriter.getF32Type();
    float qmax = static_cast<float>((int64_t{1} << (op.getBits() - 1)) - 1);

    SmallVector<Value> dynSizes;
    for (int64_t d = 0; d < rank - 1; ++d)
      if (type.isDynamicDim(d))
        dynSizes.push_back(tensor::DimOp::create(rewriter, loc, input, d));
    int64_t k = type.getShape().back();
    int64_t blocks = llvm::divideCeil(k, block);
    SmallVector<int64_t> blockShape(type.getShape());
    blockShape.back() = blocks;
    // A last block cut short: its maximum over the input padded with zeros.
    Value padded = input;
    if (blocks * block != k) {
      SmallVector<OpFoldResult> low(rank, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> high(low);
      high.back() = rewriter.getIndexAttr(blocks * block - k);
      SmallVector<int64_t> paddedShape(type.getShape());
      paddedShape.back() = blocks * block;
      padded = tensor::PadOp::create(
          rewriter, loc, RankedTensorType::get(paddedShape, f32), input, low,
          high, createF32(rewriter, loc, 0.0f));
    }

    // The blocks as a dimension of their own: rows..., blocks, block.
    SmallVector<ReassociationIndices> reassoc;
    for (int64_t d = 0; d < rank - 1; ++d)
      reassoc.push_back({d});
    reassoc.push_back({rank - 1, rank});
    SmallVector<int64_t> blockedShape(blockShape);
    blockedShape.push_back(block);
    Value blocked = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(blockedShape, f32), padded,
        reassoc);

    // Loops: rows..., block b, element j.
    SmallVector<AffineExpr> rowExprs;
    for (int64_t d = 0; d < rank - 1; ++d)
      rowExprs.push_back(getAffineDimExpr(d, ctx));
    SmallVector<AffineExpr> maxExprs(rowExprs);
    maxExprs.push_back(getAffineDimExpr(rank - 1, ctx));
    SmallVector<utils::IteratorType> iterators = parallelLoops(rank);
    iterators.push_back(utils::IteratorType::reduction);
    Value maxInit =
        tensor::EmptyOp::create(rewriter, loc, blockShape, f32, dynSizes);
    Value zero = createF32(rewriter, loc, 0.0f);
    maxInit = linalg::FillOp::create(rewriter, loc, zero, maxInit).getResult(0);
    Value amax =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{maxInit.getType()}, ValueRange{blocked},
            ValueRange{maxInit},
            SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank + 1),
                                   AffineMap::get(rank + 1, 0, maxExprs, ctx)},
            iterators,
            [&](OpBuilder &bb, Location l, ValueRange args) {
              Value a = math::AbsFOp::create(bb, l, args[0]);
              linalg::YieldOp::create(
                  bb, l,
                  arith::MaximumFOp::create(bb, l, args[1], a).getResult());
            })
            .getResult(0);

    // Loops: rows..., k; the block maximum at k floordiv block.
    SmallVector<AffineExpr> blockExprs(rowExprs);
    blockExprs.push_back(getAffineDimExpr(rank - 1, ctx).floorDiv(block));
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    Value out =
        tensor::EmptyOp::create(rewriter, loc, type.getShape(), f32, dynSizes);
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{input, amax},
            ValueRange{out},
            SmallVector<AffineMap>{
                identity, AffineMap::get(rank, 0, blockExprs, ctx), identity},
            parallelLoops(rank),
            [&](OpBuilder &bb, Location l, ValueRange args) {
              Value m = args[1];
              Value q = createF32(bb, l, qmax);
              Value zeroF = createF32(bb, l, 0.0f);
              Value scale = arith::DivFOp::create(bb, l, m, q);
              Value positive = arith::CmpFOp::create(
                  bb, l, arith::CmpFPredicate::OGT, m, zeroF);
              Value inv = arith::SelectOp::create(
                  bb, l, positive, arith::DivFOp::create(bb, l, q, m), zeroF);
              Value code = math::RoundEvenOp::create(
                  bb, l, arith::MulFOp::create(bb, l, args[0], inv));
              linalg::YieldOp::create(
                  bb, l, arith::MulFOp::create(bb, l, code, scale).getResult());
            })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// hadamard
//===----------------------------------------------------------------------===//

/// The fast transform on the rows (rows x m x 2^k): k butterfly stages,
/// the dense m x m block, the scale.
struct HadamardLowering : OpRewritePattern<HadamardOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(HadamardOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    int64_t n = type.getShape().back();
    std::optional<HadamardMatrix> h = buildHadamardFactors(n);
    if (!h)
      return rewriter.notifyMatchFailure(op, "no Hadamard matrix");
    int64_t m = h->core, p = n / m;
    int64_t rows = type.getNumElements() / n;
    Type f32 = rewriter.getF32Type();
    auto tensorOf = [&](ArrayRef<int64_t> shape) {
      return RankedTensorType::get(shape, f32);
    };

    // rows x n (the leading dimensions collapsed).
    Value x = op.getInput();
    int64_t rank = type.getRank();
    SmallVector<ReassociationIndices> toRows;
    if (rank != 2) {
      ReassociationIndices lead;
      for (int64_t d = 0; d + 1 < rank; ++d)
        lead.push_back(d);
      toRows = {lead, {rank - 1}};
      x = rank == 1 ? tensor::ExpandShapeOp::create(
                          rewriter, loc, tensorOf({1, n}), x,
                          SmallVector<ReassociationIndices>{{0, 1}})
                          .getResult()
                    : tensor::CollapseShapeOp::create(rewriter, loc, x, toRows)
                          .getResult();
    }

    // Butterflies on bit s of the 2^k index: the rows seen as
    // rows x (m * 2^k / 2^(s+1)) x 2 x 2^s; out[.., t, ..] = x0 +- x1.
    for (int64_t half = 1; half < p; half *= 2) {
      int64_t outer = n / (2 * half);
      Value blocked = tensor::ExpandShapeOp::create(
          rewriter, loc, tensorOf({rows, outer, 2, half}), x,
          SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
      AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
                 d3 = getAffineDimExpr(3, ctx);
      AffineExpr zero = getAffineConstantExpr(0, ctx),
                 one = getAffineConstantExpr(1, ctx);
      SmallVector<AffineMap> maps{AffineMap::get(4, 0, {d0, d1, zero, d3}, ctx),
                                  AffineMap::get(4, 0, {d0, d1, one, d3}, ctx),
                                  rewriter.getMultiDimIdentityMap(4)};
      Value init =
          tensor::EmptyOp::create(rewriter, loc, {rows, outer, 2, half}, f32);
      Value stage =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{init.getType()},
              ValueRange{blocked, blocked}, ValueRange{init}, maps,
              parallelLoops(4),
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value t = linalg::IndexOp::create(b, l, 2);
                Value isSum = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::eq, t,
                    arith::ConstantIndexOp::create(b, l, 0));
                Value sum = arith::AddFOp::create(b, l, args[0], args[1]);
                Value diff = arith::SubFOp::create(b, l, args[0], args[1]);
                linalg::YieldOp::create(
                    b, l,
                    arith::SelectOp::create(b, l, isSum, sum, diff)
                        .getResult());
              })
              .getResult(0);
      x = tensor::CollapseShapeOp::create(
          rewriter, loc, stage,
          SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    }

    // The m x m block: y[r, c, d] = sum_a x[r, a, d] H_m[a, c], then the
    // scale; with m = 1 the scale alone.
    float scale = 1.0f / std::sqrt(static_cast<float>(n));
    Value blocked = tensor::ExpandShapeOp::create(
        rewriter, loc, tensorOf({rows, m, p}), x,
        SmallVector<ReassociationIndices>{{0}, {1, 2}});
    std::vector<float> core(h->coreEntries.begin(), h->coreEntries.end());
    Value coreCst = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(tensorOf({m, m}), ArrayRef<float>(core)));
    AffineExpr r = getAffineDimExpr(0, ctx), c = getAffineDimExpr(1, ctx),
               d = getAffineDimExpr(2, ctx), a = getAffineDimExpr(3, ctx);
    Value zeroF = createF32(rewriter, loc, 0.0f);
    Value acc = linalg::FillOp::create(
                    rewriter, loc, zeroF,
                    tensor::EmptyOp::create(rewriter, loc, {rows, m, p}, f32)
                        .getResult())
                    .getResult(0);
    Value mixed =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{acc.getType()},
            ValueRange{blocked, coreCst}, ValueRange{acc},
            SmallVector<AffineMap>{AffineMap::get(4, 0, {r, a, d}, ctx),
                                   AffineMap::get(4, 0, {a, c}, ctx),
                                   AffineMap::get(4, 0, {r, c, d}, ctx)},
            SmallVector<utils::IteratorType>{
                utils::IteratorType::parallel, utils::IteratorType::parallel,
                utils::IteratorType::parallel, utils::IteratorType::reduction},
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value prod = arith::MulFOp::create(b, l, args[0], args[1]);
              linalg::YieldOp::create(
                  b, l, arith::AddFOp::create(b, l, args[2], prod).getResult());
            })
            .getResult(0);
    Value out = tensor::EmptyOp::create(rewriter, loc, {rows, m, p}, f32);
    Value scaled =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{out.getType()}, ValueRange{mixed},
            ValueRange{out},
            SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(3)),
            parallelLoops(3),
            [&](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l,
                  arith::MulFOp::create(b, l, args[0], createF32(b, l, scale))
                      .getResult());
            })
            .getResult(0);
    Value result = tensor::CollapseShapeOp::create(
        rewriter, loc, scaled, SmallVector<ReassociationIndices>{{0}, {1, 2}});
    if (rank == 1)
      result = tensor::CollapseShapeOp::create(
          rewriter, loc, result, SmallVector<ReassociationIndices>{{0, 1}});
    else if (rank != 2)
      result =
          tensor::ExpandShapeOp::create(rewriter, loc, type, result, toRows);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// calibrate
//===----------------------------------------------------------------------===//

struct CalibrateLowering : OpRewritePattern<CalibrateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CalibrateOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertLowbitToLinalgPass
    : lowbit::impl::ConvertLowbitToLinalgPassBase<ConvertLowbitToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLowbitToLinalgPatterns(patterns);
    populateLowbitCodeStoragePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Erase packs whose value is no longer used, then report what is left.
    getOperation().walk([](PackOp pack) {
      if (pack->use_empty())
        pack->erase();
    });
    bool failedAny = false;
    getOperation().walk([&](Operation *op) {
      // Packed matmuls are the CPU kernels' (after bufferization).
      if (!isa<LowbitDialect>(op->getDialect()) || isa<PackedMatmulOp>(op))
        return;
      op->emitError() << "cannot lower '" << op->getName()
                      << "': the parts of its quantized operand are unknown "
                         "(it does not come from lowbit.pack or "
                         "lowbit.quantize)";
      failedAny = true;
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace

void mlir::lowbit::populateLowbitToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering, MatmulLowering,
               FakeQuantLowering, HadamardLowering, CalibrateLowering>(
      patterns.getContext());
}
