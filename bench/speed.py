"""Lowbit artifacts against onnxruntime, same inputs, same thread count.

    .venv/bin/python bench/speed.py [--threads 2] [--runs 5]

Compiles (or reuses, under ~/.cache/lowbit/bench, while quant-compile is unchanged) SmolLM2-135M for one
512-token forward and all-MiniLM-L6-v2 for a batch of 8 x 128 tokens of real
WikiText-2 text, times both engines in the same process (median of --runs
after one warm-up), and prints a table with the ratio, the arithmetic rate
and the time it takes just to read the weights once at the 2-thread DRAM
bandwidth of ../shared/docs/ANCHORS.md (35 GB/s). Not a test: timings on
shared machines are noisy; compare ratios from one run.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from lowbit import tools  # noqa: E402
from lowbit.models import cache_dir  # noqa: E402
from lowbit.compiler import compile_onnx
from lowbit.runtime import Model  # noqa: E402
from lowbit.testing import machine  # noqa: E402

DRAM_GBS = 35.0  # ANCHORS.md, read-only, 2 threads


def artifact(model_path: Path, name: str, shapes: dict) -> Path:
    out = cache_dir().parent / "bench" / name
    manifest = out / "manifest.json"
    want = [{"name": n, "shape": list(s)} for n, s in shapes.items()]
    # A rebuilt quant-compile (new kernels) recompiles, as in bench/kernels.
    stamp = str(Path(tools.tool("quant-compile")).stat().st_mtime_ns)
    if manifest.exists() and (out / "tool-stamp").exists() and \
            (out / "tool-stamp").read_text() == stamp:
        m = json.loads(manifest.read_text())
        have = [{"name": i["name"], "shape": i["shape"]} for i in m["inputs"]]
        if have == want and m["source"] == str(model_path) and \
                (out / "model.so").stat().st_mtime > model_path.stat().st_mtime:
            return out
    print(f"compiling {name} ...", file=sys.stderr)
    t = time.time()
    compile_onnx(model_path, out, shapes)
    (out / "tool-stamp").write_text(stamp)
    print(f"  {time.time() - t:.1f} s", file=sys.stderr)
    return out


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    import onnxruntime as ort
    from lowbit.models.export_minilm import batch, export as export_minilm, sentences
    from lowbit.models.export_smollm2 import export as export_smollm2, text_ids
    from lowbit.models.minilm import MiniLM

    rows = []
    # SmolLM2-135M: one 512-token forward.
    smol = cache_dir() / "SmolLM2-135M-Instruct" / "model.onnx"
    if not smol.exists():
        export_smollm2(smol.parent)
    ids = text_ids(512)[None, :]
    feeds = {"input_ids": ids}
    rows.append(("SmolLM2-135M, 1 x 512 tokens", smol,
                 artifact(smol, "smollm2-1x512", {"input_ids": ids.shape}), feeds,
                 2 * 134.5e6 * 512))
    # all-MiniLM-L6-v2: 8 sentences x 128 tokens.
    mini = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"
    if not mini.exists():
        export_minilm(mini.parent)
    ids, mask = batch(MiniLM.load(), sentences(8), max_len=128)
    ids = np.pad(ids, ((0, 0), (0, 128 - ids.shape[1])))
    mask = np.pad(mask, ((0, 0), (0, 128 - mask.shape[1])))
    feeds = {"input_ids": ids, "attention_mask": mask}
    rows.append(("all-MiniLM-L6-v2, 8 x 128 tokens", mini,
                 artifact(mini, "minilm-8x128", {k: v.shape for k, v in feeds.items()}),
                 feeds, 2 * 11.2e6 * 8 * 128))  # matmul weights (no embeddings) + attention, approx.

    print(f"\nhost: {machine.describe()}")
    print(f"{args.threads} threads, median of {args.runs} runs\n")
    print(f"| model | Lowbit | onnxruntime | Lowbit / ORT | Lowbit GFLOP/s | "
          f"weights once at {DRAM_GBS:.0f} GB/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, onnx_path, art, feeds, flops in rows:
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        t_ort = timed(lambda: sess.run(None, feeds), args.runs)
        with Model(art, threads=args.threads) as m:
            t_lb = timed(lambda: m.run(**feeds), args.runs)
        weights = json.loads((art / "manifest.json").read_text())["weights"]["bytes"]
        floor = weights / (DRAM_GBS * 1e9)
        print(f"| {label} | {t_lb * 1e3:.1f} ms | {t_ort * 1e3:.1f} ms | {t_lb / t_ort:.2f}x | "
              f"{flops / t_lb / 1e9:.0f} | {floor * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
