"""Runs an ONNX model through Lowbit's reference path: import
(quant-translate), convert-onnx-to-core, the reference lowering to LLVM and
mlir-runner. Slow (scalar loops) and exact: the numerics baseline that the
compiled artifacts of later issues are held to, and a way to compare the
importer with onnxruntime op by op.
"""

import re
from pathlib import Path

import numpy as np

from . import tools
from .mlir_emit import ResourceWriter, tensor_type

def import_onnx(path, *flags) -> str:
    return tools.run([tools.tool("quant-translate"), "--import-onnx", path, *flags])


def run_onnx(path, feeds: dict):
    """Runs model `path` on `feeds` (name -> array, in the graph's input
    order); returns the outputs (float32 exactly, or int64)."""
    ir = import_onnx(path)
    core = tools.run([tools.tool("quant-opt"), "-", "--convert-onnx-to-core"], input_text=ir)
    sig = re.search(r"func\.func @main\((.*?)\)\s*->\s*\(?(.*?)\)?\s*\{\n", core)
    if not sig:
        raise tools.ToolError("no @main in the imported module")
    arg_types = re.findall(r"%arg\d+: (tensor<[^>]*>)", sig.group(1))
    result_types = re.findall(r"tensor<[^>]*>", sig.group(2))
    if len(arg_types) != len(feeds):
        raise ValueError(f"model has {len(arg_types)} inputs, got {len(feeds)}")
    r = ResourceWriter()
    lines = ["func.func @__lowbit_run() {"]
    args = []
    for i, (name, value) in enumerate(feeds.items()):
        value = np.require(np.asarray(value), requirements="C")
        lines.append(f"  %in{i}s = arith.constant {r.constant(f'feed_{i}', value)}")
        lines.append(f"  %in{i} = tensor.cast %in{i}s : {tensor_type(value)} to {arg_types[i]}")
        args.append(f"%in{i}")
    results = ", ".join(f"%out{i}" for i in range(len(result_types)))
    lines.append(f"  {results} = func.call @main({', '.join(args)}) : "
                 f"({', '.join(arg_types)}) -> ({', '.join(result_types)})")
    decls = set()
    kinds = []
    for i, t in enumerate(result_types):
        elem = t[len("tensor<"):-1].split("x")[-1]
        # f32 results are printed as their i32 bit patterns: exact, unlike
        # printMemrefF32's 6 significant digits.
        if elem == "f32":
            bits = t[: -len("f32>")] + "i32>"
            lines.append(f"  %b{i} = arith.bitcast %out{i} : {t} to {bits}")
            src, t, elem = f"%b{i}", bits, "i32"
            kinds.append("f32")
        elif elem in ("f64", "f16", "bf16"):
            # Bit patterns again: f64 as i64; f16/bf16 as i16 widened to i32.
            ibits = {"f64": "i64", "f16": "i16", "bf16": "i16"}[elem]
            bt = t[: -len(elem + ">")] + ibits + ">"
            lines.append(f"  %b{i} = arith.bitcast %out{i} : {t} to {bt}")
            src, t = f"%b{i}", bt
            if ibits == "i16":
                wide = bt[: -len("i16>")] + "i32>"
                lines.append(f"  %w{i} = arith.extui %b{i} : {bt} to {wide}")
                src, t = f"%w{i}", wide
            kinds.append(elem)
            elem = "i64" if ibits == "i64" else "i32"
        elif elem in ("i64", "i32"):
            src = f"%out{i}"
            kinds.append(elem)
        elif elem in ("i1", "i2", "i4", "i8", "i16"):
            # Widened to i32 for printing (booleans zero-extended).
            wide = t[: -len(elem + ">")] + "i32>"
            op = "arith.extui" if elem == "i1" else "arith.extsi"
            lines.append(f"  %w{i} = {op} %out{i} : {t} to {wide}")
            src, t = f"%w{i}", wide
            kinds.append("bool" if elem == "i1" else "i8" if elem in ("i2", "i4") else elem)
            elem = "i32"
        printer = {"i64": "printMemrefI64", "i32": "printMemrefI32"}[elem]
        lines.append(f"  %u{i} = tensor.cast {src} : {t} to tensor<*x{elem}>")
        lines.append(f"  func.call @{printer}(%u{i}) : (tensor<*x{elem}>) -> ()")
        decls.add(f"func.func private @{printer}(tensor<*x{elem}>)")
    lines += ["  return", "}"]
    # Splice the driver into the module (before its closing brace and any
    # resource section), and merge our blobs into its resources.
    body, sep, resources = core.partition("\n{-#")
    body = body.rstrip()
    assert body.endswith("}")
    driver = "\n".join(sorted(decls) + lines)
    module = body[:-1] + driver + "\n}\n"
    ours = r.section() if r.blobs else ""
    if sep and ours:
        # Insert our blob entries into the existing builtin resource block.
        entries = ours.split("builtin: {\n", 1)[1].rsplit("\n    }", 1)[0]
        resources = resources.replace("builtin: {\n", "builtin: {\n" + entries + ",\n", 1)
        module += "\n{-#" + resources
    elif sep:
        module += "\n{-#" + resources
    else:
        module += ours
    out = tools.run_mlir(module, entry="__lowbit_run")
    arrays = tools.parse_printed_memrefs(out)
    convert = {"f32": lambda a: a.astype(np.int32).view(np.float32),
               "f64": lambda a: a.astype(np.int64).view(np.float64),
               "f16": lambda a: a.astype(np.uint16).view(np.float16),
               "bf16": lambda a: (a.astype(np.uint32) << 16).view(np.float32),
               "bool": lambda a: a.astype(bool),
               "i8": lambda a: a.astype(np.int8), "i16": lambda a: a.astype(np.int16),
               "i32": lambda a: a.astype(np.int32), "i64": lambda a: a.astype(np.int64)}
    outs = [convert[k](a) for a, k in zip(arrays, kinds)]
    # Integers come back signless: the model's output types give signedness.
    dtypes = output_dtypes(path)
    result = []
    for o, d in zip(outs, dtypes):
        if d is not None and d.name in ("uint4", "uint2"):
            o = o.astype(np.int64) & ((1 << int(d.name[-1])) - 1)
        if d is not None and (d.kind in "iu" or d.name in ("int4", "uint4", "int2", "uint2")) \
                and o.dtype.kind in "iu":
            o = o.astype(d)
        result.append(o)
    return result


def output_dtypes(path):
    """The numpy dtypes of the model's graph outputs (None where unknown)."""
    import onnx
    from onnx import helper
    model = onnx.load(str(path), load_external_data=False)
    out = []
    for o in model.graph.output:
        t = o.type.tensor_type.elem_type if o.type.HasField("tensor_type") else 0
        try:
            out.append(np.dtype(helper.tensor_dtype_to_np_dtype(t)))
        except Exception:
            out.append(None)
    return out
