"""Rotation (lowbit-fold-norms, lowbit-rotate) without quantization leaves
the real model's outputs unchanged: quant-compile --method=none
--rotate=hadamard folds SmolLM2's RMSNorm weights into the layers that read
them, gives the tied output head a weight of its own and rotates the
residual stream by a randomized Hadamard matrix of order 576 (36 x 16),
and the 30 down projections' inputs online (lowbit.hadamard, 1536 =
12 x 128);
the float model must compute what the unrotated one does (perplexity
within 1e-3, logits within 1e-3). MiniLM (post-LN BERT: LayerNorm's mean
subtraction and the residual read after it) is refused with the op where
the stream stops, and nothing is compiled.
"""
import json
import subprocess

import numpy as np

from lowbit import evaluate, tools
from lowbit.models import cache_dir
from lowbit.runtime import Model


def model_path(name, exporter):
    path = cache_dir() / name / "model.onnx"
    if not path.exists():
        exporter.export(path.parent)
    return path


def test_smollm2_rotation_is_exact(tmp_path):
    from lowbit.models import export_smollm2
    from lowbit.models.export_smollm2 import text_ids
    model = model_path("SmolLM2-135M-Instruct", export_smollm2)
    args = [str(tools.tool("quant-compile")), str(model), "--input-shape=input_ids:1x128"]
    tools.run([*args, "-o", tmp_path / "float", "--quiet"])
    proc = subprocess.run(args + ["-o", str(tmp_path / "rotated"), "--method=none",
                                  "--rotate=hadamard", "--rotate-seed=7",
                                  "--rotate-online=down"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert ("rotation: hadamard paley2(36) x sylvester(16), random signs (576 channels; "
            "151 layers read the residual stream, 60 write it; 30 inputs rotated online)") in proc.stderr, proc.stderr
    report = json.loads((tmp_path / "rotated" / "quant-report.json").read_text())
    assert report["rotation"]["seed"] == 7 and report["rotation"]["dim"] == 576
    ids = text_ids(128 * 4, split="test")
    ppl, logits = {}, {}
    for name in ("float", "rotated"):
        with Model(tmp_path / name, threads=2) as m:
            run = lambda x: m.run(input_ids=x)[0]
            ppl[name], _ = evaluate.perplexity(run, ids, 4, length=128)
            logits[name] = run(np.asarray(ids[:128], np.int64).reshape(1, 128))
    assert abs(ppl["rotated"] - ppl["float"]) < 1e-3, ppl
    assert np.abs(logits["rotated"] - logits["float"]).max() < 1e-3


def test_minilm_rotation_is_refused(tmp_path):
    from lowbit.models import export_minilm
    model = model_path("all-MiniLM-L6-v2", export_minilm)
    proc = subprocess.run([str(tools.tool("quant-compile")), str(model), "-o",
                           str(tmp_path / "out"), "--input-shape=input_ids:4x64",
                           "--input-shape=attention_mask:4x64", "--method=rtn",
                           "--rotate=hadamard"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "lowbit-rotate: the residual stream cannot be rotated here" in proc.stderr, \
        proc.stderr[-4000:]
    assert "the stream starts here" in proc.stderr
    assert not (tmp_path / "out" / "model.so").exists()
