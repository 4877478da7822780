//===- VectorizeHadamard.cpp - SIMD kernels for lowbit.hadamard -*- C++ -*-===//
//
// Implements lowbit-cpu-vectorize-hadamard: each lowbit.hadamard of an order
// n = m x 2^k with 2^k >= lanes becomes a call of its own kernel function,
// loops over rows and vectors on tensors (bufferized in place later):
//
//   pass 1     each vector of the row: the log2(lanes) butterfly stages whose
//              pairs lie inside one vector (lane shuffle, then p + s * v with
//              s = +1 / -1 by the lane's bit: v + p or p - v);
//   passes 2.. one per further stage: whole vectors 2^s / lanes apart,
//              (a + b, a - b);
//   last pass  per column of the m x 2^k view, the m vectors: the m x m
//              Paley block (signed sums), then the 1/sqrt(n) scale.
//
// The same additions in the same order as the reference lowering
// (convert-lowbit-to-linalg), so the results agree bit for bit.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/CPU/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Support/Hadamard.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITCPUVECTORIZEHADAMARDPASS
#include "lowbit/Codegen/CPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Builds the body of one kernel: rows x n in %x, written into %out.
class HadamardKernelBuilder {
public:
  HadamardKernelBuilder(OpBuilder &b, Location loc, int64_t rows, int64_t n,
                        int64_t lanes, const HadamardMatrix &h)
      : b(b), loc(loc), rows(rows), n(n), lanes(lanes), m(h.core), p(n / m),
        core(h.coreEntries), vecType(VectorType::get({lanes}, b.getF32Type())) {
  }

  /// The row loop; returns the filled %out.
  Value build(Value x, Value out) {
    return loop(rows, out, [&](Value r, Value acc) {
      acc = inVectorStages(x, acc, r);
      for (int64_t half = lanes; half < p; half *= 2)
        acc = acrossVectorStage(acc, r, half);
      return coreBlock(acc, r);
    });
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  Value read(Value t, Value r, Value col) {
    Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    return vector::TransferReadOp::create(
        b, loc, vecType, t, ValueRange{r, col}, pad, ArrayRef<bool>{true});
  }
  Value write(Value v, Value t, Value r, Value col) {
    return vector::TransferWriteOp::create(b, loc, v, t, ValueRange{r, col},
                                           ArrayRef<bool>{true})
        .getResult();
  }
  Value splat(float v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, b.getF32FloatAttr(v)));
  }

  /// A loop over `count` iterations carrying the row tensor.
  Value loop(int64_t count, Value init,
             function_ref<Value(Value iv, Value acc)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, index(0), index(count), index(1), ValueRange{init},
        [&](OpBuilder &nested, Location, Value iv, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          scf::YieldOp::create(b, loc, body(iv, iter[0]));
        });
    return forOp.getResult(0);
  }

  /// Pass 1: every vector of row r read from x, its in-vector stages, written
  /// to out.
  Value inVectorStages(Value x, Value out, Value r) {
    return loop(n / lanes, out, [&](Value i, Value acc) {
      Value col = arith::MulIOp::create(b, loc, i, index(lanes));
      Value v = read(x, r, col);
      for (int64_t half = 1; half < lanes; half *= 2) {
        SmallVector<int64_t> partner;
        SmallVector<float> sign;
        for (int64_t j = 0; j < lanes; ++j) {
          partner.push_back(j ^ half);
          sign.push_back((j & half) ? -1.0f : 1.0f);
        }
        Value other = vector::ShuffleOp::create(b, loc, v, v, partner);
        Value s = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(vecType, ArrayRef<float>(sign)));
        // Bit clear: v + other; bit set: other - v (the reference's a - b
        // with a the lane whose bit is clear).
        Value sv = arith::MulFOp::create(b, loc, s, v);
        v = arith::AddFOp::create(b, loc, other, sv);
      }
      return write(v, acc, r, col);
    });
  }

  /// One stage on pairs of whole vectors `half` elements apart.
  Value acrossVectorStage(Value out, Value r, int64_t half) {
    int64_t apart = half / lanes; // in vectors
    return loop(n / (2 * lanes), out, [&](Value q, Value acc) {
      // Pair q: block q / apart of 2 * apart vectors, offset q % apart.
      Value blk = arith::DivUIOp::create(b, loc, q, index(apart));
      Value off = arith::RemUIOp::create(b, loc, q, index(apart));
      Value first = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, blk, index(2 * apart)), off);
      Value col0 = arith::MulIOp::create(b, loc, first, index(lanes));
      Value col1 = arith::AddIOp::create(b, loc, col0, index(half));
      Value a = read(acc, r, col0), c = read(acc, r, col1);
      Value sum = arith::AddFOp::create(b, loc, a, c);
      Value diff = arith::SubFOp::create(b, loc, a, c);
      return write(diff, write(sum, acc, r, col0), r, col1);
    });
  }

  /// The m x m block on each column of the m x p view, and the scale.
  Value coreBlock(Value out, Value r) {
    Value scale = splat(1.0f / std::sqrt(static_cast<float>(n)));
    return loop(p / lanes, out, [&](Value j, Value acc) {
      Value col = arith::MulIOp::create(b, loc, j, index(lanes));
      SmallVector<Value> in;
      for (int64_t a = 0; a < m; ++a)
        in.push_back(
            read(acc, r, arith::AddIOp::create(b, loc, col, index(a * p))));
      Value result = acc;
      for (int64_t c = 0; c < m; ++c) {
        // The reference sums 0 + x_0 h_0 + x_1 h_1 + ...: with h = +-1 the
        // products are exact, so adding or subtracting x_a is the same.
        Value sum;
        for (int64_t a = 0; a < m; ++a) {
          bool plus = core[a * m + c] > 0;
          if (!sum)
            sum = plus ? in[a] : arith::NegFOp::create(b, loc, in[a]);
          else
            sum = plus ? arith::AddFOp::create(b, loc, sum, in[a]).getResult()
                       : arith::SubFOp::create(b, loc, sum, in[a]).getResult();
        }
        Value scaled = arith::MulFOp::create(b, loc, sum, scale);
        result = write(scaled, result, r,
                       arith::AddIOp::create(b, loc, col, index(c * p)));
      }
      return result;
    });
  }

  OpBuilder &b;
  Location loc;
  int64_t rows, n, lanes, m, p;
  ArrayRef<int8_t> core;
  VectorType vecType;
};

struct VectorizeHadamardPass
    : lowbit::impl::LowbitCPUVectorizeHadamardPassBase<VectorizeHadamardPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    kernels.clear();
    if (lanes < 2 || !llvm::isPowerOf2_64(lanes)) {
      module.emitError() << "lowbit-cpu-vectorize-hadamard: lanes must be a "
                            "power of two >= 2, got "
                         << static_cast<int64_t>(lanes);
      return signalPassFailure();
    }
    SmallVector<HadamardOp> ops;
    module.walk([&](HadamardOp op) { ops.push_back(op); });
    SymbolTable symbols(module);
    for (HadamardOp op : ops) {
      auto type = cast<RankedTensorType>(op.getInput().getType());
      if (!type.hasStaticShape())
        continue;
      int64_t n = type.getShape().back();
      std::optional<HadamardMatrix> h = buildHadamardFactors(n);
      if (!h || (n / h->core) % lanes != 0)
        continue; // the reference lowering
      rewrite(op, symbols, *h);
    }
  }

  /// The kernel of a shape: one per rows x n in the module (SmolLM2's 30
  /// down projections share one, whose code then stays in cache).
  func::FuncOp kernelFor(HadamardOp op, SymbolTable &symbols,
                         const HadamardMatrix &h, RankedTensorType rowsType) {
    auto key = std::make_pair(rowsType.getDimSize(0), rowsType.getDimSize(1));
    if (func::FuncOp fn = kernels.lookup(key))
      return fn;
    Location loc = op.getLoc();
    auto parent = op->getParentOfType<func::FuncOp>();
    OpBuilder moduleBuilder(parent);
    auto fnType = moduleBuilder.getFunctionType({rowsType, rowsType}, rowsType);
    auto fn = func::FuncOp::create(
        moduleBuilder, loc,
        (parent.getSymName() + "_hadamard_" + Twine(kernels.size())).str(),
        fnType);
    fn.setPrivate();
    symbols.insert(fn);
    Block *body = fn.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(body);
    HadamardKernelBuilder kernel(b, loc, key.first, key.second, lanes, h);
    Value result = kernel.build(body->getArgument(0), body->getArgument(1));
    func::ReturnOp::create(b, loc, result);
    kernels[key] = fn;
    return fn;
  }

  void rewrite(HadamardOp op, SymbolTable &symbols, const HadamardMatrix &h) {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t n = type.getShape().back();
    int64_t rows = type.getNumElements() / n;
    auto rowsType = RankedTensorType::get({rows, n}, type.getElementType());
    func::FuncOp fn = kernelFor(op, symbols, h, rowsType);

    // The call: leading dimensions collapsed into rows and back.
    OpBuilder call(op);
    Value x = op.getInput();
    int64_t rank = type.getRank();
    SmallVector<ReassociationIndices> toRows;
    if (rank == 1) {
      toRows = {{0, 1}};
      x = tensor::ExpandShapeOp::create(call, loc, rowsType, x, toRows);
    } else if (rank > 2) {
      ReassociationIndices lead;
      for (int64_t d = 0; d + 1 < rank; ++d)
        lead.push_back(d);
      toRows = {lead, {rank - 1}};
      x = tensor::CollapseShapeOp::create(call, loc, x, toRows);
    }
    Value init = tensor::EmptyOp::create(call, loc, rowsType.getShape(),
                                         rowsType.getElementType());
    Value y =
        func::CallOp::create(call, loc, fn, ValueRange{x, init}).getResult(0);
    if (rank == 1)
      y = tensor::CollapseShapeOp::create(call, loc, type, y, toRows);
    else if (rank > 2)
      y = tensor::ExpandShapeOp::create(call, loc, type, y, toRows);
    op.replaceAllUsesWith(y);
    op.erase();
  }

  llvm::DenseMap<std::pair<int64_t, int64_t>, func::FuncOp> kernels;
};

} // namespace
