"""Running Lowbit's tools and the upstream tools it relies on (paths come
from `config`)."""

import re
import subprocess
from pathlib import Path

import numpy as np

from . import config


class ToolError(RuntimeError):
    """A tool exited non-zero; the message carries its stderr."""


def build_dir() -> Path:
    """The tree holding Lowbit's tools (config.build_dir)."""
    return config.build_dir()


def tool(name: str) -> Path:
    """Path of a Lowbit tool (quant-opt, ...) or an LLVM tool (mlir-runner)."""
    for candidate in (build_dir() / "bin" / name, config.llvm_bin() / name):
        if candidate.exists():
            return candidate
    raise ToolError(f"{name}: not found in {build_dir() / 'bin'} or {config.llvm_bin()}; "
                    "build Lowbit first (scripts/build.sh)")


def _unlimited_stack():
    # LLVM's analyses recurse deeply on the very large single functions the
    # reference lowering of a whole model produces.
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))


def run(args, input_text=None, big_stack=False):
    """Runs a command, returns stdout; raises ToolError with stderr on failure."""
    proc = subprocess.run([str(a) for a in args], input=input_text,
                          capture_output=True, text=True,
                          preexec_fn=_unlimited_stack if big_stack else None)
    if proc.returncode != 0:
        cmd = " ".join(str(a) for a in args[:3])
        raise ToolError(f"{cmd} ... failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stdout


def quant_opt(mlir_path, *flags) -> str:
    """Runs quant-opt on a file with the given flags, returns the output IR."""
    return run([tool("quant-opt"), mlir_path, *flags])


def run_mlir(mlir_text: str, entry: str = "main") -> str:
    """Lowers IR through the reference pipeline and runs it with mlir-runner."""
    lowered = run([tool("quant-opt"), "-", "--lowbit-reference-pipeline"],
                  input_text=mlir_text)
    libs = ",".join(str(config.llvm_lib() / f) for f in
                    ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
    return run([tool("mlir-runner"), "-e", entry, "-entry-point-result=void",
                f"-shared-libs={libs}"], input_text=lowered, big_stack=True)


_MEMREF = re.compile(r"Unranked Memref .*?sizes = \[([0-9, ]*)\].*?data =\s*(.*?)(?=Unranked Memref|\Z)",
                     re.S)


def parse_printed_memrefs(text: str):
    """Parses every printMemref block of mlir-runner output into arrays
    (int64 where every value is an integer, float64 otherwise)."""
    arrays = []
    for sizes, data in _MEMREF.findall(text):
        shape = tuple(int(s) for s in sizes.split(",") if s.strip())
        numbers = re.findall(r"[-+]?(?:nan|inf|\d+\.?\d*(?:[eE][-+]?\d+)?)", data)
        # Integers (the bit patterns of f64 results among them) stay exact:
        # through float64 they would lose every bit past the 53rd.
        if all(re.fullmatch(r"[-+]?\d+", n) for n in numbers):
            values = np.array([int(n) for n in numbers], dtype=np.int64)
        else:
            values = np.array([float(n) for n in numbers], dtype=np.float64)
        arrays.append(values.reshape(shape))
    return arrays
