//===- PackedMatmulGPU.cpp - Packed-matmul kernels for NVIDIA GPUs --------===//
//
// lowbit-gpu-lower-packed-matmul: a decode GEMV kernel (gpu.func) per
// bufferized lowbit.packed_matmul on a `gpu` layout, and its launch. One
// warp per tile of columns streams the tile's codes once (16 bytes per
// thread and block), dequantizes in registers and reduces with shuffles.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Target/GPU/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWERPACKEDMATMULTOGPUPASS
#include "lowbit/Target/GPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// Warps per thread block (one tile of columns each).
constexpr int64_t kWarpsPerBlock = 4;
constexpr int64_t kWarpSize = 32;
/// Bytes one thread loads per block of a column.
constexpr int64_t kBytesPerThread = 16;

/// Builds the body of one kernel. Names follow the layout: a block is 512
/// bytes of one column; a quad is the 4 consecutive k one thread decodes
/// at a time (one 16-byte activation load per row).
class GPUKernelBuilder {
public:
  GPUKernelBuilder(OpBuilder &b, Location loc, PackedLayoutAttr layout,
                   int64_t rows)
      : b(b), loc(loc), layout(layout), rows(rows) {
    bits = layout.getBits();
    tile = layout.getTile();
    k = layout.getK();
    n = layout.getN();
    blockK = layout.getBlockK();
    numBlocks = layout.getPaddedK() / blockK;
    numGroups = layout.getNumGroups();
    perGroup = layout.getParamsPerGroup();
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    vec4F32 = VectorType::get({4}, f32);
    vec4I32 = VectorType::get({4}, i32);
  }

  /// Emits the kernel body into the current block of `b` (arguments: x,
  /// codes, params, out).
  void build(Value x, Value codes, Value params, Value out);

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value addc(Value x, int64_t c) { return c == 0 ? x : add(x, idx(c)); }
  Value mul(Value x, int64_t c) {
    return c == 1 ? x : arith::MulIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value splatI32(int64_t v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec4I32, b.getI32IntegerAttr(v)));
  }
  Value splatF32(float v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec4F32, b.getF32FloatAttr(v)));
  }

  /// One block of K (`blk`) of the warp's tile: returns the accumulators.
  SmallVector<Value> block(Value blk, Value tileIdx, Value lane,
                           ArrayRef<Value> accs, bool masked);
  /// The 4 weights (f32) of the quad whose codes are `codes` (vector<4xi32>,
  /// unsigned fields) in column `col` of the tile, group `group`.
  Value dequantize(Value codes, Value tileIdx, Value group, int64_t col);

  OpBuilder &b;
  Location loc;
  PackedLayoutAttr layout;
  int64_t rows, bits, tile, k, n, blockK, numBlocks, numGroups, perGroup;
  Value xArg, codesArg, paramsArg;
  Type f32, i32;
  VectorType vec4F32, vec4I32;
};

Value GPUKernelBuilder::dequantize(Value codes, Value tileIdx, Value group,
                                   int64_t col) {
  // value(code) exactly, without a conversion: (code ^ sign) in the
  // mantissa of 2^23, minus 2^23 + sign (sign = 2^(bits-1) for two's
  // complement codes).
  int64_t sign = layout.getSignedCodes() ? int64_t(1) << (bits - 1) : 0;
  if (sign)
    codes = arith::XOrIOp::create(b, loc, codes, splatI32(sign));
  codes = arith::OrIOp::create(b, loc, codes, splatI32(0x4B000000));
  Value values = arith::BitcastOp::create(b, loc, vec4F32, codes);
  values = arith::SubFOp::create(
      b, loc, values, splatF32(8388608.0f + static_cast<float>(sign)));
  // params[((tile * numGroups + group) * tileCols + col) * perGroup]
  Value base = mul(add(mul(tileIdx, numGroups), group), tile * perGroup);
  base = addc(base, col * perGroup);
  Value scale = memref::LoadOp::create(b, loc, paramsArg, base);
  Value scaleV = vector::BroadcastOp::create(b, loc, vec4F32, scale);
  if (!layout.getZero())
    return arith::MulFOp::create(b, loc, values, scaleV);
  // (value - zero) * scale = value * scale + (-zero * scale)
  Value zero = memref::LoadOp::create(b, loc, paramsArg, addc(base, 1));
  Value offset =
      arith::MulFOp::create(b, loc, arith::NegFOp::create(b, loc, zero), scale);
  return vector::FMAOp::create(
      b, loc, values, scaleV,
      vector::BroadcastOp::create(b, loc, vec4F32, offset));
}

SmallVector<Value> GPUKernelBuilder::block(Value blk, Value tileIdx, Value lane,
                                           ArrayRef<Value> accs, bool masked) {
  SmallVector<Value> acc(accs);
  // The 16 bytes of each column of the tile this thread reads.
  auto vec16I8 = VectorType::get({kBytesPerThread}, b.getI8Type());
  Value laneBytes = mul(lane, kBytesPerThread);
  SmallVector<Value> words;
  for (int64_t c = 0; c < tile; ++c) {
    Value base =
        mul(addc(mul(add(mul(tileIdx, numBlocks), blk), tile), c), 512);
    base = add(base, laneBytes);
    auto load = vector::LoadOp::create(b, loc, vec16I8, codesArg, base);
    load.setAlignment(kBytesPerThread);
    words.push_back(vector::BitCastOp::create(b, loc, vec4I32, load));
  }
  Value blockK0 = mul(blk, blockK);
  // Quads: 2-4-bit fields hold step j's codes (k = 128 j + 4 lane + w) in
  // bits [j*bits, (j+1)*bits) of word w; 8-bit: byte i of word q is
  // k = 16 lane + 4 q + i.
  int64_t quads = bits == 8 ? 4 : 32 / bits;
  for (int64_t q = 0; q < quads; ++q) {
    // In the last block, quads whose first lane is already past K.
    if (masked && (k / blockK) * blockK + (bits == 8 ? 4 * q : 128 * q) >= k)
      break;
    Value kq = bits == 8 ? add(blockK0, addc(mul(lane, 16), 4 * q))
                         : add(blockK0, addc(mul(lane, 4), 128 * q));
    Value group =
        layout.getGroup()
            ? arith::DivUIOp::create(b, loc, kq, idx(layout.getGroup()))
                  .getResult()
            : idx(0);
    SmallVector<Value> weights;
    for (int64_t c = 0; c < tile; ++c) {
      Value codes;
      if (bits == 8) {
        Value word = vector::ExtractOp::create(b, loc, words[c], q);
        Value w4 = vector::BroadcastOp::create(b, loc, vec4I32, word);
        Value shifts = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(vec4I32, ArrayRef<int32_t>{0, 8, 16, 24}));
        codes = arith::ShRUIOp::create(b, loc, w4, shifts);
      } else {
        codes = q ? arith::ShRUIOp::create(b, loc, words[c], splatI32(q * bits))
                        .getResult()
                  : words[c];
      }
      codes = arith::AndIOp::create(b, loc, codes,
                                    splatI32((int64_t(1) << bits) - 1));
      weights.push_back(dequantize(codes, tileIdx, group, c));
    }
    // Past K (last block only): zero activations, read at k = 0.
    Value valid, kRead = kq;
    if (masked) {
      valid =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, kq, idx(k));
      kRead = arith::SelectOp::create(b, loc, valid, kq, idx(0));
    }
    for (int64_t r = 0; r < rows; ++r) {
      auto load = vector::LoadOp::create(b, loc, vec4F32, xArg,
                                         ValueRange{idx(r), kRead});
      load.setAlignment(16);
      Value xv = load;
      if (masked)
        xv = arith::SelectOp::create(b, loc, valid, xv, splatF32(0.0f));
      for (int64_t c = 0; c < tile; ++c) {
        Value &a = acc[r * tile + c];
        a = vector::FMAOp::create(b, loc, xv, weights[c], a);
      }
    }
  }
  return acc;
}

void GPUKernelBuilder::build(Value x, Value codes, Value params, Value out) {
  xArg = x;
  codesArg = codes;
  paramsArg = params;
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(kWarpSize));
  Value warp = arith::DivUIOp::create(b, loc, tid, idx(kWarpSize));
  Value tileIdx = add(mul(bid, kWarpsPerBlock), warp);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        tileIdx, idx(layout.getNumTiles()));
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());

  SmallVector<Value> accs(rows * tile, splatF32(0.0f));
  int64_t fullBlocks = k / blockK;
  if (fullBlocks > 0) {
    auto loop =
        scf::ForOp::create(b, loc, idx(0), idx(fullBlocks), idx(1), accs);
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next =
        block(loop.getInductionVar(), tileIdx, lane,
              SmallVector<Value>(loop.getRegionIterArgs()), false);
    scf::YieldOp::create(b, loc, next);
    b.setInsertionPointAfter(loop);
    accs = SmallVector<Value>(loop.getResults());
  }
  if (k % blockK != 0)
    accs = block(idx(fullBlocks), tileIdx, lane, accs, true);

  // Lanes, then the warp (butterfly: every lane ends with the sum).
  SmallVector<Value> sums;
  for (Value a : accs) {
    Value s =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, a);
    for (int32_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
      auto shuffle = gpu::ShuffleOp::create(b, loc, s, offset, kWarpSize,
                                            gpu::ShuffleMode::XOR);
      s = arith::AddFOp::create(b, loc, s, shuffle.getShuffleResult());
    }
    sums.push_back(s);
  }
  Value first =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0));
  auto store = scf::IfOp::create(b, loc, first, /*withElse=*/false);
  b.setInsertionPointToStart(store.thenBlock());
  Value col0 = mul(tileIdx, tile);
  for (int64_t c = 0; c < tile; ++c) {
    Value col = addc(col0, c);
    // Columns past N exist only in the last tile.
    bool ragged = n % tile != 0;
    Block *storeBlock = nullptr;
    if (ragged) {
      Value inside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, idx(n));
      auto guardIf = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
      storeBlock = guardIf.thenBlock();
    }
    OpBuilder::InsertionGuard colGuard(b);
    if (storeBlock)
      b.setInsertionPointToStart(storeBlock);
    for (int64_t r = 0; r < rows; ++r)
      memref::StoreOp::create(b, loc, sums[r * tile + c], out,
                              ValueRange{idx(r), col});
  }
}

/// A contiguous (identity-layout) version of `v`: itself, or a copy.
Value contiguous(OpBuilder &b, Location loc, Value v, bool copyIn) {
  auto type = cast<MemRefType>(v.getType());
  if (type.getLayout().isIdentity())
    return v;
  auto plain = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer = memref::AllocOp::create(b, loc, plain);
  if (copyIn)
    memref::CopyOp::create(b, loc, v, buffer);
  return buffer;
}

struct LowerPackedMatmulToGPUPass
    : lowbit::impl::LowerPackedMatmulToGPUPassBase<LowerPackedMatmulToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<PackedMatmulOp> ops;
    module.walk([&](PackedMatmulOp op) {
      if (op.getLayout().getGpu())
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    MLIRContext *ctx = &getContext();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    auto kernels = module.lookupSymbol<gpu::GPUModuleOp>("lowbit_kernels");
    if (!kernels) {
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      kernels = gpu::GPUModuleOp::create(b, module.getLoc(), "lowbit_kernels");
    }
    SymbolTable symbols(kernels);
    for (PackedMatmulOp op : ops) {
      if (op.getNumResults() != 0) {
        op.emitOpError("must be bufferized before kernel generation");
        return signalPassFailure();
      }
      int64_t rows = cast<MemRefType>(op.getInput().getType()).getDimSize(0);
      if (rows > 16) {
        op.emitOpError("the GPU decode kernel takes at most 16 rows, got ")
            << rows;
        return signalPassFailure();
      }
      lower(op, kernels, symbols);
    }
  }

  gpu::GPUFuncOp buildKernel(OpBuilder &kb, Location loc,
                             PackedLayoutAttr layout, FunctionType type,
                             SymbolTable &symbols) {
    auto func = gpu::GPUFuncOp::create(kb, loc, "packed_matmul", type);
    symbols.insert(func); // uniques the name
    func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), kb.getUnitAttr());
    func.setKnownBlockSizeAttr(kb.getDenseI32ArrayAttr(
        {static_cast<int32_t>(kWarpsPerBlock * kWarpSize), 1, 1}));
    func->setAttr("lowbit.arg_roles",
                  kb.getStrArrayAttr({"in", "const", "const", "out"}));
    // What the runtime's CPU fallback computes instead.
    func->setAttr("lowbit.reference", layout);
    Block &entry = func.getBody().front();
    OpBuilder::InsertionGuard guard(kb);
    kb.setInsertionPointToStart(&entry);
    int64_t rows = cast<MemRefType>(type.getInput(0)).getDimSize(0);
    GPUKernelBuilder(kb, loc, layout, rows)
        .build(entry.getArgument(0), entry.getArgument(1), entry.getArgument(2),
               entry.getArgument(3));
    gpu::ReturnOp::create(kb, loc);
    return func;
  }

  DenseMap<std::pair<Attribute, Type>, gpu::GPUFuncOp> generated;

  void lower(PackedMatmulOp op, gpu::GPUModuleOp kernels,
             SymbolTable &symbols) {
    Location loc = op.getLoc();
    PackedLayoutAttr layout = op.getLayout();
    OpBuilder b(op);
    Value x = contiguous(b, loc, op.getInput(), /*copyIn=*/true);
    Value out = contiguous(b, loc, op.getInit(), /*copyIn=*/false);
    SmallVector<Value> args{x, op.getCodes(), op.getParams(), out};
    SmallVector<Type> argTypes;
    for (Value a : args)
      argTypes.push_back(a.getType());

    // The kernel: one per layout and argument types (layers of one shape
    // share it).
    OpBuilder kb = OpBuilder::atBlockEnd(kernels.getBody());
    FunctionType type = kb.getFunctionType(argTypes, {});
    gpu::GPUFuncOp &func = generated[{layout, type}];
    if (!func)
      func = buildKernel(kb, loc, layout, type, symbols);

    // The launch.
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    int64_t grid = (layout.getNumTiles() + kWarpsPerBlock - 1) / kWarpsPerBlock;
    Value one = cst(1);
    gpu::LaunchFuncOp::create(
        b, loc, func, gpu::KernelDim3{cst(grid), one, one},
        gpu::KernelDim3{cst(kWarpsPerBlock * kWarpSize), one, one},
        /*dynamicSharedMemorySize=*/Value(), args);
    if (out != op.getInit()) {
      memref::CopyOp::create(b, loc, out, op.getInit());
      memref::DeallocOp::create(b, loc, out);
    }
    if (x != op.getInput())
      memref::DeallocOp::create(b, loc, x);
    op.erase();
  }
};

} // namespace
