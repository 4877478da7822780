//===- LowbitOps.td - Operations of the lowbit dialect ------*- tablegen -*-===//
//
// quantize / dequantize, pack / unpack of the parts of a quantized value,
// pack_codes / unpack_codes (bit packing for storage), matmul on a quantized
// weight, activation rounding (fake_quant), the online Hadamard transform
// and the calibration-site marker.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_TD

include "lowbit/Dialect/Lowbit/IR/LowbitTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

def Lowbit_QTensor : Type<CPred<"::llvm::isa<::mlir::lowbit::QTensorType>($_self)">,
    "quantized tensor", "::mlir::lowbit::QTensorType">;

def Lowbit_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;

//===----------------------------------------------------------------------===//
// Quantize and dequantize
//===----------------------------------------------------------------------===//

def Lowbit_QuantizeOp : Lowbit_Op<"quantize", [Pure]> {
  let summary = "Quantize a float tensor with given scales";
  let description = [{
    Rounds every element of `input` to a code of the result's scheme, given
    the scheme's parameters in canonical order: scales, then zero points
    (asymmetric), codebook (`lut`) and super scales (two-level), those the
    scheme has. Their types follow from the result type and are not spelled.

    ```
    for i in indices(input):
      t = s(i) == 0 ? 0 : input[i] / s(i)
      codes[i] = int: clamp(roundeven(t + Z[g(i)]), qmin, qmax)
                 other formats: argmin_c |t - value(c)|, ties to the even code
    result = pack(codes, params...)
    ```

    Verifier rules:
    - the input has the result's logical shape and element type;
    - the parameters are exactly those the scheme needs, with the derived types;
    - the result has no outliers and no sparsity mask (add them with
      `lowbit.pack`).

    ```mlir
    %q = lowbit.quantize %w, %s : tensor<256x64xf32>
        -> !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f32>>
    ```
  }];
  let arguments = (ins Lowbit_FloatTensor:$input,
                       Variadic<AnyRankedTensor>:$params);
  let results = (outs Lowbit_QTensor:$result);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    QTensorType getType() { return ::llvm::cast<QTensorType>(getResult().getType()); }
  }];
}

def Lowbit_DequantizeOp : Lowbit_Op<"dequantize",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Reconstruct the float tensor a quantized value stands for";
  let description = [{
    ```
    for i in indices(result):
      x = (v(codes[i]) - Z[g(i)]) * s(i)
      x = mask[m(i)] ? x : 0            (with a sparsity mask)
      result[i] = x
    result += scatter(outliers)         (with outliers)
    ```

    The result type is `tensor<shape x element type>` of the operand.

    ```mlir
    %w = lowbit.dequantize %q : !lowbit.qtensor<256x64xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f32>>
    ```
  }];
  let arguments = (ins Lowbit_QTensor:$input);
  let results = (outs Lowbit_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

//===----------------------------------------------------------------------===//
// Assembling and taking apart a quantized value
//===----------------------------------------------------------------------===//

def Lowbit_PackOp : Lowbit_Op<"pack", [Pure]> {
  let summary = "Bundle codes, scales and their companions into one value";
  let description = [{
    Takes the parts in the canonical order of `!lowbit.qtensor` (codes,
    scales, zero points, codebook, super scales, outlier parts, mask; those
    the type has) and returns the quantized value. Part types follow from
    the result type and are not spelled.

    Verifier rules:
    - the number of parts is the number the type has;
    - each part has exactly the type the result type derives for it;
    - constant outlier coordinates (coo indices, csr column indices) lie
      inside the logical shape, and csr row pointers start at 0, never
      decrease and end at nnz;
    - a constant N:M mask keeps at most N of every M elements along its axis.

    ```mlir
    %q = lowbit.pack %codes, %scales, %zp : !lowbit.qtensor<...>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$parts);
  let results = (outs Lowbit_QTensor:$result);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDeclaration = [{
    QTensorType getType() { return ::llvm::cast<QTensorType>(getResult().getType()); }
  }];
}

def Lowbit_UnpackOp : Lowbit_Op<"unpack",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Take a quantized value apart";
  let description = [{
    Returns the parts of the operand in the canonical order of
    `!lowbit.qtensor`; their types follow from the operand type.

    ```mlir
    %codes, %scales = lowbit.unpack %q : !lowbit.qtensor<...>
    ```
  }];
  let arguments = (ins Lowbit_QTensor:$input);
  let results = (outs Variadic<AnyRankedTensor>:$parts);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Bit packing of codes for storage
//===----------------------------------------------------------------------===//

def Lowbit_PackCodesOp : Lowbit_Op<"pack_codes", [Pure]> {
  let summary = "Pack b-bit codes densely into bytes";
  let description = [{
    The codes, read in row-major order, form a little-endian bit stream:
    code `k` occupies stream bits `[k*b, (k+1)*b)`, stream bit `j` is bit
    `j % 8` of byte `j / 8`, and unused high bits of the last byte are 0.
    The result holds `ceil(numel * b / 8)` bytes. This is the storage form of
    code constants (`dense_resource` blobs); target layouts come from later
    passes.

    Verifier rules: the operand is a static tensor of `i1`..`i8`; the result
    is `tensor<N x i8>` with N as above.

    ```mlir
    %bytes = lowbit.pack_codes %codes : tensor<64x16xi3> -> tensor<384xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnySignlessInteger]>:$codes);
  let results = (outs RankedTensorOf<[I8]>:$bytes);
  let assemblyFormat = "$codes attr-dict `:` type($codes) `->` type($bytes)";
  let hasVerifier = 1;
}

def Lowbit_UnpackCodesOp : Lowbit_Op<"unpack_codes", [Pure]> {
  let summary = "Unpack bytes into b-bit codes";
  let description = [{
    The inverse of `lowbit.pack_codes`: `unpack_codes(pack_codes(c)) == c`
    for every code tensor `c`.

    Verifier rules: the result is a static tensor of `i1`..`i8`; the operand
    is `tensor<N x i8>` with `N = ceil(numel * b / 8)`.

    ```mlir
    %codes = lowbit.unpack_codes %bytes : tensor<384xi8> -> tensor<64x16xi3>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$bytes);
  let results = (outs RankedTensorOf<[AnySignlessInteger]>:$codes);
  let assemblyFormat = "$bytes attr-dict `:` type($bytes) `->` type($codes)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute on quantized weights
//===----------------------------------------------------------------------===//

def Lowbit_MatmulOp : Lowbit_Op<"matmul", [Pure]> {
  let summary = "Float activations times a quantized weight (weight-only)";
  let description = [{
    `result = input x dequantize(weight)` where the weight is `K x N`, or
    `N x K` with `transpose_weight` (the PyTorch Linear layout, groups
    running along K). Leading dimensions of `input` are batch dimensions:
    `input` is `... x M x K`, the result `... x M x N`.

    Verifier rules:
    - the weight has rank 2 and the input rank >= 2;
    - the contraction extents agree;
    - the result shape is the input shape with K replaced by N;
    - input, weight and result share one element type.

    ```mlir
    %y = lowbit.matmul %x, %w : tensor<4x256xf32>, !lowbit.qtensor<256x64xf32, #s> -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins Lowbit_FloatTensor:$input, Lowbit_QTensor:$weight,
                       UnitAttr:$transpose_weight);
  let results = (outs Lowbit_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`transpose_weight` $transpose_weight^)? attr-dict `:`
    type($input) `,` qualified(type($weight)) `->` type($result)
  }];
  let hasVerifier = 1;
}


def Lowbit_FakeQuantOp : Lowbit_Op<"fake_quant",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Round activations to symmetric integers per row and block";
  let description = [{
    What the int8-activation kernels do to their input, as a tensor op:
    along the last dimension, every row is cut into blocks of `block`
    elements, and each block is rounded to symmetric `bits`-bit codes with
    its own scale, then returned dequantized (a last block that is cut
    short is rounded as if padded with zeros, as the kernels pad K). With `q = 2^(bits-1) - 1`
    (127 for 8 bits), in f32:

    ```
    for each row r and block b:
      m = max |x[r, b]|
      s = m / q;  inv = m > 0 ? q / m : 0
      result[r, b] = roundeven(x[r, b] * inv) * s
    ```

    `lowbit-pack` puts it in front of the matmuls that take the int8 layout
    but have too many rows for the weight-streaming kernels (prefill), so
    that `--activations=int8` means the same numerics at every row count;
    the reference lowering then runs the f32 matmul on rounded inputs.

    Verifier rules: `bits` is 2 to 8, `block` is positive, the last
    dimension is static.

    ```mlir
    %y = lowbit.fake_quant %x bits 8 block 128 : tensor<512x576xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, I64Attr:$bits,
                       I64Attr:$block);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `bits` $bits `block` $block attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def Lowbit_HadamardOp : Lowbit_Op<"hadamard",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Orthonormal Hadamard transform along the last dimension";
  let description = [{
    `result = input x H / sqrt(n)` along the last dimension (n, static),
    with H the Hadamard matrix of order n that `buildHadamard`
    (`lowbit/Quantization/Rotation.h`) constructs: H = H_m (x) H_2^k, a
    Paley matrix of order m (m = 1: none) and the Sylvester matrix of
    order 2^k. `lowbit-rotate{online=down}` puts it in front of layers whose
    input no weight can absorb a rotation for (SwiGLU's down projection).

    The reference lowering is the fast transform itself: the rows seen as
    m x 2^k, k butterfly stages along 2^k (`(a + b, a - b)` on index pairs
    one bit apart: n log2(2^k) adds), then the dense m x m block on the
    other axis (n m multiply-adds), then the 1 / sqrt(n) scale.

    Verifier rules: the last dimension is static and a Hadamard matrix of
    that order is built.

    ```mlir
    %y = lowbit.hadamard %x : tensor<1x16x1536xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Lowbit_PackedMatmulOp : Lowbit_Op<"packed_matmul", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DestinationStyleOpInterface]> {
  let summary = "Matmul on a weight packed for a CPU or GPU kernel";
  let description = [{
    `init = input x W` (the result overwrites `init`; its values are not
    read), where `input` is `M x K` and the `K x N` weight W is given by
    `codes` and `params` (and `outliers`, sparse weights added to them) in
    the layout `layout` (see `#lowbit.packed`).
    `lowbit-pack` produces it from `lowbit.matmul` on a constant weight;
    after bufferization `convert-lowbit-to-cpu` (CPU layouts) or
    `convert-lowbit-to-gpu` (`gpu` layouts) turns it into a kernel. On
    tensors it returns the result; on memrefs (after bufferization) it has
    none.

    Verifier rules:
    - input, init and result are all tensors or all memrefs (codes and
      params too); input is `M x K` f32, init `M x N` f32 with the layout's
      K and N, the result (tensors) has the type of init;
    - codes is 1-D i8 of the layout's byte count, params 1-D f32 of its
      parameter count;
    - an `outliers` operand (1-D i32 of the layout's outlier word count)
      is present exactly when the layout has `outliers`.

    ```mlir
    %y = lowbit.packed_matmul ins(%x, %codes, %params : tensor<1x4096xf32>, tensor<29360128xi8>, tensor<458752xf32>)
           outs(%init : tensor<1x14336xf32>)
           layout(#lowbit.packed<bits = 4, k = 4096, n = 14336, lanes = 16, tile = 4, group = 128, signed>)
           -> tensor<1x14336xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$input, AnyShaped:$codes, AnyShaped:$params,
                       Optional<AnyShaped>:$outliers,
                       AnyShaped:$init, Lowbit_PackedLayoutAttr:$layout);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $input `,` $codes `,` $params (`,` $outliers^)? `:`
    type($input) `,` type($codes) `,` type($params)
    (`,` type($outliers)^)? `)` `outs` `(` $init `:` type($init) `)`
    `layout` `(` $layout `)` attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

//===----------------------------------------------------------------------===//
// Calibration
//===----------------------------------------------------------------------===//

def Lowbit_CalibrateOp : Lowbit_Op<"calibrate",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Mark a tensor whose statistics calibration collects";
  let description = [{
    Returns its operand unchanged. Calibration (instrumented runs over sample
    data) records at each site, over all elements seen, per channel `c` of
    `axis` (rows = every other dimension flattened):

    - `abs_max`: `max |x[..., c]|`;
    - `min_max`: `min x[..., c]` and `max x[..., c]`;
    - `mean`: `sum x[..., c] / rows`;
    - `hessian`: `H = X^T X` over rows, `channels x channels`, accumulated in
      f64 (the GPTQ Hessian up to a factor 2/rows).

    Layers that read one tensor (q/k/v, gate/up) share one site.

    Verifier rules: the site name is non-empty; at least one statistic is
    named; the axis is in range; `hessian` needs a static channel extent.

    ```mlir
    %y = lowbit.calibrate %x site "layers.0.attn.in" collect <abs_max, hessian> : tensor<1x16x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, StrAttr:$site,
                       Lowbit_CalibStatsAttr:$stats,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `site` $site `collect` $stats attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The channel axis, non-negative.
    int64_t getChannelAxis();
  }];
}

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_TD
