"""Models quantized by onnxruntime's tools compile and compute what
onnxruntime computes (issue #24, quantized ONNX in):
- com.microsoft MatMulNBits (its weight-only quantizers) runs on Lowbit's
  quantized kernels with the model's own codes, scales and zero points.
  Models come from onnxruntime's quantizer and from nodes built here with
  an independent packing (bias, 2-D inputs, odd K); what cannot be
  converted is refused by name with the reason.
- quantize_dynamic (DynamicQuantizeLinear + MatMulInteger / ConvInteger)
  and quantize_static in QOperator form (QLinearMatMul / QLinearConv):
  bit-exact against ONNX's numpy reference evaluator (and onnxruntime with
  optimizations disabled, which agrees here).
- MaxPool on 8-bit codes and MaxPool's Indices output (the pools such CNNs
  keep), exact against explicit loops."""
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from lowbit import tools
from lowbit.compiler import compile_onnx
from lowbit.runtime import Model
from ort_reference import reference_session


def matmul_model(path, k, n, a_shape, rng):
    w = (rng.standard_normal((k, n)) * 0.1).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "w"], ["y"], name="proj")], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, list(a_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*a_shape[:-1], n])],
        [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def ort_quantize(src, dst, bits, block, symmetric, ops=1):
    from onnxruntime.quantization import matmul_nbits_quantizer as mq
    cfg = mq.DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=symmetric, bits=bits)
    q = mq.MatMulNBitsQuantizer(onnx.load(str(src)), algo_config=cfg)
    q.process()
    onnx.save(q.model.model, str(dst))
    assert [n.op_type for n in onnx.load(str(dst)).graph.node].count("MatMulNBits") == ops


def compile_and_compare(model, out, feeds, rng, extra=(), target="host"):
    art = compile_onnx(model, out, target=target, extra_args=list(extra))
    ref = reference_session(model).run(None, feeds)[0]
    with Model(art) as m:
        got = m.run(**feeds)[0]
    assert got.shape == ref.shape
    # Same dequantized weights; only the f32 summation order differs.
    bound = 1e-5 * np.abs(ref).max() + 1e-6
    assert np.abs(got - ref).max() <= bound, np.abs(got - ref).max()
    return art


# x86-64-v3: the AVX2 kernels (machines of this kind without AVX-512), run
# on any AVX2 host.
@pytest.mark.parametrize("target", ["host", "x86-64-v3"])
@pytest.mark.parametrize("bits,block,symmetric,k", [
    (4, 32, True, 200), (4, 32, False, 200), (4, 128, True, 256),
    (4, 16, False, 96), (8, 32, True, 160), (8, 64, False, 200),
])
def test_onnxruntime_quantizer_output(tmp_path, rng, bits, block, symmetric, k, target):
    fp, q = tmp_path / "fp.onnx", tmp_path / "q.onnx"
    # 10 rows: the weight-streaming kernels; 160 rows: dequantize + matmul.
    for rows in ((2, 5, k), (4, 40, k)):
        matmul_model(fp, k, 48, rows, np.random.default_rng(7))
        ort_quantize(fp, q, bits, block, symmetric)
        a = rng.standard_normal(rows).astype(np.float32)
        compile_and_compare(q, tmp_path / f"art{rows[1]}", {"a": a}, rng, target=target)
    # The node became lowbit.matmul on onnxruntime's own scheme (codes kept,
    # not rounded again): no float matmul is left.
    core = subprocess.run([str(tools.tool("quant-compile")), str(q), "-o", "-", "--emit=core"],
                          capture_output=True, text=True, check=True).stdout
    scheme = f"int{bits}, {'sym' if symmetric else 'asym'}, group = {block}"
    assert re.search(r"lowbit\.matmul .*lowbit\.method = \"onnx-matmulnbits\"", core)
    assert f"#lowbit.scheme<{scheme}" in core, core[:2000]
    assert "linalg.matmul" not in core and "linalg.generic" not in core


def test_untyped_intermediates(tmp_path, rng):
    """MatMulNBits feeding other nodes: ONNX's shape inference does not know
    the contrib op, so the importer registers its schema (output shape: A's
    with N last) and everything downstream gets a type."""
    fp, q = tmp_path / "fp.onnx", tmp_path / "q.onnx"
    mlp(fp, rng, k=64, hidden=128, n=32)
    ort_quantize(fp, q, 4, 32, False, ops=2)
    assert not onnx.load(str(q)).graph.value_info
    x = rng.standard_normal((4, 8, 64)).astype(np.float32)
    art = compile_onnx(q, tmp_path / "art")
    ref = reference_session(q).run(None, {"x": x})[0]
    with Model(art) as m:
        got = m.run(x=x)[0]
    assert np.abs(got - ref).max() <= 1e-5 * np.abs(ref).max()


def pack_lsb_first(codes, bits):
    """Codes (..., m) in [0, 2^bits) to bytes, least significant bits first."""
    per = 8 // bits
    c = codes.reshape(*codes.shape[:-1], -1, per).astype(np.uint16)
    out = np.zeros(c.shape[:-1], np.uint16)
    for i in range(per):
        out |= c[..., i] << (i * bits)
    return out.astype(np.uint8)


def nbits_node_model(path, k, n, bits, block, rng, zero_points=True, bias=True,
                     a_shape=None, g_idx=False, float_zp=False):
    """A MatMulNBits node built by hand, the weight dequantized in float64
    alongside (the independent reference of its meaning)."""
    blocks = -(-k // block)
    q = rng.integers(0, 2 ** bits, (n, blocks * block))
    scales = (rng.random((n, blocks)) * 0.05 + 0.01).astype(np.float32)
    inputs = ["a", "b", "scales"]
    inits = [numpy_helper.from_array(pack_lsb_first(q, bits).reshape(n, blocks, -1), "b"),
             numpy_helper.from_array(scales.reshape(-1), "scales")]
    zp = np.full((n, blocks), 2 ** (bits - 1))
    if zero_points:
        zp = rng.integers(0, 2 ** bits, (n, blocks))
        padded = np.zeros((n, -(-blocks * bits // 8) * 8 // bits), np.int64)
        padded[:, :blocks] = zp
        inits.append(numpy_helper.from_array(
            zp.astype(np.float32) if float_zp else pack_lsb_first(padded, bits).reshape(-1),
            "zp"))
        inputs.append("zp")
    if g_idx:
        inits.append(numpy_helper.from_array(np.arange(k, dtype=np.int32) // block, "g_idx"))
        inputs += [""] * (4 - len(inputs)) + ["g_idx"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "bias"))
        inputs += [""] * (5 - len(inputs)) + ["bias"]
    a_shape = a_shape or [3, k]
    node = helper.make_node("MatMulNBits", inputs, ["y"], name="nbits", domain="com.microsoft",
                            K=k, N=n, bits=bits, block_size=block)
    g = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, a_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*a_shape[:-1], n])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                  helper.make_opsetid("com.microsoft", 1)]), path)
    w = ((q - np.repeat(zp, block, axis=1)) * np.repeat(scales, block, axis=1))[:, :k]
    return w.T.astype(np.float64)


@pytest.mark.parametrize("bits,block,zero_points,k,a_shape", [
    (4, 32, True, 200, [3, 200]), (4, 16, False, 72, [2, 2, 72]),
    (2, 32, True, 100, [4, 100]), (8, 16, True, 40, [1, 40]),
])
def test_hand_built_node(tmp_path, rng, bits, block, zero_points, k, a_shape):
    model = tmp_path / "m.onnx"
    w = nbits_node_model(model, k, 24, bits, block, rng, zero_points=zero_points,
                         a_shape=a_shape)
    a = rng.standard_normal(a_shape).astype(np.float32)
    art = compile_and_compare(model, tmp_path / "art", {"a": a}, rng)
    # And against float64: the codes were not rounded again.
    bias = numpy_helper.to_array(
        [t for t in onnx.load(str(model)).graph.initializer if t.name == "bias"][0])
    with Model(art) as m:
        got = m.run(a=a)[0]
    want = a.astype(np.float64) @ w + bias
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


@pytest.mark.parametrize("case,reason", [
    ("g_idx", "g_idx (a permutation of K) is not supported"),
    ("float_zp", "float zero points are not supported"),
    ("bits3", "bits = 3 (2, 4 or 8 supported)"),
])
def test_refused_with_reason(tmp_path, rng, case, reason):
    model = tmp_path / "m.onnx"
    if case == "bits3":
        nbits_node_model(model, 64, 8, 4, 32, rng)
        m = onnx.load(str(model))
        for a in m.graph.node[0].attribute:
            if a.name == "bits":
                a.i = 3
        onnx.save(m, str(model))
    else:
        nbits_node_model(model, 64, 8, 4, 32, rng, g_idx=case == "g_idx",
                         float_zp=case == "float_zp", bias=False)
    r = subprocess.run([str(tools.tool("quant-compile")), str(model), "-o", str(tmp_path / "art")],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert f"com.microsoft.MatMulNBits (opset 1) x1: nbits ({reason}" in r.stderr, r.stderr


def mlp(path, rng, k=64, hidden=96, n=16, rows=(4, 8)):
    w1 = (rng.standard_normal((k, hidden)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((hidden, n)) * 0.2).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "w2"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [*rows, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*rows, n])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def static_quantize(fp, q, rng, shape, activations, weights, per_channel):
    """onnxruntime's quantize_static, QOperator form, calibrated on 4 random
    batches of `shape` for input x."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    data = [{"x": rng.standard_normal(shape).astype(np.float32)} for _ in range(4)]

    class Reader(CalibrationDataReader):
        def get_next(self):
            return data.pop() if data else None

    quantize_static(str(fp), str(q), Reader(), quant_format=QuantFormat.QOperator,
                    activation_type=getattr(QuantType, activations),
                    weight_type=getattr(QuantType, weights), per_channel=per_channel)


def numpy_reference(model):
    """ONNX's own numpy evaluator of `model` (opset raised to 21, where it
    implements every op used here): a reference that does not depend on
    which kernels onnxruntime picks on this CPU."""
    from onnx import version_converter
    from onnx.reference import ReferenceEvaluator
    return ReferenceEvaluator(version_converter.convert_version(onnx.load(str(model)), 21))


def exact(model, art, inputs):
    """Lowbit's outputs equal ONNX's numpy reference bit for bit, and so do
    onnxruntime's (ORT_DISABLE_ALL) on this machine."""
    ref, ort_ref = numpy_reference(model), reference_session(model)
    with Model(art) as m:
        for x in inputs:
            want = ref.run(None, {"x": x})[0]
            np.testing.assert_array_equal(m.run(x=x)[0], want)
            np.testing.assert_array_equal(ort_ref.run(None, {"x": x})[0], want)


@pytest.mark.parametrize("target", ["host", "x86-64-v3"])
@pytest.mark.parametrize("weight_type", ["QInt8", "QUInt8"])
def test_dynamic_quantization(tmp_path, rng, weight_type, target):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    fp, q = tmp_path / "fp.onnx", tmp_path / "q.onnx"
    mlp(fp, rng)
    quantize_dynamic(str(fp), str(q), weight_type=getattr(QuantType, weight_type))
    ops = [n.op_type for n in onnx.load(str(q)).graph.node]
    assert "DynamicQuantizeLinear" in ops and "MatMulInteger" in ops
    art = compile_onnx(q, tmp_path / "art", target=target)
    # Random rows, all zeros (scale 1, zero point 0), all positive (zero
    # point 0), and a wide range.
    x = rng.standard_normal((4, 8, 64)).astype(np.float32)
    exact(q, art, [x, np.zeros_like(x), np.abs(x), 40 * x])


@pytest.mark.parametrize("activations,weights,per_channel", [
    ("QUInt8", "QInt8", False), ("QInt8", "QInt8", True), ("QUInt8", "QUInt8", False),
])
def test_static_qoperator_quantization(tmp_path, rng, activations, weights, per_channel):
    fp, q = tmp_path / "fp.onnx", tmp_path / "q.onnx"
    mlp(fp, rng)
    static_quantize(fp, q, rng, (4, 8, 64), activations, weights, per_channel)
    assert "QLinearMatMul" in [n.op_type for n in onnx.load(str(q)).graph.node]
    art = compile_onnx(q, tmp_path / "art")
    x = rng.standard_normal((4, 8, 64)).astype(np.float32)
    # In range, and saturating (3x the calibrated range).
    exact(q, art, [x, 3 * x])


def cnn(path, rng):
    """Conv 3x3 (pads) -> Relu -> depthwise 3x3 stride 2 -> Relu -> Conv 1x1."""
    def t(name, *shape):
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8,
                              strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("Conv", ["r2", "w3"], ["y"])]
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 6, 6])],
        [t("w1", 8, 3, 3, 3), t("b1", 8), t("w2", 8, 1, 3, 3), t("b2", 8), t("w3", 4, 8, 1, 1)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


@pytest.mark.parametrize("activations,weights,per_channel", [
    ("QUInt8", "QInt8", False), ("QInt8", "QInt8", True), ("QUInt8", "QUInt8", True),
])
def test_static_qlinearconv(tmp_path, rng, activations, weights, per_channel):
    fp, q = tmp_path / "fp.onnx", tmp_path / "q.onnx"
    cnn(fp, rng)
    static_quantize(fp, q, rng, (2, 3, 12, 12), activations, weights, per_channel)
    assert [n.op_type for n in onnx.load(str(q)).graph.node].count("QLinearConv") == 3
    art = compile_onnx(q, tmp_path / "art")
    x = rng.standard_normal((2, 3, 12, 12)).astype(np.float32)
    exact(q, art, [x, 3 * x])


def test_dynamic_convinteger(tmp_path, rng):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    fp, q = tmp_path / "fp.onnx", tmp_path / "q.onnx"
    cnn(fp, rng)
    quantize_dynamic(str(fp), str(q), weight_type=QuantType.QUInt8, op_types_to_quantize=["Conv"])
    assert [n.op_type for n in onnx.load(str(q)).graph.node].count("ConvInteger") == 3
    art = compile_onnx(q, tmp_path / "art")
    ref = numpy_reference(q)
    with Model(art) as m:
        for x in (rng.standard_normal((2, 3, 12, 12)).astype(np.float32),
                  np.zeros((2, 3, 12, 12), np.float32)):
            want = ref.run(None, {"x": x})[0]
            # The integer convolutions are exact; the float rescale and bias
            # after them may round once differently (a fused multiply-add).
            np.testing.assert_allclose(m.run(x=x)[0], want, rtol=0,
                                       atol=2e-6 * max(1.0, np.abs(want).max()))


def maxpool_reference(x, kernel_shape, pads=(0, 0, 0, 0), strides=(1, 1), dilations=(1, 1),
                      storage_order=0):
    """MaxPool (floor mode) and its Indices by explicit loops over the windows:
    the first maximum in scan order, its flat position in the unpadded input
    (row major, or column major within each image plane)."""
    n, c, h, w = x.shape
    oh = (h + pads[0] + pads[2] - dilations[0] * (kernel_shape[0] - 1) - 1) // strides[0] + 1
    ow = (w + pads[1] + pads[3] - dilations[1] * (kernel_shape[1] - 1) - 1) // strides[1] + 1
    y = np.zeros((n, c, oh, ow), x.dtype)
    idx = np.zeros((n, c, oh, ow), np.int64)
    for b, ch, i, j in np.ndindex(n, c, oh, ow):
        best = None
        for ki, kj in np.ndindex(*kernel_shape):
            r = i * strides[0] + ki * dilations[0] - pads[0]
            q = j * strides[1] + kj * dilations[1] - pads[1]
            if 0 <= r < h and 0 <= q < w and (best is None or x[b, ch, r, q] > best):
                best = x[b, ch, r, q]
                plane = b * c + ch
                idx[b, ch, i, j] = (plane * w + q) * h + r if storage_order else \
                    (plane * h + r) * w + q
        y[b, ch, i, j] = best
    return y, idx


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
    dict(kernel_shape=[2, 2]),
    dict(kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]),
])
def test_int8_maxpool(tmp_path, rng, dtype, attrs):
    """MaxPool on 8-bit codes (opset 12; quantized CNNs pool their codes),
    exact against explicit loops (and onnxruntime) over the type's range."""
    elem = {"uint8": TensorProto.UINT8, "int8": TensorProto.INT8}[dtype]
    g = helper.make_graph([helper.make_node("MaxPool", ["x"], ["y"], **attrs)], "g",
                          [helper.make_tensor_value_info("x", elem, [2, 3, 9, 9])],
                          [helper.make_tensor_value_info("y", elem, None)])
    model = tmp_path / "m.onnx"
    onnx.save(onnx.shape_inference.infer_shapes(
        helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)])), model)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (2, 3, 9, 9)).astype(dtype)
    art = compile_onnx(model, tmp_path / "art")
    want = maxpool_reference(x, **attrs)[0]
    np.testing.assert_array_equal(reference_session(model).run(None, {"x": x})[0], want)
    with Model(art) as m:
        np.testing.assert_array_equal(m.run(x=x)[0], want)


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
    dict(kernel_shape=[2, 2], strides=[2, 2]),
    dict(kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 1, 2, 1], storage_order=1),
    dict(kernel_shape=[2, 3], storage_order=1),
])
def test_maxpool_indices(tmp_path, rng, attrs):
    """MaxPool's Indices output (flat positions in the unpadded input, row or
    column major), ties to the first maximum, exact against explicit loops
    (and onnxruntime; ONNX's numpy evaluator disagrees on column major)."""
    g = helper.make_graph([helper.make_node("MaxPool", ["x"], ["y", "i"], **attrs)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 9, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("i", TensorProto.INT64, None)])
    model = tmp_path / "m.onnx"
    onnx.save(onnx.shape_inference.infer_shapes(
        helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)])), model)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    x[0, 0, :3, :3] = 1.0  # a plateau: the first maximum wins
    art = compile_onnx(model, tmp_path / "art")
    want = maxpool_reference(x, **attrs)
    for a, b in zip(reference_session(model).run(None, {"x": x}), want):
        np.testing.assert_array_equal(a, b)
    with Model(art) as m:
        got = m.run(x=x)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
