"""What all-MiniLM-L6-v2 lacks at W4 g128: the experiments behind issue #17's
MiniLM goal (cosine >= 0.992 with the FP32 embeddings).

Each configuration is a `quant-compile` of the model (Lowbit's quantizers,
the bench's calibration statistics) and a run over the first `--sentences`
sentences of WikiText-2 test.txt, 8 x 128 tokens per run; printed: the mean
and minimum cosine of the sentence embeddings with onnxruntime's FP32.

    .venv/bin/python bench/accuracy/minilm_study.py [--sentences 300]
        [--experiments ablation,smoothable,grid]

- ablation: GPTQ (asym) on one layer kind at a time, the rest in float:
  where the loss comes from;
- smoothable: AWQ on a copy of the model in which every scale group can
  pair: an extra `Mul` by ones after each LayerNorm on the linears' path
  (post-LN: the LayerNorm output is also the residual, so the norm cannot
  absorb a scale), and GELU's final `* 0.5` turned into a per-channel
  vector (the output layer's absorber). The float function is unchanged;
  the question is what AWQ would give if the residual add or the
  activation absorbed the scale;
- grid: GPTQ's damping and the code grid (int4 asym, NF4).

Run bench/accuracy/run.py once before (its calibration statistics and
cached model are reused).
"""
import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from lowbit import evaluate, tools  # noqa: E402
from lowbit.models import cache_dir  # noqa: E402
from lowbit.runtime import Model  # noqa: E402

WORK = cache_dir().parent / "bench" / "accuracy"
OUT = WORK / "minilm-study"
MODEL = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"


def smoothable_copy(out: Path) -> Path:
    """The model with every scale group pairable (see the module doc)."""
    import onnx
    from onnx import helper, numpy_helper
    path = out / "model.onnx"
    if path.exists():
        return path
    m = onnx.load(str(MODEL))
    g = m.graph
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    inits = {t.name: t for t in g.initializer}
    nodes = []
    for n in g.node:
        nodes.append(n)
        if n.op_type == "LayerNormalization":
            y = n.output[0]
            users = readers.get(y, [])
            mms = [u for u in users if u.op_type == "MatMul"]
            if mms and len(mms) < len(users):
                width = numpy_helper.to_array(inits[n.input[1]]).shape[0]
                ones = f"{n.name}_linear_scale"
                g.initializer.append(numpy_helper.from_array(np.ones(width, np.float32), ones))
                scaled = y + "_linear"
                nodes.append(helper.make_node("Mul", [y, ones], [scaled], name=ones))
                for u in mms:
                    for j, i in enumerate(u.input):
                        if i == y:
                            u.input[j] = scaled
        if n.op_type == "Mul" and n.name.endswith("_gelu"):
            half = float(numpy_helper.to_array(inits[n.input[1]]))
            width = next(numpy_helper.to_array(inits[u.input[1]]).shape[0]
                         for u in readers[n.output[0]] if u.op_type == "MatMul")
            vec = n.input[1] + "_per_channel"
            g.initializer.append(numpy_helper.from_array(np.full(width, half, np.float32), vec))
            n.input[1] = vec
    del g.node[:]
    g.node.extend(nodes)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(path), save_as_external_data=True, location="model.onnx.data")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=300)
    ap.add_argument("--experiments", default="ablation,smoothable,grid")
    args = ap.parse_args()
    import onnxruntime as ort
    from lowbit.models.export_minilm import fixed_batches, sentences
    from lowbit.models.minilm import MiniLM

    calib = WORK / "calib-minilm"
    if not calib.exists() or not MODEL.exists():
        raise SystemExit("run bench/accuracy/run.py first (calibration data, model)")
    sents = sentences(args.sentences, split="test")
    batches = fixed_batches(MiniLM.load(), sents, 8, 128)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(MODEL), so, providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"input_ids": i, "attention_mask": m})[1]
                          for i, m in batches])[:len(sents)]

    def run(tag, flags, model=MODEL, cache=WORK / "minilm.lbcal"):
        out = OUT / tag
        cmd = [tools.tool("quant-compile"), str(model), "-o", str(out), f"--calib={calib}",
               f"--calib-cache={cache}", "--calib-samples=32", "--quiet",
               "--input-shape=input_ids:8x128", "--input-shape=attention_mask:8x128", *flags]
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "compile.log", "w") as log:
            subprocess.run(cmd, check=True, stdout=log, stderr=log)
        with Model(out, threads=2) as m:
            e = np.concatenate([m.run(input_ids=i, attention_mask=k)[1]
                                for i, k in batches])[:len(sents)]
        a = evaluate.embedding_agreement(e, ref)
        print(f"| {tag} | {' '.join(flags)} | {a['cosine']:.5f} | {a['cosine_min']:.5f} |",
              flush=True)

    print(f"all-MiniLM-L6-v2, first {len(sents)} sentences of WikiText-2 test\n")
    print("| config | flags | cosine mean | min |\n| --- | --- | ---: | ---: |")
    w4 = ["--bits=4", "--group=128"]
    gptq = ["--method=gptq", *w4, "--asym"]
    todo = args.experiments.split(",")
    if "ablation" in todo:
        run("gptq-all", gptq)
        for tag, regex in [("query+key", "query|key"), ("value", "value"),
                           ("attention output", "attention.output"),
                           ("intermediate", "intermediate"), ("output", "[0-9].output.dense")]:
            run(f"gptq-only-{tag.replace(' ', '-')}", [*gptq, f"--include={regex}"])
    if "smoothable" in todo:
        model = smoothable_copy(OUT / "smoothable-model")
        cache = OUT / "smoothable.lbcal"
        for tag, flags in [("rtn", ["--method=rtn", *w4]), ("awq-rtn", ["--method=rtn", *w4, "--smooth=awq"]),
                           ("awq-gptq", [*gptq, "--smooth=awq"])]:
            run(f"smoothable-{tag}", flags, model, cache)
    if "grid" in todo:
        for damp in ("0.1", "0.01", "0.001"):
            run(f"gptq-asym-damp-{damp}", [*gptq, f"--damp={damp}"])
            run(f"gptq-nf4-damp-{damp}", ["--method=gptq", *w4, "--format=nf4", f"--damp={damp}"])
        run("awq-gptq-nf4-damp-0.01", ["--method=gptq", *w4, "--format=nf4", "--damp=0.01", "--smooth=awq"])


if __name__ == "__main__":
    main()
