"""Smoothing (lowbit-smooth, AWQ's search at W4 g128) without quantization
leaves the real models' outputs unchanged: quant-compile --method=none
--smooth=awq folds the chosen scales into norms and weights and compiles
the float model, which must compute what the unsmoothed float model does.

- SmolLM2: every q/k/v, gate/up and down group is smoothed (90 groups; the
  30 o_proj groups cannot be: attention's reshapes), and the perplexity on
  WikiText-2 test text moves by less than 1e-4 (relative);
- MiniLM: the groups the analysis can pair (v -> o through attention) are
  smoothed, the others refused with a reason, and the sentence embeddings
  keep a cosine of at least 0.99999 with the unsmoothed model's;
- AWQ before GPTQ with `smooth: {check: gptq}`: a group keeps its scale
  only where GPTQ's error with it is below GPTQ's error without (MiniLM's
  attention outputs: not there).
"""
import re
import subprocess

import numpy as np
import pytest

from lowbit import calib_data, evaluate, tools
from lowbit.models import cache_dir
from lowbit.runtime import Model


def model_path(name, exporter):
    path = cache_dir() / name / "model.onnx"
    if not path.exists():
        exporter.export(path.parent)
    return path


def compile_pair(model, d, shapes, calib):
    """The float artifact and the smoothed float one; the smoothing log."""
    args = [tools.tool("quant-compile"), model, *[f"--input-shape={s}" for s in shapes]]
    tools.run([*args, "-o", d / "float", "--quiet"])
    proc = subprocess.run([str(a) for a in args] + ["-o", str(d / "smoothed"), "--method=none",
                                                    "--smooth=awq", f"--calib={calib}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return d / "float", d / "smoothed", proc.stderr


def smoothed_groups(log):
    """(groups smoothed, groups refused) from the progress bar and remarks."""
    done = re.findall(r"awq smoothing \[=+\] (\d+)/(\d+) groups", log)
    refused = len(re.findall(r"lowbit-smooth: scale group .* not smoothed", log))
    return (int(done[-1][0]) if done else 0), refused


def minilm_calib(d):
    """16 sentences of valid.txt as 4 samples of 4 x 64 tokens."""
    d.mkdir()
    for k, v in calib_data.minilm(16, 64).items():
        np.save(d / f"{k}.npy", v.reshape(4, 4, 64))
    return d


def test_smollm2_smoothing_is_exact(tmp_path):
    from lowbit.models import export_smollm2
    from lowbit.models.export_smollm2 import text_ids
    model = model_path("SmolLM2-135M-Instruct", export_smollm2)
    calib = calib_data.write("smollm2", tmp_path / "calib", 4, 128)
    fp, sm, log = compile_pair(model, tmp_path, ["input_ids:1x128"], calib)
    assert smoothed_groups(log) == (90, 30), log[-4000:]
    ids = text_ids(128 * 4, split="test")
    ppl = {}
    logits = {}
    for name, art in (("float", fp), ("smoothed", sm)):
        with Model(art, threads=2) as m:
            run = lambda x: m.run(input_ids=x)[0]
            ppl[name], _ = evaluate.perplexity(run, ids, 4, length=128)
            logits[name] = run(np.asarray(ids[:128], np.int64).reshape(1, 128))
    assert abs(ppl["smoothed"] - ppl["float"]) / ppl["float"] < 1e-4, ppl
    scale = np.abs(logits["float"]).max()
    assert np.abs(logits["smoothed"] - logits["float"]).max() < 1e-3 * scale


def test_minilm_smoothing_is_exact(tmp_path):
    from lowbit.models import export_minilm
    from lowbit.models.export_minilm import fixed_batches, sentences
    from lowbit.models.minilm import MiniLM
    model = model_path("all-MiniLM-L6-v2", export_minilm)
    calib = minilm_calib(tmp_path / "calib")
    shapes = ["input_ids:4x64", "attention_mask:4x64"]
    fp, sm, log = compile_pair(model, tmp_path, shapes, calib)
    done, refused = smoothed_groups(log)
    assert (done, refused) == (6, 18), log[-4000:]
    batches = fixed_batches(MiniLM.load(), sentences(32, split="test"), 4, 64)
    out = {}
    for name, art in (("float", fp), ("smoothed", sm)):
        with Model(art, threads=2) as m:
            out[name] = np.concatenate([m.run(input_ids=i, attention_mask=k)[1]
                                        for i, k in batches])
    agreement = evaluate.embedding_agreement(out["smoothed"], out["float"])
    assert agreement["cosine_min"] >= 0.99999, agreement


def test_minilm_awq_checked_by_gptq(tmp_path):
    """With GPTQ to quantize, each searched scale is measured with GPTQ too;
    the report says what GPTQ's error was without and with it, and the
    group keeps the scale exactly when it is lower with it."""
    import json
    from lowbit.models import export_minilm
    model = model_path("all-MiniLM-L6-v2", export_minilm)
    calib = minilm_calib(tmp_path / "calib")
    out = tmp_path / "awq-gptq.mlir"
    report_path = tmp_path / "quant-report.json"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("method: gptq\nbits: 4\ngroup: 128\nformat: nf4\ndamp: 0.01\n"
                      "calibration: {passes: 1}\nsmooth: {method: awq, check: gptq}\n")
    tools.run([tools.tool("quant-compile"), model, "-o", out, "--quiet",
               "--input-shape=input_ids:4x64", "--input-shape=attention_mask:4x64",
               f"--calib={calib}", f"--recipe={recipe}", "--emit=lowbit",
               f"--report={report_path}"])
    report = json.loads(report_path.read_text())
    checked = [layer for layer in report["layers"] if "gptq_error_before" in layer.get("smooth", {})]
    assert len(checked) == 6, [layer.get("smooth") for layer in report["layers"]]
    for layer in checked:
        s = layer["smooth"]
        assert s["gptq_error_before"] > 0 and s["gptq_error_after"] > 0, layer
        if s["gptq_error_after"] < s["gptq_error_before"]:
            assert s["method"] == "awq" and s["alpha"] > 0, layer
        else:
            assert s["method"] == "none" and s["alpha"] == 0, layer
            assert s["error_after"] == s["error_before"], layer
    assert any(layer["smooth"]["method"] == "none" for layer in checked)
