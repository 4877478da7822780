"""Quantized matmuls as MLIR modules, for the kernel tests and bench/kernels.

A case is one `lowbit.matmul` of an M x K activation by a random K x N
quantized weight (integer codes of any bits or table-decoded codes: NF4,
FP4 e2m1, a `lut` codebook; sym/asym, groups along K, per channel or per
tensor, optionally stored N x K with `transpose_weight`).
`module()` writes several cases as one entry function (input `x<i>`,
output `y<i>` each), so one compile covers many kernel variants;
`reference()` computes what each case must return, in float64, from the
same codes and scales.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# bitsandbytes' NF4 values (QLoRA) and the OCP FP4 e2m1 values, by code.
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
       0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]
E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
        -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


@dataclass
class Case:
    m: int
    k: int
    n: int
    bits: int = 4
    sym: bool = True
    group: int = 128          # > 0: groups along K; 0: per channel; -1: per tensor
    transpose: bool = False   # weight stored N x K
    seed: int = 0
    format: str = "int"       # int, nf4, e2m1 or lut (a random codebook)
    # SpQR-style f16 outliers added to the weight (csr over the stored rows):
    # "" none, "one" (the last column's last k), "many" (every k of column 0
    # but one, several in the last column, ~2% elsewhere, columns 4-7 none),
    # or a fraction ("0.01": that share of the weights, at random)
    outliers: str = ""
    codes: np.ndarray = field(init=False, repr=False)   # K x N code values
    scales: np.ndarray = field(init=False, repr=False)  # scale shape (keepdims)
    zeros: np.ndarray | None = field(init=False, repr=False, default=None)

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self.values = None
        if self.format != "int":
            self.bits = 4 if self.format in ("nf4", "e2m1") else self.bits
            self.values = {"nf4": NF4, "e2m1": E2M1}.get(self.format)
            if self.format == "lut":
                self.values = np.sort(rng.standard_normal(1 << self.bits)).tolist()
        lo, hi = (-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1) \
            if self.sym and self.values is None else (0, (1 << self.bits) - 1)
        self.codes = rng.integers(lo, hi + 1, size=(self.k, self.n)).astype(np.int32)
        shape = self.scale_shape()
        self.scales = (rng.uniform(0.5, 1.5, size=shape) / (1 << self.bits)).astype(np.float32)
        if not self.sym:
            self.zeros = rng.integers(0, (1 << self.bits), size=shape).astype(np.int32)
        self.sparse = np.zeros((self.k, self.n), np.float64)   # K x N outliers
        if self.outliers:
            k, n = self.k, self.n
            mask = np.zeros((k, n), bool)
            if self.outliers == "one":
                mask[k - 1, n - 1] = True
            elif self.outliers[0].isdigit():
                mask = rng.random((k, n), dtype=np.float32) < float(self.outliers)
            else:
                mask = rng.random((k, n)) < 0.02
                mask[:, 4:8] = False
                mask[:, 0] = True
                mask[k // 2, 0] = False
                mask[rng.choice(k, min(k, 9), replace=False), n - 1] = True
            vals = (rng.standard_normal(mask.sum()) * 4 * self.scales.max())
            self.sparse[mask] = vals.astype(np.float16).astype(np.float64)

    @property
    def name(self) -> str:
        g = {0: "ch", -1: "t"}.get(self.group, f"g{self.group}")
        fmt = "" if self.format == "int" else f"_{self.format}"
        out = f"_out_{self.outliers}" if self.outliers else ""
        return (f"m{self.m}_k{self.k}_n{self.n}_w{self.bits}{fmt}_"
                f"{'sym' if self.sym else 'asym'}_{g}{'_T' if self.transpose else ''}{out}")

    def groups(self) -> int:
        return -(-self.k // self.group) if self.group > 0 else 1

    def scale_shape(self) -> tuple:
        """Keepdims scale shape in the stored (maybe transposed) order."""
        if self.group == -1:
            return (1, 1)
        if self.group == 0:
            return (self.n, 1) if self.transpose else (1, self.n)
        return (self.n, self.groups()) if self.transpose else (self.groups(), self.n)

    def params(self):
        """Scales and zero points (None when symmetric) per weight, K x N."""
        rows = np.arange(self.k) // self.group if self.group > 0 else np.zeros(self.k, int)

        def expand(p):  # scale-shaped -> K x N
            p = p.T if self.transpose else p
            return np.broadcast_to(p, (p.shape[0], self.n))[rows]
        s = expand(self.scales.astype(np.float64))
        z = expand(self.zeros.astype(np.float64)) if self.zeros is not None else None
        return s, z

    def dense(self) -> np.ndarray:
        """Dequantized K x N codes, float64 (without the outliers)."""
        s, z = self.params()
        z = 0.0 if z is None else z
        v = self.codes if self.values is None else \
            np.asarray(self.values, np.float32).astype(np.float64)[self.codes]
        return (v - z) * s

    def weight(self) -> np.ndarray:
        """Dequantized K x N weight with its outliers, float64."""
        return self.dense() + self.sparse

    def outlier_parts(self):
        """csr over the stored rows: (row pointers, column indices, f16 values)."""
        stored = self.sparse.T if self.transpose else self.sparse
        rows, cols = np.nonzero(stored)
        ptr = np.zeros(stored.shape[0] + 1, np.int32)
        np.add.at(ptr, rows + 1, 1)
        return (np.cumsum(ptr).astype(np.int32), cols.astype(np.int32),
                stored[rows, cols].astype(np.float16))

    def input(self, rng) -> np.ndarray:
        return rng.standard_normal((self.m, self.k)).astype(np.float32)


def _hex(a: np.ndarray) -> str:
    return '"0x' + np.ascontiguousarray(a).tobytes().hex().upper() + '"'


def _pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """lowbit.pack_codes: code k at stream bits [k*b, (k+1)*b), little-endian."""
    c = (codes.reshape(-1).astype(np.int64) & ((1 << bits) - 1)).astype(np.uint8)
    planes = ((c[:, None] >> np.arange(bits)) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(planes, bitorder="little")


def _scheme(c: Case) -> str:
    axis_k = 1 if c.transpose else 0
    if c.group == -1:
        gran = "tensor"
    elif c.group == 0:
        gran = f"channel, axis = {1 - axis_k}"
    else:
        gran = f"group = {c.group}, axis = {axis_k}"
    sym = "sym" if c.sym else "asym"
    zp = "" if c.sym else ", zero_point = i8"
    if c.format in ("nf4", "e2m1"):
        return f"#lowbit.scheme<{c.format}, {gran}, scale = f32>"
    fmt = f"lut{c.bits}" if c.format == "lut" else f"int{c.bits}"
    return f"#lowbit.scheme<{fmt}, {sym}, {gran}, scale = f32{zp}>"


def module(cases: list[Case], share_weight: bool = False) -> str:
    """One entry function @main(x0, x1, ...) -> (y0, y1, ...). With
    `share_weight`, every case multiplies case 0's weight (the cases differ
    in rows only): one copy of it in the artifact."""
    lines, args, results, body = [], [], [], []
    for i, c in enumerate(cases):
        if share_weight and i > 0:
            xt, yt = f"tensor<{c.m}x{c.k}xf32>", f"tensor<{c.m}x{c.n}xf32>"
            args.append(f"%x{i}: {xt}")
            results.append(yt)
            tw = " transpose_weight" if c.transpose else ""
            body.append(f"  %y{i} = lowbit.matmul %x{i}, %w0{tw} : {xt}, !q0 -> {yt}")
            continue
        wshape = (c.n, c.k) if c.transpose else (c.k, c.n)
        ptr, cols, vals = c.outlier_parts()
        out = f", outliers = #lowbit.outliers<csr, nnz = {vals.size}, f16>" if c.outliers else ""
        qt = f"!lowbit.qtensor<{wshape[0]}x{wshape[1]}xf32, {_scheme(c)}{out}>"
        lines.append(f"!q{i} = {qt}")
        xt, yt = f"tensor<{c.m}x{c.k}xf32>", f"tensor<{c.m}x{c.n}xf32>"
        args.append(f"%x{i}: {xt}")
        results.append(yt)
        codes = c.codes.T if c.transpose else c.codes
        packed = _pack_codes(codes, c.bits)
        sshape = "x".join(map(str, c.scales.shape))
        body.append(f"  %b{i} = arith.constant dense<{_hex(packed.view(np.int8))}> : "
                    f"tensor<{packed.size}xi8>")
        body.append(f"  %c{i} = lowbit.unpack_codes %b{i} : tensor<{packed.size}xi8> -> "
                    f"tensor<{wshape[0]}x{wshape[1]}xi{c.bits}>")
        body.append(f"  %s{i} = arith.constant dense<{_hex(c.scales)}> : tensor<{sshape}xf32>")
        parts = f"%c{i}, %s{i}"
        if c.zeros is not None:
            body.append(f"  %z{i} = arith.constant dense<{_hex(c.zeros.astype(np.uint8))}> : "
                        f"tensor<{sshape}xi8>")
            parts += f", %z{i}"
        if c.format == "lut":
            cb = np.asarray(c.values, np.float32)
            body.append(f"  %cb{i} = arith.constant dense<{_hex(cb)}> : tensor<{cb.size}xf32>")
            parts += f", %cb{i}"
        if c.outliers:
            for name, a, t in (("or", ptr, "i32"), ("oc", cols, "i32"), ("ov", vals, "f16")):
                body.append(f"  %{name}{i} = arith.constant dense<{_hex(a)}> : "
                            f"tensor<{a.size}x{t}>")
            parts += f", %or{i}, %oc{i}, %ov{i}"
        body.append(f"  %w{i} = lowbit.pack {parts} : !q{i}")
        tw = " transpose_weight" if c.transpose else ""
        body.append(f"  %y{i} = lowbit.matmul %x{i}, %w{i}{tw} : {xt}, !q{i} -> {yt}")
    outs = ", ".join(f"%y{i}" for i in range(len(cases)))
    lines.append(f"func.func @main({', '.join(args)}) -> ({', '.join(results)}) {{")
    lines += body
    lines.append(f"  return {outs} : {', '.join(results)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def reference(case: Case, x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) @ case.weight()


def tolerance(case: Case, x: np.ndarray) -> np.ndarray:
    """Bound on the f32 rounding error of any summation order: K * 2^-23 *
    sum_k |x_k w_k| (with margin), per output element."""
    mag = np.abs(x.astype(np.float64)) @ (np.abs(case.dense()) + np.abs(case.sparse))
    return 4 * case.k * 2.0 ** -24 * mag + 1e-30


def quantize_activations(x: np.ndarray, group: int) -> np.ndarray:
    """The int8-activation kernels' rounding of x (per row and group of K:
    s = max|x| / 127 in f32, codes roundeven(x * (127 / max|x|))), returned
    dequantized (codes * s) in float64."""
    m, k = x.shape
    out = np.zeros((m, k), np.float64)
    for g0 in range(0, k, group):
        blk = x[:, g0:g0 + group].astype(np.float32)
        amax = np.abs(blk).max(axis=1, keepdims=True).astype(np.float32)
        scale = amax / np.float32(127)
        inv = np.where(amax > 0, np.float32(127) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
        q = np.rint(blk * inv)
        out[:, g0:g0 + group] = q.astype(np.float64) * scale.astype(np.float64)
    return out


def reference_int8(case: Case, x: np.ndarray) -> np.ndarray:
    """What the int8-activation kernels compute, in float64."""
    group = case.group if case.group > 0 else 128
    return quantize_activations(x, group) @ case.weight()


def lut_tables(x: np.ndarray, group: int):
    """The table-lookup kernels' tables of one row x (K,): per quad of k the
    16 subset sums in f32 (summed in k order), quantized per group with
    s = max|T| / 127; returns (int tables quads x 16, per-quad scale)."""
    k = x.shape[0]
    quads = -(-k // group) * group // 4
    xp = np.zeros(quads * 4, np.float32)
    xp[:k] = x
    bits = (np.arange(16)[:, None] >> np.arange(4)) & 1          # 16 x 4
    t = np.zeros((quads, 16), np.float32)
    for i in range(4):
        t = (t + np.float32(1) * xp[i::4, None] * bits[None, :, i]).astype(np.float32)
    per = group // 4
    q = np.zeros((quads, 16), np.int64)
    scale = np.zeros(quads, np.float64)
    for g0 in range(0, quads, per):
        blk = t[g0:g0 + per]
        m = np.float32(np.abs(blk).max())
        inv = np.float32(127) / m if m > 0 else np.float32(0)
        q[g0:g0 + per] = np.rint(blk * inv).astype(np.int64)
        scale[g0:g0 + per] = np.float32(m / np.float32(127))
    return q, scale


def reference_lut(case: Case, x: np.ndarray) -> np.ndarray:
    """What the table-lookup kernels compute, in float64: codes stored
    unsigned (signed + 2^(planes-1); 2 planes for 1-2-bit codes, 4 for 3-4),
    each quad's bit planes looked up in the quantized tables (plane p times
    2^p), scaled per group, minus the zero point (2^(planes-1) for signed
    codes) times the group's sum of x."""
    group = case.group if case.group > 0 else 128
    planes = 2 if case.bits <= 2 else 4
    offset = 1 << (planes - 1) if case.zeros is None else 0
    u = (case.codes + offset) & ((1 << planes) - 1)                # K x N
    k, n = u.shape
    quads = -(-k // group) * group // 4
    up = np.zeros((quads * 4, n), np.int64)
    up[:k] = u
    idx = [sum(((up[i::4] >> p) & 1) << i for i in range(4)) for p in range(planes)]
    s, z = case.params()
    if z is None:
        z = np.full((k, n), float(offset))
    out = np.zeros((x.shape[0], n))
    rows = np.arange(quads)[:, None]
    for r in range(x.shape[0]):
        q, s_t = lut_tables(x[r], group)
        looked = sum((1 << p) * q[rows, idx[p]] for p in range(planes))  # quads x N
        for g0 in range(0, k, group):
            qs = slice(g0 // 4, (g0 + group) // 4)
            xs = float(np.sum(x[r, g0:g0 + group].astype(np.float64)))
            acc = looked[qs].sum(axis=0) * s_t[g0 // 4]
            out[r] += s[g0] * (acc - z[g0] * xs)
    return out + x.astype(np.float64) @ case.sparse
