//===- Passes.td - Lowbit conversion passes -----------------*- tablegen -*-===//
//
// Conversions between dialects: ONNX nodes to core dialects, and the lowbit
// dialect to its reference semantics (linalg), to CPU kernels (vector,
// x86vector, arm_neon, amx, LLVM intrinsics) and to NVIDIA GPU kernels (gpu,
// nvgpu). One flag prefix: convert-<from>-to-<to>.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_TD
#define LOWBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLowbitToLinalgPass : Pass<"convert-lowbit-to-linalg", "ModuleOp"> {
  let summary = "Lower lowbit ops to linalg/arith/math/tensor (reference semantics)";
  let description = [{
    The reference lowering: it defines what every lowbit op computes, as
    plain `linalg.generic` ops on tensors with scalar arithmetic in f32.
    Fast kernels (CPU, GPU) are tested against it.

    - `lowbit.quantize` becomes a generic computing the codes, then
      `lowbit.pack`;
    - `lowbit.dequantize` and `lowbit.matmul` of a value whose parts are known
      (from `lowbit.pack` or `lowbit.quantize`) become generics decoding codes
      (integers, small floats and NF4 through constant tables, learned
      codebooks through the codebook part), applying scales, zero points,
      super scales and masks, then adding outliers with an `scf.for` scatter;
      matmul accumulates in f32;
    - `lowbit.pack_codes` / `lowbit.unpack_codes` become bit manipulation on
      the flattened tensors;
    - `lowbit.calibrate` becomes its operand;
    - `lowbit.unpack` of a `lowbit.pack` folds to the parts.

    A quantized value that does not come from `lowbit.pack` or
    `lowbit.quantize` (for example a function argument) cannot be lowered;
    the pass reports it and fails. `lowbit.packed_matmul` (what
    `lowbit-pack` makes of a `lowbit.matmul` for the CPU kernels) is left
    for the CPU backend; its reference is the `lowbit.matmul` it came from.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertONNXToCorePass : Pass<"convert-onnx-to-core", "ModuleOp"> {
  let summary = "Give imported onnx.node ops their meaning in linalg/tensor/arith/math";
  let description = [{
    The second stage of ONNX import: one pattern set per op family
    (lib/Conversion/ONNXToCore/<Family>.cpp), each pattern matching an op
    type and the opsets whose semantics it implements. Numpy-style
    broadcasting is expanded into linalg.generic indexing maps.

    onnxruntime's `com.microsoft` MatMulNBits (blockwise 2/4/8-bit weights)
    becomes `lowbit.matmul` on a `!lowbit.qtensor` holding its own codes,
    scales and zero points, so models quantized by onnxruntime's tools
    compile onto the quantized kernels without rounding again.

    Nodes no pattern handles are reported together in one error that lists
    every unsupported op type with its count and node names, and the pass
    fails; with `allow-unsupported` they stay as onnx.node (for inspection).
  }];
  let options = [
    Option<"allowUnsupported", "allow-unsupported", "bool", "false",
           "leave unsupported nodes in place instead of failing">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::lowbit::LowbitDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertLowbitToCPUPass : Pass<"convert-lowbit-to-cpu", "func::FuncOp"> {
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
    end, with the zero-point term added from the group's code sum. On AVX2
    (`dot=pmaddubsw`) two `vpmaddubsw` per 64 bytes add pairs of products
    into an i16 accumulator, widened by `vpmaddwd` with ones into i32 before
    it could saturate (codes of up to 4 bits: every 4 bit planes).

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
    Option<"dot", "dot", "::mlir::lowbit::DotProduct",
           "::mlir::lowbit::DotProduct::Vpdpbusd",
           "int8 dot product of the int8 layout",
           [{::llvm::cl::values(
             clEnumValN(::mlir::lowbit::DotProduct::Vpdpbusd, "vpdpbusd",
                        "x86 AVX-512 VNNI"),
             clEnumValN(::mlir::lowbit::DotProduct::Sdot, "sdot",
                        "ARMv8.2 dot product (codes below 128)"),
             clEnumValN(::mlir::lowbit::DotProduct::Pmaddubsw, "pmaddubsw",
                        "x86 AVX2 vpmaddubsw + vpmaddwd (codes of up to 4 "
                        "bits)"))}]>,
    Option<"lookup", "lookup", "::mlir::lowbit::ByteLookup",
           "::mlir::lowbit::ByteLookup::Pshufb",
           "byte-table lookup of the lut layout",
           [{::llvm::cl::values(
             clEnumValN(::mlir::lowbit::ByteLookup::Pshufb, "pshufb",
                        "x86 AVX2/AVX-512BW, with pmaddubsw"),
             clEnumValN(::mlir::lowbit::ByteLookup::Tbl, "tbl", "ARM NEON"))}]>,
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

def ConvertLowbitToGPUPass : Pass<"convert-lowbit-to-gpu", "ModuleOp"> {
  let summary = "Generate a CUDA kernel (gpu.func) for each bufferized "
                "lowbit.packed_matmul on a 'gpu' layout";
  let description = [{
    Replaces each `lowbit.packed_matmul` on memrefs whose layout is `gpu`
    by a `gpu.launch_func` of a kernel generated for its shape, bits, group
    size and scheme, in the module's `gpu.module @lowbit_kernels` (the
    module becomes a `gpu.container_module`). Activations and outputs with
    a non-identity layout are copied to and from contiguous buffers around
    the launch.

    Up to 16 activation rows the kernel is a decode GEMV, one warp per
    tile of columns, 4 warps per block:

    - per block of K (512 bytes of each column of the tile) one 16-byte
      load per thread (`vector.load` aligned to 16: `ld.global.v4`),
      so that a warp reads 512 consecutive bytes;
    - per 4 consecutive k a thread owns: the codes shifted and masked into
      the mantissa of 2^23 (`(c ^ sign) | 0x4B000000`, then one subtraction:
      no integer-to-float conversion), scaled with one FMA by the group's
      `scale` and `-zero * scale`;
    - one 16-byte activation load per row (the 4 k), shared by the tile's
      columns, and `vector<4xf32>` FMAs into per-row, per-column
      accumulators; the last block of a K that is not a multiple of the
      block reads zero activations past K;
    - a sum of the 4 lanes, then a warp reduction with `gpu.shuffle xor`,
      and lane 0 stores the row's outputs of the tile's columns inside N.

    On an `mma` layout (what `lowbit-pack{gpu=1}` picks when the groups are
    multiples of 16, except for 2-bit decode) up to 16 rows it is a split-K
    GEMV: a block of 4 warps per tile of 8 columns, warp w taking the
    512-byte blocks w, w + 4, ... (one 16-byte load per thread and block);
    thread (g, t) decodes column g's pairs of codes into the mantissa of
    2^23 (one f32 subtraction of `2^23 + zero` gives `value - zero`), FMAs
    them with 8-byte activation loads into per-group sums and applies the
    scale once per group; 2 shuffles and workgroup memory reduce the lanes
    and warps. Above 16 rows it is the `mma.sync` GEMM: 64 x 64
    output tiles per block of 4 warps (2 x 2 warps of 32 x 32), 128 k per
    stage. The block's codes are copied to workgroup memory with
    `nvgpu.device_async_copy` (cp.async, 16 bytes) one stage ahead, in two
    buffers; each thread reads its 16 bytes per tile of 8 columns, which
    the layout made the codes of its B fragments for 8 (4-bit) or 4
    (8-bit) MMAs, and decodes a pair of codes into an f16x2 with a mask,
    an OR with 0x6400 (1024 + code) and one subtraction of `1024 + zero`
    (exact: zero points are integers), then applies the group's scale with
    one f16x2 multiply. The
    activations are converted to f16 in workgroup memory (row pitch 136
    halves) and read as A fragments with `nvgpu.ldmatrix` (x4). Each warp
    does 8 `nvgpu.mma.sync` m16n8k16 (f16, f32 accumulators) per 16 k;
    the accumulators go from registers to the output, guarded at M and N.

    Otherwise, above 16 rows (prefill) it is a WMMA GEMM: 64 x 64 output tiles
    per block of 4 warps (2 x 2 warps of 32 x 32), grid (N / 64, M / 64).
    Per 64 k the block dequantizes its 64 columns' codes (16-byte loads,
    the same decode) into f16 in workgroup memory, where the weights are
    `B` column by column; it converts its 64 rows of activations to f16
    beside them (zero past M and K); after a barrier each warp does 16
    WMMA m16n16k16 MMAs (`gpu.subgroup_mma_*`: f16 operands, f32
    accumulators, B loaded transposed). The result tile goes through
    workgroup memory to the output, guarded at M and N.

    The kernel carries `lowbit.arg_roles` (`in`, `const`, `out` per
    argument): what the runtime copies to the device on every call, once,
    or back.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // LOWBIT_CONVERSION_PASSES_TD
