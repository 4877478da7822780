"""Writes the seed corpora of the fuzz targets into tools/fuzz/corpus/<target>/.

    .venv/bin/python tools/fuzz/make_corpus.py [--artifact DIR]

Seeds are small valid and nearly valid inputs of each reader, and (named
crash-*) the inputs of crashes found and fixed: test/Fuzz/replay.test runs
every file here through its target in each CI run. --artifact DIR adds the manifest and metadata of a compiled
artifact (runtime/src/metadata.h's input: manifest, NUL, metadata text).
The corpora are committed; scripts/fuzz.sh grows working copies of them
outside the source tree.
"""
import argparse
import ctypes
import json
import struct
import sys
from pathlib import Path

import numpy as np

root = Path(__file__).resolve().parents[2]
corpus = root / "tools" / "fuzz" / "corpus"


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def npy_bytes(a):
    import io
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def npy():
    put("npy-fuzzer", "f32-2x3.npy", npy_bytes(np.arange(6, dtype=np.float32).reshape(2, 3)))
    put("npy-fuzzer", "i64-scalar.npy", npy_bytes(np.array(7, dtype=np.int64)))
    put("npy-fuzzer", "u8-empty.npy", npy_bytes(np.zeros((0, 4), dtype=np.uint8)))
    put("npy-fuzzer", "f16-4.npy", npy_bytes(np.ones(4, dtype=np.float16)))
    put("npy-fuzzer", "bool-3.npy", npy_bytes(np.array([True, False, True])))
    good = npy_bytes(np.arange(4, dtype=np.float32))
    put("npy-fuzzer", "truncated.npy", good[:-3])
    fortran = npy_bytes(np.asfortranarray(np.ones((2, 2), dtype=np.float32)))
    put("npy-fuzzer", "fortran.npy", fortran)
    # Version 2 header (4-byte length).
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    header += b" " * ((16 - (12 + len(header) + 1) % 16) % 16) + b"\n"
    put("npy-fuzzer", "v2.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header
        + np.ones(2, np.float32).tobytes())


def recipes():
    put("recipe-fuzzer", "minimal.yaml", "method: rtn\nbits: 4\n")
    put("recipe-fuzzer", "full.yaml", """method: gptq
bits: 4
format: int
group: 128
symmetric: true
clip_search: false
scale_rule: extreme
damp: 0.1
block_size: 128
act_order: true
outlier_fraction: 0.005
include: ''
exclude: 'embed|lm_head'
calibration: {samples: 16, passes: 2}
activations: f32
kernels: dequant
smooth: {method: awq, alpha_grid: 20}
rotate: {kind: hadamard, seed: 3}
rules:
  - match: 'down_proj'
    bits: 8
    method: rtn
  - match: 'layers\\.0\\.'
    skip: true
""")
    put("recipe-fuzzer", "allocate.yaml", """method: gptq
allocate: {budget: 'bpw:3.25', bits: [2, 3, 4, 8], groups: [64, 128, 0],
           outlier_fractions: [0, 0.01], time_limit: 5, sensitivity_samples: 1}
rules:
  - match: 'lm_head'
    skip: true
""")
    put("recipe-fuzzer", "json.json", json.dumps(
        {"method": "rtn", "bits": 3, "group": 64, "format": "int",
         "rules": [{"match": "q_proj", "bits": 5}]}))
    put("recipe-fuzzer", "nf4.yaml", "method: rtn\nformat: nf4\ngroup: 64\nsmooth: {method: smoothquant, alpha: 0.5}\n")
    put("recipe-fuzzer", "bad-type.yaml", "bits: [4]\n")
    put("recipe-fuzzer", "bad-regex.yaml", "include: '(('\n")


def calibration_stats():
    def stats(sites, tail=b""):
        header = {"format": 1, "model": "fuzz (rotation: none)", "samples": 2,
                  "sites": [{"name": n, "channels": c, "rows": 4} for n, c in sites]}
        text = json.dumps(header)
        while (16 + len(text)) % 8:
            text += " "
        body = b""
        for _, c in sites:
            body += np.ones(4 * c, np.float32).tobytes() + np.eye(c, dtype=np.float32).tobytes()
        return b"LBCALIB1" + struct.pack("<Q", len(text)) + text.encode() + body + tail
    put("calibration-stats-fuzzer", "two-sites.lbcal", stats([("a", 2), ("b", 3)]))
    put("calibration-stats-fuzzer", "one-site.lbcal", stats([("mm", 4)]))
    put("calibration-stats-fuzzer", "trailing.lbcal", stats([("a", 1)], tail=b"xx"))
    put("calibration-stats-fuzzer", "no-sites.lbcal", stats([]))


def onnx_models():
    import subprocess
    gen = root / "test" / "Import" / "ONNX" / "Inputs" / "onnx_models.py"
    out = corpus / "onnx-import-fuzzer"
    out.mkdir(parents=True, exist_ok=True)
    for case in ["mlp", "attributes", "optional_and_unsorted", "shape_inference", "cycle",
                 "dangling", "bad_initializer", "untyped", "subgraph", "shape_subgraph"]:
        subprocess.run([sys.executable, str(gen), case, str(out / f"{case}.onnx")], check=True)
    for extra in out.glob("*.data"):
        extra.unlink()  # external data files are not models


def regressions():
    # A site claiming 2^17 channels in a file without its data: the reader
    # allocated the C x C Hessian (128 GiB) before checking the size.
    header = json.dumps({"format": 1, "model": "m", "samples": 1,
                         "sites": [{"name": "big", "channels": 131072, "rows": 1}]})
    while (16 + len(header)) % 8:
        header += " "
    put("calibration-stats-fuzzer", "crash-huge-site.lbcal",
        b"LBCALIB1" + struct.pack("<Q", len(header)) + header.encode())
    # Initializers whose dims overflow int64 element counts, or are negative
    # (importer crashes found by the fuzzer in an earlier session).
    import onnx
    from onnx import TensorProto, helper
    for name, dims in [("crash-overflow-dims", [1 << 40, 1 << 40, 1 << 40]),
                       ("crash-negative-dims", [-1, 4])]:
        t = TensorProto()
        t.name, t.data_type = "w", TensorProto.FLOAT
        t.dims.extend(dims)
        t.raw_data = b"\0" * 16
        g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [t])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        put("onnx-import-fuzzer", name + ".onnx", m.SerializeToString())


def artifact(directory):
    d = Path(directory)
    manifest = (d / "manifest.json").read_bytes()
    lib = ctypes.CDLL(str(d / "model.so"))
    lib.lowbit_metadata.restype = ctypes.c_char_p
    put("artifact-fuzzer", f"{d.name}.bin", manifest + b"\0" + lib.lowbit_metadata())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--artifact", action="append", default=[])
    args = p.parse_args()
    npy()
    recipes()
    calibration_stats()
    onnx_models()
    regressions()
    for a in args.artifact:
        artifact(a)


if __name__ == "__main__":
    main()
