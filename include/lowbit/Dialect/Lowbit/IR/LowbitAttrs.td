//===- LowbitAttrs.td - Attributes of the lowbit dialect ----*- tablegen -*-===//
//
// The quantization scheme, the outlier format and the sparsity structure.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "lowbit/Dialect/Lowbit/IR/LowbitEnums.td"

class Lowbit_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Lowbit_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Lowbit_SchemeAttr : Lowbit_Attr<"Scheme", "scheme"> {
  let summary = "How integer codes map to real numbers";
  let description = [{
    A scheme fixes the code format, the bit width, the symmetry and which
    elements share a scale. For a logical tensor `W` of shape `D0 x ... x Dn`
    with scale tensor `S`, optional zero points `Z`, optional codebook `C` and
    optional super-block scales `T`, dequantization is

    ```
    v(q)  = int:  q as signed (sym) or unsigned (asym) integer
            e2m1/e3m2/e2m3/e4m3/e5m2: q's bits as that OCP float format
            nf4:  NF4[q]          lut: C[q]
    s(i)  = S[g(i)]                         (scale type f32/f16/bf16/fp8/e8m0)
          = S[g(i)] * T[h(i)]               (two-level: S holds unsigned codes
                                             or small floats, T the super scale)
    W[i]  = (v(q[i]) - Z[g(i)]) * s(i)      (Z = 0 when symmetric)
    ```

    and quantization is `q = clamp(roundeven(W[i] / s(i) + Z[g(i)]), qmin,
    qmax)` for `int` (`[-2^(b-1), 2^(b-1)-1]` symmetric, `[0, 2^b-1]`
    asymmetric) and the nearest representable value for the other formats
    (ties to the even code, NaN codes never chosen, saturating at the
    largest finite value). A zero scale maps every element to the code of
    zero; NaN inputs count as zero.

    The keepdims rule gives the scale shape from the logical shape:
    `tensor`: all ones; `channel` on axis `a`: `Da` at `a`, 1 elsewhere;
    `group = G` along axis `a`: `ceil(Da / G)` at `a`, `Dk` elsewhere (when
    G does not divide Da the last group is shorter, as in onnxruntime's
    MatMulNBits: a 576-wide input in groups of 128 has 5 groups, the last of
    64). Super scales
    (`super = K`, K groups per super-block) have `Da / (G*K)` at `a` and `Dk`
    elsewhere; `super = tensor` is one super scale for the tensor (NVFP4).

    Verifier rules:
    - the bit width is in 1..8 and equals the width of a fixed format
      (e2m1 and nf4: 4, e3m2 and e2m3: 6, e4m3 and e5m2: 8);
    - asymmetric schemes use `int` or `lut` codes and name a zero-point type;
      symmetric ones name none;
    - `channel` and `group` name an axis >= 0; a group size is positive;
    - the scale type is a float type, or an integer type only under a super
      level; a super level needs `group` granularity and a float super scale
      type; the number of groups per super-block is positive.

    Examples:

    ```mlir
    #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f16>
    #lowbit.scheme<int3, asym, channel, axis = 1, scale = f32, zero_point = i8>
    #lowbit.scheme<e2m1, group = 32, axis = 1, scale = f8E8M0FNU>  // MXFP4
    #lowbit.scheme<e2m1, group = 16, axis = 1, scale = f8E4M3FN,
                   super = tensor, super_scale = f32>             // NVFP4
    #lowbit.scheme<int4, asym, group = 32, axis = 0, scale = i6,
                   zero_point = i6, super = 8, super_scale = f16> // GGUF q4_K-like
    #lowbit.scheme<nf4, group = 64, axis = 0, scale = bf16>
    #lowbit.scheme<lut3, sym, tensor, scale = f32>
    ```
  }];
  let parameters = (ins
    "unsigned":$bits,
    EnumParameter<Lowbit_CodeFormat>:$format,
    "bool":$symmetric,
    EnumParameter<Lowbit_Granularity>:$granularity,
    "int64_t":$axis,
    "int64_t":$groupSize,
    "Type":$scaleType,
    "Type":$zeroPointType,
    "int64_t":$superGroup,
    "Type":$superScaleType
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True for the OCP float formats (e2m1, e3m2, e2m3, e4m3, e5m2).
    bool isFloatFormat() const;
    /// True when codes index a table (fp formats, nf4, lut) rather than
    /// being integers.
    bool isTableFormat() const { return getFormat() != CodeFormat::Int; }
    bool hasSuperScales() const { return static_cast<bool>(getSuperScaleType()); }
    /// The element type of the code tensor: signless `i<bits>`.
    IntegerType getCodeType() const;
    /// Smallest and largest code of the integer format.
    int64_t getQMin() const;
    int64_t getQMax() const;
    /// Shape of the scale (and zero-point) tensor for a logical shape.
    SmallVector<int64_t> getScaleShape(ArrayRef<int64_t> shape) const;
    /// Shape of the super-scale tensor for a logical shape.
    SmallVector<int64_t> getSuperScaleShape(ArrayRef<int64_t> shape) const;
    /// Checks the scheme against a logical shape (axis in range, group size
    /// divides the extent, super-blocks tile the axis).
    LogicalResult verifyShape(function_ref<InFlightDiagnostic()> emitError,
                              ArrayRef<int64_t> shape) const;
  }];
}

def Lowbit_OutliersAttr : Lowbit_Attr<"Outliers", "outliers"> {
  let summary = "Format of the sparse high-precision outliers of a tensor";
  let description = [{
    Outliers are a sparse tensor added to the dequantized dense part
    (`W = dequant(codes) + sparse(outliers)`, as in SpQR and LLM.int8()).
    `coo` stores `nnz` coordinates as `tensor<nnz x rank x i32>` and values as
    `tensor<nnz x T>`; `csr` (rank 2 only) stores row pointers
    `tensor<(D0 + 1) x i32>`, column indices `tensor<nnz x i32>` and values.
    The number of outliers is static: weights are compile-time constants.

    ```mlir
    #lowbit.outliers<coo, nnz = 12, f16>
    ```
  }];
  let parameters = (ins
    EnumParameter<Lowbit_OutlierFormat>:$format,
    "int64_t":$nnz,
    "Type":$valueType
  );
  let assemblyFormat = "`<` $format `,` `nnz` `=` $nnz `,` $valueType `>`";
  let genVerifyDecl = 1;
}

def Lowbit_SparsityAttr : Lowbit_Attr<"Sparsity", "sparsity"> {
  let summary = "Structure of a sparsity mask";
  let description = [{
    `nm N:M` keeps at most N elements of every M consecutive elements along
    the axis (the mask has the logical shape). `block B` keeps or drops whole
    blocks of B consecutive elements along the axis (the mask has the logical
    shape with the axis extent divided by B). Masked-out elements dequantize
    to zero.

    ```mlir
    #lowbit.sparsity<nm 2:4, axis = 0>
    #lowbit.sparsity<block 32, axis = 1>
    ```
  }];
  let parameters = (ins
    EnumParameter<Lowbit_SparsityKind>:$kind,
    "int64_t":$n,
    "int64_t":$m,
    "int64_t":$axis
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Shape of the mask tensor for a logical shape.
    SmallVector<int64_t> getMaskShape(ArrayRef<int64_t> shape) const;
  }];
}


def Lowbit_PackedLayoutAttr : Lowbit_Attr<"PackedLayout", "packed"> {
  let summary = "Layout of a weight packed for the CPU or GPU matmul kernels";
  let description = [{
    Where each code and scale of a `K x N` weight (`y = x W`, groups of
    `group` along K, or one group per column when `group = 0`) lies in the
    two flat arrays of `lowbit.packed_matmul`, chosen by `lowbit-pack` for
    a kernel and fixed in the IR (the artifact's weights file holds this
    form).

    K is padded with zero codes to `Kp`, a multiple of the *superblock*
    (the least common multiple of the block and the group); N is padded to
    whole tiles of `tile` columns.

    - A *block* of one column is `4 * lanes` bytes and holds `32 * lanes /
      bits` consecutive k. A *step* is `lanes` consecutive k. For `bits` < 8
      the block is `lanes` little-endian 32-bit words, and the code of
      block-relative `k = j * lanes + i` is bits `[j*bits, (j+1)*bits)` of
      word `i` (one shift puts step j's codes in the low bits of every
      lane). For `bits = 8` byte `k` holds the code of `k`.
    - Codes: `[tile][block][column of the tile][4 * lanes bytes]`, so that
      one tile is one sequential stream.
    - Parameters (f32): `[tile][group][column of the tile][scale, zero]`
      (`zero` present) or `[tile][group][column][scale]`.
    - A weight is `(value(code) - zero) * scale`, as `lowbit.dequantize`
      computes it; `value` reads a code as two's complement (`signed`) or
      unsigned. Padding has scale 0.

    With `int8` (kernels that quantize the activations to int8 per group at
    run time and multiply with VNNI `vpdpbusd`), a block is 64 bytes whose
    byte `b` holds, low bits first, the codes of k = b, 64 + b, ... (one
    mask or shift and mask gives the unsigned codes of 64 consecutive k);
    codes are stored unsigned (`code + 2^(bits-1)` for signed codes, which
    then count as zero point `2^(bits-1)`), groups are multiples of 64,
    and the parameters are `[scale, -zero * scale / 16]` (`zero`) or
    `[scale]`.

    With `lut` (table-lookup kernels, T-MAC style: 2 or 4-bit fields read
    as bit planes), a tile is `2 * lanes` columns and a block of the whole
    tile covers 8 consecutive k in `bits / 2` parts of `4 * lanes` bytes,
    one per pair of planes: byte `2 * c + p` of part q holds in its low
    nibble bit plane `2q + p` of column `c`'s codes at k = 0..3 of the
    block (bit i for k = i) and in its high nibble those at k = 4..7. Codes
    are stored unsigned as with `int8`, groups are multiples of 8 of at
    most 256 (per-channel and per-tensor scales: groups of 128), and the
    parameters are `[tile][group][scale of each column][zero of each
    column]` (zeros present with `zero`).

    With `amx` (on top of `int8`; kernels multiplying with AMX `tdpbusd`),
    a tile is 16 columns and a block of a tile is 16 rows of 64 bytes, one
    AMX tile: byte `4 * c + i` of row `r` holds, low bits first, the codes
    of column `c` at k = 4r + i + 64j for j = 0, 1, ... (8-bit codes are
    stored `code ^ 0x80`, as signed bytes); groups are multiples of the
    block's k; the parameters are `[tile][group][scale][B][zero]` of the 16
    columns, `B` being 128 times the sum of the group's stored code values
    (the activations enter `tdpbusd` as unsigned bytes, `x + 128`) and
    `zero` the zero point less the storage offset (128 for 8-bit codes).

    With `gpu` (the NVIDIA GPU kernels of `convert-lowbit-to-gpu`),
    the layout is the plain one above with `lanes = 128`: a block of one
    column is 512 bytes, which one warp reads with one 16-byte load per
    thread (thread `t` holds words `4t .. 4t+3`, i.e. the codes of k =
    `128 j + 4t + w` for 2-4-bit fields, or bytes `16t .. 16t+15`, k =
    `16t + b`, for 8-bit). Groups are multiples of 4 (one group per 4
    consecutive k, one 16-byte activation load), K is a multiple of 4.

    With `mma` (on top of `gpu`; Marlin-style, for the `mma.sync` m16n8k16
    GEMM, where one 16-byte load feeds the B fragments of several MMAs, and
    for the split-K decode GEMV), a tile is 8 columns (an MMA's n) and the
    512-byte block
    of a tile holds the tile's `32 * 16 / bits` consecutive k (a block of
    one column is 64 bytes, interleaved with the tile's other columns;
    4 and 8-bit fields). Thread `l = 4 g + t` of a warp reads bytes
    `[16 l, 16 l + 16)`: the codes of column `g` its B fragments need, at
    k = `16 s + 2 t + {0, 1, 8, 9}` for the block's steps s = 0 ..
    `32 / bits - 1`. Its 4 words hold `16 / bits` pairs each: pair `q = 2 s
    + h` is pair `p = q mod (16 / bits)` of word `q / (16 / bits)`, with k =
    `16 s + 2 t + 8 h` in bits `[bits * p, bits * (p + 1))` and k + 1 in
    bits `[16 + bits * p, ...)`, so that one mask and an OR with 0x6400
    gives both as f16 `1024 + code`. Codes are stored unsigned (`code +
    2^(bits-1)` for signed codes), groups are multiples of 16 and K is a
    multiple of 4; the parameters are as in `gpu`.

    With `values` (table-decoded codes: NF4, FP4 e2m1, `lut` codebooks),
    codes are stored unsigned and `value(code)` is `values[code]`; the
    kernels decode through a per-group table `(values - zero) * scale`.

    With `outliers = nnz` (CPU and GPU layouts; SpQR-style sparse weights kept
    beside the codes, `W = dequant(codes) + sparse`), the op takes a third
    array, 1-D i32 of `Np + 1 + nnz + 16` words (`Np` = tiles * tile): word
    `c` (`c <= Np`) is the index in this array of column `c`'s first
    outlier (word `Np` the end, entries from word `Np + 1`), and each
    entry is `(k << 16) | bits` of one outlier, `bits` its f16 value, in
    tile, column and k order. A column's outliers are one contiguous run,
    read by the kernel right after its tile's codes; 16 zero words of
    padding let the kernel load whole vectors. K is at most 65536.

    ```mlir
    #lowbit.packed<bits = 4, k = 4096, n = 14336, lanes = 16, tile = 4, group = 128, signed>
    #lowbit.packed<bits = 4, k = 256, n = 64, lanes = 16, tile = 4, group = 64,
                   values = array<f32: -1.0, -0.696, ..., 1.0>>
    ```
  }];
  let parameters = (ins
    "unsigned":$bits,
    "int64_t":$k,
    "int64_t":$n,
    "int64_t":$lanes,
    "int64_t":$tile,
    "int64_t":$group,
    "bool":$signedCodes,
    "bool":$zero,
    "bool":$int8,
    "bool":$lut,
    "bool":$amx,
    "bool":$gpu,
    "bool":$mma,
    OptionalParameter<"DenseF32ArrayAttr">:$values,
    DefaultValuedParameter<"int64_t", "0">:$outliers
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// k per 32-bit word lane of a block (8 / 16 for 4 / 2 bits).
    int64_t getCodesPerWord() const { return 32 / getBits(); }
    /// Bytes of one block of one column (with `mma`, interleaved with the
    /// tile's other columns).
    int64_t getBlockBytes() const {
      return getInt8() ? 64 : getLut() ? 2 * getLanes() * getBits()
                        : getMma() ? 4 * getLanes() / getTile()
                                   : 4 * getLanes();
    }
    /// Consecutive k one block holds (of one column; with `lut`, of the
    /// whole tile).
    int64_t getBlockK() const {
      return getLut() ? 8 : getBlockBytes() * 8 / getBits();
    }
    /// Bytes of one block of every column of a tile.
    int64_t getTileBlockBytes() const {
      return getLut() ? getBlockBytes() : getTile() * getBlockBytes();
    }
    /// The unit K is padded to: lcm(block, group).
    int64_t getSuperblockK() const;
    int64_t getPaddedK() const;
    int64_t getNumTiles() const { return (getN() + getTile() - 1) / getTile(); }
    int64_t getNumGroups() const;
    int64_t getParamsPerGroup() const {
      return getAmx() ? 3 : getZero() ? 2 : 1;
    }
    int64_t getCodeBytes() const;
    int64_t getNumParams() const;
    /// Words of the outlier array (see `outliers`); 0 without outliers.
    int64_t getOutlierWords() const;
    /// True when codes index `values` rather than being integers.
    bool hasValues() const { return getValues() != nullptr; }
  }];
}

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_TD
