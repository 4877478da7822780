"""Lowbit's main job on its built-in default: quantize real models and run
them.

For each model: export it to ONNX from its PyPI package (once, cached),
prepare calibration inputs from WikiText-2 valid.txt, compile it with
`quant-compile` to a native artifact in float, with RTN and with GPTQ
(4-bit, groups of 128, symmetric; calibration in the compiler), run the
artifacts and compare them with the float model on WikiText-2 test.txt:

- all-MiniLM-L6-v2: sentence-embedding cosine similarity with FP32 and how
  often each sentence's nearest neighbour stays the same;
- SmolLM2-135M: perplexity over 512-token windows (the FP32 reference is
  the package's Q4_1 GGUF dequantized, see ../shared/docs/MODELS.md);

each on WikiText-2 test (the calibration text's domain) and on Jane Austen's
Emma (out of domain: a method that only fits its calibration text shows
there).

    python -m lowbit.quickstart [--models minilm,smollm2] [--out out/quickstart]
        [--calib-samples 32] [--windows 4] [--sentences 200]

Artifacts, quant-compile logs (per-layer tables) and reports are left in
--out. bench/accuracy/run.py is the full benchmark (more text, more schemes,
onnxruntime's quantizers).
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import calib_data, config, evaluate, texts, tools
from .models import cache_dir
from .models.smollm2 import SmolLM2
from .runtime import Model

METHODS = [("float", []),
           ("RTN W4 g128", ["--method=rtn", "--bits=4", "--group=128"]),
           ("GPTQ W4 g128", ["--method=gptq", "--bits=4", "--group=128"])]


def compile_model(model, out, shapes, flags, calib, cache):
    args = [tools.tool("quant-compile"), str(model), "-o", str(out), *flags]
    args += [f"--input-shape={n}:{'x'.join(map(str, s))}" for n, s in shapes.items()]
    if any("gptq" in f for f in flags):
        args += [f"--calib={calib}", f"--calib-cache={cache}"]
    out.mkdir(parents=True, exist_ok=True)
    t = time.time()
    with open(out / "quant-compile.log", "w") as f:
        if subprocess.run(args, stdout=f, stderr=f).returncode != 0:
            raise SystemExit(f"quant-compile failed; see {out / 'quant-compile.log'}")
    report = out / "quant-report.json"
    rep = json.loads(report.read_text()) if report.exists() else None
    return time.time() - t, rep


def run_minilm(args, rows):
    from .models.export_minilm import export, fixed_batches, sentences
    from .models.minilm import MiniLM
    model = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"
    if not model.exists():
        print("exporting all-MiniLM-L6-v2 to ONNX ...", flush=True)
        export(model.parent)
    out = args.out / "minilm"
    calib = out / "calib"
    calib.mkdir(parents=True, exist_ok=True)
    for k, v in calib_data.minilm(8 * args.calib_samples, 128).items():
        np.save(calib / f"{k}.npy", v.reshape(args.calib_samples, 8, 128))
    mm = MiniLM.load()
    # In domain (WikiText-2 test) and out of domain (Austen's Emma).
    corpora = {"wiki": sentences(args.sentences, split="test"),
               "emma": texts.sentences(texts.austen("Emma"), args.sentences)}
    batches = {key: fixed_batches(mm, sents, 8, 128) for key, sents in corpora.items()}
    shapes = {"input_ids": (8, 128), "attention_mask": (8, 128)}
    embeddings = {}
    for name, flags in METHODS:
        print(f"all-MiniLM-L6-v2: quant-compile {name} ...", flush=True)
        art = out / name.split()[0].lower()
        secs, rep = compile_model(model, art, shapes, flags, calib, out / "stats.lbcal")
        results = []
        with Model(art) as m:
            for key, sents in corpora.items():
                embeddings[name, key] = np.concatenate(
                    [m.run(input_ids=i, attention_mask=k)[1] for i, k in batches[key]])[:len(sents)]
                a = evaluate.embedding_agreement(embeddings[name, key], embeddings["float", key])
                results.append(f"cosine {a['cosine']:.4f}, same neighbour "
                               f"{a['same_neighbour']:.1%}")
        rows.append(("all-MiniLM-L6-v2", name, rep["bits_per_weight"] if rep else 32.0,
                     (art / "weights.bin").stat().st_size, *results, secs))


def run_smollm2(args, rows):
    from .models.export_smollm2 import export, text_ids
    model = cache_dir() / "SmolLM2-135M-Instruct" / "model.onnx"
    if not model.exists():
        print("exporting SmolLM2-135M to ONNX ...", flush=True)
        export(model.parent)
    out = args.out / "smollm2"
    calib = calib_data.write("smollm2", out / "calib", args.calib_samples, 512)
    tok = SmolLM2().tokenizer()
    corpora = {"wiki": text_ids(512 * args.windows, split="test"),
               "emma": texts.token_ids(texts.austen("Emma"), 512 * args.windows, tok)}
    for name, flags in METHODS:
        print(f"SmolLM2-135M: quant-compile {name} ...", flush=True)
        art = out / name.split()[0].lower()
        secs, rep = compile_model(model, art, {"input_ids": (1, 512)}, flags, calib,
                                  out / "stats.lbcal")
        results = []
        with Model(art) as m:
            for ids in corpora.values():
                ppl, n = evaluate.perplexity(lambda x: m.run(input_ids=x)[0], ids, args.windows)
                results.append(f"perplexity {ppl:.3f} ({n} tokens)")
        rows.append(("SmolLM2-135M", name, rep["bits_per_weight"] if rep else 32.0,
                     (art / "weights.bin").stat().st_size, *results, secs))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="minilm,smollm2")
    ap.add_argument("--out", type=Path, default=config.output_dir("quickstart"))
    ap.add_argument("--calib-samples", type=int, default=32,
                    help="SmolLM2: windows of 512 tokens; MiniLM: batches of 8 sentences")
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--sentences", type=int, default=200)
    args = ap.parse_args(argv)
    args.out = args.out.resolve()
    rows = []
    models = args.models.split(",")
    if "minilm" in models:
        run_minilm(args, rows)
    if "smollm2" in models:
        run_smollm2(args, rows)
    print(f"\n{'model':18} {'weights':13} {'bits/w':>7} {'weights.bin':>12} "
          f"{'compile':>8}  {'WikiText-2 test (in domain)':34}  Austen's Emma (out of domain)")
    for model, name, bpw, size, wiki, emma, secs in rows:
        print(f"{model:18} {name:13} {bpw:7.2f} {size / 1e6:9.1f} MB {secs:7.0f}s  "
              f"{wiki:34}  {emma}")
    print(f"\n(linear layers quantized; embeddings stay in float. Per-layer tables: "
          f"{args.out}/*/*/quant-compile.log. SmolLM2's FP32 reference is a "
          f"dequantized Q4_1 model: see ../shared/docs/MODELS.md.)")


if __name__ == "__main__":
    main()
