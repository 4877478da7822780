//===- ScalarCodec.cpp - Scalar code arithmetic for the lowering -*- C++
//-*-===//
//
// Decoding and encoding of single codes: integers directly, small floats and
// NF4 through constant f32 tables, learned codebooks through their part.
// Encoding to a table is a nearest-entry search with ties to the even code.
//
//===----------------------------------------------------------------------===//

#include "ScalarCodec.h"
#include "lowbit/Support/CodeTables.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::lowbit;

Value mlir::lowbit::createF32(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

static Value createTable(OpBuilder &b, Location loc, ArrayRef<float> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getF32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

/// Looks up `table[code]` for an integer code of any width <= 31.
static Value lookup(OpBuilder &b, Location loc, Value table, Value code) {
  Value wide = code;
  if (code.getType().getIntOrFloatBitWidth() < 32)
    wide = arith::ExtUIOp::create(b, loc, b.getI32Type(), code);
  Value index = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), wide);
  return tensor::ExtractOp::create(b, loc, table, ValueRange{index});
}

static const llvm::fltSemantics &getCodeSemantics(CodeFormat format) {
  switch (format) {
  case CodeFormat::E2M1:
    return llvm::APFloat::Float4E2M1FN();
  case CodeFormat::E3M2:
    return llvm::APFloat::Float6E3M2FN();
  case CodeFormat::E2M3:
    return llvm::APFloat::Float6E2M3FN();
  case CodeFormat::E4M3:
    return llvm::APFloat::Float8E4M3FN();
  default:
    return llvm::APFloat::Float8E5M2();
  }
}

//===----------------------------------------------------------------------===//
// ToF32
//===----------------------------------------------------------------------===//

ToF32::ToF32(OpBuilder &b, Location loc, Type type) : type(type) {
  if (auto ft = dyn_cast<FloatType>(type); ft && ft.getWidth() <= 8)
    table = createTable(b, loc, getFloatCodeTable(ft.getFloatSemantics()));
}

Value ToF32::operator()(OpBuilder &b, Location loc, Value v) const {
  Type f32 = b.getF32Type();
  if (type.isF32())
    return v;
  if (isa<IntegerType>(type))
    return arith::UIToFPOp::create(b, loc, f32, v);
  if (table) {
    Value bits = arith::BitcastOp::create(
        b, loc, b.getIntegerType(type.getIntOrFloatBitWidth()), v);
    return lookup(b, loc, table, bits);
  }
  return arith::ExtFOp::create(b, loc, f32, v);
}

//===----------------------------------------------------------------------===//
// ScalarCodec
//===----------------------------------------------------------------------===//

/// The f32 minimum and maximum of a codebook tensor, ignoring NaN.
static std::pair<Value, Value> buildCodebookRange(OpBuilder &b, Location loc,
                                                  Value codebook) {
  auto type = cast<RankedTensorType>(codebook.getType());
  float inf = std::numeric_limits<float>::infinity();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value count = arith::ConstantIndexOp::create(b, loc, type.getDimSize(0));
  auto loop = scf::ForOp::create(
      b, loc, zero, count, one,
      ValueRange{createF32(b, loc, inf), createF32(b, loc, -inf)},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        Value e = tensor::ExtractOp::create(nb, nl, codebook, ValueRange{iv});
        if (!e.getType().isF32())
          e = arith::ExtFOp::create(nb, nl, nb.getF32Type(), e);
        scf::YieldOp::create(
            nb, nl,
            ValueRange{arith::MinNumFOp::create(nb, nl, args[0], e),
                       arith::MaxNumFOp::create(nb, nl, args[1], e)});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

ScalarCodec::ScalarCodec(OpBuilder &b, Location loc, SchemeAttr scheme,
                         Value codebook)
    : scheme(scheme) {
  if (scheme.getFormat() == CodeFormat::Int)
    return;
  if (scheme.getFormat() == CodeFormat::LUT) {
    table = codebook;
    std::tie(low, high) = buildCodebookRange(b, loc, codebook);
    return;
  }
  SmallVector<float> values =
      scheme.getFormat() == CodeFormat::NF4
          ? SmallVector<float>(getNF4Table())
          : getFloatCodeTable(getCodeSemantics(scheme.getFormat()));
  table = createTable(b, loc, values);
  auto [lo, hi] = getFiniteRange(values);
  low = createF32(b, loc, lo);
  high = createF32(b, loc, hi);
}

Value ScalarCodec::decode(OpBuilder &b, Location loc, Value code) const {
  Type f32 = b.getF32Type();
  if (!table) {
    Type i32 = b.getI32Type();
    if (scheme.getSymmetric())
      return arith::SIToFPOp::create(b, loc, f32,
                                     arith::ExtSIOp::create(b, loc, i32, code));
    return arith::UIToFPOp::create(b, loc, f32,
                                   arith::ExtUIOp::create(b, loc, i32, code));
  }
  Value v = lookup(b, loc, table, code);
  if (!v.getType().isF32())
    v = arith::ExtFOp::create(b, loc, f32, v);
  return v;
}

Value ScalarCodec::encode(OpBuilder &b, Location loc, Value t,
                          Value zeroPoint) const {
  Type codeType = scheme.getCodeType();
  // NaN counts as 0.
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, t, t);
  t = arith::SelectOp::create(b, loc, isNan, createF32(b, loc, 0.0f), t);

  if (!table) {
    if (zeroPoint)
      t = arith::AddFOp::create(b, loc, t, zeroPoint);
    Value q = math::RoundEvenOp::create(b, loc, t);
    q = arith::MaxNumFOp::create(b, loc, q,
                                 createF32(b, loc, scheme.getQMin()));
    q = arith::MinNumFOp::create(b, loc, q,
                                 createF32(b, loc, scheme.getQMax()));
    Value i = arith::FPToSIOp::create(b, loc, b.getI32Type(), q);
    return arith::TruncIOp::create(b, loc, codeType, i);
  }

  // Saturate to the finite range, then take the nearest table entry; ties go
  // to the even code, then the lower one.
  t = arith::MaxNumFOp::create(b, loc, t, low);
  t = arith::MinNumFOp::create(b, loc, t, high);
  Type i32 = b.getI32Type();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value count =
      arith::ConstantIndexOp::create(b, loc, int64_t(1) << scheme.getBits());
  Value inf = createF32(b, loc, std::numeric_limits<float>::infinity());
  Value best0 = arith::ConstantIntOp::create(b, loc, i32, 0);
  auto loop = scf::ForOp::create(
      b, loc, zero, count, one, ValueRange{best0, inf},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        Value best = args[0], bestDist = args[1];
        Value entry = tensor::ExtractOp::create(nb, nl, table, ValueRange{iv});
        if (!entry.getType().isF32())
          entry = arith::ExtFOp::create(nb, nl, nb.getF32Type(), entry);
        Value dist = math::AbsFOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, t, entry));
        Value code = arith::IndexCastUIOp::create(nb, nl, i32, iv);
        Value c1 = arith::ConstantIntOp::create(nb, nl, i32, 1);
        Value c0 = arith::ConstantIntOp::create(nb, nl, i32, 0);
        Value codeEven =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                  arith::AndIOp::create(nb, nl, code, c1), c0);
        Value bestOdd =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ne,
                                  arith::AndIOp::create(nb, nl, best, c1), c0);
        Value closer = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT,
                                             dist, bestDist);
        Value tie = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                          dist, bestDist);
        Value evenWins = arith::AndIOp::create(
            nb, nl, tie, arith::AndIOp::create(nb, nl, codeEven, bestOdd));
        Value take = arith::OrIOp::create(nb, nl, closer, evenWins);
        Value newBest = arith::SelectOp::create(nb, nl, take, code, best);
        Value newDist = arith::SelectOp::create(nb, nl, take, dist, bestDist);
        scf::YieldOp::create(nb, nl, ValueRange{newBest, newDist});
      });
  return arith::TruncIOp::create(b, loc, codeType, loop.getResult(0));
}
