//===- Passes.td - CPU code generation passes ---------------*- tablegen -*-===//
//
// The passes of lowbit-cpu-pipeline that are not conversions: they shape
// core IR (linalg on tensors, then bufferized loops) into a native
// artifact's code: weights out of the code, one function per kernel, tiling
// and vectorization, threads, the entry's calling convention. One flag
// prefix: lowbit-cpu-.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CODEGEN_CPU_PASSES_TD
#define LOWBIT_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowbitCPUOutlineWeightsPass
    : Pass<"lowbit-cpu-outline-weights", "ModuleOp"> {
  let summary = "Turn large constants of the entry function into arguments";
  let description = [{
    Every `arith.constant` of the entry function holding at least
    `min-elements` elements becomes a new trailing argument of the function,
    and its value is appended to the module attribute `lowbit.weights`
    (entry `i` is the value of the `i`-th outlined argument, in argument
    order). The artifact writer stores these values in the weights file and
    the runtime passes them in from a memory-mapped file, so weights are
    never compiled into code (no multi-gigabyte LLVM constants, one copy on
    disk, pages shared between processes). The values live on the module,
    not on the arguments, so that they survive bufferization and the
    conversion to LLVM untouched and the artifact writer reads them after
    the whole pipeline.

    ```mlir
    func.func @main(%x: tensor<4x576xf32>) -> ... {
      %w = arith.constant dense_resource<w> : tensor<576x576xf32>
    // becomes
    module attributes {lowbit.weights = [dense_resource<w> : tensor<576x576xf32>]} {
      func.func @main(%x: tensor<4x576xf32>, %w: tensor<576x576xf32>) -> ...
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"",
           "name of the entry function">,
    Option<"minElements", "min-elements", "int64_t", "65",
           "constants with at least this many elements are outlined">,
  ];
}

def LowbitCPUFoldConstantTransposesPass
    : Pass<"lowbit-cpu-fold-constant-transposes", "func::FuncOp"> {
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

def LowbitCPUVectorizeHadamardPass
    : Pass<"lowbit-cpu-vectorize-hadamard", "ModuleOp"> {
  let summary = "Generate a SIMD kernel for each lowbit.hadamard";
  let description = [{
    Each `lowbit.hadamard` whose order n = m x 2^k has 2^k >= `lanes`
    becomes a call of a new private function
    (`@<function>_hadamard_<i>(%x, %out)`, rows x n, the result written in
    place into `%out`): per row, one pass over the row applies the first
    log2(`lanes`) butterfly stages inside each vector (a lane shuffle and a
    multiply-add by a constant +-1 vector per stage), one pass per further
    stage adds and subtracts whole vectors `2^s / lanes` apart, and a last
    pass reads the m vectors of each column of the m x 2^k view, applies
    the m x m Paley block (adds and subtracts) and the 1/sqrt(n) scale.
    The operations and their order are those of the reference lowering in
    `convert-lowbit-to-linalg`, so the result is bit-identical to it.
    Other orders keep the reference lowering.

    ```mlir
    %y = lowbit.hadamard %x : tensor<1x1536xf32>
    // becomes
    %e = tensor.empty() : tensor<1x1536xf32>
    %y = call @main_hadamard_0(%x, %e)
        : (tensor<1x1536xf32>, tensor<1x1536xf32>) -> tensor<1x1536xf32>
    ```
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16",
           "f32 lanes of a vector register (16: AVX-512, 8: AVX2, 4: NEON)">,
  ];
  let dependentDialects = [
    "::mlir::func::FuncDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def LowbitCPUOutlineKernelsPass
    : Pass<"lowbit-cpu-outline-kernels", "ModuleOp"> {
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

def LowbitCPUTileAndVectorizePass
    : Pass<"lowbit-cpu-tile-and-vectorize", "func::FuncOp"> {
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


def LowbitCPUFuseElementwisePass
    : Pass<"lowbit-cpu-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers into their consumers, "
                "never into reductions";
  let description = [{
    Producer-consumer fusion of `linalg.generic` ops (upstream's elementwise
    fusion patterns and reshape propagation by expansion), restricted to
    consumers without reduction loops and producers with one use. A matmul
    never absorbs its producer: upstream's `linalg-fuse-elementwise-ops`
    would recompute the fused producer once per output column. Fewer
    temporaries, one pass over memory per chain of elementwise ops.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LowbitCPUHoistTransfersPass
    : Pass<"lowbit-cpu-hoist-transfers", "func::FuncOp"> {
  let summary = "Hoist loop-invariant vector transfers out of scf.for";
  let description = [{
    After bufferization, the `vector.transfer_read` / `transfer_write` pair
    of a register tile's accumulator inside the K loop of a microkernel
    (lowbit-cpu-tile-and-vectorize) becomes a loop-carried value
    (`linalg::hoistRedundantVectorTransfers`, loops that run at least once):
    accumulators stay in registers across K.
  }];
}

def LowbitCPUInlineAllocaScopesPass
    : Pass<"lowbit-cpu-inline-alloca-scopes", "ModuleOp"> {
  let summary = "Inline memref.alloca_scope ops that hold no alloca";
  let description = [{
    `convert-scf-to-openmp` wraps each parallel body in a
    `memref.alloca_scope`, whose region must stay a single block, so
    `convert-scf-to-cf` cannot run inside it. Scopes without a
    `memref.alloca` (Lowbit's bodies: vector transfers are fully unrolled)
    are inlined into their parent block; scopes with one are kept.
  }];
}

def LowbitCPUEmitCInterfacePass
    : Pass<"lowbit-cpu-emit-c-interface", "ModuleOp"> {
  let summary = "Give the entry function the runtime's calling convention";
  let description = [{
    Marks the entry function `llvm.emit_c_interface`, so that
    `convert-func-to-llvm` adds `_mlir_ciface_<entry>` taking every memref
    as a pointer to its descriptor (the convention the artifact's C wrapper
    calls), and drops the entry's argument and result attributes
    (`onnx.name`, `lowbit.unsigned`): the artifact's manifest records the
    interface, and the attributes have no LLVM meaning.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"",
           "name of the entry function">,
  ];
}

def LowbitCPUNumberConstantGlobalsPass
    : Pass<"lowbit-cpu-number-constant-globals", "ModuleOp"> {
  let summary = "Name and order the constant globals of bufferization "
                "deterministically";
  let description = [{
    One-shot bufferization turns each constant tensor into a private
    `memref.global` named after its type (`@__constant_32xi8_3`), numbered
    in the order it bufferizes functions. Upstream orders functions that do
    not call each other through a map keyed by pointers, so the names and
    the order of these globals change from run to run (and with them the
    artifact's bytes). This pass renames every private constant global whose
    name starts with `__constant_` to `__constant_<n>`, `n` counting first
    uses (`memref.get_global`) in a walk of the module, and moves them to
    the top of the module in that order: the same module compiles to the
    same LLVM dialect, object and model.so on every run.

    ```mlir
    memref.global "private" constant @__constant_2x8xf32_3 : ...
    memref.global "private" constant @__constant_32xi8 : ...
    // uses: @__constant_32xi8 first
    // becomes
    memref.global "private" constant @__constant_0 : memref<32xi8> ...
    memref.global "private" constant @__constant_1 : memref<2x8xf32> ...
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // LOWBIT_CODEGEN_CPU_PASSES_TD
