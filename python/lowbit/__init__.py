"""Lowbit from Python: compile models, load and run the artifacts, measure
them.

    import lowbit
    art = lowbit.compile("model.onnx", "out/", {"input_ids": (1, 512)},
                         method="rtn", bits=4, group=128)
    with lowbit.load(art) as m:
        logits, = m.run(input_ids=ids)
    ppl, n = lowbit.evaluate.perplexity(lambda x: m.run(input_ids=x)[0], ids, windows=4)

The Debian LLVM packages carry no MLIR Python bindings: `compile` runs
quant-compile, and `load` binds the runtime's C ABI with ctypes. The real
models used for measurements are in `lowbit.models`, the test
infrastructure in `lowbit.testing`.
"""

from . import evaluate
from .compiler import compile, compile_onnx
from .runtime import LoadOptions, LowbitError, Model, load
from .tools import ToolError

__version__ = "0.1.0"

__all__ = ["compile", "compile_onnx", "evaluate", "load", "LoadOptions", "LowbitError",
           "Model", "ToolError"]
