//===- Passes.td - Passes of the CPU compile path -----------*- tablegen -*-===//
//
// The passes that take converted core IR (linalg on tensors) to a native
// artifact: weights out of the code, one function per kernel, tiling and
// vectorization, threads.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_CPU_PASSES_TD
#define LOWBIT_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def OutlineWeightsPass : Pass<"lowbit-outline-weights", "ModuleOp"> {
  let summary = "Turn large constants of the entry function into arguments";
  let description = [{
    Every `arith.constant` of the entry function holding more than
    `min-elements` elements becomes a new trailing argument of the function
    with a `lowbit.weight` attribute that keeps the constant's value. The
    artifact writer stores these values in the weights file and the runtime
    passes them in from a memory-mapped file, so weights are never compiled
    into code (no multi-gigabyte LLVM constants, one copy on disk, pages
    shared between processes).

    ```mlir
    %w = arith.constant dense_resource<w> : tensor<576x576xf32>
    // becomes
    func.func @main(%x: ..., %w: tensor<576x576xf32>
                    {lowbit.weight = dense_resource<w> : tensor<576x576xf32>})
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"",
           "name of the entry function">,
    Option<"minElements", "min-elements", "int64_t", "65",
           "constants with at least this many elements are outlined">,
  ];
}

def FoldConstantTransposesPass
    : Pass<"lowbit-fold-constant-transposes", "func::FuncOp"> {
  let summary = "Transpose constant weights at compile time";
  let description = [{
    A `linalg.transpose` of an `arith.constant` (exporters write `x @ W^T`
    as Transpose + MatMul, and tied embeddings reuse the embedding matrix
    transposed as the output head) becomes a constant holding the
    transposed data, so the artifact does not transpose weights on every
    run. Constants of any size; the original stays if something else uses
    it (the weights file then holds both layouts).
  }];
}

def OutlineKernelsPass : Pass<"lowbit-outline-kernels", "ModuleOp"> {
  let summary = "Move each linalg op of the entry function into its own function";
  let description = [{
    Each linalg op (and lowbit.packed_matmul) at the top level of the entry
    function moves into a new private function (`@<entry>_kernel_<n>`),
    with the `linalg.fill` that
    initialises its outputs and the small constants it reads; the entry
    function calls it. Kernels bufferize with function boundaries (their
    results are their `outs` operands) and are optimised by LLVM one at a
    time: a model of thousands of ops compiles in seconds, not minutes, and
    a profile names the kernel where time goes.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"",
           "name of the entry function">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def TileAndVectorizePass : Pass<"lowbit-cpu-tile-and-vectorize", "func::FuncOp"> {
  let summary = "Tile linalg ops for threads and registers; matmul microkernels";
  let description = [{
    For each linalg op with at least `min-parallel-elements` of parallel
    work, the outer parallel dimensions are tiled into an `scf.forall` of
    about `thread-chunks` chunks (later `scf.parallel`, then OpenMP).

    Contractions on f32 whose operands are read as A[..., m, k],
    B[..., k, n] and C[..., m, n] (matmul, batch matmul, a 3-D activation
    times a 2-D weight) are then tiled to register blocks of `tile-m` rows
    by `tile-n` columns over all of K, and each block becomes a microkernel:
    `tile-m` accumulator vectors (`vector<tile-n x f32>`) carried through an
    `scf.for` over K, one row of B loaded and one element of A broadcast per
    row, `tile-m` `vector.fma` per step. When B is larger than A (an output
    head), threads split N and N tiles run outside M tiles, so B is read
    once.

    Elementwise ops keep scalar loops, which LLVM's loop vectorizer
    handles; exp, tanh and erf become polynomial approximations
    (vectorizable, no libm calls).
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", "8", "register rows">,
    Option<"tileN", "tile-n", "int64_t", "32", "register columns (elements)">,
    Option<"threadChunks", "thread-chunks", "int64_t", "16",
           "parallel chunks per op (0: no scf.forall, one thread)">,
    Option<"minParallelElements", "min-parallel-elements", "int64_t", "16384",
           "ops with fewer result elements are not split across threads">,
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::affine::AffineDialect",
  ];
}

def LowerPackedMatmulPass
    : Pass<"lowbit-cpu-lower-packed-matmul", "func::FuncOp"> {
  let summary = "Generate the CPU kernel of each bufferized lowbit.packed_matmul";
  let description = [{
    Replaces `lowbit.packed_matmul` on memrefs by a kernel specialised for
    its layout (bits, group, lanes, tile) and its shape:

    - an `scf.parallel` over tiles of columns (threads split N; each thread
      streams a contiguous run of the packed codes once);
    - per tile and chunk of at most 8 rows, vector accumulators
      (`vector<lanes x f32>`, two per column and row when few rows) carried
      through an `scf.for` over superblocks of K, fully unrolled inside;
    - per step (`lanes` consecutive k) one shift of the loaded code words
      and a decode to f32: with `permute` (AVX-512, 2/4-bit codes) the
      codes index a 16-entry table of the group's dequantized values
      (`(value - zero) * scale`, rebuilt once per group and column) through
      `vpermps` (an LLVM intrinsic); otherwise mask/sign-extend, convert and
      scale; 8-bit codes are sign- or zero-extended from a byte load;
    - one `vector.fma` per row with the activations (masked loads past K);
    - `memref.prefetch` of the code stream into L2 `prefetch-distance`
      bytes ahead and into L1 an eighth of that ahead, and of the parameter
      stream (0: none): hardware prefetch does not keep up with these loops
      on DRAM-resident weights;
    - a horizontal sum per column and row at the end, stored to the output
      (columns past N in the last tile are not stored).

    With the `int8` layout the kernel first quantizes the activations per
    row and group (`s = max|x| / 127`, round to nearest even, zero past K)
    into a buffer, then multiplies 64 unsigned weight codes by 64 int8
    activations per `vpdpbusd` (or four ARM `sdot`; LLVM intrinsics) into
    an i32 accumulator
    per group, which is converted and scaled by `s_w * s_x` at the group's
    end, with the zero-point term added from the group's code sum.

    With the `lut` layout (2-bit fields as two bit planes) the kernel first
    builds, per row and quad of k, the 16 sums of the quad's activations
    over every subset, quantized to int8 per group (`s = max|T| / 127`)
    and stored + 128; then per 8 k of a tile of `2 * lanes` columns one
    load of `4 * lanes` bytes gives the indices of two quads (mask, shift),
    and per row two byte-table lookups (`pshufb` or NEON `tbl`) and two
    weighted pair sums (`pmaddubsw` with weights 1, 2: the bit planes) add
    into an i16 accumulator per column, converted and scaled at the
    group's end with the zero-point term from the group's activation sum.

    With the `amx` layout (int8 activations, tiles of 16 columns) the
    activation codes are stored + 128 and each 64 k of a tile is one AMX
    `tdpbusd` (`amx.tile_muli`) of the M x 64 activation tile and the 16 x
    64 code tile (unpacked per field into a stack buffer; 8-bit codes
    loaded directly) into an M x 16 i32 tile, stored and scaled per column
    at each group's end.
  }];
  let options = [
    Option<"permute", "permute", "bool", "false",
           "decode 2/4-bit codes with AVX-512 vpermps (16 lanes only)">,
    Option<"prefetchDistance", "prefetch-distance", "int64_t", "4096",
           "software prefetch this many bytes ahead in the code stream (0: off)">,
    Option<"dot", "dot", "std::string", "\"vpdpbusd\"",
           "int8 dot product of the int8 layout: vpdpbusd (x86 AVX-512 VNNI) "
           "or sdot (ARMv8.2 dot product, codes below 128)">,
    Option<"lookup", "lookup", "std::string", "\"pshufb\"",
           "byte-table lookup of the lut layout: pshufb (x86 AVX2/AVX-512BW, "
           "with pmaddubsw) or tbl (ARM NEON)">,
  ];
  let dependentDialects = [
    "::mlir::amx::AMXDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // LOWBIT_TARGET_CPU_PASSES_TD
