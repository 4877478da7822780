"""onnxruntime sessions as test references.

Op-level comparisons use `reference_session` (graph optimizations disabled:
each node runs its own kernel, as the ONNX spec defines it). onnxruntime's
default optimizations rewrite graphs, e.g. fuse QDQ pairs around a MatMul into
an integer matmul whose results are inexact on some CPUs (docs/testing.md); a
reference must not carry such rewrites. Real-model comparisons may use
`optimized_session`, which is what users run; a mismatch there is traced to
one side before any tolerance is widened.
"""
import onnxruntime as ort


def reference_session(path):
    """onnxruntime with ORT_DISABLE_ALL: the op semantics reference."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def optimized_session(path):
    """onnxruntime at its default level (ORT_ENABLE_ALL): what users run."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
