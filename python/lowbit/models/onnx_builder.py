"""A small helper over onnx.helper for the model exporters."""

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

OPSET = 17


class GraphBuilder:
    """Small helper over onnx.helper: unique names, constants, nodes."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array, name=None):
        name = name or self.name("const")
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, name=None, outputs=1, **attrs):
        name = name or self.name(op_type.lower())
        outs = [f"{name}_out{i}" if outputs > 1 else f"{name}_out" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs if outputs > 1 else outs[0]

    def model(self, name, inputs, outputs, producer) -> onnx.ModelProto:
        """The graph as a shape-inferred opset-17 model. `inputs` and
        `outputs` are (name, elem type, shape) triples."""
        vi = lambda v: helper.make_tensor_value_info(*v)
        graph = helper.make_graph(self.nodes, name, [vi(v) for v in inputs],
                                  [vi(v) for v in outputs], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=producer)
        m.ir_version = 8
        return onnx.shape_inference.infer_shapes(m)


def save_with_external_data(model: onnx.ModelProto, out: Path) -> Path:
    """Writes out/model.onnx with every tensor over 1 KiB in
    out/model.onnx.data, checks it, and returns the model path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=1024)
    onnx.checker.check_model(str(path))
    return path
