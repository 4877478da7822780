//===- ExposeCalibration.cpp - Calibration sites as results -----*- C++ -*-===//
//
// The lowbit-expose-calibration pass: the instrumented model returns, per
// calibration site, the per-channel abs-max, min, max and sum and X^T X of
// one run, as extra results named calib:<site>:<stat>; the X^T X optionally
// with each token's weight capped (token-cap).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <limits>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITEXPOSECALIBRATIONPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

Value filled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, float value) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  Value v = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  return linalg::FillOp::create(b, loc, v, empty).getResult(0);
}

/// out[c] = combine(out[c], f(x[r, c])) over rows r.
Value reduceRows(
    OpBuilder &b, Location loc, Value x, float init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> step) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t c = type.getDimSize(1);
  MLIRContext *ctx = b.getContext();
  AffineExpr r = getAffineDimExpr(0, ctx), ch = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(2, 0, {r, ch}, ctx),
                              AffineMap::get(2, 0, {ch}, ctx)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{RankedTensorType::get({c}, b.getF32Type())},
             ValueRange{x}, ValueRange{filled(b, loc, {c}, init)}, maps,
             {utils::IteratorType::reduction, utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, step(nb, l, args[1], args[0]));
             })
      .getResult(0);
}

/// X^T X of x (R x C), as a plain matmul of the transposed copy.
Value gram(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rows = type.getDimSize(0), c = type.getDimSize(1);
  Value tEmpty = tensor::EmptyOp::create(b, loc, {c, rows}, b.getF32Type());
  Value xt =
      linalg::TransposeOp::create(b, loc, x, tEmpty, ArrayRef<int64_t>{1, 0})
          .getResult()[0];
  MLIRContext *ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(3, 0, {m, k}, ctx),
                              AffineMap::get(3, 0, {k, n}, ctx),
                              AffineMap::get(3, 0, {m, n}, ctx)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{RankedTensorType::get({c, c}, b.getF32Type())},
             ValueRange{xt, x}, ValueRange{filled(b, loc, {c, c}, 0.0f)}, maps,
             {utils::IteratorType::parallel, utils::IteratorType::parallel,
              utils::IteratorType::reduction},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value prod = arith::MulFOp::create(nb, l, args[0], args[1]);
               linalg::YieldOp::create(
                   nb, l,
                   arith::AddFOp::create(nb, l, args[2], prod).getResult());
             })
      .getResult(0);
}

/// x (R x C) with each row r scaled by sqrt(min(1, cap g / e_r)), e_r its
/// squared norm and g the geometric mean of the nonzero e_r: rows above cap g
/// count as if their squared norm were cap g in X^T X. Zero rows stay.
Value capRows(OpBuilder &b, Location loc, Value x, double cap) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rows = type.getDimSize(0);
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  AffineExpr r = getAffineDimExpr(0, ctx), ch = getAffineDimExpr(1, ctx);
  auto rowsType = RankedTensorType::get({rows}, f32);
  auto scalarType = RankedTensorType::get({1}, f32);
  auto zero = [&](OpBuilder &nb, Location l) -> Value {
    return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
  };
  // e_r = sum_c x[r, c]^2.
  Value energy =
      linalg::GenericOp::create(
          b, loc, TypeRange{rowsType}, ValueRange{x},
          ValueRange{filled(b, loc, {rows}, 0.0f)},
          SmallVector<AffineMap>{AffineMap::get(2, 0, {r, ch}, ctx),
                                 AffineMap::get(2, 0, {r}, ctx)},
          {utils::IteratorType::parallel, utils::IteratorType::reduction},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value sq = arith::MulFOp::create(nb, l, args[0], args[0]);
            linalg::YieldOp::create(
                nb, l, arith::AddFOp::create(nb, l, args[1], sq).getResult());
          })
          .getResult(0);
  // Sum of log e_r and count over the nonzero rows (1-element tensors: the
  // CPU pipeline keeps 0-d fills apart).
  AffineExpr first = getAffineConstantExpr(0, ctx);
  auto logSum = linalg::GenericOp::create(
      b, loc, TypeRange{scalarType, scalarType}, ValueRange{energy},
      ValueRange{filled(b, loc, {1}, 0.0f), filled(b, loc, {1}, 0.0f)},
      SmallVector<AffineMap>{AffineMap::get(1, 0, {r}, ctx),
                             AffineMap::get(1, 0, {first}, ctx),
                             AffineMap::get(1, 0, {first}, ctx)},
      {utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value z = zero(nb, l);
        Value one = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
        Value nonzero =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, args[0], z);
        Value safe = arith::SelectOp::create(nb, l, nonzero, args[0], one);
        Value lg = math::LogOp::create(nb, l, safe);
        Value count = arith::SelectOp::create(nb, l, nonzero, one, z);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::AddFOp::create(nb, l, args[1], lg),
                       arith::AddFOp::create(nb, l, args[2], count)});
      });
  // w_r = e_r > 0 ? sqrt(min(1, cap exp(logSum / count) / e_r)) : 1.
  Value weights =
      linalg::GenericOp::create(
          b, loc, TypeRange{rowsType},
          ValueRange{energy, logSum.getResult(0), logSum.getResult(1)},
          ValueRange{tensor::EmptyOp::create(b, loc, {rows}, f32)},
          SmallVector<AffineMap>{AffineMap::get(1, 0, {r}, ctx),
                                 AffineMap::get(1, 0, {first}, ctx),
                                 AffineMap::get(1, 0, {first}, ctx),
                                 AffineMap::get(1, 0, {r}, ctx)},
          {utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value one =
                arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
            Value capValue = arith::ConstantOp::create(
                nb, l, nb.getF32FloatAttr(static_cast<float>(cap)));
            Value nonzero = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::OGT, args[0], zero(nb, l));
            Value mean = arith::DivFOp::create(nb, l, args[1], args[2]);
            Value limit = arith::MulFOp::create(
                nb, l, capValue, math::ExpOp::create(nb, l, mean));
            Value safe = arith::SelectOp::create(nb, l, nonzero, args[0], one);
            Value ratio = arith::MinimumFOp::create(
                nb, l, one, arith::DivFOp::create(nb, l, limit, safe));
            Value w = arith::SelectOp::create(
                nb, l, nonzero, math::SqrtOp::create(nb, l, ratio), one);
            linalg::YieldOp::create(nb, l, w);
          })
          .getResult(0);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{x, weights},
             ValueRange{tensor::EmptyOp::create(b, loc, type.getShape(), f32)},
             SmallVector<AffineMap>{AffineMap::get(2, 0, {r, ch}, ctx),
                                    AffineMap::get(2, 0, {r}, ctx),
                                    AffineMap::get(2, 0, {r, ch}, ctx)},
             {utils::IteratorType::parallel, utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(
                   nb, l,
                   arith::MulFOp::create(nb, l, args[0], args[1]).getResult());
             })
      .getResult(0);
}

struct ExposeCalibrationPass
    : lowbit::impl::LowbitExposeCalibrationPassBase<ExposeCalibrationPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!(tokenCap >= 0.0) || !std::isfinite(tokenCap.getValue())) {
      getOperation().emitError()
          << getArgument() << ": token-cap must be finite and >= 0, got "
          << tokenCap.getValue();
      return signalPassFailure();
    }
    auto func = getOperation().lookupSymbol<func::FuncOp>(entry);
    if (!func) {
      getOperation().emitError()
          << getArgument() << ": no entry function '" << entry << "'";
      return signalPassFailure();
    }
    SmallVector<CalibrateOp> sites;
    getOperation().walk([&](CalibrateOp op) { sites.push_back(op); });
    SmallVector<Value> results;
    SmallVector<std::string> names;
    for (CalibrateOp op : sites) {
      if (op->getParentOfType<func::FuncOp>() != func) {
        op.emitError() << getArgument() << ": calibration site '"
                       << op.getSite() << "' is outside the entry function";
        return signalPassFailure();
      }
      auto type = cast<RankedTensorType>(op.getInput().getType());
      if (!type.hasStaticShape() || !type.getElementType().isF32() ||
          type.getRank() < 1 || op.getChannelAxis() != type.getRank() - 1) {
        op.emitError() << getArgument() << ": calibration site '"
                       << op.getSite()
                       << "' needs a static f32 tensor with channels last";
        return signalPassFailure();
      }
      OpBuilder b(op);
      Location loc = op.getLoc();
      int64_t c = type.getShape().back();
      int64_t rows = type.getNumElements() / c;
      Value x = op.getInput();
      if (type.getRank() != 2) {
        SmallVector<ReassociationIndices> groups(2);
        for (int64_t d = 0; d + 1 < type.getRank(); ++d)
          groups[0].push_back(d);
        groups[1].push_back(type.getRank() - 1);
        auto flat = RankedTensorType::get({rows, c}, type.getElementType());
        if (type.getRank() == 1)
          x = tensor::ExpandShapeOp::create(
              b, loc, flat, x, SmallVector<ReassociationIndices>{{0, 1}});
        else
          x = tensor::CollapseShapeOp::create(b, loc, flat, x, groups);
      }
      float inf = std::numeric_limits<float>::infinity();
      auto absMax = [](OpBuilder &nb, Location l, Value acc, Value v) -> Value {
        return arith::MaximumFOp::create(nb, l, acc,
                                         math::AbsFOp::create(nb, l, v));
      };
      auto minimum = [](OpBuilder &nb, Location l, Value acc,
                        Value v) -> Value {
        return arith::MinimumFOp::create(nb, l, acc, v);
      };
      auto maximum = [](OpBuilder &nb, Location l, Value acc,
                        Value v) -> Value {
        return arith::MaximumFOp::create(nb, l, acc, v);
      };
      auto add = [](OpBuilder &nb, Location l, Value acc, Value v) -> Value {
        return arith::AddFOp::create(nb, l, acc, v);
      };
      std::string prefix = "calib:" + op.getSite().str() + ":";
      for (auto [stat, value] :
           {std::make_pair("abs_max", reduceRows(b, loc, x, 0.0f, absMax)),
            std::make_pair("min", reduceRows(b, loc, x, inf, minimum)),
            std::make_pair("max", reduceRows(b, loc, x, -inf, maximum)),
            std::make_pair("sum", reduceRows(b, loc, x, 0.0f, add)),
            std::make_pair(
                "hessian",
                gram(b, loc,
                     tokenCap > 0.0 ? capRows(b, loc, x, tokenCap) : x))}) {
        results.push_back(value);
        names.push_back(prefix + stat);
      }
      op.getResult().replaceAllUsesWith(op.getInput());
      op.erase();
    }
    // Append the statistics to the entry's results.
    auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    SmallVector<Type> resultTypes;
    SmallVector<Attribute> resultAttrs;
    if (onlyStatistics) {
      ret.getOperandsMutable().clear();
    } else {
      resultTypes.append(func.getResultTypes().begin(),
                         func.getResultTypes().end());
      for (unsigned i = 0; i < func.getNumResults(); ++i)
        resultAttrs.push_back(func.getResultAttrDict(i)
                                  ? Attribute(func.getResultAttrDict(i))
                                  : DictionaryAttr::get(&getContext()));
    }
    ret.getOperandsMutable().append(results);
    OpBuilder b(&getContext());
    for (auto [value, name] : llvm::zip(results, names)) {
      resultTypes.push_back(value.getType());
      resultAttrs.push_back(b.getDictionaryAttr(
          b.getNamedAttr("onnx.name", b.getStringAttr(name))));
    }
    func.setType(
        FunctionType::get(&getContext(), func.getArgumentTypes(), resultTypes));
    func.setAllResultAttrs(resultAttrs);
  }
};

} // namespace
