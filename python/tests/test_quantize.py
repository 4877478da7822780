"""Quantization of a real model end to end: calibration data from
WikiText-2 valid, quant-compile with GPTQ and RTN (all-MiniLM-L6-v2, a short
sequence to keep it quick), the optimized artifact against the reference
lowering (--O0) of the same quantized IR, and against the float model on
test sentences."""
import json

import numpy as np
import pytest

from lowbit import calib_data
from lowbit.compiler import compile_onnx
from lowbit.runtime import Model
from lowbit.tools import ToolError
from ort_reference import optimized_session

SEQ = 16
MIN_COS = {"nf4": 0.94, "fp4": 0.94}  # measured 0.966 and 0.965 (RTN g128, 16 sentences)


@pytest.fixture(scope="module")
def minilm():
    from lowbit.models import cache_dir
    from lowbit.models.export_minilm import export
    path = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"
    if not path.exists():
        export(path.parent)
    return path


def sentences_of_test(count):
    from lowbit.models.export_minilm import sentences
    from lowbit.models.minilm import MiniLM
    mm = MiniLM.load()
    out = []
    for t in sentences(count, split="test"):
        e = mm.tokenizer.encode(t).ids[:SEQ]
        ids = np.zeros((1, SEQ), np.int64)
        mask = np.zeros((1, SEQ), np.int64)
        ids[0, :len(e)] = e
        mask[0, :len(e)] = 1
        out.append((ids, mask))
    return out


def cosines_to_float(minilm, arts, count):
    """Per artifact (name -> directory), the cosine of its sentence
    embeddings to the float model's (onnxruntime) on `count` test
    sentences."""
    sess = optimized_session(minilm)  # a real model: what users run
    cos = {name: [] for name in arts}
    models = {name: Model(art) for name, art in arts.items()}
    try:
        for ids, mask in sentences_of_test(count):
            _, ref = sess.run(None, {"input_ids": ids, "attention_mask": mask})
            for name, m in models.items():
                _, e = m.run(input_ids=ids, attention_mask=mask)
                cos[name].append(float((e * ref).sum() / np.linalg.norm(e) / np.linalg.norm(ref)))
    finally:
        for m in models.values():
            m.close()
    return cos


@pytest.fixture(scope="module")
def quantized(minilm, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quant")
    calib = tmp / "calib"
    calib.mkdir()
    for name, a in calib_data.minilm(24, SEQ).items():
        np.save(calib / f"{name}.npy", a)
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    flags = ["--method=gptq", "--bits=4", "--group=128", f"--calib={calib}",
             f"--calib-cache={tmp / 'stats.lbcal'}", "--quiet"]
    fast = compile_onnx(minilm, tmp / "gptq", shapes, extra_args=flags + ["--keep-intermediates"])
    ref = compile_onnx(minilm, tmp / "gptq-O0", shapes, optimize=False, extra_args=flags)
    rtn = compile_onnx(minilm, tmp / "rtn", shapes,
                       extra_args=["--method=rtn", "--bits=4", "--group=128",
                                   f"--calib-cache={tmp / 'stats.lbcal'}", "--quiet"])
    return fast, ref, rtn


def test_low_bit_kernels_run_the_layers(quantized):
    """16 activation rows: every quantized layer runs on a packed low-bit
    kernel (they alone prefetch), none on a dequantized float copy."""
    fast, _, _ = quantized
    ll = (fast / "model.ll").read_text()
    kernels = [f for f in ll.split("\ndefine ")[1:]
               if "call void @llvm.prefetch" in f.split("\n}\n")[0]]
    assert len(kernels) == 36


def test_int8_activations_close_to_f32(quantized, minilm, tmp_path):
    """--activations=int8 (AMX tiles for these 16-row matmuls where the host
    has them, else VNNI, else AVX2's pmaddubsw): the embeddings stay close to
    the exact-activation artifact's."""
    fast, _, _ = quantized
    cpu = open("/proc/cpuinfo").read()
    if "avx2" not in cpu:
        pytest.skip("the host has neither AVX2 nor VNNI: no int8-activation kernels to test")
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    int8 = compile_onnx(minilm, tmp_path / "int8", shapes,
                        extra_args=["--method=rtn", "--bits=4", "--group=128",
                                    "--activations=int8", "--quiet", "--keep-intermediates"])
    amx = "amx_int8" in cpu and "amx_tile" in cpu
    dot = "tdpbusd" if amx else "vpdpbusd" if "avx512_vnni" in cpu else "pmadd.ub.sw"
    assert dot in (int8 / "model.ll").read_text()
    rtn = compile_onnx(minilm, tmp_path / "rtn", shapes,
                       extra_args=["--method=rtn", "--bits=4", "--group=128", "--quiet"])
    with Model(int8) as a, Model(rtn) as b:
        for ids, mask in sentences_of_test(8):
            _, ea = a.run(input_ids=ids, attention_mask=mask)
            _, eb = b.run(input_ids=ids, attention_mask=mask)
            cos = float((ea * eb).sum() / np.linalg.norm(ea) / np.linalg.norm(eb))
            assert cos > 0.99, cos


def test_activation_outlier_channels(quantized, minilm, tmp_path):
    """--activation-outlier-threshold (LLM.int8()): with int8 activations,
    input channels whose calibrated abs-max exceeds 6 stay f32 in a side
    matmul; the embeddings come 3x closer to the f32-activation artifact's
    (measured 1 - cos 1.5e-4 against 8.7e-4 without). Refused without int8
    activations or calibration statistics."""
    if "avx2" not in open("/proc/cpuinfo").read():
        pytest.skip("the host has neither AVX2 nor VNNI: no int8-activation kernels to test")
    _, _, rtn = quantized  # RTN W4 g128, f32 activations, the same statistics
    stats = rtn.parent / "stats.lbcal"
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    flags = ["--method=rtn", "--bits=4", "--group=128", f"--calib-cache={stats}",
             "--quiet", "--activations=int8"]
    plain = compile_onnx(minilm, tmp_path / "int8", shapes, extra_args=flags)
    split = compile_onnx(minilm, tmp_path / "split", shapes,
                         extra_args=flags + ["--activation-outlier-threshold=6"])
    rep = json.loads((split / "quant-report.json").read_text())
    counts = [l["activation_outlier_channels"] for l in rep["layers"]]
    assert len(counts) == 36 and 0 < sum(counts) < 36 * 384 // 10, counts
    assert "activation_outlier_channels" not in \
        json.loads((plain / "quant-report.json").read_text())["layers"][0]
    gaps = {}
    with Model(rtn) as r, Model(plain) as a, Model(split) as b:
        for name, m in (("plain", a), ("split", b)):
            cos = []
            for ids, mask in sentences_of_test(16):
                er = r.run(input_ids=ids, attention_mask=mask)[1]
                e = m.run(input_ids=ids, attention_mask=mask)[1]
                cos.append(float((e * er).sum() / np.linalg.norm(e) / np.linalg.norm(er)))
            gaps[name] = 1 - np.mean(cos)
    assert gaps["split"] < gaps["plain"] / 3, gaps
    with pytest.raises(ToolError, match="needs int8 activations"):
        compile_onnx(minilm, tmp_path / "f32", shapes,
                     extra_args=flags[:-1] + ["--activation-outlier-threshold=6"])
    with pytest.raises(ToolError, match="activation outlier channels"):
        compile_onnx(minilm, tmp_path / "nocalib", shapes,
                     extra_args=["--method=rtn", "--bits=4", "--quiet", "--activations=int8",
                                 "--activation-outlier-threshold=6"])


def test_report(quantized):
    fast, _, rtn = quantized
    rep = json.loads((fast / "quant-report.json").read_text())
    assert rep["quantized_layers"] == 36  # 6 x (q, k, v, o, up, down)
    assert rep["float_layers"] == 0
    assert abs(rep["bits_per_weight"] - 4.25) < 1e-9  # 384 and 1536 are multiples of 128
    assert all(l["method"] == "gptq" and np.isfinite(l["output_error"]) for l in rep["layers"])
    assert rep["constant_bytes_after"] < 0.6 * rep["constant_bytes_before"]
    # GPTQ's layer output errors are below RTN's on the calibration data.
    rtn_rep = json.loads((rtn / "quant-report.json").read_text())
    g = np.mean([l["output_error"] for l in rep["layers"]])
    r = np.mean([l["output_error"] for l in rtn_rep["layers"]])
    assert g < 0.8 * r, (g, r)


def test_optimized_matches_reference_lowering(quantized):
    fast, ref, _ = quantized
    with Model(fast, threads=2) as a, Model(ref) as b:
        for ids, mask in sentences_of_test(4):
            ha, ea = a.run(input_ids=ids, attention_mask=mask)
            hb, eb = b.run(input_ids=ids, attention_mask=mask)
            assert np.abs(ha - hb).max() < 1e-4
            assert np.abs(ea - eb).max() < 1e-5


def test_close_to_float(quantized, minilm):
    fast, _, rtn = quantized
    cos = cosines_to_float(minilm, {"gptq": fast, "rtn": rtn}, 32)
    assert np.mean(cos["gptq"]) > 0.93
    assert np.mean(cos["gptq"]) > np.mean(cos["rtn"])


def test_outliers_end_to_end(quantized, minilm, tmp_path):
    """--outlier-fraction (SpQR-style, RTN W3 g128 with the calibration
    statistics): 1% of every layer's weights in f16 csr beside the codes,
    counted in the bits per weight, closer to the float model than plain W3
    on test sentences. Every layer runs a packed kernel that adds its
    outliers (16 rows), equal to the reference lowering (--O0: dequantize,
    add the csr outliers, float matmul) on real activations."""
    _, _, rtn = quantized
    stats = rtn.parent / "stats.lbcal"
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    arts = {}
    flags = ["--method=rtn", "--bits=3", "--group=128", f"--calib-cache={stats}", "--quiet"]
    for name, extra in (("plain", []),
                        ("split", ["--outlier-fraction=0.01", "--keep-intermediates"])):
        arts[name] = compile_onnx(minilm, tmp_path / name, shapes, extra_args=flags + extra)
    ll = (arts["split"] / "model.ll").read_text()
    kernels = [f for f in ll.split("\ndefine ")[1:]
               if "call void @llvm.prefetch" in f.split("\n}\n")[0]]
    assert len(kernels) == 36
    ref = compile_onnx(minilm, tmp_path / "split-O0", shapes, optimize=False,
                       extra_args=flags + ["--outlier-fraction=0.01"])
    with Model(arts["split"], threads=2) as a, Model(ref) as b:
        for ids, mask in sentences_of_test(4):
            ha, ea = a.run(input_ids=ids, attention_mask=mask)
            hb, eb = b.run(input_ids=ids, attention_mask=mask)
            assert np.abs(ha - hb).max() < 1e-4
            assert np.abs(ea - eb).max() < 1e-5
    rep = json.loads((arts["split"] / "quant-report.json").read_text())
    bits = 0.0
    for layer in rep["layers"]:
        k, n = layer["k"], layer["n"]
        assert layer["outliers"] == int(0.01 * k * n)
        # Outliers as packed: one 32-bit word each, N + 1 column offsets
        # and 16 words of padding.
        bits += 3 * k * n + 32 * (k // 128) * n + 32 * (n + 17) + 32 * layer["outliers"]
    assert abs(rep["bits_per_weight"] - bits / rep["quantized_weights"]) < 1e-9
    assert 3.6 < rep["bits_per_weight"] < 3.7  # 3.25 + 0.32 + column offsets
    plain = json.loads((arts["plain"] / "quant-report.json").read_text())
    assert all(l["outliers"] == 0 for l in plain["layers"])
    # Error before -> after: the split run quantizes each layer once more
    # without outliers for the report; that is the plain run's error.
    for a, b in zip(rep["layers"], plain["layers"]):
        assert a["name"] == b["name"] and "plain_output_error" not in b
        assert abs(a["plain_output_error"] - b["output_error"]) < 1e-6
        assert a["output_error"] < a["plain_output_error"]
    err = {k: np.mean([l["output_error"] for l in r["layers"]])
           for k, r in (("plain", plain), ("split", rep))}
    assert err["split"] < 0.9 * err["plain"], err  # measured 0.150 vs 0.184
    cos = cosines_to_float(minilm, arts, 16)
    assert np.mean(cos["split"]) > np.mean(cos["plain"]), cos


def test_allocation_end_to_end(quantized, minilm, tmp_path):
    """--budget=bpw:3.5 (lowbit-allocate-bits, RTN measuring every candidate
    of bits 2..8 x groups 32/64/128/channel on the calibration statistics,
    weighted by each layer's sensitivity measured on 2 calibration samples):
    the budget is kept, proven optimal, the layers get mixed schemes, the
    model is closer to the float one than uniform W3 g64 (3.5 bits, one of
    the candidates), and recipe.allocated.yaml replays the choice
    exactly; a budget below every choice is refused with the least feasible
    one."""
    _, _, rtn = quantized
    stats = rtn.parent / "stats.lbcal"
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    common = ["--method=rtn", f"--calib={rtn.parent / 'calib'}",
              f"--calib-cache={stats}", "--quiet"]
    alloc = compile_onnx(minilm, tmp_path / "alloc", shapes,
                         extra_args=common + ["--budget=bpw:3.5"])
    uniform = compile_onnx(minilm, tmp_path / "uniform", shapes,
                           extra_args=common + ["--bits=3", "--group=64"])
    rep = json.loads((alloc / "quant-report.json").read_text())
    a = rep["allocation"]
    assert a["optimal"] and a["gap"] < 1e-6 and a["candidates"] == 24, a
    assert 3.4 < rep["bits_per_weight"] <= 3.5 + 1e-9, rep["bits_per_weight"]
    assert abs(a["bits_per_weight"] - rep["bits_per_weight"]) < 1e-9
    schemes = {(l["bits"], l["group"]) for l in rep["layers"]}
    assert len(schemes) >= 3, schemes
    for l in rep["layers"]:  # what was measured and chosen, per layer
        assert l["sensitivity"]["importance"] >= 0 and l["sensitivity"]["probe_error"] > 0
        assert l["allocation"]["bits"] == l["bits"]
        assert abs(l["allocation"]["cost"] - l["bits_per_weight"]) < 1e-9
    uni = json.loads((uniform / "quant-report.json").read_text())
    assert abs(uni["bits_per_weight"] - 3.5) < 1e-9
    cos = cosines_to_float(minilm, {"alloc": alloc, "uniform": uniform}, 16)
    # Measured 0.910 against 0.873 (relative errors without the measured
    # sensitivities: 0.825, worse than uniform; docs/quantization.md).
    assert np.mean(cos["alloc"]) > np.mean(cos["uniform"]) + 0.01, cos

    # The written recipe replays the allocation without solving.
    recipe = alloc / "recipe.allocated.yaml"
    assert "allocate" not in recipe.read_text()
    replay = compile_onnx(minilm, tmp_path / "replay", shapes,
                          extra_args=[f"--recipe={recipe}", f"--calib-cache={stats}",
                                      "--quiet"])
    rep2 = json.loads((replay / "quant-report.json").read_text())
    assert "allocation" not in rep2
    assert [(l["name"], l["bits"], l["group"]) for l in rep2["layers"]] == \
        [(l["name"], l["bits"], l["group"]) for l in rep["layers"]]
    assert (replay / "weights.bin").read_bytes() == (alloc / "weights.bin").read_bytes()

    with pytest.raises(ToolError, match=r"least feasible budget is bpw:2\.\d+"):
        compile_onnx(minilm, tmp_path / "infeasible", shapes,
                     extra_args=common + ["--budget=bpw:1.5"])


@pytest.mark.parametrize("fmt", ["nf4", "fp4"])
def test_table_formats_end_to_end(minilm, tmp_path, fmt):
    """--format=nf4|fp4 (RTN, g128): every layer on the packed kernels,
    which decode through the format's table, and the embeddings close to
    the float model's (cosine over 16 test sentences)."""
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    art = compile_onnx(minilm, tmp_path / fmt, shapes,
                       extra_args=["--method=rtn", f"--format={fmt}", "--group=128",
                                   "--quiet", "--keep-intermediates"])
    ll = (art / "model.ll").read_text()
    kernels = [f for f in ll.split("\ndefine ")[1:]
               if "call void @llvm.prefetch" in f.split("\n}\n")[0]]
    assert len(kernels) == 36
    rep = json.loads((art / "quant-report.json").read_text())
    assert rep["quantized_layers"] == 36
    sess = optimized_session(minilm)  # a real model: what users run
    cos = []
    with Model(art) as m:
        for ids, mask in sentences_of_test(16):
            _, ref = sess.run(None, {"input_ids": ids, "attention_mask": mask})
            _, e = m.run(input_ids=ids, attention_mask=mask)
            cos.append(float((e * ref).sum() / np.linalg.norm(e) / np.linalg.norm(ref)))
    assert np.mean(cos) > MIN_COS[fmt], np.mean(cos)


def test_cuda_artifact_runs_its_kernels_reference(quantized, minilm, tmp_path, monkeypatch):
    """--target=cuda-sm80: MiniLM's 36 quantized layers (16 rows) become
    launches of 3 GEMV kernels (one per shape) on the `mma` layout; the
    artifact run through
    the runtime's CPU fallback (LOWBIT_GPU=cpu, no GPU here) matches the CPU
    artifact of the same RTN quantization."""
    _, _, rtn = quantized
    shapes = {"input_ids": (1, SEQ), "attention_mask": (1, SEQ)}
    cuda = compile_onnx(minilm, tmp_path / "cuda", shapes, target="cuda-sm80",
                        extra_args=["--method=rtn", "--bits=4", "--group=128", "--quiet"])
    gpu = json.loads((cuda / "manifest.json").read_text())["gpu"]
    assert gpu["chip"] == "sm_80" and gpu["kernels"] == 3
    # The `mma` layout pads K = 384 to nothing (128 k per block): the
    # weights take no more room than the CPU artifact's (the plain `gpu`
    # layout's 512-byte column blocks made the codes 2.7x larger).
    assert (cuda / "weights.bin").stat().st_size <= 1.01 * (rtn / "weights.bin").stat().st_size
    monkeypatch.setenv("LOWBIT_GPU", "cpu")
    with Model(cuda) as a, Model(rtn) as b:
        for ids, mask in sentences_of_test(4):
            ha, ea = a.run(input_ids=ids, attention_mask=mask)
            hb, eb = b.run(input_ids=ids, attention_mask=mask)
            assert np.abs(ha - hb).max() < 1e-4
            assert np.abs(ea - eb).max() < 1e-5
