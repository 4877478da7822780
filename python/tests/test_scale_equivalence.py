"""The scale-equivalence analysis (lowbit-report-scale-equivalence) on the
real models' core IR: which groups of linear layers share a per-channel
scale and what absorbs it, found structurally (the names in the IR are the
exporters' weight names, used here only to check the answer).

SmolLM2 (LLaMA-style, pre-norm, SwiGLU, grouped-query attention): in every
block q/k/v share the attention norm's weight, gate/up the FFN norm's, and
down is absorbed by up's output columns through act(gate) * up; o_proj is not
paired (grouped-query attention broadcasts each v channel to several o
channels). MiniLM (BERT, post-LN): o (attention.output.dense) is absorbed by
v's columns and bias through attention; the LayerNorm outputs are also the
residual stream and GELU sits between the FFN layers, so the other groups
are not absorbable, each for its stated reason.
"""
import re
import subprocess
from collections import Counter

import pytest

from lowbit import tools
from lowbit.models import cache_dir


def model_path(name, exporter):
    path = cache_dir() / name / "model.onnx"
    if not path.exists():
        exporter.export(path.parent)
    return path


def report(tmp_path, model, shapes):
    core = tmp_path / "core.mlir"
    tools.run([tools.tool("quant-compile"), model, *[f"--input-shape={s}" for s in shapes],
               "--emit=core", "-o", core, "--quiet", "--mlir-elide-resource-strings-if-larger=1"])
    proc = subprocess.run([str(tools.tool("quant-opt")), str(core),
                           "--lowbit-report-scale-equivalence", "-o", "/dev/null"],
                          capture_output=True, text=True, check=True)
    groups = re.findall(r"remark: scale group \{(.*?)\}, (\d+) channels: (.*)", proc.stderr)
    # Layer indices out of the names, so that one pattern covers every block.
    return [(re.sub(r"\d+", "N", layers), int(c), re.sub(r"\d+", "N", what))
            for layers, c, what in groups]


def test_smollm2_groups(tmp_path):
    from lowbit.models import export_smollm2
    groups = report(tmp_path, model_path("SmolLM2-135M-Instruct", export_smollm2),
                    ["input_ids:1x16"])
    count = Counter(groups)
    assert len(groups) == 4 * 30
    assert count[("'blk.N.attn_q.weight.T', 'blk.N.attn_k.weight.T', 'blk.N.attn_v.weight.T'",
                  576, "absorbed by norm weight 'blk.N.attn_norm.weight'")] == 30
    assert count[("'blk.N.ffn_gate.weight.T', 'blk.N.ffn_up.weight.T'", 576,
                  "absorbed by norm weight 'blk.N.ffn_norm.weight'")] == 30
    assert count[("'blk.N.ffn_down.weight.T'", 1536,
                  "absorbed by the output columns of layer 'blk.N.ffn_up.weight.T' "
                  "through an elementwise product")] == 30
    o = [g for g in groups if g[0] == "'blk.N.attn_output.weight.T'"]
    assert len(o) == 30 and all("not absorbable: its channels come through attention's reshapes "
                                "and transposes to a 'linalg.generic': a broadcast" in g[2]
                                for g in o), o[0]


def test_minilm_groups(tmp_path):
    from lowbit.models import export_minilm
    groups = report(tmp_path, model_path("all-MiniLM-L6-v2", export_minilm),
                    ["input_ids:1x16", "attention_mask:1x16"])
    assert len(groups) == 4 * 6
    absorbed = [g for g in groups if "absorbed" in g[2]]
    assert len(absorbed) == 6, absorbed
    for layers, channels, what in absorbed:
        assert layers.endswith("attention.output.dense.weight.T'") and channels == 384, layers
        assert what.startswith("absorbed by the output columns of layer "
                               "'encoder.layer.N.attention.self.value.weight.T' and bias "
                               "'encoder.layer.N.attention.self.value.bias' through attention"), what
    # The first layer of each refused group (without 'encoder.layer.N.') and why.
    why = {
        "attention.self.query.weight.T": "its input is also read by a 'linalg.generic'",  # residual
        "intermediate.dense.weight.T": "its input is also read by a 'linalg.generic'",
        "output.dense.weight.T": "its input comes from an elementwise op",                # GELU
    }
    refused = [g for g in groups if "absorbed" not in g[2]]
    firsts = Counter(g[0].split("'")[1].split(".", 3)[3] for g in refused)
    assert firsts == {name: 6 for name in why}, firsts
    for layers, _, what in refused:
        reason = why[layers.split("'")[1].split(".", 3)[3]]
        assert what.startswith("not absorbable: " + reason), (layers, what)
