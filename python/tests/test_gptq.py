"""GPTQ on real SmolLM2 layers with their real Hessians (4 calibration
windows of WikiText-2 valid):

- Lowbit's GPTQ (lib/Quantization/Gptq.cpp, float32, lazy batches) gives the
  weight and output errors of an independent float64 GPTQ written from the
  paper (lowbit.testing.gptq_reference) on the same weight and Hessian, with
  act-order and without, with the default scale rule (extreme) and absmax;
- the Hessian each layer was quantized with (its calibration site in the
  report, the statistics in the .lbcal file) is X^T X / rows of that layer's
  own input, recomputed from onnxruntime's intermediate tensors on the same
  calibration windows: q_proj and o_proj of a block are both 576 x 576, so a
  Hessian routed to the wrong one of them would show.
"""
import json
import os
import re

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from lowbit import calib_data, tools
from lowbit.testing import gptq_reference as ref
from ort_reference import reference_session

LAYERS = ["blk.0.attn_q.weight.T", "blk.0.attn_output.weight.T", "blk.9.ffn_down.weight.T",
          "blk.21.ffn_up.weight.T"]
WINDOWS = 4
DAMP = 0.1
# (scale rule, act-order) runs of quant-compile.
RUNS = [("extreme", True), ("extreme", False), ("absmax", True)]


@pytest.fixture(scope="module")
def model():
    from lowbit.models import cache_dir
    from lowbit.models.export_smollm2 import export
    path = cache_dir() / "SmolLM2-135M-Instruct" / "model.onnx"
    if not path.exists():
        export(path.parent)
    return path


@pytest.fixture(scope="module")
def quantized(model, tmp_path_factory):
    """Calibration once (statistics cached), then GPTQ W4 g128 on LAYERS as
    RUNS say; the reports. One calibration pass: the layers are quantized
    with the Hessians of the float model, the ones in the .lbcal file."""
    d = tmp_path_factory.mktemp("gptq")
    calib = calib_data.write("smollm2", d / "calib", WINDOWS, 512)
    include = "^(" + "|".join(re.escape(l) for l in LAYERS) + ")$"
    reports = {}
    for rule, act_order in RUNS:
        report = d / f"report-{rule}-{act_order}.json"
        tools.run([tools.tool("quant-compile"), model, "--input-shape=input_ids:1x512",
                   "--method=gptq", "--bits=4", "--group=128", f"--include={include}",
                   f"--damp={DAMP}", f"--scale-rule={rule}", "--calib-passes=1",
                   f"--calib={calib}", f"--calib-cache={d / 'stats.lbcal'}", "--quiet",
                   "--emit=lowbit", "-o", os.devnull, f"--report={report}",
                   "--mlir-elide-resource-strings-if-larger=1"]
                  + ([] if act_order else ["--no-act-order"]))
        reports[(rule, act_order)] = {l["name"]: l for l in json.loads(report.read_text())["layers"]}
    return d, calib, reports


def weights(model):
    m = onnx.load(str(model))
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer if i.name in LAYERS}


@pytest.mark.parametrize("rule,act_order", RUNS)
def test_gptq_matches_a_float64_reference(model, quantized, rule, act_order):
    d, _, reports = quantized
    stats = ref.read_statistics(d / "stats.lbcal")
    assert stats["samples"] == WINDOWS
    w = weights(model)
    report = reports[(rule, act_order)]
    assert sorted(report) == sorted(LAYERS)
    for name in LAYERS:
        layer = report[name]
        h = stats["sites"][layer["calibration_site"]]["hessian"]
        _, _, deq = ref.gptq(w[name], h, bits=4, group=128, act_order=act_order, damp=DAMP,
                             rule=rule)
        weight_err, output_err = ref.layer_errors(w[name], deq, h)
        # float32 with lazy batches against float64 column by column: the
        # same codes but for a few ties, so the errors agree closely.
        assert abs(layer["weight_error"] - weight_err) <= 0.01 * weight_err, (name, layer, weight_err)
        assert abs(layer["output_error"] - output_err) <= 0.01 * output_err, (name, layer, output_err)
        # And GPTQ does what it is for: lower output error than RTN's.
        rtn = ref.rtn(w[name], 4, 128)
        assert output_err < ref.layer_errors(w[name], rtn, h)[1], name


def test_hessians_are_the_layers_own_inputs(model, quantized):
    d, calib, reports = quantized
    stats = ref.read_statistics(d / "stats.lbcal")
    m = onnx.load(str(model), load_external_data=False)
    inputs = {n.input[1]: n.input[0] for n in m.graph.node
              if n.op_type == "MatMul" and n.input[1] in LAYERS}
    assert sorted(inputs) == sorted(LAYERS)
    # The intermediate tensors as extra outputs; the probe model sits beside
    # the cached external data (onnxruntime reads data from its own folder
    # only) for as long as the session loads.
    for x in sorted(set(inputs.values())):
        m.graph.output.append(onnx.helper.make_empty_tensor_value_info(x))
    probe = model.parent / f"probe-{os.getpid()}.onnx"
    onnx.save(m, str(probe))
    try:
        sess = reference_session(probe)
    finally:
        probe.unlink()
    names = [o.name for o in sess.get_outputs()]
    ids = np.load(calib / "input_ids.npy")
    acc = {x: 0.0 for x in set(inputs.values())}
    rows = 0
    for w in range(WINDOWS):
        outs = dict(zip(names, sess.run(None, {"input_ids": ids[w][None]})))
        for x in acc:
            a = outs[x].reshape(-1, outs[x].shape[-1]).astype(np.float64)
            acc[x] = acc[x] + a.T @ a
        rows += ids.shape[-1]
    sites = set()
    for name in LAYERS:
        site = reports[RUNS[0]][name]["calibration_site"]
        sites.add(site)
        h = stats["sites"][site]["hessian"]
        want = acc[inputs[name]] / rows
        assert stats["sites"][site]["rows"] == rows
        assert np.linalg.norm(h - want) <= 1e-4 * np.linalg.norm(want), name
    # Four layers with four different inputs: four sites.
    assert len(sites) == len(LAYERS)
