"""Accuracy of Lowbit's RTN and GPTQ against FP32 and onnxruntime's 4-bit
quantizers, on real models and real text.

    .venv/bin/python bench/accuracy/run.py [--windows 40] [--calib-samples 128]
        [--skip smollm2|minilm|ort-gptq ...] [--only REGEX] [--out DIR]

SmolLM2-135M (dequantized Q4_1 -> FP32 is the reference; see MODELS.md):
perplexity on WikiText-2 test.txt (in domain) and Austen's Emma (out of
domain), consecutive 512-token windows (stride 512, the first token of each
window unscored), for FP32 (onnxruntime), Lowbit RTN and GPTQ (act-order;
W4 also without; W4 and W3 also as before issue #28) at W4 g128 sym, W3
g128 sym, W2 g64 asym, each also after AWQ smoothing (issue #17), RTN W4
with int8 activations with and without SmoothQuant, and
onnxruntime's MatMulNBits quantizers (DEFAULT sym/asym, HQQ if torch is
importable, GPTQ) at 4 bits, block 128. Calibration: `--calib-samples`
windows of 512 tokens of valid.txt (Lowbit; onnxruntime's GPTQ gets
`--ort-gptq-samples` of them: it keeps every layer input in memory).
all-MiniLM-L6-v2: sentence embeddings of the first 1,000 sentences of
test.txt (8 x 128 tokens per run), cosine similarity with FP32 and
agreement of each sentence's nearest neighbour; calibration on 256
sentences of valid.txt.

Prints markdown tables (also written to bench/accuracy/results.md) and a
plot of perplexity against bits per weight (smollm2-ppl-vs-bpw.png).
Artifacts and statistics are cached in ~/.cache/lowbit/bench/accuracy.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from lowbit import calib_data, evaluate, texts, tools  # noqa: E402
from lowbit.models.smollm2 import SmolLM2  # noqa: E402
from lowbit.models import cache_dir  # noqa: E402
from lowbit.runtime import Model  # noqa: E402
from lowbit.testing import machine  # noqa: E402

WORK = cache_dir().parent / "bench" / "accuracy"

# name, method, bits, group, symmetric, extra quant-compile flags. GPTQ runs
# with its defaults (act-order, static groups; the extreme scale rule; damp
# 0.1; two calibration passes) and once at W4 and W3 without act-order; the rows
# "before #28" are GPTQ as it was before issue #28 (abs-max scales, damp
# 0.01, one calibration pass).
BEFORE_28 = ["--scale-rule=absmax", "--damp=0.01", "--calib-passes=1"]
LOWBIT = [
    ("RTN W4 g128 sym", "rtn", 4, 128, True, []),
    ("GPTQ W4 g128 sym, before #28", "gptq", 4, 128, True, BEFORE_28),
    ("GPTQ W4 g128 sym, no act-order", "gptq", 4, 128, True, ["--no-act-order"]),
    ("GPTQ W4 g128 sym", "gptq", 4, 128, True, []),
    ("RTN W3 g128 sym", "rtn", 3, 128, True, []),
    ("GPTQ W3 g128 sym, before #28", "gptq", 3, 128, True, BEFORE_28),
    ("GPTQ W3 g128 sym, no act-order", "gptq", 3, 128, True, ["--no-act-order"]),
    ("GPTQ W3 g128 sym", "gptq", 3, 128, True, []),
    # Hessians with attention-sink tokens capped at 10x the geometric mean
    # of their window's squared token norms (--calib-token-cap; issue #28).
    ("GPTQ W4 g128 sym, no act-order, token cap 10", "gptq", 4, 128, True,
     ["--no-act-order", "--calib-token-cap=10"]),
    ("GPTQ W4 g128 sym, token cap 10", "gptq", 4, 128, True, ["--calib-token-cap=10"]),
    ("GPTQ W3 g128 sym, token cap 10", "gptq", 3, 128, True, ["--calib-token-cap=10"]),
    ("RTN W2 g64 asym", "rtn", 2, 64, False, []),
    ("GPTQ W2 g64 asym", "gptq", 2, 64, False, []),
    # Smoothing (issue #17): AWQ's scale search (20 alphas, the recipe's
    # scheme) before RTN or GPTQ; SmoothQuant for int8 activations.
    ("AWQ+RTN W4 g128 sym", "rtn", 4, 128, True, ["--smooth=awq"]),
    ("AWQ+GPTQ W4 g128 sym", "gptq", 4, 128, True, ["--smooth=awq"]),
    ("AWQ+RTN W3 g128 sym", "rtn", 3, 128, True, ["--smooth=awq"]),
    ("AWQ+GPTQ W3 g128 sym", "gptq", 3, 128, True, ["--smooth=awq"]),
    ("AWQ+GPTQ W4 g128 asym", "gptq", 4, 128, False, ["--smooth=awq"]),
    ("GPTQ W4 g128 asym", "gptq", 4, 128, False, []),
    ("GPTQ W4 g128 sym, clip search", "gptq", 4, 128, True, ["--clip-search"]),
    ("AWQ+GPTQ W4 g128 sym, clip search", "gptq", 4, 128, True, ["--smooth=awq", "--clip-search"]),
    ("AWQ+RTN W2 g64 asym", "rtn", 2, 64, False, ["--smooth=awq"]),
    ("AWQ+GPTQ W2 g64 asym", "gptq", 2, 64, False, ["--smooth=awq"]),
    ("RTN W4 g128 sym, int8 activations", "rtn", 4, 128, True, ["--activations=int8"]),
    ("SmoothQuant+RTN W4 g128 sym, int8 activations", "rtn", 4, 128, True,
     ["--smooth=smoothquant", "--activations=int8"]),
    # LLM.int8()-style activation outlier channels (issue #19): input
    # channels with calibrated abs-max above 6 stay f32 in a side matmul.
    ("RTN W4 g128 sym, int8 activations, outlier channels > 6", "rtn", 4, 128, True,
     ["--activations=int8", "--activation-outlier-threshold=6"]),
    # Rotation (issue #18): the residual stream rotated by a randomized
    # Hadamard matrix before calibration (SmolLM2 only: MiniLM's post-LN
    # residual cannot be rotated).
    ("Rotation+RTN W4 g128 sym", "rtn", 4, 128, True, ["--rotate=hadamard"]),
    ("Rotation+GPTQ W4 g128 sym", "gptq", 4, 128, True, ["--rotate=hadamard"]),
    ("Rotation+AWQ+GPTQ W4 g128 sym", "gptq", 4, 128, True,
     ["--rotate=hadamard", "--smooth=awq"]),
    ("Rotation+GPTQ W3 g128 sym", "gptq", 3, 128, True, ["--rotate=hadamard"]),
    ("Rotation+AWQ+GPTQ W3 g128 sym", "gptq", 3, 128, True,
     ["--rotate=hadamard", "--smooth=awq"]),
    ("Rotation+GPTQ W2 g64 asym", "gptq", 2, 64, False, ["--rotate=hadamard"]),
    ("Rotation+RTN W4 g128 sym, int8 activations", "rtn", 4, 128, True,
     ["--rotate=hadamard", "--activations=int8"]),
    # ... and the down projections' inputs rotated at run time too
    # (lowbit.hadamard before each down_proj).
    ("Rotation+AWQ+GPTQ W4 g128 sym, online down", "gptq", 4, 128, True,
     ["--rotate=hadamard", "--rotate-online=down", "--smooth=awq"]),
    ("Rotation+AWQ+GPTQ W3 g128 sym, online down", "gptq", 3, 128, True,
     ["--rotate=hadamard", "--rotate-online=down", "--smooth=awq"]),
    ("Rotation+AWQ+GPTQ W2 g64 asym, online down", "gptq", 2, 64, False,
     ["--rotate=hadamard", "--rotate-online=down", "--smooth=awq"]),
    ("Rotation+AWQ+GPTQ W4 g128 sym, online down, int8 activations", "gptq", 4,
     128, True, ["--rotate=hadamard", "--rotate-online=down", "--smooth=awq",
                 "--activations=int8"]),
    # Outlier split (issue #19): SpQR-style f16 outliers (csr) beside the
    # codes, chosen by the grid shrink they give their group; W3 g64 has the
    # bits per weight of W3 g128 + 0.5% outliers.
    ("GPTQ W3 g128 sym, 0.25% outliers", "gptq", 3, 128, True, ["--outlier-fraction=0.0025"]),
    ("GPTQ W3 g128 sym, 0.5% outliers", "gptq", 3, 128, True, ["--outlier-fraction=0.005"]),
    ("GPTQ W3 g128 sym, 1% outliers", "gptq", 3, 128, True, ["--outlier-fraction=0.01"]),
    ("GPTQ W3 g64 sym", "gptq", 3, 64, True, []),
    ("GPTQ W4 g128 sym, 0.25% outliers", "gptq", 4, 128, True, ["--outlier-fraction=0.0025"]),
    ("GPTQ W4 g128 sym, 0.5% outliers", "gptq", 4, 128, True, ["--outlier-fraction=0.005"]),
    ("GPTQ W4 g128 sym, 1% outliers", "gptq", 4, 128, True, ["--outlier-fraction=0.01"]),
    ("GPTQ W4 g64 sym", "gptq", 4, 64, True, []),
    ("AWQ+GPTQ W3 g128 sym, 0.5% outliers", "gptq", 3, 128, True,
     ["--smooth=awq", "--outlier-fraction=0.005"]),
    # MiniLM toward issue #17's 0.992 (run with --skip smollm2): NF4 codes
    # (4-bit, symmetric, one scale per group: the same bits per weight as
    # int4 sym) and GPTQ's damping at the paper's 0.01; Lowbit's default
    # 0.1 is tuned for SmolLM2 out of domain (docs/quantization.md, #28).
    ("GPTQ W4 g128 asym, damp 0.01", "gptq", 4, 128, False, ["--damp=0.01"]),
    ("GPTQ W4 g128 nf4, damp 0.01", "gptq", 4, 128, True, ["--format=nf4", "--damp=0.01"]),
    ("AWQ+GPTQ W4 g128 nf4, damp 0.01", "gptq", 4, 128, True,
     ["--smooth=awq", "--format=nf4", "--damp=0.01"]),
    # Bit allocation (issue #20): each layer's bits (2-8) and group (64,
    # 128) chosen by lowbit-allocate-bits within the budget.
    *[(f"GPTQ allocated {b} (bits 2-8, g64/g128)", "gptq", 4, 128, True,
       [f"--recipe={{allocate:{b}}}"]) for b in ("bpw:3.25", "bpw:4.25")],
]


def rotated(extra):
    return any(a.startswith("--rotate") for a in extra)


# onnxruntime.quantization MatMulNBits modes, 4-bit, block 128.
ORT_KINDS = ["DEFAULT sym", "DEFAULT asym", "HQQ", "GPTQ sym"]


def allocation_recipe(budget):
    """A recipe file allocating bits within `budget` (bits 2-8, g64/g128;
    sensitivities on one calibration window: 211 runs of SmolLM2 each)."""
    path = WORK / f"allocate-{budget.replace(':', '-')}.yaml"
    text = (f"allocate: {{budget: '{budget}', bits: [2, 3, 4, 5, 6, 8], "
            "groups: [64, 128], sensitivity_samples: 1}\n")
    if not path.exists() or path.read_text() != text:
        WORK.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def expand(extra):
    """--recipe={allocate:<budget>} -> the recipe file for that budget."""
    out = []
    for a in extra:
        m = re.fullmatch(r"--recipe=\{allocate:(.+)\}", a)
        out.append(f"--recipe={allocation_recipe(m.group(1))}" if m else a)
    return out


def slug(name):
    return re.sub(r"[(),]", "", name).replace(" ", "-").replace("/", "-").replace(":", "")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def lowbit_compile(model, out, shapes, method, bits, group, sym, calib, cache,
                   samples, extra=()):
    """quant-compile with a scheme; returns (artifact, report)."""
    extra = expand(extra)
    report = out / "quant-report.json"
    stamp = out / "args.json"
    if rotated(extra):  # statistics of the rotated model
        online = any(a.startswith("--rotate-online") for a in extra)
        cache = cache.with_name(cache.stem + "-rotated" + ("-online" if online else "")
                                + cache.suffix)
    for a in extra:  # statistics with capped tokens
        if a.startswith("--calib-token-cap="):
            cache = cache.with_name(cache.stem + "-tokencap" + a.split("=", 1)[1] + cache.suffix)
    args = [str(model), "-o", str(out), f"--method={method}", f"--bits={bits}",
            f"--group={group}", f"--calib={calib}", f"--calib-cache={cache}",
            f"--calib-samples={samples}", *extra]
    args += [f"--input-shape={n}:{'x'.join(map(str, s))}" for n, s in shapes.items()]
    if not sym:
        args.append("--asym")
    # The binary's time stamp too: a rebuilt quant-compile (new defaults)
    # recompiles.
    tool = tools.tool("quant-compile")
    key = {"args": args, "tool_mtime_ns": os.stat(tool).st_mtime_ns}
    if report.exists() and stamp.exists() and json.loads(stamp.read_text()) == key:
        return out, json.loads(report.read_text())
    log(f"  quant-compile {method} {bits}-bit g{group} {'sym' if sym else 'asym'} ...")
    t = time.time()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("eval-*.json"):  # results of a previous build
        old.unlink()
    with open(out / "compile.log", "w") as f:
        proc = subprocess.run([tool, *args, "--quiet"],
                              stderr=f, stdout=f)
    if proc.returncode != 0:
        raise SystemExit(f"quant-compile failed, see {out / 'compile.log'}")
    stamp.write_text(json.dumps(key))
    log(f"    {time.time() - t:.0f} s")
    return out, json.loads(report.read_text())


def lowbit_import(model, out, shapes):
    """quant-compile of an onnxruntime-quantized model as it is (its
    MatMulNBits nodes become Lowbit's quantized layers, codes unchanged)."""
    args = [str(model), "-o", str(out)]
    args += [f"--input-shape={n}:{'x'.join(map(str, s))}" for n, s in shapes.items()]
    tool = tools.tool("quant-compile")
    key = {"args": args, "tool_mtime_ns": os.stat(tool).st_mtime_ns}
    stamp = out / "args.json"
    if stamp.exists() and json.loads(stamp.read_text()) == key:
        return out
    log("  quant-compile (onnxruntime's MatMulNBits as they are) ...")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("eval-*.json"):
        old.unlink()
    with open(out / "compile.log", "w") as f:
        if subprocess.run([tool, *args, "--quiet"], stderr=f, stdout=f).returncode:
            raise SystemExit(f"quant-compile failed, see {out / 'compile.log'}")
    stamp.write_text(json.dumps(key))
    return out


def cached_eval(directory, key, fn):
    """fn() once per (directory, key); the result is kept as JSON there."""
    path = Path(directory) / f"eval-{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    result = fn()
    Path(directory).mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


def lowbit_size(art):
    return (art / "weights.bin").stat().st_size


# ---------------------------------------------------------------------------
# onnxruntime's quantizers

def ort_nbits_stats(path):
    """Bits per weight of the MatMulNBits layers and the model's size."""
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    inits = {i.name: i for i in m.graph.initializer}

    def nbytes(name):
        t = inits.get(name)
        if t is None:
            return 0
        for e in t.external_data:
            if e.key == "length":
                return int(e.value)
        return len(t.raw_data)
    weights = bits = 0
    for n in m.graph.node:
        if n.op_type != "MatMulNBits":
            continue
        a = {x.name: x for x in n.attribute}
        k, nn = a["K"].i, a["N"].i
        weights += k * nn
        bits += 8 * sum(nbytes(i) for i in n.input[1:4] if i)
    size = path.stat().st_size
    data = Path(str(path) + ".data")
    if data.exists():
        size += data.stat().st_size
    return (bits / weights if weights else 0.0), size


def ort_quantize(model, out, kind, calib_reader=None):
    """onnxruntime.quantization MatMulNBits, 4-bit, block 128."""
    path = out / "model.onnx"
    if path.exists():
        return path
    import onnx
    from onnxruntime.quantization import matmul_nbits_quantizer as mq
    log(f"  onnxruntime quantizer {kind} ...")
    t = time.time()
    if kind == "DEFAULT sym":
        cfg, sym = mq.DefaultWeightOnlyQuantConfig(block_size=128, is_symmetric=True), True
    elif kind == "DEFAULT asym":
        cfg, sym = mq.DefaultWeightOnlyQuantConfig(block_size=128, is_symmetric=False), False
    elif kind == "HQQ":
        cfg, sym = mq.HQQWeightOnlyQuantConfig(block_size=128, bits=4), False
    elif kind == "GPTQ sym":
        cfg, sym = mq.GPTQWeightOnlyQuantConfig(calibration_data_reader=calib_reader,
                                                block_size=128), True
    else:
        raise ValueError(kind)
    q = mq.MatMulNBitsQuantizer(onnx.load(str(model)), block_size=128,
                                is_symmetric=sym, algo_config=cfg)
    q.process()
    out.mkdir(parents=True, exist_ok=True)
    q.model.save_model_to_file(str(path), use_external_data_format=True)
    log(f"    {time.time() - t:.0f} s")
    return path


class Reader:
    """onnxruntime CalibrationDataReader over a dict of sample arrays."""

    def __init__(self, arrays, count):
        self.arrays, self.count, self.i = arrays, count, 0

    def get_next(self):
        if self.i >= self.count:
            return None
        feed = {k: v[self.i:self.i + 1] if v.ndim == 2 else v[self.i]
                for k, v in self.arrays.items()}
        self.i += 1
        return feed

    def __iter__(self):
        while (x := self.get_next()) is not None:
            yield x

    def rewind(self):
        self.i = 0


def ort_models(args, rows, model, prefix, gptq_reader):
    """(kind, quantized model path) for each onnxruntime mode that works
    here; a row saying why for those that do not."""
    for kind in ORT_KINDS:
        if args.only and not re.search(args.only, "onnxruntime " + kind):
            continue
        if kind.startswith("GPTQ") and "ort-gptq" in args.skip:
            continue
        if kind == "HQQ" and not have_torch():
            rows.append({"engine": "onnxruntime HQQ W4 b128",
                         "error": "skipped: onnxruntime's HQQ needs torch (not installed)"})
            continue
        log(f"{prefix}: onnxruntime {kind}")
        reader = gptq_reader if kind.startswith("GPTQ") else None
        try:
            path = ort_quantize(model, WORK / (f"{prefix}-ort-" + kind.replace(" ", "-")),
                                kind, reader)
        except Exception as e:  # a quantizer that does not work here
            rows.append({"engine": f"onnxruntime {kind} W4 b128",
                         "error": f"failed: {str(e)[:200]}"})
            continue
        yield kind, path


def have_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


# ---------------------------------------------------------------------------
# SmolLM2

def smollm2(args, rows):
    import onnxruntime as ort
    from lowbit.models.export_smollm2 import export, text_ids
    model = cache_dir() / "SmolLM2-135M-Instruct" / "model.onnx"
    if not model.exists():
        export(model.parent)
    # In domain (WikiText-2 test) and out of domain (Austen's Emma).
    corpora = {"ppl": text_ids(512 * args.windows, split="test"),
               "ppl_emma": texts.token_ids(texts.austen("Emma"), 512 * args.windows,
                                           SmolLM2().tokenizer())}
    calib = calib_data.write("smollm2", WORK / "calib-smollm2", args.calib_samples, 512)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads

    def both(forward, cache, tag):
        """{"ppl": ..., "ppl_emma": ...} of `forward`, cached per text."""
        out = {}
        for key, ids in corpora.items():
            run = lambda: evaluate.perplexity(forward, ids, args.windows)
            out[key], scored = cached_eval(cache, f"{key}-{args.windows}-{tag}", run)
        return out, scored

    def ort_ppl(path):
        def forward(x, box=[]):
            if not box:
                box.append(ort.InferenceSession(str(path), so,
                                                providers=["CPUExecutionProvider"]))
            return box[0].run(None, {"input_ids": x})[0]
        return both(forward, Path(path).parent if Path(path).parent != model.parent
                    else WORK / "smollm2-fp32", "ort")

    fp_bytes = model.stat().st_size + Path(str(model) + ".data").stat().st_size
    log("SmolLM2: FP32 (onnxruntime)")
    ppl, scored = ort_ppl(model)
    rows.append({"engine": "FP32 reference (onnxruntime)", "bpw": 32.0, **ppl,
                 "size": fp_bytes})
    base = dict(ppl)
    for name, method, bits, group, sym, extra in LOWBIT:
        if args.only and not re.search(args.only, name):
            continue
        log(f"SmolLM2: Lowbit {name}")
        art, rep = lowbit_compile(model, WORK / ("smollm2-" + slug(name)),
                                  {"input_ids": (1, 512)}, method, bits, group, sym,
                                  calib, WORK / "smollm2.lbcal", args.calib_samples, extra)
        with Model(art, threads=args.threads) as m:
            ppl, _ = both(lambda x: m.run(input_ids=x)[0], art, "lowbit")
        rows.append({"engine": f"Lowbit {name}", "bpw": rep["bits_per_weight"],
                     **ppl, "size": lowbit_size(art),
                     "seconds": rep["total_seconds"]})
    arr = np.load(calib / "input_ids.npy")
    reader = Reader({"input_ids": arr}, min(args.ort_gptq_samples, len(arr)))
    for kind, path in ort_models(args, rows, model, "smollm2", reader):
        bpw, size = ort_nbits_stats(path)
        ppl, _ = ort_ppl(path)
        rows.append({"engine": f"onnxruntime {kind} W4 b128", "bpw": bpw, **ppl,
                     "size": size})
        # The same quantized model compiled by Lowbit (issue #24).
        art = lowbit_import(path, WORK / ("smollm2-lowbit-ort-" + kind.replace(" ", "-")),
                            {"input_ids": (1, 512)})
        with Model(art, threads=args.threads) as m:
            ppl, _ = both(lambda x: m.run(input_ids=x)[0], art, "lowbit")
        rows.append({"engine": f"Lowbit compiling onnxruntime's {kind} W4 b128", "bpw": bpw,
                     **ppl, "size": lowbit_size(art)})
    for r in rows:
        if "ppl" in r:
            r["dppl"] = r["ppl"] - base["ppl"]
            r["dppl_emma"] = r["ppl_emma"] - base["ppl_emma"]
    return scored


# ---------------------------------------------------------------------------
# MiniLM

def minilm(args, rows):
    import onnxruntime as ort
    from lowbit.models.export_minilm import export, fixed_batches, sentences
    from lowbit.models.minilm import MiniLM
    model = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"
    if not model.exists():
        export(model.parent)
    mm = MiniLM.load()
    corpora = {"": sentences(args.sentences, split="test"),
               "_emma": texts.sentences(texts.austen("Emma"), args.sentences)}
    batches = {key: fixed_batches(mm, sents, 8, 128) for key, sents in corpora.items()}
    calib_dir = WORK / "calib-minilm"
    raw = calib_data.minilm(256, 128)
    calib_dir.mkdir(parents=True, exist_ok=True)
    for k, v in raw.items():  # 32 samples of 8 x 128, the artifact's shape
        np.save(calib_dir / f"{k}.npy", v.reshape(32, 8, 128))
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads

    def embed(run):
        return {key: np.concatenate([run(i, m) for i, m in batches[key]])[:len(sents)]
                for key, sents in corpora.items()}

    def ort_embed(path):
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        return embed(lambda i, m: sess.run(None, {"input_ids": i, "attention_mask": m})[1])

    log("MiniLM: FP32 (onnxruntime)")
    ref = ort_embed(model)

    def score(name, e, bpw, size):
        row = {"engine": name, "bpw": bpw, "size": size}
        for key in corpora:
            a = evaluate.embedding_agreement(e[key], ref[key])
            row.update({f"cos_mean{key}": a["cosine"], f"cos_min{key}": a["cosine_min"],
                        f"nn{key}": a["same_neighbour"]})
        rows.append(row)

    fp_bytes = model.stat().st_size + Path(str(model) + ".data").stat().st_size
    score("FP32 reference (onnxruntime)", ref, 32.0, fp_bytes)
    shapes = {"input_ids": (8, 128), "attention_mask": (8, 128)}
    for name, method, bits, group, sym, extra in LOWBIT:
        if args.only and not re.search(args.only, name):
            continue
        if rotated(extra):
            continue  # post-LN BERT: lowbit-rotate refuses (see docs)
        log(f"MiniLM: Lowbit {name}")
        art, rep = lowbit_compile(model, WORK / ("minilm-" + slug(name)), shapes,
                                  method, bits, group, sym, calib_dir, WORK / "minilm.lbcal",
                                  32, extra)
        with Model(art, threads=args.threads) as m:
            e = embed(lambda i, k: m.run(input_ids=i, attention_mask=k)[1])
        score(f"Lowbit {name}", e, rep["bits_per_weight"], lowbit_size(art))
    reader = Reader(dict(raw), 64)
    for kind, path in ort_models(args, rows, model, "minilm", reader):
        bpw, size = ort_nbits_stats(path)
        score(f"onnxruntime {kind} W4 b128", ort_embed(path), bpw, size)
        art = lowbit_import(path, WORK / ("minilm-lowbit-ort-" + kind.replace(" ", "-")), shapes)
        with Model(art, threads=args.threads) as m:
            e = embed(lambda i, k: m.run(input_ids=i, attention_mask=k)[1])
        score(f"Lowbit compiling onnxruntime's {kind} W4 b128", e, bpw, lowbit_size(art))


# ---------------------------------------------------------------------------

def plot(rows, path):
    """Perplexity against bits per weight: every point (log scale), and the
    4-bit points enlarged."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    base = next(r["ppl"] for r in rows if r["engine"].startswith("FP32"))
    points = [r for r in rows if "ppl" in r and not r["engine"].startswith("FP32")]
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(13, 5.5))

    def style(r):
        if not r["engine"].startswith("Lowbit"):
            return "s", "tab:green"
        if "AWQ" in r["engine"] or "SmoothQuant" in r["engine"]:
            return "D", "tab:red" if "GPTQ" in r["engine"] else "tab:purple"
        return "o", "tab:blue" if "GPTQ" in r["engine"] else "tab:orange"

    def label(r):
        return r["engine"].replace("onnxruntime", "ORT").replace("Lowbit ", "")

    for a in (ax, zoom):
        a.axhline(base, color="gray", ls="--", label=f"FP32 reference ({base:.2f})")
        a.grid(True, which="both", alpha=0.3)
        a.set_xlabel("bits per weight (codes + scales + zero points)")
    for r in points:
        m, c = style(r)
        ax.scatter(r["bpw"], r["ppl"], marker=m, color=c, s=50, zorder=3)
        if r["bpw"] < 4:
            ax.annotate(label(r), (r["bpw"], r["ppl"]), textcoords="offset points",
                        xytext=(6, 4), fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("perplexity, WikiText-2 test (log scale)")
    ax.set_title("all schemes")
    four = sorted((r for r in points if r["bpw"] >= 4), key=lambda r: r["ppl"])
    for i, r in enumerate(four):
        m, c = style(r)
        zoom.scatter(r["bpw"], r["ppl"], marker=m, color=c, s=60, zorder=3)
        zoom.annotate(f"{label(r)}: {r['ppl']:.2f}", (r["bpw"], r["ppl"]),
                      textcoords="offset points", xytext=(8, (-12, 0, 10)[i % 3]),
                      fontsize=8)
    if four:
        lo = min(r["bpw"] for r in four)
        hi = max(r["bpw"] for r in four)
        zoom.set_xlim(lo - 0.05, hi + 0.6)
        zoom.set_ylim(base - 1, max(r["ppl"] for r in four) * 1.05)
    zoom.set_ylabel("perplexity")
    zoom.set_title("4-bit (blue: GPTQ, orange: RTN, red: AWQ+GPTQ, purple: AWQ+RTN or "
                   "SmoothQuant, green: onnxruntime)", fontsize=9)
    zoom.legend(loc="upper left", fontsize=8)
    fig.suptitle("SmolLM2-135M: WikiText-2 perplexity against bits per weight")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=40,
                    help="512-token windows of test.txt scored (test.txt has ~560)")
    ap.add_argument("--calib-samples", type=int, default=128)
    ap.add_argument("--ort-gptq-samples", type=int, default=8)
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="",
                    help="run only configurations whose name matches this regex (onnxruntime's "
                         "are named 'onnxruntime <kind>')")
    ap.add_argument("--skip", choices=["smollm2", "minilm", "ort-gptq"], action="append",
                    default=[], help="leave out a model, or onnxruntime's GPTQ (slow); repeatable")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "accuracy")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)  # a new --out directory
    WORK.mkdir(parents=True, exist_ok=True)
    lines = [f"Measured on {machine.describe()} ({os.cpu_count()} cores), "
             f"{time.strftime('%Y-%m-%d')}; --threads {args.threads}"
             + (f", configurations matching '{args.only}'" if args.only else "") + ".", ""]
    if "smollm2" not in args.skip:
        rows = []
        scored = smollm2(args, rows)
        lines += [f"### SmolLM2-135M: perplexity on WikiText-2 test (in domain) and Austen's "
                  f"Emma (out of domain), {args.windows} windows x 512 tokens each, stride "
                  f"512 ({scored} tokens scored per text); calibration "
                  f"{args.calib_samples} x 512 tokens of WikiText-2 valid.txt",
                  "",
                  "Caveat (MODELS.md): the FP32 reference is the Q4_1 GGUF dequantized; "
                  "its weights sit on a 4-bit grid of 32-weight asymmetric groups.",
                  "",
                  "| method | bits/weight | size | WikiText-2 | vs FP32 | Emma | vs FP32 | "
                  "quant-compile time |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['engine']} | - | - | {r['error']} | - | - | - | - |")
                continue
            t = f"{r['seconds']:.0f} s" if "seconds" in r else "-"
            lines.append(f"| {r['engine']} | {r['bpw']:.3f} | {r['size'] / 1e6:.0f} MB | "
                         f"{r['ppl']:.3f} | {r['dppl']:+.3f} | {r['ppl_emma']:.3f} | "
                         f"{r['dppl_emma']:+.3f} | {t} |")
        plot(rows, args.out / "smollm2-ppl-vs-bpw.png")
        (args.out / "smollm2.json").write_text(json.dumps(rows, indent=1))
    if "minilm" not in args.skip:
        rows = []
        minilm(args, rows)
        lines += ["", f"### all-MiniLM-L6-v2: {args.sentences} sentences each of WikiText-2 "
                  "test.txt (in domain) and Austen's Emma (out of domain); calibration 256 "
                  "sentences of valid.txt", "",
                  "| method | bits/weight | size | WikiText-2 cosine mean | min | "
                  "nearest neighbour same | Emma cosine mean | min | nearest neighbour same |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['engine']} | - | - | {r['error']} | - | - | - | - | - |")
                continue
            lines.append(f"| {r['engine']} | {r['bpw']:.3f} | {r['size'] / 1e6:.1f} MB | "
                         f"{r['cos_mean']:.5f} | {r['cos_min']:.5f} | {r['nn'] * 100:.1f}% | "
                         f"{r['cos_mean_emma']:.5f} | {r['cos_min_emma']:.5f} | "
                         f"{r['nn_emma'] * 100:.1f}% |")
        (args.out / "minilm.json").write_text(json.dumps(rows, indent=1))
    text = "\n".join(lines) + "\n"
    print(text)
    (args.out / "results.md").write_text(text)


if __name__ == "__main__":
    main()
