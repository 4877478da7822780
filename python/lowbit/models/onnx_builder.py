"""A small helper over onnx.helper for the model exporters."""

import numpy as np
from onnx import helper, numpy_helper


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
