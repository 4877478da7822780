"""The supported ONNX ops, imported and converted by Lowbit and run through
the reference lowering, agree with onnxruntime on the same inputs.

The reference is onnxruntime with graph optimizations disabled
(`reference_session`): its default level fuses QDQ pairs into integer kernels
that are inexact on some CPUs (docs/testing.md). Each test draws its data from
its own seeded generator (the `rng` fixture)."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from lowbit.reference import run_onnx
from ort_reference import optimized_session, reference_session


def save(tmp_path, nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "t", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m = onnx.shape_inference.infer_shapes(m)
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    return path


def compare(path, feeds, rtol=2e-6, atol=2e-6):
    ours = run_onnx(path, feeds)
    ref = reference_session(path).run(None, feeds)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert o.shape == r.shape
        np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def test_elementwise_broadcasting(tmp_path, rng):
    F = TensorProto.FLOAT
    c = numpy_helper.from_array(rng.uniform(0.5, 2.0, (3, 1)).astype(np.float32), "c")
    nodes = [
        helper.make_node("Add", ["a", "b"], ["add"]),
        helper.make_node("Mul", ["add", "c"], ["mul"]),
        helper.make_node("Sub", ["mul", "b"], ["sub"]),
        helper.make_node("Div", ["sub", "c"], ["div"]),
        helper.make_node("Abs", ["div"], ["abs"]),
        helper.make_node("Pow", ["abs", "c"], ["pow"]),
        helper.make_node("Max", ["pow", "a", "b"], ["max"]),
        helper.make_node("Min", ["max", "c"], ["min"]),
        helper.make_node("Greater", ["a", "b"], ["gt"]),
        helper.make_node("Where", ["gt", "min", "sub"], ["where"]),
        helper.make_node("Not", ["gt"], ["not"]),
        helper.make_node("Cast", ["not"], ["notf"], to=F),
        helper.make_node("Add", ["where", "notf"], ["y"]),
    ]
    path = save(tmp_path, nodes, [vi("a", F, [2, 3, 4]), vi("b", F, [4])],
                [vi("y", F, [2, 3, 4])], [c])
    compare(path, {"a": rng.standard_normal((2, 3, 4)).astype(np.float32),
                   "b": rng.standard_normal(4).astype(np.float32)})


def test_unary_and_activations(tmp_path, rng):
    F = TensorProto.FLOAT
    names = ["Exp", "Tanh", "Erf", "Sigmoid", "Relu", "Neg", "Reciprocal"]
    nodes, prev = [], "x"
    for i, n in enumerate(names):
        nodes.append(helper.make_node(n, [prev], [f"u{i}"]))
        prev = f"u{i}"
    nodes += [
        helper.make_node("Abs", ["x"], ["ax"]),
        helper.make_node("Sqrt", ["ax"], ["sq"]),
        helper.make_node("Log", ["sq"], ["lg"]),
        helper.make_node("LeakyRelu", ["x"], ["lr"], alpha=0.3),
        helper.make_node("HardSigmoid", ["x"], ["hs"], alpha=0.25, beta=0.4),
        helper.make_node("HardSwish", ["x"], ["hw"]),
        helper.make_node("Clip", ["x", "", "hi"], ["cl"]),
        helper.make_node("Sum", [prev, "lg", "lr", "hs", "hw", "cl"], ["y"]),
    ]
    hi = numpy_helper.from_array(np.array(0.5, np.float32), "hi")
    path = save(tmp_path, nodes, [vi("x", F, [5, 7])], [vi("y", F, [5, 7])], [hi])
    x = rng.uniform(-3, 3, (5, 7)).astype(np.float32)
    x[np.abs(x) < 0.05] = 0.3  # keep Reciprocal and Log away from 0
    compare(path, {"x": x}, rtol=1e-5, atol=1e-5)


def test_integer_ops_and_cast(tmp_path):
    I, F = TensorProto.INT64, TensorProto.FLOAT
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]),
             helper.make_node("Div", ["s", "b"], ["d"]),
             helper.make_node("Mul", ["d", "a"], ["m"]),
             helper.make_node("Cast", ["m"], ["f"], to=F),
             helper.make_node("Cast", ["f"], ["y"], to=I)]
    path = save(tmp_path, nodes, [vi("a", I, [6]), vi("b", I, [6])], [vi("y", I, [6]), vi("f", F, [6])])
    compare(path, {"a": np.array([-7, -3, 0, 4, 9, 100], np.int64),
                   "b": np.array([2, 3, 5, -2, 4, 7], np.int64)})


@pytest.mark.parametrize("elem,fmod", [(TensorProto.INT32, 0), (TensorProto.INT64, 1),
                                       (TensorProto.UINT8, 0), (TensorProto.FLOAT, 0),
                                       (TensorProto.FLOAT, 1), (TensorProto.DOUBLE, 0)])
def test_mod(tmp_path, elem, fmod, rng):
    """Mod against numpy (np.fmod for fmod=1, np.mod for fmod=0, which takes
    the divisor's sign), mixed signs, a zero integer divisor (0, as numpy
    gives) and, for floats, signed zeros, infinities and NaN."""
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    if np.issubdtype(dtype, np.floating):
        a = np.concatenate([rng.uniform(-9, 9, 20), [0.0, -0.0, -3, 3, np.inf, 1, np.nan]])
        b = np.concatenate([rng.uniform(-4, 4, 20), [-2, 2, np.inf, -np.inf, 2, 0.0, 2]])
    else:
        lo = 0 if dtype == np.uint8 else -50
        a = rng.integers(lo, 100, 27)
        b = rng.integers(lo // 5, 12, 27)
        b[:3] = 0
    a, b = a.astype(dtype), b.astype(dtype)
    nodes = [helper.make_node("Mod", ["a", "b"], ["y"], fmod=fmod)]
    path = save(tmp_path, nodes, [vi("a", elem, [27]), vi("b", elem, [27])], [vi("y", elem, [27])])
    (ours,) = run_onnx(path, {"a": a, "b": b})
    with np.errstate(all="ignore"):
        want = np.fmod(a, b) if fmod else np.mod(a, b)
    if not np.issubdtype(dtype, np.floating):
        want = np.where(b == 0, 0, want).astype(dtype)
    np.testing.assert_array_equal(ours, want)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(want))


@pytest.mark.parametrize("elem", [TensorProto.UINT8, TensorProto.UINT32, TensorProto.INT8,
                                  TensorProto.INT32])
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bitshift(tmp_path, elem, direction, rng):
    """BitShift against numpy on Python integers: shift amounts read as
    unsigned (negative ones are past the width), past the width LEFT gives 0
    and RIGHT the sign fill; RIGHT on signed types is arithmetic."""
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    info = np.iinfo(dtype)
    bits = info.bits
    x = rng.integers(info.min, int(info.max) + 1, 32, dtype=np.int64).astype(dtype)
    s = rng.integers(0, bits + 3, 32).astype(dtype)
    if info.min < 0:
        s[:4] = [-1, -8, bits, bits - 1]
    nodes = [helper.make_node("BitShift", ["x", "s"], ["y"], direction=direction)]
    path = save(tmp_path, nodes, [vi("x", elem, [32]), vi("s", elem, [32])], [vi("y", elem, [32])])
    (ours,) = run_onnx(path, {"x": x, "s": s})
    want = []
    for xv, sv in zip(x.tolist(), s.tolist()):
        amount = sv % (1 << bits)  # read as unsigned
        if direction == "LEFT":
            v = 0 if amount >= bits else (xv << amount) & ((1 << bits) - 1)
            v = v - (1 << bits) if info.min < 0 and v >= 1 << (bits - 1) else v
        else:
            v = xv >> min(amount, bits - 1) if info.min < 0 else (0 if amount >= bits else xv >> amount)
        want.append(v)
    np.testing.assert_array_equal(ours, np.array(want, dtype))


@pytest.mark.parametrize("shapes", [((2, 3, 16), (16, 8)), ((1, 4, 2, 3), (5, 1, 3, 6))])
def test_matmul(tmp_path, shapes, rng):
    F = TensorProto.FLOAT
    a, b = shapes
    out = tuple(np.broadcast_shapes(a[:-2], b[:-2])) + (a[-2], b[-1])
    path = save(tmp_path, [helper.make_node("MatMul", ["a", "b"], ["y"])],
                [vi("a", F, list(a)), vi("b", F, list(b))], [vi("y", F, list(out))])
    compare(path, {"a": rng.standard_normal(a).astype(np.float32),
                   "b": rng.standard_normal(b).astype(np.float32)}, rtol=1e-5, atol=1e-5)


def test_gemm(tmp_path, rng):
    F = TensorProto.FLOAT
    nodes = [helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=1, transB=1, alpha=0.5, beta=2.0)]
    path = save(tmp_path, nodes, [vi("a", F, [4, 2]), vi("b", F, [3, 4]), vi("c", F, [3])],
                [vi("y", F, [2, 3])])
    compare(path, {"a": rng.standard_normal((4, 2)).astype(np.float32),
                   "b": rng.standard_normal((3, 4)).astype(np.float32),
                   "c": rng.standard_normal(3).astype(np.float32)}, rtol=1e-5, atol=1e-5)


def test_node_tests_of_supported_ops_compute_the_expected_outputs():
    """Of the ONNX node tests for ops with patterns, every case that imports
    and converts also computes the reference outputs (harness limits, such
    as f16 outputs, are not counted; docs/onnx-import.md lists them)."""
    from lowbit.testing import conformance
    ops = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Where", "Erf", "Exp", "Tanh",
           "Sigmoid", "Relu", "LeakyRelu", "Clip", "Gemm", "MatMul", "Greater", "Not"}
    results, failures = conformance.evaluate(ops, run=True)
    mismatches = [f for f in failures if f[2] == "mismatch"]
    assert not mismatches, mismatches
    passed = sum(r["pass"] for r in results.values())
    assert passed >= 60, dict(results)


def test_shape_ops(tmp_path, rng):
    F, I = TensorProto.FLOAT, TensorProto.INT64
    shape = numpy_helper.from_array(np.array([0, -1, 2], np.int64), "shape")
    axes = numpy_helper.from_array(np.array([0, 3], np.int64), "axes")
    sq_axes = numpy_helper.from_array(np.array([0], np.int64), "sq_axes")
    idx = numpy_helper.from_array(np.array([[2, -1], [0, 1]], np.int64), "idx")
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"]),          # [B, 6, 2]
        helper.make_node("Transpose", ["r"], ["t"], perm=[2, 0, 1]),  # [2, B, 6]
        helper.make_node("Unsqueeze", ["t", "axes"], ["u"]),          # [1, 2, B, 1, 6]
        helper.make_node("Squeeze", ["u", "sq_axes"], ["s"]),         # [2, B, 1, 6]
        helper.make_node("Gather", ["s", "idx"], ["g"], axis=3),      # [2, B, 1, 2, 2]
        helper.make_node("Shape", ["g"], ["shp"]),
        helper.make_node("Range", ["start", "limit", "delta"], ["rng"]),
    ]
    scalars = [numpy_helper.from_array(np.array(v, np.int64), n)
               for n, v in [("start", 3), ("limit", 17), ("delta", 4)]]
    path = save(tmp_path, nodes, [vi("x", F, ["batch", 3, 4])],
                [vi("g", F, None), vi("shp", I, None), vi("rng", I, None)],
                [shape, axes, sq_axes, idx] + scalars)
    compare(path, {"x": rng.standard_normal((2, 3, 4)).astype(np.float32)})


@pytest.mark.parametrize("keepdims", [0, 1])
def test_reductions_softmax_layernorm(tmp_path, keepdims, rng):
    F = TensorProto.FLOAT
    axes = numpy_helper.from_array(np.array([1, -1], np.int64), "axes")
    gamma = numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "gamma")
    beta = numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "beta")
    nodes = [
        helper.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=keepdims),
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[0], keepdims=keepdims),
        helper.make_node("ReduceMax", ["x"], ["max"], axes=[2], keepdims=keepdims),
        helper.make_node("Softmax", ["x"], ["sm"], axis=1),
        helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["ln"], epsilon=1e-3),
    ]
    path = save(tmp_path, nodes, [vi("x", F, [2, 3, 5])],
                [vi(n, F, None) for n in ["sum", "mean", "max", "sm", "ln"]],
                [axes, gamma, beta], opset=17)
    compare(path, {"x": rng.standard_normal((2, 3, 5)).astype(np.float32)}, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("opset", [11, 12, 13, 17])
def test_softmax_family_per_opset(tmp_path, opset, rng):
    """Softmax, LogSoftmax and Hardmax at each side of opset 13: before, the
    input is coerced to 2-D at `axis` (default 1), so axis 1 of a 4-D input
    normalizes over axes 1-3; from 13, over the one axis (default -1).
    Hardmax on integer data with ties: the first maximum (row-major over
    the normalized axes) is the one."""
    F = TensorProto.FLOAT
    nodes, outs = [], []
    for op in ("Softmax", "LogSoftmax", "Hardmax"):
        for name, attrs in ((f"{op}_a1", {"axis": 1}), (f"{op}_def", {}),
                            (f"{op}_neg", {"axis": -2})):
            nodes.append(helper.make_node(op, ["x"], [name], **attrs))
            outs.append(name)
    path = save(tmp_path, nodes, [vi("x", F, [2, 3, 4, 5])],
                [vi(n, F, [2, 3, 4, 5]) for n in outs], opset=opset)
    for x in (rng.standard_normal((2, 3, 4, 5)).astype(np.float32),
              rng.integers(-2, 3, (2, 3, 4, 5)).astype(np.float32)):
        compare(path, {"x": x}, rtol=1e-5, atol=1e-6)


def test_minilm_end_to_end_matches_onnxruntime(tmp_path):
    """The real encoder, imported, converted and run through the reference
    lowering, against onnxruntime on real sentences."""
    from lowbit.models import export_minilm
    from lowbit.models.minilm import MiniLM
    path = export_minilm.export(tmp_path / "minilm")
    ids, mask = export_minilm.batch(MiniLM.load(), export_minilm.sentences(2), max_len=12)
    feeds = {"input_ids": ids, "attention_mask": mask}
    ours = run_onnx(path, feeds)
    # A real model: the optimized session users run (no QDQ in this float
    # model, so its fusions are exact here).
    ref = optimized_session(path).run(None, feeds)
    np.testing.assert_allclose(ours[0], ref[0], atol=2e-5)
    cos = (ours[1] * ref[1]).sum(-1) / (np.linalg.norm(ours[1], axis=-1) * np.linalg.norm(ref[1], axis=-1))
    assert cos.min() >= 0.99999, cos


def test_concat_split_expand_trilu(tmp_path, rng):
    F, I = TensorProto.FLOAT, TensorProto.INT64
    split = numpy_helper.from_array(np.array([1, 3], np.int64), "split")
    ones = numpy_helper.from_array(np.array([1, 1, 1], np.int64), "ones")
    nodes = [
        helper.make_node("Concat", ["x", "y"], ["c"], axis=1),              # [2, 4, 3]
        helper.make_node("Split", ["c", "split"], ["s0", "s1"], axis=1),
        helper.make_node("Unsqueeze", ["s0", "ax"], ["u"]),                 # [2, 1, 1, 3]
        helper.make_node("Shape", ["s1"], ["shp"]),
        helper.make_node("Expand", ["s0", "ones"], ["e"]),
        helper.make_node("ConstantOfShape", ["shp"], ["k"],
                         value=helper.make_tensor("v", F, [1], [2.5])),
        helper.make_node("Trilu", ["c"], ["lo"], upper=0),
        helper.make_node("Trilu", ["c", "kk"], ["up"], upper=1),
    ]
    ax = numpy_helper.from_array(np.array([1], np.int64), "ax")
    kk = numpy_helper.from_array(np.array(1, np.int64), "kk")
    path = save(tmp_path, nodes, [vi("x", F, [2, 1, 3]), vi("y", F, [2, 3, 3])],
                [vi(n, F, None) for n in ["s1", "u", "e", "k", "lo", "up"]],
                [split, ones, ax, kk])
    compare(path, {"x": rng.standard_normal((2, 1, 3)).astype(np.float32),
                   "y": rng.standard_normal((2, 3, 3)).astype(np.float32)})


def test_slice_flatten_cumsum(tmp_path, rng):
    F = TensorProto.FLOAT
    c = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)
    inits = [c("st", [1, -3]), c("en", [100, -1]), c("ax", [0, 2]),
             c("st2", [-1]), c("en2", [-100]), c("ax2", [1]), c("sp2", [-2]),
             c("cax", 1)]
    nodes = [
        helper.make_node("Slice", ["x", "st", "en", "ax"], ["s1"]),
        helper.make_node("Slice", ["x", "st2", "en2", "ax2", "sp2"], ["s2"]),
        helper.make_node("Flatten", ["x"], ["fl"], axis=2),
        helper.make_node("CumSum", ["x", "cax"], ["cs"]),
        helper.make_node("CumSum", ["x", "cax"], ["csr"], exclusive=1, reverse=1),
    ]
    path = save(tmp_path, nodes, [vi("x", F, [3, 5, 4])],
                [vi(n, F, None) for n in ["s1", "s2", "fl", "cs", "csr"]], inits)
    compare(path, {"x": rng.standard_normal((3, 5, 4)).astype(np.float32)}, rtol=1e-5, atol=1e-5)


def test_cnn_ops(tmp_path, rng):
    F = TensorProto.FLOAT
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    dw = numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "dw")
    bn = [numpy_helper.from_array(v.astype(np.float32), n) for n, v in
          [("scale", rng.uniform(0.5, 2, 4)), ("bias", rng.standard_normal(4)),
           ("mean", rng.standard_normal(4)), ("var", rng.uniform(0.5, 2, 4))]]
    pads = numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "pads")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[2, 1]),
        helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["n"]),
        helper.make_node("Relu", ["n"], ["r"]),
        helper.make_node("Conv", ["r", "dw"], ["d"], group=4, auto_pad="SAME_UPPER"),
        helper.make_node("MaxPool", ["d"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["d"], ["ap"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["d"], ["gap"]),
        helper.make_node("Pad", ["x", "pads"], ["px"]),
        helper.make_node("Flatten", ["gap"], ["fl"]),
    ]
    path = save(tmp_path, nodes, [vi("x", F, [2, 3, 8, 6])],
                [vi(n, F, None) for n in ["mp", "ap", "gap", "px", "fl"]], [w, b, dw, pads] + bn)
    compare(path, {"x": rng.standard_normal((2, 3, 8, 6)).astype(np.float32)}, rtol=1e-5, atol=1e-5)


CONV_TRANSPOSE_CASES = [
    # (weight shape [C, M/group, kh, kw], attributes)
    ((3, 4, 3, 3), {}),
    ((3, 4, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    ((3, 2, 2, 2), {"strides": [2, 2]}),                       # DBNet's upsampling
    ((3, 4, 3, 2), {"strides": [3, 2], "pads": [2, 0, 1, 1], "dilations": [1, 2]}),
    ((3, 4, 3, 3), {"pads": [3, 1, 2, 3]}),                    # pads beyond the kernel: a crop
    ((3, 1, 4, 4), {"group": 3, "strides": [2, 2], "pads": [1, 1, 1, 1]}),  # depthwise
    ((3, 4, 2, 2), {"strides": [2, 2], "output_shape": [10, 8]}),
    ((3, 4, 3, 3), {"strides": [3, 2], "output_shape": [14, 10]}),  # pads from it
    ((3, 4, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((3, 4, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_LOWER"}),
]


@pytest.mark.parametrize("wshape,attrs", CONV_TRANSPOSE_CASES)
def test_conv_transpose(tmp_path, wshape, attrs, rng):
    F = TensorProto.FLOAT
    w = numpy_helper.from_array(rng.standard_normal(wshape).astype(np.float32), "w")
    m = wshape[1] * attrs.get("group", 1)
    b = numpy_helper.from_array(rng.standard_normal(m).astype(np.float32), "b")
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)]
    path = save(tmp_path, nodes, [vi("x", F, [2, 3, 5, 4])], [vi("y", F, None)], [w, b],
                opset=11)
    compare(path, {"x": rng.standard_normal((2, 3, 5, 4)).astype(np.float32)},
            rtol=1e-5, atol=1e-5)


def test_gather_elements_and_nd(tmp_path, rng):
    """GatherElements along each axis (int32 and int64, negative indices)
    and GatherND with tuples of 1 and 2 indices, batch_dims 0 and 1."""
    F = TensorProto.FLOAT
    inits = [
        numpy_helper.from_array(rng.integers(-3, 3, (3, 2, 4)).astype(np.int64), "e0"),
        numpy_helper.from_array(rng.integers(-2, 2, (3, 5, 4)).astype(np.int32), "e1"),
        numpy_helper.from_array(rng.integers(-4, 4, (3, 2, 2)).astype(np.int64), "e2"),
        numpy_helper.from_array(np.array([[2, -1], [0, 1], [-3, 0]], np.int64), "n0"),
        numpy_helper.from_array(np.array([[[1], [0]], [[2], [-1]]], np.int64), "n1"),
        numpy_helper.from_array(np.array([[1, 3], [0, -4], [2, 0]], np.int64), "nb"),
    ]
    nodes = [
        helper.make_node("GatherElements", ["x", "e0"], ["g0"], axis=0),
        helper.make_node("GatherElements", ["x", "e1"], ["g1"], axis=1),
        helper.make_node("GatherElements", ["x", "e2"], ["g2"], axis=-1),
        helper.make_node("GatherND", ["x", "n0"], ["d0"]),
        helper.make_node("GatherND", ["x", "n1"], ["d1"]),
        helper.make_node("GatherND", ["x", "nb"], ["d2"], batch_dims=1),
    ]
    outs = ["g0", "g1", "g2", "d0", "d1", "d2"]
    path = save(tmp_path, nodes, [vi("x", F, [3, 5, 4])], [vi(n, F, None) for n in outs],
                inits, opset=13)
    compare(path, {"x": rng.standard_normal((3, 5, 4)).astype(np.float32)}, rtol=0, atol=0)


QDQ_SEEDS = range(20)


def qdq_copy(seed):
    """One copy of the QDQ graph, its names suffixed with the seed, its
    weights, scales and input drawn from `default_rng(seed)`."""
    F = TensorProto.FLOAT
    g = np.random.default_rng(seed)
    n = lambda name: f"{name}_{seed}"
    w8 = g.integers(-128, 128, (6, 4), dtype=np.int8)
    w4 = g.integers(-8, 8, (8, 4)).astype(np.int8)
    inits = [
        numpy_helper.from_array(np.array(g.uniform(0.02, 0.1), np.float32), n("s_act")),
        numpy_helper.from_array(np.array(128, np.uint8), n("z_act")),
        numpy_helper.from_array(w8, n("w8")),
        numpy_helper.from_array(g.uniform(0.01, 0.1, 4).astype(np.float32), n("s_w8")),
        helper.make_tensor(n("w4"), TensorProto.INT4, [8, 4], w4.reshape(-1).tolist()),
        numpy_helper.from_array(g.uniform(0.01, 0.1, (2, 4)).astype(np.float32), n("s_w4")),
        numpy_helper.from_array(np.array([0], np.int64), n("st")),
        numpy_helper.from_array(np.array([4], np.int64), n("en")),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", [n("x"), n("s_act"), n("z_act")], [n("xq")]),
        helper.make_node("DequantizeLinear", [n("xq"), n("s_act"), n("z_act")], [n("xd")]),
        helper.make_node("DequantizeLinear", [n("w8"), n("s_w8")], [n("wd8")], axis=1),
        helper.make_node("MatMul", [n("xd"), n("wd8")], [n("y8")]),
        helper.make_node("DequantizeLinear", [n("w4"), n("s_w4")], [n("wd4")], axis=0,
                         block_size=4),
        # 4x4 @ (the first 4 rows of the 8x4 blocked weight) -> 4x4.
        helper.make_node("Slice", [n("wd4"), n("st"), n("en")], [n("wd4s")]),
        helper.make_node("MatMul", [n("y8"), n("wd4s")], [n("y")]),
    ]
    inputs = [vi(n("x"), F, [4, 6])]
    outputs = [vi(n("y"), F, [4, 4]), vi(n("y8"), F, [4, 4]),
               vi(n("xq"), TensorProto.UINT8, [4, 6])]
    return nodes, inputs, outputs, inits, {n("x"): g.uniform(-6, 6, (4, 6)).astype(np.float32)}


def test_quantize_dequantize_linear(tmp_path):
    """QDQ as exporters write it: a uint8 per-tensor activation pair, an int8
    per-channel weight, and a blocked int4 weight (opset 21). Twenty copies
    of the graph in one model, each with the data of its own seed, so that a
    data-dependent error cannot hide behind one lucky draw. Checked against
    onnxruntime without graph optimizations and against float64 numpy on
    the dequantized operands: with its default optimizations onnxruntime
    1.32 fuses `MatMul(DQ(x), DQ(w8))` into an integer matmul that is off by
    up to 72 on some CPUs (docs/testing.md)."""
    nodes, inputs, outputs, inits, feeds = [], [], [], [], {}
    for seed in QDQ_SEEDS:
        for acc, part in zip((nodes, inputs, outputs, inits), qdq_copy(seed)[:4]):
            acc += part
        feeds.update(qdq_copy(seed)[4])
    path = save(tmp_path, nodes, inputs, outputs, inits, opset=21)
    ours = dict(zip([o.name for o in outputs], run_onnx(path, feeds)))
    ref = dict(zip([o.name for o in outputs], reference_session(path).run(None, feeds)))
    model = onnx.load(str(path))
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for seed in QDQ_SEEDS:
        n = lambda name: f"{name}_{seed}"
        # float64 numpy on the dequantized operands.
        # QuantizeLinear divides in f32 and rounds half to even.
        s_act = values[n("s_act")]
        xq = np.clip(np.round(feeds[n("x")] / s_act) + 128, 0, 255)
        xd = (xq.astype(np.float64) - 128) * np.float64(s_act)
        wd8 = values[n("w8")].astype(np.float64) * values[n("s_w8")].astype(np.float64)
        y8 = xd @ wd8
        wd4 = values[n("w4")].astype(np.float64) * np.repeat(values[n("s_w4")], 4, axis=0)
        y = y8 @ wd4[:4]
        np.testing.assert_array_equal(ours[n("xq")], xq.astype(np.uint8), err_msg=f"seed {seed}")
        np.testing.assert_array_equal(ours[n("xq")], ref[n("xq")], err_msg=f"seed {seed}")
        for name, want in ((n("y8"), y8), (n("y"), y)):
            np.testing.assert_allclose(ours[name], ref[name], rtol=1e-5, atol=1e-5,
                                       err_msg=f"{name} (seed {seed}) vs onnxruntime")
            np.testing.assert_allclose(ours[name], want, rtol=1e-5, atol=1e-5,
                                       err_msg=f"{name} (seed {seed}) vs float64")


@pytest.mark.parametrize("mode,coord", [("nearest", "asymmetric"), ("nearest", "half_pixel"),
                                        ("linear", "half_pixel"), ("linear", "align_corners"),
                                        ("linear", "pytorch_half_pixel")])
def test_resize(tmp_path, mode, coord, rng):
    F = TensorProto.FLOAT
    scales = numpy_helper.from_array(np.array([1, 1, 2, 1.5], np.float32), "scales")
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode,
                              coordinate_transformation_mode=coord)]
    path = save(tmp_path, nodes, [vi("x", F, [1, 2, 3, 4])], [vi("y", F, [1, 2, 6, 6])],
                [scales], opset=19)
    compare(path, {"x": rng.standard_normal((1, 2, 3, 4)).astype(np.float32)}, rtol=1e-5, atol=1e-5)


def test_shape_subgraph_folds_with_input_shape(tmp_path, rng):
    """A dynamic reshape target from Shape/Gather/Concat folds away with
    --input-shape (ONNX's shape inference types it, convert-onnx-to-core folds
    it); the specialised model still computes what onnxruntime does."""
    from lowbit import tools
    from lowbit.reference import import_onnx
    F = TensorProto.FLOAT
    i64 = lambda n, v: numpy_helper.from_array(np.array(v, np.int64), n)
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"]),
        helper.make_node("Concat", ["batch1", "rest"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["r"]),
        helper.make_node("Softmax", ["r"], ["y"], axis=-1),
    ]
    path = save(tmp_path, nodes, [vi("x", F, ["n", 4, 6])], [vi("y", F, None)],
                [i64("zero", 0), i64("axes", [0]), i64("rest", [3, 8])])
    ir = import_onnx(path, "--input-shape", "x:2x4x6")
    assert "tensor<2x3x8xf32>" in ir
    core = tools.run([tools.tool("quant-opt"), "-", "--convert-onnx-to-core"], input_text=ir)
    assert "onnx.node" not in core and "tensor<?" not in core
    assert "arith.constant dense<[2, 3, 8]> : tensor<3xi64>" in core
    compare(path, {"x": rng.standard_normal((2, 4, 6)).astype(np.float32)})


@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap"])
def test_pad_modes(tmp_path, mode, rng):
    F = TensorProto.FLOAT
    pads = numpy_helper.from_array(np.array([0, 1, 2, 0, 2, 1], np.int64), "pads")
    nodes = [helper.make_node("Pad", ["x", "pads"], ["y"], mode=mode)]
    path = save(tmp_path, nodes, [vi("x", F, [2, 3, 4])], [vi("y", F, [2, 6, 7])], [pads], opset=19)
    compare(path, {"x": rng.standard_normal((2, 3, 4)).astype(np.float32)})


@pytest.mark.parametrize("op,extra", [("MaxPool", {}), ("AveragePool", {"count_include_pad": 0}),
                                      ("AveragePool", {"count_include_pad": 1})])
def test_pool_ceil_mode(tmp_path, op, extra, rng):
    F = TensorProto.FLOAT
    nodes = [helper.make_node(op, ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 0, 0], ceil_mode=1, **extra)]
    path = save(tmp_path, nodes, [vi("x", F, [1, 2, 8, 7])], [vi("y", F, None)])
    compare(path, {"x": rng.standard_normal((1, 2, 8, 7)).astype(np.float32)})


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("elem", [TensorProto.FLOAT, TensorProto.INT32, TensorProto.UINT8])
def test_argmax_argmin(tmp_path, op, elem, rng):
    """Against onnxruntime (optimizations off): every axis, keepdims 0/1,
    select_last_index 0/1, with ties (small integers) so first/last differ."""
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    x = rng.integers(0 if dtype == np.uint8 else -3, 4, (3, 4, 5)).astype(dtype)
    if dtype == np.float32:
        x += rng.choice([0, 0.5], x.shape).astype(np.float32)
    for axis in (0, 1, -1):
        for keep in (0, 1):
            for last in (0, 1):
                nodes = [helper.make_node(op, ["x"], ["y"], axis=axis, keepdims=keep,
                                          select_last_index=last)]
                path = save(tmp_path, nodes, [vi("x", elem, [3, 4, 5])],
                            [vi("y", TensorProto.INT64, None)])
                (ours,) = run_onnx(path, {"x": x})
                (ref,) = reference_session(path).run(None, {"x": x})
                np.testing.assert_array_equal(ours, ref, err_msg=f"{axis=} {keep=} {last=}")


def test_size(tmp_path, rng):
    nodes = [helper.make_node("Size", ["x"], ["y"])]
    path = save(tmp_path, nodes, [vi("x", TensorProto.FLOAT, [3, 4, 5])],
                [vi("y", TensorProto.INT64, [])])
    compare(path, {"x": rng.standard_normal((3, 4, 5)).astype(np.float32)})


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 4, 3, 3)])
def test_instance_normalization(tmp_path, shape, rng):
    F = TensorProto.FLOAT
    c = shape[1]
    nodes = [helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-3)]
    path = save(tmp_path, nodes, [vi("x", F, list(shape)), vi("s", F, [c]), vi("b", F, [c])],
                [vi("y", F, list(shape))])
    compare(path, {"x": (rng.standard_normal(shape) * 3 + 1).astype(np.float32),
                   "s": rng.standard_normal(c).astype(np.float32),
                   "b": rng.standard_normal(c).astype(np.float32)}, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("opset", [18, 21])
def test_group_normalization(tmp_path, opset, rng):
    """Opset 21: scale and bias per channel; 18: per group (numpy reference,
    as the opset-18 definition reads)."""
    F = TensorProto.FLOAT
    n, c, g, h, w = 2, 6, 3, 4, 3
    k = c if opset >= 21 else g
    nodes = [helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=g,
                              epsilon=1e-4)]
    path = save(tmp_path, nodes, [vi("x", F, [n, c, h, w]), vi("s", F, [k]), vi("b", F, [k])],
                [vi("y", F, [n, c, h, w])], opset=opset)
    x = (rng.standard_normal((n, c, h, w)) * 2 - 1).astype(np.float32)
    s = rng.standard_normal(k).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    (ours,) = run_onnx(path, {"x": x, "s": s, "b": b})
    xg = x.reshape(n, g, -1).astype(np.float64)
    norm = (xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-4)
    if opset >= 21:
        want = norm.reshape(n, c, h, w) * s[None, :, None, None] + b[None, :, None, None]
    else:
        want = (norm * s[None, :, None] + b[None, :, None]).reshape(n, c, h, w)
    np.testing.assert_allclose(ours, want, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("elem", [TensorProto.INT32, TensorProto.INT64, TensorProto.INT8])
def test_integer_division_cannot_trap(tmp_path, elem):
    """Div truncates; a zero divisor gives 0 (numpy's result; ONNX leaves it
    undefined) and INT_MIN / -1 wraps to INT_MIN; Mod by 0 gives 0 and
    INT_MIN mod -1 is 0. None of them may trap (SIGFPE on x86)."""
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    lo = int(np.iinfo(dtype).min)
    a = np.array([7, -7, 7, -7, 5, lo, lo, 0, lo], dtype)
    b = np.array([2, 2, -2, -2, 0, -1, 0, 0, 1], dtype)
    nodes = [helper.make_node("Div", ["a", "b"], ["q"]),
             helper.make_node("Mod", ["a", "b"], ["r"], fmod=1),
             helper.make_node("Mod", ["a", "b"], ["m"], fmod=0)]
    path = save(tmp_path, nodes, [vi("a", elem, [9]), vi("b", elem, [9])],
                [vi("q", elem, [9]), vi("r", elem, [9]), vi("m", elem, [9])])
    q, r, m = run_onnx(path, {"a": a, "b": b})
    np.testing.assert_array_equal(q, np.array([3, -3, -3, 3, 0, lo, 0, 0, lo], dtype))
    np.testing.assert_array_equal(r, np.array([1, -1, 1, -1, 0, 0, 0, 0, 0], dtype))
    np.testing.assert_array_equal(m, np.array([1, 1, -1, -1, 0, 0, 0, 0, 0], dtype))


def test_gather_clamps_out_of_range_indices(tmp_path, rng):
    """ONNX calls an index outside the axis an error; Lowbit clamps it (after
    counting negative ones from the end) so that it cannot read outside the
    data: 5 -> 3, -1 -> 3, -7 -> -3 -> 0 on an axis of 4."""
    F, I = TensorProto.FLOAT, TensorProto.INT64
    data = rng.standard_normal((4, 3)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["x", "i"], ["y"], axis=0)]
    path = save(tmp_path, nodes, [vi("x", F, [4, 3]), vi("i", I, [4])], [vi("y", F, [4, 3])])
    (ours,) = run_onnx(path, {"x": data, "i": np.array([5, -1, -7, 1], np.int64)})
    np.testing.assert_array_equal(ours, data[[3, 3, 0, 1]])


@pytest.mark.parametrize("reduction", ["none", "add", "max"])
def test_scatter_nd(tmp_path, reduction, rng):
    """Against onnxruntime (optimizations off): tuples of length 1 and 2 into
    [4, 3, 5], a negative index; with a reduction, a repeated index too."""
    F, I = TensorProto.FLOAT, TensorProto.INT64
    data = rng.standard_normal((4, 3, 5)).astype(np.float32)
    for idx in (np.array([[2], [-1]], np.int64), np.array([[[0, 1], [3, 2]], [[1, 0], [2, -2]]], np.int64)):
        if reduction != "none":
            idx = np.concatenate([idx, idx[:1]], axis=0) if idx.ndim == 2 else idx
            if idx.ndim == 3:
                idx[1, 1] = idx[0, 0]
        upd_shape = idx.shape[:-1] + data.shape[idx.shape[-1]:]
        upd = rng.standard_normal(upd_shape).astype(np.float32)
        attrs = {} if reduction == "none" else {"reduction": reduction}
        nodes = [helper.make_node("ScatterND", ["x", "i", "u"], ["y"], **attrs)]
        path = save(tmp_path, nodes, [vi("x", F, [4, 3, 5]), vi("i", I, list(idx.shape)),
                                      vi("u", F, list(upd_shape))], [vi("y", F, [4, 3, 5])],
                    opset=18)
        compare(path, {"x": data, "i": idx, "u": upd}, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op,attrs,wshape", [
    ("Conv", dict(pads=[1, 2], strides=[2], dilations=[2]), (6, 4, 3)),
    ("Conv", dict(group=4, auto_pad="SAME_UPPER"), (4, 1, 3)),
    ("ConvTranspose", dict(strides=[2], pads=[1, 0], output_padding=[1]), (4, 3, 3)),
    ("MaxPool", dict(kernel_shape=[3], strides=[2], pads=[1, 1]), None),
    ("AveragePool", dict(kernel_shape=[2], strides=[1], pads=[0, 1], count_include_pad=1), None),
])
def test_one_d_windows(tmp_path, op, attrs, wshape, rng):
    """1-D convolutions and pools (lifted to their 2-D forms, Lift1D.cpp)
    against onnxruntime with optimizations off."""
    F = TensorProto.FLOAT
    x = rng.standard_normal((2, 4, 11)).astype(np.float32)
    feeds, inputs = {"x": x}, [vi("x", F, [2, 4, 11])]
    names = ["x"]
    if wshape:
        feeds["w"] = rng.standard_normal(wshape).astype(np.float32)
        inputs.append(vi("w", F, list(wshape)))
        names.append("w")
    nodes = [helper.make_node(op, names, ["y"], **attrs)]
    path = save(tmp_path, nodes, inputs, [vi("y", F, None)])
    compare(path, feeds, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("elem", [TensorProto.FLOAT, TensorProto.INT64])
@pytest.mark.parametrize("largest", [1, 0])
def test_topk(tmp_path, elem, largest, rng):
    """Against onnxruntime (optimizations off): both axes, ties (small
    integer values) resolved to the lower index, K of 1 and of 3."""
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    x = rng.integers(-4, 5, (3, 7)).astype(dtype)
    for axis, k in ((1, 3), (0, 1), (-1, 1)):
        nodes = [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=axis, largest=largest)]
        kk = numpy_helper.from_array(np.array([k], np.int64), "k")
        path = save(tmp_path, nodes, [vi("x", elem, [3, 7])],
                    [vi("v", elem, None), vi("i", TensorProto.INT64, None)], inits=[kk])
        ours = run_onnx(path, {"x": x})
        ref = reference_session(path).run(None, {"x": x})
        for o, r in zip(ours, ref):
            np.testing.assert_array_equal(o, r, err_msg=f"{axis=} {k=}")


@pytest.mark.parametrize("eq,shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("i,i", [(5,), (5,)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("ii->i", [(4, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
])
def test_einsum(tmp_path, eq, shapes, rng):
    """Against onnxruntime (optimizations off): contractions, transposes,
    full and partial sums, a diagonal, implicit output."""
    F = TensorProto.FLOAT
    names = [f"x{i}" for i in range(len(shapes))]
    feeds = {n: rng.standard_normal(s).astype(np.float32) for n, s in zip(names, shapes)}
    nodes = [helper.make_node("Einsum", names, ["y"], equation=eq)]
    path = save(tmp_path, nodes, [vi(n, F, list(s)) for n, s in zip(names, shapes)],
                [vi("y", F, None)])
    compare(path, feeds, rtol=1e-5, atol=1e-5)
