"""Low-bit matmul kernels against onnxruntime's MatMulNBits and the bandwidth limit.

    .venv/bin/python bench/kernels/run.py [--shapes 4096x4096,4096x14336,14336x4096]
        [--rows 1,2,4,8,16] [--threads 1,2] [--bits 4,2,8] [--quick] [--target x86-64-v3]
    .venv/bin/python bench/kernels/run.py --outliers     # SpQR-style outliers vs dense
    .venv/bin/python bench/kernels/run.py --hadamard     # the online Hadamard's cost

For each shape K x N (y[M, N] = x[M, K] W), rows M and thread count, times
Lowbit's compiled kernels (quant-compile on a module with one lowbit.matmul
of random W4 g128 sym codes; f32 activations, int8 activations with
--activations=int8, and for 1-2-bit codes the table-lookup kernels with
--kernels=lut) and onnxruntime's MatMulNBits (4-bit, block 32 and 128,
accuracy levels 0 = f32 and 4 = int8 activations), with the weights

- cache-resident: one matrix, called repeatedly;
- DRAM-resident: distinct copies totalling over 1 GiB, called in turn (as
  in decoding, where every layer's weights come from DRAM once).

and prints times, effective GB/s of weight bytes (codes + scales) and % of
the read bandwidth measured in the same run (bench/kernels/bandwidth.c, a
prefetching sum) for Lowbit's fastest mode, and the speed-ups of Lowbit f32
over onnxruntime level 0 and Lowbit's faster quantized-activation mode
(int8 or lut) over level 4 (best block size). onnxruntime's sessions are
built once per shape, threads and residency and timed for every M.
Other bit widths (--bits) run for M = 1 only. Not a test: shared machines
are noisy; compare ratios from one run. Compiles are cached in
~/.cache/lowbit/bench/kernels.
"""
from __future__ import annotations

import argparse
import ctypes
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

from lowbit import tools  # noqa: E402
from lowbit.testing import machine  # noqa: E402
from lowbit.testing.kernel_cases import Case, module  # noqa: E402
from lowbit.runtime import Model  # noqa: E402

CACHE = Path.home() / ".cache" / "lowbit" / "bench" / "kernels"
# quant-compile's --target for Lowbit's artifacts ("": the host); e.g.
# x86-64-v3 measures the AVX2 kernels on an AVX-512 host.
TARGET = ""
DRAM_BYTES = 1.1 * (1 << 30)


def bandwidth_lib() -> ctypes.CDLL:
    so = CACHE / "bandwidth.so"
    src = Path(__file__).with_name("bandwidth.c")
    if not so.exists() or so.stat().st_mtime < src.stat().st_mtime:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC",
                        str(src), "-o", str(so)], check=True)
    lib = ctypes.CDLL(str(so))
    lib.lowbit_bench_read.restype = ctypes.c_double
    lib.lowbit_bench_read.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                      ctypes.c_int, ctypes.POINTER(ctypes.c_uint64)]
    return lib


def measure_bandwidth(threads: int) -> tuple[float, float]:
    """(DRAM, cache) read GB/s with `threads` threads."""
    lib = bandwidth_lib()
    sink = ctypes.c_uint64(0)
    big = np.ones(2 << 30, np.uint8)
    dram = big.size / lib.lowbit_bench_read(big.ctypes.data, big.size, threads, 3,
                                            ctypes.byref(sink)) / 1e9
    small = big[: 32 << 20]
    cache = small.size / lib.lowbit_bench_read(small.ctypes.data, small.size, threads, 20,
                                               ctypes.byref(sink)) / 1e9
    del big
    return dram, cache


def host() -> str:
    """The CPU model and the features the kernels can use, for every table."""
    return machine.describe()


def weight_bytes(k: int, n: int, bits: int, group: int) -> float:
    """Codes plus f32 scales: what a GEMV must read."""
    return k * n * bits / 8 + n * -(-k // group) * 4


def with_hadamard(text: str, m: int, k: int) -> str:
    """The one-matmul module with its input rotated first (lowbit.hadamard,
    as before a down projection under lowbit-rotate{online=down})."""
    t = f"tensor<{m}x{k}xf32>"
    head, body = text.split("{\n", 1)
    body = body.replace("lowbit.matmul %x0,", "lowbit.matmul %h0,")
    return f"{head}{{\n  %h0 = lowbit.hadamard %x0 : {t}\n{body}"


def lowbit_artifact(k: int, n: int, m: int, bits: int, group: int, act: str,
                    hadamard: bool = False, outliers: str = "") -> Path:
    out = CACHE / (f"lowbit_k{k}_n{n}_m{m}_w{bits}_g{group}_{act}"
                   + (f"_{TARGET}" if TARGET else "")
                   + ("_hadamard" if hadamard else "")
                   + (f"_out{outliers}" if outliers else ""))
    # A rebuilt quant-compile (new kernels, new artifact format) recompiles.
    stamp = str(Path(tools.tool("quant-compile")).stat().st_mtime_ns)
    if (out / "model.so").exists() and (out / "tool-stamp").exists() and \
            (out / "tool-stamp").read_text() == stamp:
        return out
    print(f"  compiling {out.name} ...", file=sys.stderr, flush=True)
    case = Case(m, k, n, bits, True, group, seed=1, outliers=outliers)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "m.mlir"
        text = module([case])
        src.write_text(with_hadamard(text, m, k) if hadamard else text)
        flag = "--kernels=lut" if act == "lut" else f"--activations={act}"
        target = [f"--target={TARGET}"] if TARGET else []
        subprocess.run([tools.tool("quant-compile"), str(src), "-o", str(out), "--quiet",
                        flag, *target], check=True, capture_output=True)
    (out / "tool-stamp").write_text(stamp)
    return out


def print_header(header: str) -> None:
    """A markdown table's header and rule."""
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))


def time_calls(fns, reps: int) -> float:
    """Median over `reps` of the mean time per call of one pass over `fns`."""
    for f in fns:
        f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for f in fns:
            f()
        times.append((time.perf_counter() - t0) / len(fns))
    return statistics.median(times)


def lowbit_time(art: Path, m: int, k: int, threads: int, copies: int) -> float:
    x = np.random.default_rng(0).standard_normal((m, k)).astype(np.float32)
    dirs = [art]
    tmp = None
    if copies > 1:
        # Distinct weight files: distinct pages, nothing shared in caches.
        tmp = Path(tempfile.mkdtemp(dir=CACHE))
        for i in range(copies):
            d = tmp / str(i)
            d.mkdir()
            for f in ("model.so", "manifest.json", "weights.bin"):
                shutil.copyfile(art / f, d / f)
            dirs.append(d)
        dirs = dirs[1:]
    try:
        models = [Model(d, threads=threads) for d in dirs]
        t = time_calls([lambda mdl=mdl: mdl.run(x) for mdl in models],
                       reps=3 if copies > 1 else 50)
        for mdl in models:
            mdl.close()
        return t
    finally:
        if tmp:
            shutil.rmtree(tmp)


_ORT_MODELS: dict = {}


def ort_model(k: int, n: int, block: int, level: int) -> bytes:
    """One serialized model per configuration: every session built from it
    holds its own copy of the (prepacked) weights."""
    key = (k, n, block, level)
    if key not in _ORT_MODELS:
        _ORT_MODELS.clear()
        _ORT_MODELS[key] = _make_ort_model(k, n, block, level)
    return _ORT_MODELS[key]


def _make_ort_model(k: int, n: int, block: int, level: int) -> bytes:
    from onnx import TensorProto, helper
    rng = np.random.default_rng(0)
    blocks = -(-k // block)
    b = rng.integers(0, 256, size=(n, blocks, block // 2), dtype=np.uint8)
    scales = rng.uniform(0.001, 0.01, size=(n * blocks,)).astype(np.float32)
    node = helper.make_node("MatMulNBits", ["A", "B", "scales"], ["Y"], domain="com.microsoft",
                            K=k, N=n, bits=4, block_size=block, accuracy_level=level)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])],
        initializer=[helper.make_tensor("B", TensorProto.UINT8, b.shape, b.tobytes(), raw=True),
                     helper.make_tensor("scales", TensorProto.FLOAT, scales.shape,
                                        scales.tobytes(), raw=True)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def ort_times(k: int, n: int, rows: list[int], block: int, level: int, threads: int,
              copies: int) -> dict[int, float]:
    """Time per call for each row count, on one set of sessions (M is
    dynamic in the model)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    if copies > 1:
        # Many sessions, each with its own pool: idle pools must not spin on
        # the cores the running one needs.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = ort_model(k, n, block, level)
    sessions = [ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
                for _ in range(copies)]
    out = {}
    for m in rows:
        x = np.random.default_rng(0).standard_normal((m, k)).astype(np.float32)
        out[m] = time_calls([lambda s=s: s.run(None, {"A": x}) for s in sessions],
                            reps=3 if copies > 1 else 50)
    del sessions
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default=ap_default_shapes)
    ap.add_argument("--rows", default="1,2,4,8,16")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--bits", default="4,2,8")
    ap.add_argument("--quick", action="store_true",
                    help="one shape (4096x14336), rows 1 and 8, 2 threads")
    ap.add_argument("--hadamard", action="store_true",
                    help="instead: the online Hadamard's cost beside the GEMV it "
                         "precedes (M = 1, W4 g128; default shapes: the down "
                         "projections of SmolLM2, 1536x576, and Llama-3-8B, 14336x4096)")
    ap.add_argument("--outliers", action="store_true",
                    help="instead: the W4 g128 kernels with 0.5%% and 1%% SpQR-style f16 "
                         "outliers beside the dense ones (M = 1 and 8; default shape "
                         "4096x14336)")
    ap.add_argument("--reps", type=int, default=5,
                    help="--outliers: interleaved runs per cell, the best kept (default 5)")
    ap.add_argument("--target", default="",
                    help="quant-compile --target for Lowbit's kernels (default: the host), "
                         "e.g. x86-64-v3 for the AVX2 kernels on an AVX-512 host")
    args = ap.parse_args()
    global TARGET
    TARGET = args.target
    print(f"host: {host()}" + (f"; Lowbit kernels for --target={TARGET}" if TARGET else "")
          + "\n")
    if args.hadamard:
        hadamard_table(args)
        return
    if args.outliers:
        outliers_table(args)
        return
    if args.quick:
        args.shapes, args.rows, args.threads = "4096x14336", "1,8", "2"
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    rows = [int(v) for v in args.rows.split(",")]
    threads_list = [int(v) for v in args.threads.split(",")]
    bits_list = [int(v) for v in args.bits.split(",")]
    group = 128
    CACHE.mkdir(parents=True, exist_ok=True)

    limits = {t: measure_bandwidth(t) for t in threads_list}
    for t, (dram, cache) in limits.items():
        print(f"read bandwidth, {t} thread(s): DRAM {dram:.1f} GB/s, cache (32 MiB) {cache:.1f} GB/s")
    print()
    ort_modes = [(32, 0), (128, 0), (32, 4), (128, 4)]
    header = ("| K x N | M | bits | threads | weights | Lowbit f32 | Lowbit int8 | Lowbit lut | "
              "GB/s | % of limit | " + " | ".join(f"ORT b{b} L{lv}" for b, lv in ort_modes)
              + " | f32 vs L0 | best int8/lut vs L4 |")
    print_header(header)
    for k, n in shapes:
        for threads in threads_list:
            for where in ("cache", "DRAM"):
                # onnxruntime: one set of sessions per mode for every row count.
                copies4 = 1 if where == "cache" else int(np.ceil(DRAM_BYTES /
                                                              weight_bytes(k, n, 4, group)))
                ort = {mode: ort_times(k, n, rows, *mode, threads, copies4)
                       for mode in ort_modes} if 4 in bits_list else {}
                for m in rows:
                    for bits in bits_list:
                        if bits != 4 and m != 1:
                            continue
                        acts = ("f32", "int8") + (("lut",) if bits <= 2 else ())
                        wbytes = weight_bytes(k, n, bits, group)
                        copies = 1 if where == "cache" else int(np.ceil(DRAM_BYTES / wbytes))
                        t = {act: lowbit_time(lowbit_artifact(k, n, m, bits, group, act), m, k,
                                              threads, copies) for act in acts}
                        best = min(t.values())
                        limit = limits[threads][0 if where == "DRAM" else 1]
                        gbs = wbytes / best / 1e9
                        cells = [f"{ort[mode][m] * 1e3:.3f} ms" if bits == 4 and mode in ort
                                 else "-" for mode in ort_modes]
                        l0 = min((ort[md][m] for md in ort if md[1] == 0), default=None) \
                            if bits == 4 else None
                        l4 = min((ort[md][m] for md in ort if md[1] == 4), default=None) \
                            if bits == 4 else None
                        quant = min(v for a, v in t.items() if a != "f32")
                        r0 = f"{l0 / t['f32']:.2f}x" if l0 else "-"
                        r4 = f"{l4 / quant:.2f}x" if l4 else "-"
                        lut = f"{t['lut'] * 1e3:.3f} ms" if "lut" in t else "-"
                        print(f"| {k}x{n} | {m} | {bits} | {threads} | {where} | "
                              f"{t['f32'] * 1e3:.3f} ms | {t['int8'] * 1e3:.3f} ms | {lut} | "
                              f"{gbs:.1f} | {100 * gbs / limit:.0f}% | " + " | ".join(cells)
                              + f" | {r0} | {r4} |", flush=True)


def hadamard_table(args) -> None:
    """Time of the W4 GEMV at M = 1 with and without lowbit.hadamard on its
    input, weights cache- and DRAM-resident; the difference is the
    transform's cost (the run-time call overhead cancels)."""
    shapes = "1536x576,14336x4096" if args.shapes == ap_default_shapes else args.shapes
    shapes = [tuple(int(v) for v in s.split("x")) for s in shapes.split(",")]
    threads_list = [int(v) for v in args.threads.split(",")]
    CACHE.mkdir(parents=True, exist_ok=True)
    header = ("| K x N | threads | weights | GEMV | Hadamard + GEMV | Hadamard | "
              "% of GEMV |")
    print_header(header)
    for k, n in shapes:
        plain = lowbit_artifact(k, n, 1, 4, 128, "f32")
        rotated = lowbit_artifact(k, n, 1, 4, 128, "f32", hadamard=True)
        for threads in threads_list:
            for where in ("cache", "DRAM"):
                copies = 1 if where == "cache" else int(np.ceil(DRAM_BYTES /
                                                             weight_bytes(k, n, 4, 128)))
                # Interleaved runs, best of 3 each: the difference is small.
                a = min(lowbit_time(plain, 1, k, threads, copies) for _ in range(3))
                b = min(lowbit_time(rotated, 1, k, threads, copies) for _ in range(3))
                print(f"| {k}x{n} | {threads} | {where} | {a * 1e6:.1f} us | "
                      f"{b * 1e6:.1f} us | {(b - a) * 1e6:.1f} us | "
                      f"{100 * (b - a) / a:.1f}% |", flush=True)


def outliers_table(args) -> None:
    """Time of the W4 g128 kernels with 0, 0.5% and 1% outliers (f16
    values and 16-bit k beside the codes), f32 and int8 activations,
    weights DRAM- and cache-resident; runs interleaved, best of --reps."""
    shapes = "4096x14336" if args.shapes == ap_default_shapes else args.shapes
    shapes = [tuple(int(v) for v in s.split("x")) for s in shapes.split(",")]
    threads = max(int(v) for v in args.threads.split(","))
    rows = [1, 8] if args.rows == "1,2,4,8,16" else [int(v) for v in args.rows.split(",")]
    fractions = ["", "0.005", "0.01"]
    CACHE.mkdir(parents=True, exist_ok=True)
    header = ("| K x N | M | threads | weights | activations | dense | 0.5% outliers | "
              "ratio | 1% outliers | ratio |")
    print_header(header)
    for k, n in shapes:
        for m in rows:
            for where in ("DRAM", "cache"):
                for act in ("f32", "int8"):
                    arts = [lowbit_artifact(k, n, m, 4, 128, act, outliers=f) for f in fractions]
                    # The dense weights' copies fill DRAM_BYTES; outliers add ~4 bytes each.
                    copies = 1 if where == "cache" else int(np.ceil(DRAM_BYTES /
                                                                 weight_bytes(k, n, 4, 128)))
                    best = [float("inf")] * len(arts)
                    for _ in range(args.reps):
                        for i, art in enumerate(arts):
                            best[i] = min(best[i], lowbit_time(art, m, k, threads, copies))
                    print(f"| {k}x{n} | {m} | {threads} | {where} | {act} | "
                          f"{best[0] * 1e3:.3f} ms | {best[1] * 1e3:.3f} ms | "
                          f"{best[1] / best[0]:.2f}x | {best[2] * 1e3:.3f} ms | "
                          f"{best[2] / best[0]:.2f}x |", flush=True)


ap_default_shapes = "4096x4096,4096x14336,14336x4096"

if __name__ == "__main__":
    main()
