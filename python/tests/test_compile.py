"""quant-compile artifacts run through the runtime (C ABI, Python binding and
quant-run) and agree with onnxruntime; bad artifacts and inputs are refused
with clear errors."""
import json
import os
import re
import shutil
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from lowbit import tools
from lowbit.testing import qemu
from lowbit.compiler import compile_onnx
from lowbit.runtime import LoadOptions, LowbitError, Model
from ort_reference import optimized_session, reference_session


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def mlp_model(path, hidden=64, seed=11):
    """x[?, 32] -> MatMul -> Add -> Gelu-ish (Erf) -> MatMul -> Softmax."""
    g = np.random.default_rng(seed)
    w1 = numpy_helper.from_array(g.standard_normal((32, hidden)).astype(np.float32) * 0.2, "w1")
    b1 = numpy_helper.from_array(g.standard_normal(hidden).astype(np.float32), "b1")
    w2 = numpy_helper.from_array(g.standard_normal((hidden, 16)).astype(np.float32) * 0.2, "w2")
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Erf", ["hb"], ["e"]),
        helper.make_node("Mul", ["e", "half"], ["g"]),
        helper.make_node("MatMul", ["g", "w2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(nodes, "mlp", [vi("x", TensorProto.FLOAT, ["n", 32])],
                              [vi("y", TensorProto.FLOAT, ["n", 16])], [w1, b1, w2, half])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlp")
    model = mlp_model(d / "mlp.onnx")
    art = compile_onnx(model, d / "art", {"x": (64, 32)})
    return model, art


def test_artifact_layout_and_manifest(mlp):
    _, art = mlp
    manifest = json.loads((art / "manifest.json").read_text())
    assert manifest["format"] == "lowbit-artifact"
    assert manifest["inputs"] == [{"name": "x", "dtype": "f32", "shape": [64, 32]}]
    assert manifest["outputs"] == [{"name": "y", "dtype": "f32", "shape": [64, 16]}]
    # w1 and w2 live in weights.bin (64-byte header, 64-byte aligned); the
    # 64-element bias stays a constant in the code.
    assert manifest["weights"]["count"] == 2
    size = (art / "weights.bin").stat().st_size
    assert size == manifest["weights"]["file_bytes"] and size % 64 == 0
    assert (art / "weights.bin").read_bytes()[:8] == f"LOWBITW{manifest['format_version']}".encode()


def test_compiled_matches_onnxruntime(mlp, rng):
    model, art = mlp
    x = rng.standard_normal((64, 32)).astype(np.float32)
    ref = reference_session(model).run(None, {"x": x})[0]
    for threads in (1, 2):
        with Model(art, threads=threads) as m:
            assert m.inputs[0].shape == (64, 32) and m.outputs[0].dtype == np.float32
            y, = m.run(x=x)
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_two_models_in_one_process(mlp, tmp_path, rng):
    model, art = mlp
    other = compile_onnx(mlp_model(tmp_path / "m2.onnx", hidden=128), tmp_path / "art2",
                         {"x": (8, 32)})
    a, b = Model(art), Model(other)
    xa = rng.standard_normal((64, 32)).astype(np.float32)
    xb = rng.standard_normal((8, 32)).astype(np.float32)
    ya, = a.run(xa)
    yb, = b.run(xb)
    np.testing.assert_allclose(ya, reference_session(model).run(None, {"x": xa})[0],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(yb, reference_session(tmp_path / "m2.onnx").run(
        None, {"x": xb})[0], rtol=1e-5, atol=1e-6)
    a.close()
    b.close()


def test_bad_inputs_are_refused(mlp):
    _, art = mlp
    with Model(art) as m:
        with pytest.raises(LowbitError, match=r"input 'x': expected float32 \[64, 32\], got float32 \[8, 32\]"):
            m.run(x=np.zeros((8, 32), np.float32))
        with pytest.raises(LowbitError, match="expected float32"):
            m.run(x=np.zeros((64, 32), np.float64))
        with pytest.raises(LowbitError, match=r"missing \['x'\]"):
            m.run(z=np.zeros((64, 32), np.float32))


def copy_artifact(art, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(art, out)
    return out


def test_bad_artifacts_are_refused(mlp, tmp_path):
    _, art = mlp
    with pytest.raises(LowbitError, match="no manifest.json"):
        Model(tmp_path / "nowhere")
    bad = copy_artifact(art, tmp_path)
    manifest = (bad / "manifest.json").read_text()
    version = json.loads(manifest)["format_version"]
    # 10x the version starts with the version's digits: read as a number.
    for other in (version * 10, version + 1, '"x"'):
        (bad / "manifest.json").write_text(
            manifest.replace(f'"format_version": {version}', f'"format_version": {other}'))
        with pytest.raises(LowbitError, match="manifest of artifact format version"):
            Model(bad)
    shutil.rmtree(bad)
    # A manifest of another compile beside this model.so.
    bad = copy_artifact(art, tmp_path)
    fp = json.loads((bad / "manifest.json").read_text())["weights"]["fingerprint"]
    (bad / "manifest.json").write_text(
        (bad / "manifest.json").read_text().replace(fp, "0x0123456789abcdef"))
    with pytest.raises(LowbitError, match="are of different compiles"):
        Model(bad)
    shutil.rmtree(bad)
    # One byte flipped in the middle of weights.bin: the whole-file hash
    # sees it; skip_weights_hash (LOWBIT_SKIP_WEIGHTS_HASH=1) loads it.
    bad = copy_artifact(art, tmp_path)
    data = bytearray((bad / "weights.bin").read_bytes())
    data[len(data) // 2] ^= 0x10
    (bad / "weights.bin").write_bytes(bytes(data))
    with pytest.raises(LowbitError, match="or is corrupted"):
        Model(bad)
    Model(bad, options=LoadOptions(skip_weights_hash=True)).close()
    shutil.rmtree(bad)
    bad = copy_artifact(art, tmp_path)
    data = (bad / "weights.bin").read_bytes()
    (bad / "weights.bin").write_bytes(data[:-64])
    with pytest.raises(LowbitError, match="truncated"):
        Model(bad)
    (bad / "weights.bin").write_bytes(data[:64] + bytes(len(data) - 64))
    with pytest.raises(LowbitError, match="does not belong"):
        Model(bad)
    shutil.rmtree(bad)
    bad = copy_artifact(art, tmp_path)
    (bad / "model.so").write_bytes(b"\x7fELF garbage")
    with pytest.raises(LowbitError, match="cannot load"):
        Model(bad)


@pytest.mark.parametrize("target", ["x86-64-v3", "host"])
def test_missing_cpu_features_are_refused(tmp_path, target):
    """The artifact records every CPU feature LLVM enabled for its target
    (LLVM's names, not a hand list), and the runtime refuses a CPU missing
    any one of them: each is taken away in turn (the load options' stand-in
    list), and the refusal names exactly it."""
    model = mlp_model(tmp_path / "m.onnx")
    art = compile_onnx(model, tmp_path / target, {"x": (4, 32)}, target=target)
    manifest = json.loads((art / "manifest.json").read_text())
    required = manifest["target"]["required_features"]
    if target == "x86-64-v3":
        # x86-64-v3's whole ISA, beyond the SIMD features a hand list had.
        for f in ["avx", "avx2", "fma", "f16c", "bmi", "bmi2", "lzcnt", "movbe", "xsave"]:
            assert f in required, f
        assert not any(f.startswith("avx512") for f in required)
    from lowbit.runtime import library
    lib = library()
    for f in required:
        assert lib.lowbit_cpu_has_feature_named(f.encode()) == 1, f"this CPU lacks {f}"
    for f in required:
        others = " ".join(x for x in required if x != f)
        with pytest.raises(LowbitError, match=f"needs CPU features this CPU lacks: {re.escape(f)} "):
            Model(art, options=LoadOptions(cpu_features=others))
    Model(art, options=LoadOptions(cpu_features=",".join(required))).close()
    Model(art).close()


def test_unknown_cpu_features_are_refused(mlp, tmp_path):
    """A model.so recording a feature this runtime cannot detect (compiled by
    a newer Lowbit, or for another architecture) is refused, not guessed."""
    import ctypes
    _, art = mlp
    lib = ctypes.CDLL(str(art / "model.so"))
    lib.lowbit_metadata.restype = ctypes.c_char_p
    lines = lib.lowbit_metadata().decode().splitlines()
    lines = [l + " quantum-teleport" if l.startswith("features") else l for l in lines]
    fake = tmp_path / "fake"
    shutil.copytree(art, fake)
    text = "\\n".join(lines).replace('"', '\\"') + "\\n"
    (tmp_path / "fake.c").write_text(
        f'const char *lowbit_metadata(void) {{ return "{text}"; }}\n'
        "void lowbit_entry(void **args) { (void)args; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", str(tmp_path / "fake.c"), "-o",
                    str(fake / "model.so")], check=True)
    with pytest.raises(LowbitError, match="CPU features this runtime does not know: quantum-teleport"):
        Model(fake)


def test_dynamic_shapes_need_input_shape(tmp_path):
    model = mlp_model(tmp_path / "m.onnx")
    r = subprocess.run([tools.tool("quant-compile"), model, "-o", tmp_path / "art"],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "input 'x' has a dynamic shape" in r.stderr and "--input-shape" in r.stderr
    assert not (tmp_path / "art" / "model.so").exists()


def artifact_bytes(art):
    return {f.name: f.read_bytes() for f in sorted(art.iterdir()) if f.is_file()}


def failing_compile(model, out, env=None, preexec_fn=None, shape="4x32"):
    r = subprocess.run([tools.tool("quant-compile"), model, "-o", out,
                        f"--input-shape=x:{shape}"], capture_output=True, text=True,
                       env=env, preexec_fn=preexec_fn)
    assert r.returncode != 0, r.stdout + r.stderr
    return r.stderr


def test_failed_compile_leaves_previous_artifact(tmp_path):
    """The compile fails after weights.bin is written (the link step's `cc`
    is a program that fails): the previous artifact at -o is untouched,
    byte for byte, still loads, and no staging directory is left."""
    model = mlp_model(tmp_path / "m.onnx")
    other = mlp_model(tmp_path / "other.onnx", hidden=48, seed=3)
    art = compile_onnx(model, tmp_path / "art", {"x": (4, 32)})
    (art / "notes.txt").write_text("the user's own file")
    before = artifact_bytes(art)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "cc").write_text("#!/bin/sh\necho 'cc: simulated failure' >&2\nexit 3\n")
    (fake / "cc").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    err = failing_compile(other, art, env=env)
    assert "'cc' failed (exit 3)" in err
    assert artifact_bytes(art) == before
    assert not list(tmp_path.glob("art.partial-*"))
    with Model(art) as m:
        assert m.run(x=np.zeros((4, 32), np.float32))[0].shape == (4, 16)
    # The same compile without the failure replaces the artifact and keeps
    # the user's file.
    compile_onnx(other, art, {"x": (4, 32)})
    assert artifact_bytes(art)["weights.bin"] != before["weights.bin"]
    assert (art / "notes.txt").read_text() == "the user's own file"


def test_write_errors_are_reported(tmp_path):
    """A write that fails part way (a 64 KiB file size limit: what a full
    disk does to write()) is an error naming the file, not a crash or a
    truncated artifact."""
    import resource
    import signal
    model = mlp_model(tmp_path / "m.onnx", hidden=1024)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))

    err = failing_compile(model, tmp_path / "art", preexec_fn=limit)
    assert "cannot write" in err and "weights.bin" in err and "File too large" in err
    assert not (tmp_path / "art").exists()
    assert not list(tmp_path.glob("art.partial-*"))


def test_unusable_output_paths_are_refused(tmp_path):
    model = mlp_model(tmp_path / "m.onnx")
    (tmp_path / "file").write_text("x")
    err = failing_compile(model, tmp_path / "file")
    assert "exists and is not a directory" in err
    err = failing_compile(model, tmp_path / "file" / "art")
    assert "cannot create" in err and "Not a directory" in err
    assert (tmp_path / "file").read_text() == "x"


def write_case(case_dir, model, inputs, outputs):
    (case_dir / "test_data_set_0").mkdir(parents=True)
    onnx.save(model, case_dir / "model.onnx")
    for i, a in enumerate(inputs):
        (case_dir / "test_data_set_0" / f"input_{i}.pb").write_bytes(
            numpy_helper.from_array(a).SerializeToString())
    for i, a in enumerate(outputs):
        (case_dir / "test_data_set_0" / f"output_{i}.pb").write_bytes(
            numpy_helper.from_array(a).SerializeToString())


def test_quant_run(mlp, tmp_path, rng):
    model, art = mlp
    x = rng.standard_normal((64, 32)).astype(np.float32)
    ref = reference_session(model).run(None, {"x": x})[0]
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "y.pb").write_bytes(numpy_helper.from_array(ref, "y").SerializeToString())
    run = [tools.tool("quant-run")]
    # An artifact, .npy in, .pb expected, outputs written, timed.
    r = subprocess.run(run + [art, f"--input=x={tmp_path / 'x.npy'}", f"--expect={tmp_path / 'y.pb'}",
                              f"--output-dir={tmp_path / 'out'}", "--bench=3"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "max abs error" in r.stdout and ": ok" in r.stdout and "median" in r.stdout
    np.testing.assert_allclose(np.load(tmp_path / "out" / "y.npy"), ref, rtol=1e-5, atol=1e-6)
    # A wrong expectation fails with exit code 2 and the error size.
    (tmp_path / "bad.pb").write_bytes(numpy_helper.from_array(ref + 1, "y").SerializeToString())
    r = subprocess.run(run + [art, f"--input=x={tmp_path / 'x.npy'}", f"--expect={tmp_path / 'bad.pb'}"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "FAIL" in r.stdout
    # A wrong input shape is an error naming the input.
    np.save(tmp_path / "x2.npy", x[:8])
    r = subprocess.run(run + [art, f"--input=x={tmp_path / 'x2.npy'}"], capture_output=True, text=True)
    assert r.returncode == 1 and "input 'x' must be f32 [64 32 ]" in r.stderr
    # An ONNX backend test-case directory, compiled on the fly.
    node = helper.make_node("Relu", ["a"], ["b"])
    graph = helper.make_graph([node], "relu", [vi("a", TensorProto.FLOAT, [3, 4])],
                              [vi("b", TensorProto.FLOAT, [3, 4])])
    a = rng.standard_normal((3, 4)).astype(np.float32)
    write_case(tmp_path / "test_relu", helper.make_model(graph), [a], [np.maximum(a, 0)])
    r = subprocess.run(run + [tmp_path / "test_relu"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "test_data_set_0: output 'b': max abs error 0.00e+00" in r.stdout


def test_minilm_compiled_matches_onnxruntime(tmp_path):
    """Real sentences of WikiText-2, tokenized by the model's tokenizer:
    embeddings of the compiled model against onnxruntime."""
    from lowbit.models import cache_dir
    from lowbit.models.export_minilm import batch, export, sentences
    from lowbit.models.minilm import MiniLM
    path = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"
    if not path.exists():
        export(path.parent)
    ids, mask = batch(MiniLM.load(), sentences(8), max_len=48)
    ids = np.pad(ids, ((0, 0), (0, 48 - ids.shape[1])))
    mask = np.pad(mask, ((0, 0), (0, 48 - mask.shape[1])))
    art = compile_onnx(path, tmp_path / "minilm", {"input_ids": ids.shape, "attention_mask": ids.shape})
    with Model(art, threads=2) as m:
        hidden, emb = m.run(input_ids=ids, attention_mask=mask)
    # Real models: the optimized session users run.
    ref_hidden, ref_emb = optimized_session(path).run(
        None, {"input_ids": ids, "attention_mask": mask})
    cos = (emb * ref_emb).sum(-1) / np.linalg.norm(emb, axis=-1) / np.linalg.norm(ref_emb, axis=-1)
    assert cos.min() >= 0.99999
    assert np.abs(hidden - ref_hidden).max() < 1e-4


def test_smollm2_compiled_matches_onnxruntime(tmp_path):
    """64 tokens of WikiText-2 test through the compiled SmolLM2: logits
    against onnxruntime, identical argmax, equal perplexity."""
    from lowbit.models import cache_dir
    from lowbit.models.export_smollm2 import export, text_ids
    path = cache_dir() / "SmolLM2-135M-Instruct" / "model.onnx"
    if not path.exists():
        export(path.parent)
    ids = text_ids(64)[None, :]
    art = compile_onnx(path, tmp_path / "smollm2", {"input_ids": ids.shape})
    with Model(art, threads=2) as m:
        logits, = m.run(input_ids=ids)
    ref, = optimized_session(path).run(None, {"input_ids": ids})

    def ppl(lg):
        lg = lg[0].astype(np.float64)
        lg = lg - lg.max(-1, keepdims=True)
        lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
        return float(np.exp(-lp[np.arange(ids.shape[1] - 1), ids[0, 1:]].mean()))

    assert np.abs(logits - ref).max() < 5e-3
    assert (logits.argmax(-1) == ref.argmax(-1)).mean() >= 0.999
    assert abs(ppl(logits) - ppl(ref)) / ppl(ref) < 1e-4


def test_aarch64_artifact_runs_under_qemu(tmp_path, rng):
    """--target=aarch64: the artifact is linked by the cross compiler and run
    under qemu-aarch64 by the runtime built for AArch64 (the raw-file
    driver of runtime/examples), and matches onnxruntime."""
    driver = qemu.build_aarch64_driver(tmp_path)
    model = mlp_model(tmp_path / "m.onnx")
    art = compile_onnx(model, tmp_path / "art", {"x": (16, 32)}, target="aarch64")
    assert json.loads((art / "manifest.json").read_text())["target"]["triple"].startswith("aarch64")
    x = rng.standard_normal((16, 32)).astype(np.float32)
    y, = qemu.run_under_qemu(driver, art, [x], [((16, 16), np.float32)])
    ref = reference_session(model).run(None, {"x": x})[0]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_concurrent_runs_on_one_model(tmp_path):
    """runtime.h promises that a model may run from several threads at
    once: 4 threads x 25 runs on one model, each thread with its own
    inputs, give exactly the results of running them one at a time."""
    import threading
    model = mlp_model(tmp_path / "m.onnx", hidden=512)
    art = compile_onnx(model, tmp_path / "art", {"x": (64, 32)})
    rng = np.random.default_rng(22)
    xs = [rng.standard_normal((64, 32)).astype(np.float32) for _ in range(4)]
    with Model(art, threads=1) as m:
        want = [m.run(x=x)[0] for x in xs]
        got = [[] for _ in xs]

        def worker(i):
            for _ in range(25):
                got[i].append(m.run(x=xs[i])[0])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for i in range(4):
        assert len(got[i]) == 25
        for y in got[i]:
            assert np.array_equal(y, want[i]), f"thread {i}: a result differs"


def test_c_api_null_arguments(mlp):
    """Null pointers into the C API are errors with a message, not crashes."""
    import ctypes
    from lowbit.runtime import library
    lib = library()
    err = ctypes.create_string_buffer(256)
    handle = ctypes.c_void_p()
    assert lib.lowbit_model_load(None, ctypes.byref(handle), err, 256) != 0
    assert b"null argument" in err.value
    assert lib.lowbit_model_run(None, None, None, 1, err, 256) != 0
    assert b"null argument" in err.value
    _, art = mlp
    with Model(art) as m:
        assert lib.lowbit_model_run(m._handle, None, None, 1, err, 256) != 0
        assert b"null argument" in err.value
        ins = (ctypes.c_void_p * 1)(None)
        out = np.zeros((64, 16), np.float32)
        outs = (ctypes.c_void_p * 1)(out.ctypes.data)
        assert lib.lowbit_model_run(m._handle, ins, outs, 1, err, 256) != 0
        assert b"input 0 ('x') is null" in err.value
    # A null error buffer is allowed.
    assert lib.lowbit_model_run(None, None, None, 1, None, 0) != 0


def paddle_style_model(path, rng, head=True):
    """A CNN as paddle2onnx exports it: the batch written as dim_value -1,
    and the classifier's Reshape target computed as Shape -> Cast(int32) ->
    Slice -> Cast(int64) -> Concat, where ONNX's data propagation stops (the
    Reshape and every node after it come untyped). head=False: the
    convolutions alone (no linear layer)."""
    F = TensorProto.FLOAT
    c = lambda name, a: numpy_helper.from_array(np.asarray(a), name)
    inits = [c("k1", rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3),
             c("b1", rng.standard_normal(8).astype(np.float32) * 0.1),
             c("k2", rng.standard_normal((8, 1, 3, 3)).astype(np.float32) * 0.3),
             c("w", rng.standard_normal((8, 4)).astype(np.float32)),
             c("b", rng.standard_normal(4).astype(np.float32)),
             c("zero", np.array([0], np.int64)), c("one", np.array([1], np.int64)),
             c("minus1", np.array([-1], np.int64))]
    nodes = [helper.make_node("Conv", ["x", "k1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("HardSigmoid", ["c1"], ["h"], alpha=0.2, beta=0.5),
             helper.make_node("Mul", ["c1", "h"], ["a1"]),
             helper.make_node("Conv", ["a1", "k2"], ["c2"], group=8, pads=[1, 1, 1, 1])]
    out = "c2"
    if head:
        nodes += [helper.make_node("GlobalAveragePool", ["c2"], ["p"]),
                  helper.make_node("Shape", ["p"], ["s"]),
                  helper.make_node("Cast", ["s"], ["s32"], to=TensorProto.INT32),
                  helper.make_node("Slice", ["s32", "zero", "one", "zero", "one"], ["n32"]),
                  helper.make_node("Cast", ["n32"], ["n"], to=TensorProto.INT64),
                  helper.make_node("Concat", ["n", "minus1"], ["target"], axis=-1),
                  helper.make_node("Reshape", ["p", "target"], ["flat"]),
                  helper.make_node("MatMul", ["flat", "w"], ["m"]),
                  helper.make_node("Add", ["m", "b"], ["logits"]),
                  helper.make_node("Softmax", ["logits"], ["y"], axis=1)]
        out = "y"
    graph = helper.make_graph(nodes, "paddle", [vi("x", F, [-1, 3, 16, 16])],
                              [helper.make_tensor_value_info(out, F, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("head", [True, False])
def test_paddle_style_cnn_compiles_in_float(tmp_path, head, rng):
    """-1 batch dimensions are dynamic, the untyped Reshape chain gets its
    types from the conversion (TypeRefinement), and --method=none compiles a
    model without linear layers; outputs match onnxruntime."""
    model = paddle_style_model(tmp_path / "m.onnx", rng, head)
    art = compile_onnx(model, tmp_path / "art", {"x": (2, 3, 16, 16)},
                       extra_args=["--method=none"])
    x = rng.uniform(-1, 1, (2, 3, 16, 16)).astype(np.float32)
    (ref,) = reference_session(model).run(None, {"x": x})
    (ours,) = Model(art, threads=1).run(x)
    assert ours.shape == ref.shape == ((2, 4) if head else (2, 8, 8, 8))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
