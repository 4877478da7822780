//===- ONNXPattern.cpp - Helpers of the onnx.node patterns ------*- C++ -*-===//
//
// Attribute access and numpy-style broadcasting into linalg.generic.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::lowbit;

int64_t mlir::lowbit::getIntAttr(onnx::NodeOp op, StringRef name,
                                 int64_t defaultValue) {
  if (auto attr = op.getOnnxAttrs().getAs<IntegerAttr>(name))
    return attr.getInt();
  return defaultValue;
}

FailureOr<int64_t> mlir::lowbit::getAxisAttr(onnx::NodeOp op, StringRef name,
                                             int64_t defaultValue, int64_t rank,
                                             bool inclusive) {
  int64_t axis = getIntAttr(op, name, defaultValue);
  int64_t limit = inclusive ? rank + 1 : rank;
  if (axis < -rank || axis >= limit)
    return failure();
  return axis < 0 ? axis + rank : axis;
}

float mlir::lowbit::getFloatAttr(onnx::NodeOp op, StringRef name,
                                 float defaultValue) {
  if (auto attr = op.getOnnxAttrs().getAs<FloatAttr>(name))
    return attr.getValueAsDouble();
  return defaultValue;
}

RankedTensorType mlir::lowbit::getResultType(onnx::NodeOp op, unsigned i) {
  if (i >= op->getNumResults())
    return {};
  return dyn_cast<RankedTensorType>(op->getResult(i).getType());
}

FailureOr<Value> mlir::lowbit::buildBroadcastGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  SmallVector<Value> dynSizes;
  SmallVector<Value> dimSource(rank); // input providing each dim
  SmallVector<int64_t> dimSourceIndex(rank);
  for (Value input : inputs) {
    auto type = dyn_cast<RankedTensorType>(input.getType());
    if (!type || type.getRank() > rank)
      return failure();
    int64_t offset = rank - type.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < type.getRank(); ++j) {
      int64_t d = j + offset;
      int64_t in = type.getDimSize(j), out = resultType.getDimSize(d);
      if (in == 1 && out != 1) {
        exprs.push_back(getAffineConstantExpr(0, ctx));
        continue;
      }
      if (!ShapedType::isDynamic(in) && !ShapedType::isDynamic(out) &&
          in != out)
        return failure();
      exprs.push_back(getAffineDimExpr(d, ctx));
      if (!dimSource[d]) {
        dimSource[d] = input;
        dimSourceIndex[d] = j;
      }
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (!resultType.isDynamicDim(d))
      continue;
    if (!dimSource[d])
      return failure();
    dynSizes.push_back(
        tensor::DimOp::create(b, loc, dimSource[d], dimSourceIndex[d]));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType(), dynSizes);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = body(nb, l, args.drop_back());
        linalg::YieldOp::create(nb, l, v);
      });
  return generic.getResult(0);
}

/// `index` (an integer of any width) as an index into an axis of `size`
/// elements: negative ones from the end, then clamped to [0, size).
Value mlir::lowbit::normalizeIndex(OpBuilder &b, Location loc, Value index,
                                   Value size) {
  Value i = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
  Value zero = indexConst(b, loc, 0);
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, zero);
  i = arith::SelectOp::create(b, loc, neg,
                              arith::AddIOp::create(b, loc, i, size), i);
  Value last = arith::SubIOp::create(b, loc, size, indexConst(b, loc, 1));
  return arith::MaxSIOp::create(b, loc, arith::MinSIOp::create(b, loc, i, last),
                                zero);
}

Value mlir::lowbit::indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value mlir::lowbit::i64Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
}

/// Size of dimension `d` of `v` as index (constant when static).
Value mlir::lowbit::dimSize(OpBuilder &b, Location loc, Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return indexConst(b, loc, t.getDimSize(d));
  return tensor::DimOp::create(b, loc, v, d);
}

/// The values of a constant integer tensor operand.
std::optional<SmallVector<int64_t>> mlir::lowbit::constantInts(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

std::optional<SmallVector<double>> mlir::lowbit::constantFloats(Value v) {
  DenseFPElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> out;
  for (const APFloat &x : attr.getValues<APFloat>())
    out.push_back(x.convertToDouble());
  return out;
}

/// tensor.reshape of `input` to `resultType` with the dimension sizes
/// `sizes` (index values).
Value mlir::lowbit::reshapeTo(OpBuilder &b, Location loc, Value input,
                              RankedTensorType resultType,
                              ArrayRef<Value> sizes) {
  SmallVector<Value> asI64;
  for (Value s : sizes)
    asI64.push_back(arith::IndexCastOp::create(b, loc, b.getI64Type(), s));
  Value shape = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({(int64_t)sizes.size()}, b.getI64Type()),
      asI64);
  return tensor::ReshapeOp::create(b, loc, resultType, input, shape);
}

Value mlir::lowbit::floatConst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

Value mlir::lowbit::emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                              Value source) {
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dyn.push_back(tensor::DimOp::create(b, loc, source, d));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dyn);
}

Type mlir::lowbit::signlessElement(Type t) {
  if (auto it = dyn_cast<IntegerType>(t); it && !it.isSignless())
    return IntegerType::get(t.getContext(), it.getWidth());
  return t;
}

Type mlir::lowbit::signlessType(Type t) {
  if (auto st = dyn_cast<ShapedType>(t))
    return st.clone(signlessElement(st.getElementType()));
  return signlessElement(t);
}

bool mlir::lowbit::isUnsignedElement(Type t) {
  if (auto st = dyn_cast<ShapedType>(t))
    t = st.getElementType();
  auto it = dyn_cast<IntegerType>(t);
  return it && it.isUnsigned();
}

Value mlir::lowbit::toSignless(OpBuilder &b, Location loc, Value v) {
  Type t = signlessType(v.getType());
  if (t == v.getType())
    return v;
  return tensor::BitcastOp::create(b, loc, t, v);
}

Value mlir::lowbit::fromSignless(OpBuilder &b, Location loc, Value v,
                                 Type type) {
  if (v.getType() == type)
    return v;
  return tensor::BitcastOp::create(b, loc, type, v);
}

void mlir::lowbit::eraseSignedness(Operation *root) {
  MLIRContext *ctx = root->getContext();
  auto unsignedAttr = UnitAttr::get(ctx);
  root->walk([&](func::FuncOp func) {
    FunctionType ft = func.getFunctionType();
    SmallVector<Type> ins, outs;
    for (auto [i, t] : llvm::enumerate(ft.getInputs())) {
      if (isUnsignedElement(t))
        func.setArgAttr(i, LowbitDialect::UnsignedAttrHelper::getNameStr(),
                        unsignedAttr);
      ins.push_back(signlessType(t));
    }
    for (auto [i, t] : llvm::enumerate(ft.getResults())) {
      if (isUnsignedElement(t))
        func.setResultAttr(i, LowbitDialect::UnsignedAttrHelper::getNameStr(),
                           unsignedAttr);
      outs.push_back(signlessType(t));
    }
    func.setFunctionType(FunctionType::get(ctx, ins, outs));
  });
  root->walk([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          arg.setType(signlessType(arg.getType()));
    for (OpResult r : op->getResults())
      r.setType(signlessType(r.getType()));
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      Attribute value = cst.getValue();
      if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
        Type elem = signlessElement(dense.getElementType());
        if (elem != dense.getElementType())
          cst.setValueAttr(dense.bitcast(elem));
      } else if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
        auto type = cast<ShapedType>(signlessType(res.getType()));
        if (type != res.getType())
          cst.setValueAttr(
              DenseResourceElementsAttr::get(type, res.getRawHandle()));
      } else if (auto ia = dyn_cast<IntegerAttr>(value)) {
        Type t = signlessType(ia.getType());
        if (t != ia.getType())
          cst.setValueAttr(IntegerAttr::get(t, ia.getValue()));
      }
    }
  });
  // Bitcasts between a signed and a signless type are now identities.
  root->walk([&](tensor::BitcastOp op) {
    if (op.getSource().getType() == op.getType()) {
      op.getResult().replaceAllUsesWith(op.getSource());
      op.erase();
    }
  });
}

Value mlir::lowbit::widenToI32(OpBuilder &b, Location loc, Value v,
                               bool isUnsigned) {
  Type i32 = b.getI32Type();
  return isUnsigned ? arith::ExtUIOp::create(b, loc, i32, v).getResult()
                    : arith::ExtSIOp::create(b, loc, i32, v).getResult();
}

Value mlir::lowbit::requantize(OpBuilder &b, Location loc, Value acc,
                               Value aScale, Value bScale, Value yScale,
                               Value yZp, bool outUnsigned) {
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  Value m = arith::DivFOp::create(
      b, loc, arith::MulFOp::create(b, loc, aScale, bScale), yScale);
  Value f = arith::MulFOp::create(b, loc,
                                  arith::SIToFPOp::create(b, loc, f32, acc), m);
  Value z = outUnsigned ? arith::UIToFPOp::create(b, loc, f32, yZp).getResult()
                        : arith::SIToFPOp::create(b, loc, f32, yZp).getResult();
  Value q =
      arith::AddFOp::create(b, loc, math::RoundEvenOp::create(b, loc, f), z);
  q = arith::MaximumFOp::create(
      b, loc, q, floatConst(b, loc, f32, outUnsigned ? 0.0 : -128.0));
  q = arith::MinimumFOp::create(
      b, loc, q, floatConst(b, loc, f32, outUnsigned ? 255.0 : 127.0));
  return outUnsigned ? arith::FPToUIOp::create(b, loc, i8, q).getResult()
                     : arith::FPToSIOp::create(b, loc, i8, q).getResult();
}
