"""Lowbit's Python side: runs the tools, emits MLIR from numpy, real models.

The Debian LLVM packages carry no MLIR Python bindings, so this package drives
the command-line tools (quant-opt, mlir-runner) and will bind Lowbit's own
runtime C ABI once it exists.
"""

__version__ = "0.1.0"
