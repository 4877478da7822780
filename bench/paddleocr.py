"""PaddleOCR's three models (PyPI `rapidocr-onnxruntime` 1.4.4: text
detector, angle classifier, recognizer; paddle2onnx exports at opsets 11
and 12) compiled in float by quant-compile and run against onnxruntime on a
synthetic text image drawn with Pillow: the largest difference against
onnxruntime with optimizations disabled, and the time of both at the same
thread count.

The wheel is fetched with `pip download --no-deps` into
~/.cache/lowbit/bench/rapidocr (PyPI only; nothing else is downloaded).

Usage: .venv/bin/python bench/paddleocr.py [--threads 2] [--runs 10]
"""

import argparse
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from lowbit import tools  # noqa: E402
from lowbit.runtime import Model  # noqa: E402
from lowbit.testing import machine  # noqa: E402

WHEEL = "rapidocr-onnxruntime==1.4.4"
MODELS = [  # file, input shape, what
    ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 320, 320), "detector (DBNet)"),
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192), "angle classifier"),
    ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320), "recognizer (SVTR)"),
]


def fetch(cache: Path) -> Path:
    models = cache / "rapidocr_onnxruntime" / "models"
    if models.is_dir():
        return models
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL,
                    "-d", str(cache)], check=True)
    wheel = next(cache.glob("rapidocr_onnxruntime-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(cache)
    return models


def text_image(h: int, w: int) -> np.ndarray:
    """Dark text on a light background, normalised as PaddleOCR does
    ((x / 255 - 0.5) / 0.5), NCHW."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (w, h), (235, 232, 225))
    draw = ImageDraw.Draw(img)
    lines = ["Lowbit 2026", "quantize me", "OCR test 42"]
    step = max(h // (len(lines) + 1), 12)
    for i, line in enumerate(lines):
        draw.text((8, 4 + i * step), line, fill=(20, 20, 30))
    x = np.asarray(img, np.float32) / 255.0
    x = (x - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None].copy()


def timed(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    cache = Path.home() / ".cache" / "lowbit" / "bench" / "rapidocr"
    models = fetch(cache)
    print(f"{machine.describe()}; --threads {args.threads}; median of {args.runs}\n")
    print("| model | input | compile | max abs err vs ORT | max abs output | Lowbit | onnxruntime | Lowbit / ORT |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, shape, what in MODELS:
        path = models / name
        art = cache / "artifacts" / path.stem
        spec = "x".join(map(str, shape))
        t = time.perf_counter()
        tools.run([tools.tool("quant-compile"), str(path), "-o", str(art), "--method=none",
                   f"--input-shape=x:{spec}"])
        compile_s = time.perf_counter() - t
        x = text_image(shape[2], shape[3])
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        (ref,) = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"]).run(
            None, {"x": x})
        model = Model(art, threads=args.threads)
        (ours,) = model.run(x)
        err = float(np.max(np.abs(ours - ref)))
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        fast = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        ours_s = timed(lambda: model.run(x), args.runs)
        ort_s = timed(lambda: fast.run(None, {"x": x}), args.runs)
        print(f"| {what} | {spec} | {compile_s:.1f} s | {err:.2e} | {float(np.max(np.abs(ref))):.3f} "
              f"| {ours_s * 1e3:.1f} ms | {ort_s * 1e3:.1f} ms | {ours_s / ort_s:.2f}x |")


if __name__ == "__main__":
    main()
