"""Writes the small ONNX models the importer tests read.

    python onnx_models.py CASE OUT.onnx

Each case is a function below; models are built with onnx.helper at test
time so no binary files live in git.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def model(nodes, inputs, outputs, inits=(), value_info=(), opsets=OPSET, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits),
                              value_info=list(value_info))
    return helper.make_model(graph, opset_imports=opsets)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def mlp(out):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.arange(8, dtype=np.float32), "b")
    w2 = numpy_helper.from_array(rng.standard_normal((4, 8)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
        helper.make_node("Add", ["xw", "b"], ["h"], name="add"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "w2"], ["y"], name="fc2", transB=1, alpha=0.5),
    ]
    m = model(nodes, [vi("x", TensorProto.FLOAT, ["batch", 16])],
              [vi("y", TensorProto.FLOAT, ["batch", 4])], [w, b, w2])
    onnx.save(m, out)


def attributes(out):
    t = numpy_helper.from_array(np.array([[1, 2], [3, 4]], dtype=np.int64), "c")
    nodes = [
        helper.make_node("Constant", [], ["k"], name="const", value=t),
        helper.make_node("Cast", ["k"], ["kf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["kf"], ["kt"], name="tr", perm=[1, 0]),
        helper.make_node("LeakyRelu", ["kt"], ["l"], name="lrelu", alpha=0.25),
        helper.make_node("Custom", ["l"], ["y"], name="custom", domain="lowbit.test",
                         names=["a", "b"], scales=[0.5, 2.0], mode="fast"),
    ]
    m = model(nodes, [], [vi("y", TensorProto.FLOAT, [2, 2])],
              value_info=[vi("l", TensorProto.FLOAT, [2, 2])],
              opsets=OPSET + [helper.make_opsetid("lowbit.test", 1)])
    onnx.save(m, out)


def optional_and_unsorted(out):
    # Clip with an absent min (empty input name), nodes listed out of order.
    nodes = [
        helper.make_node("Neg", ["c"], ["y"], name="last"),
        helper.make_node("Clip", ["x", "", "hi"], ["c"], name="clip"),
    ]
    hi = numpy_helper.from_array(np.array(6.0, dtype=np.float32), "hi")
    m = model(nodes, [vi("x", TensorProto.FLOAT, [3])], [vi("y", TensorProto.FLOAT, [3])],
              [hi])
    onnx.save(m, out)


def shape_inference(out):
    # No value_info: the importer's shape inference types the middle values.
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("ReduceSum", ["r"], ["s"], name="sum", keepdims=0),
             helper.make_node("Unsqueeze", ["s", "axes"], ["y"], name="unsq")]
    axes = numpy_helper.from_array(np.array([0], dtype=np.int64), "axes")
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2, 3])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [axes])
    onnx.save(m, out)


def empty_initializer(out):
    # A zero-element initializer stored as typed data (found by the fuzzer:
    # importing it copied zero bytes from a null pointer).
    e = raw_tensor("e", TensorProto.FLOAT, [0, 4])
    nodes = [helper.make_node("Concat", ["x", "e"], ["y"], name="cat", axis=0)]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2, 4])], [vi("y", TensorProto.FLOAT, [2, 4])], [e])
    onnx.save(m, out)


def external(out):
    w = numpy_helper.from_array(np.arange(256, dtype=np.float32).reshape(16, 16), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [1, 16])], [vi("y", TensorProto.FLOAT, [1, 16])], [w])
    onnx.save(m, out, save_as_external_data=True, all_tensors_to_one_file=True,
              location=os.path.basename(out) + ".data", size_threshold=0)


def external_missing(out):
    external(out)
    os.remove(out + ".data")


def external_short(out):
    external(out)
    with open(out + ".data", "r+b") as f:
        f.truncate(100)


def truncated(out):
    mlp(out)
    data = open(out, "rb").read()
    open(out, "wb").write(data[: len(data) // 2])


def garbage(out):
    open(out, "wb").write(bytes(range(7, 250, 3)) * 5)


def cycle(out):
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="first"),
             helper.make_node("Neg", ["a"], ["b"], name="second"),
             helper.make_node("Add", ["x", "a"], ["y"], name="use")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])],
              value_info=[vi("a", TensorProto.FLOAT, [2]), vi("b", TensorProto.FLOAT, [2])])
    onnx.save(m, out)


def dangling(out):
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add"),
             helper.make_node("Mul", ["y", "phantom"], ["z"], name="mul")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("z", TensorProto.FLOAT, [2])],
              value_info=[vi("y", TensorProto.FLOAT, [2])])
    onnx.save(m, out)


def raw_tensor(name, elem, dims, raw=None, int64s=None):
    # Built by hand: onnx.helper refuses inconsistent tensors.
    t = TensorProto()
    t.name, t.data_type = name, elem
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if int64s is not None:
        t.int64_data.extend(int64s)
    return t


def bad_initializer(out):
    w = raw_tensor("w", TensorProto.FLOAT, [4, 4], raw=b"\0" * 60)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [1, 4])], [vi("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(m, out)


def bad_typed_initializer(out):
    w = raw_tensor("w", TensorProto.INT64, [3], int64s=[1, 2])
    nodes = [helper.make_node("Reshape", ["x", "w"], ["y"], name="reshape")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [6])], [vi("y", TensorProto.FLOAT, [1, 2, 3])], [w])
    onnx.save(m, out)


def untyped(out):
    nodes = [helper.make_node("Mystery", ["x"], ["m"], name="mystery", domain="lowbit.test"),
             helper.make_node("Neg", ["m"], ["y"], name="neg")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])],
              opsets=OPSET + [helper.make_opsetid("lowbit.test", 1)])
    onnx.save(m, out)


def too_few_inputs(out):
    # Add with one input, Unsqueeze (opset 13: data and axes) with none.
    nodes = [helper.make_node("Add", ["x"], ["y"], name="add"),
             helper.make_node("Unsqueeze", [], ["z"], name="unsq")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])],
              value_info=[vi("z", TensorProto.FLOAT, [1, 2])])
    onnx.save(m, out)


def schema_mismatch(out):
    # A Scan without its required 'body' (and an empty first input): libonnx's
    # Scan inference dereferences the missing pieces (a fuzzer find), so the
    # importer checks every node against its schema before inference.
    nodes = [helper.make_node("Scan", ["", "x"], ["y"], name="scan")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2, 3])], [vi("y", TensorProto.FLOAT, None)])
    onnx.save(m, out)


def unknown_domain(out):
    nodes = [helper.make_node("Gelu", ["x"], ["y"], name="gelu", domain="com.microsoft")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])])
    onnx.save(m, out)


def duplicate_output(out):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="a"),
             helper.make_node("Neg", ["x"], ["y"], name="b")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])])
    onnx.save(m, out)


def string_tensor(out):
    s = helper.make_tensor("s", TensorProto.STRING, [1], [b"hi"])
    nodes = [helper.make_node("Identity", ["s"], ["y"], name="id")]
    m = model(nodes, [], [vi("y", TensorProto.STRING, [1])], [s])
    onnx.save(m, out)


def subgraph(out):
    then_g = helper.make_graph([helper.make_node("Neg", ["x"], ["t"])], "then", [],
                               [vi("t", TensorProto.FLOAT, [2])])
    else_g = helper.make_graph([helper.make_node("Relu", ["x"], ["e"])], "else", [],
                               [vi("e", TensorProto.FLOAT, [2])])
    nodes = [helper.make_node("If", ["cond"], ["y"], name="branch",
                              then_branch=then_g, else_branch=else_g)]
    m = model(nodes, [vi("cond", TensorProto.BOOL, []), vi("x", TensorProto.FLOAT, [2])],
              [vi("y", TensorProto.FLOAT, [2])])
    onnx.save(m, out)


def no_default_opset(out):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])],
              opsets=[helper.make_opsetid("lowbit.test", 1)])
    onnx.save(m, out)


def shape_subgraph(out):
    """An exporter's reshape target and position range computed from the
    input's shape: x [batch, seq, 8] -> [batch, seq, 2, 4], and positions
    0..seq-1 added as floats."""
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="batch", axis=0),
        helper.make_node("Gather", ["shape", "one"], ["seq"], name="seq", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="batch1"),
        helper.make_node("Unsqueeze", ["seq", "axes0"], ["seq1"], name="seq1"),
        helper.make_node("Concat", ["batch1", "seq1", "heads"], ["target"],
                         name="target", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"], name="split_heads"),
        helper.make_node("Range", ["zero", "seq", "one"], ["pos"], name="positions"),
        helper.make_node("Cast", ["pos"], ["posf"], name="posf", to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["posf", "axes1"], ["pos2"], name="pos2"),
        helper.make_node("Add", ["x", "pos2"], ["z"], name="add_pos"),
    ]
    inits = [i64("zero", 0), i64("one", 1), i64("axes0", [0]), i64("axes1", [1]),
             i64("heads", [2, 4])]
    m = model(nodes, [vi("x", TensorProto.FLOAT, ["batch", "seq", 8])],
              [vi("y", TensorProto.FLOAT, None), vi("z", TensorProto.FLOAT, None)], inits)
    onnx.save(m, out)


def runtime_axes(out):
    """Shape arguments given at run time: Slice starts [2] and ends [n]
    (int64 graph inputs), and a scalar float factor."""
    nodes = [helper.make_node("Slice", ["x", "starts", "ends"], ["s"], name="slice"),
             helper.make_node("Mul", ["s", "alpha"], ["y"], name="scale")]
    m = model(nodes, [vi("x", TensorProto.FLOAT, [4, 8]), vi("starts", TensorProto.INT64, [2]),
                      vi("ends", TensorProto.INT64, ["n"]), vi("alpha", TensorProto.FLOAT, [])],
              [vi("y", TensorProto.FLOAT, None)], opsets=[helper.make_opsetid("", 13)])
    onnx.save(m, out)


if __name__ == "__main__":
    case, out = sys.argv[1], sys.argv[2]
    globals()[case](out)
