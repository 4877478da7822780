//===- GPUKernels.h - Building the GPU packed-matmul kernels ----*- C++ -*-===//
//
// Internal to lib/Conversion/LowbitToGPU: what the decode GEMV (GemvKernel.cpp)
// and the tensor-core GEMM (GemmKernel.cpp) share, and their entry points.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_LOWBITTOGPU_GPUKERNELS_H
#define LOWBIT_LIB_CONVERSION_LOWBITTOGPU_GPUKERNELS_H

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::lowbit::detail {

constexpr int64_t kWarpSize = 32;
/// Rows up to which the decode GEMV runs; above, the tensor-core GEMM.
constexpr int64_t kGemvMaxRows = 16;

/// Grid (x, y) and threads per block of a kernel, and which kernel.
struct LaunchShape {
  int64_t gridX = 1, gridY = 1, threads = 128;
  enum Kind { Gemv, Gemm, Mma, MmaGemv } kind = Gemv;
};

/// The launch of a kernel computing tileM x tileN output tiles with
/// `threads` threads per block: grid (ceil(N / tileN), ceil(rows / tileM)).
LaunchShape tiledShape(PackedLayoutAttr layout, int64_t rows, int64_t tileM,
                       int64_t tileN, int64_t threads, LaunchShape::Kind kind);

/// The kernel `rows` rows of activations take and its launch: up to
/// kGemvMaxRows a GEMV (on `mma` layouts the split-K one), above the
/// mma.sync GEMM on `mma` layouts, the WMMA GEMM otherwise.
LaunchShape launchShape(PackedLayoutAttr layout, int64_t rows);

/// Helpers and layout-derived sizes the four kernels use. Names follow the
/// layout: a block is 512 bytes of one column; a quad is 4 consecutive k
/// (one 16-byte activation load, one group).
class GPUKernelBase {
public:
  GPUKernelBase(OpBuilder &b, Location loc, PackedLayoutAttr layout,
                int64_t rows);

protected:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value addc(Value x, int64_t c) { return c == 0 ? x : add(x, idx(c)); }
  Value mul(Value x, int64_t c) {
    return c == 1 ? x : arith::MulIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value div(Value x, int64_t c) {
    return c == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(c)).getResult();
  }
  Value rem(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(c));
  }
  Value minc(Value x, int64_t c) {
    return arith::MinUIOp::create(b, loc, x, idx(c));
  }
  /// x < y, unsigned.
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  /// A constant of `type` with every element `v`.
  Value splat(VectorType type, double v);
  Value splatInt(VectorType type, int64_t v);
  Value splatI32(int64_t v) { return splatInt(vec4I32, v); }
  Value splatF32(float v) { return splat(vec4F32, v); }
  /// A workgroup-memory buffer of `func` (aligned to `align` bytes if set).
  Value addWorkgroupBuffer(gpu::GPUFuncOp func, ArrayRef<int64_t> shape,
                           Type element, int64_t align = 0);
  /// Binds xArg, codesArg, paramsArg and (with outliers) outliersArg to
  /// `func`'s arguments; returns the output argument.
  Value bindArguments(gpu::GPUFuncOp func);
  /// Per row index of `rowIdx`: the sum of x[row, k] * value over the
  /// outliers first, first + step, ... of column `col`'s run (see
  /// `outliers` in #lowbit.packed; `col` < tiles * tile).
  SmallVector<Value> outlierSums(Value col, ArrayRef<Value> rowIdx, Value first,
                                 int64_t step);
  /// `v` (vector) with `add` added to its element 0.
  Value addToFirst(Value v, Value add);

  /// The unsigned fields of a quad's 4 codes: bits [shift, shift + bits)
  /// of `words` (vector<4xi32>), `shift` an i32 (null: 0).
  Value fields(Value words, Value shift);
  /// The 4 fields of byte 0..3 of `word` (i32; 8-bit codes).
  Value byteFields(Value word);
  /// The 4 weights (vector<4xf32>) of a quad with fields `codes` in
  /// column `col` (index within the tile) of tile `tileIdx`, group `group`.
  Value dequantize(Value codes, Value tileIdx, Value group, Value col);
  /// The group of the quad starting at k = `kq` (an index).
  Value groupOf(Value kq);

  OpBuilder &b;
  Location loc;
  PackedLayoutAttr layout;
  int64_t rows, bits, tile, k, n, blockK, numBlocks, numGroups, perGroup;
  Value xArg, codesArg, paramsArg;
  Value outliersArg; // null without outliers
  Type f32, i32;
  VectorType vec4F32, vec4I32;
};

/// The kernel builders fill the entry block of `func`, whose arguments are
/// x, codes, params[, outliers], out. With outliers, the GEMVs add each
/// column's run before their reductions (split over the lanes that share
/// the column); the GEMMs add them per output before the store.

/// The decode GEMV (at most kGemvMaxRows rows).
void buildGemvKernel(OpBuilder &b, Location loc, PackedLayoutAttr layout,
                     int64_t rows, gpu::GPUFuncOp func);
LaunchShape gemvShape(PackedLayoutAttr layout, int64_t rows);

/// The WMMA GEMM (any rows; `gpu` layouts whose groups are not multiples
/// of 16): 64 x 64 output tiles, f16 operands
/// staged in workgroup memory, WMMA 16x16x16 with f32 accumulators.
/// Adds its workgroup attributions to `func`.
void buildGemmKernel(OpBuilder &b, Location loc, PackedLayoutAttr layout,
                     int64_t rows, gpu::GPUFuncOp func);
LaunchShape gemmShape(PackedLayoutAttr layout, int64_t rows);

/// The mma.sync GEMM on an `mma` layout (any rows): 64 x 64 output tiles,
/// weights copied to workgroup memory with cp.async a stage ahead and
/// decoded straight into B fragments, activations read with ldmatrix.
void buildMmaKernel(OpBuilder &b, Location loc, PackedLayoutAttr layout,
                    int64_t rows, gpu::GPUFuncOp func);
LaunchShape mmaShape(PackedLayoutAttr layout, int64_t rows);

/// The decode GEMV on an `mma` layout (at most kGemvMaxRows rows): a block
/// of 4 warps per tile of 8 columns, split-K over the warps, f32 FMAs,
/// the scale applied once per group. Adds its workgroup attribution.
void buildMmaGemvKernel(OpBuilder &b, Location loc, PackedLayoutAttr layout,
                        int64_t rows, gpu::GPUFuncOp func);
LaunchShape mmaGemvShape(PackedLayoutAttr layout, int64_t rows);

} // namespace mlir::lowbit::detail

#endif // LOWBIT_LIB_CONVERSION_LOWBITTOGPU_GPUKERNELS_H
