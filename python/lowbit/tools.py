"""Locating and running Lowbit's tools and the upstream tools it relies on."""

import os
import re
import subprocess
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
LLVM_BIN = Path("/usr/lib/llvm-22/bin")
LLVM_LIB = Path("/usr/lib/llvm-22/lib")


class ToolError(RuntimeError):
    """A tool exited non-zero; the message carries its stderr."""


def build_dir() -> Path:
    """The build directory: $LOWBIT_BUILD_DIR or <repo>/build."""
    return Path(os.environ.get("LOWBIT_BUILD_DIR", REPO_ROOT / "build"))


def tool(name: str) -> Path:
    """Path of a Lowbit tool (quant-opt, ...) or an LLVM tool (mlir-runner)."""
    for candidate in (build_dir() / "bin" / name, LLVM_BIN / name):
        if candidate.exists():
            return candidate
    raise ToolError(f"{name}: not found in {build_dir() / 'bin'} or {LLVM_BIN}; "
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
    lowered = run([tool("quant-opt"), "-", "--lowbit-reference-to-llvm"],
                  input_text=mlir_text)
    libs = ",".join(str(LLVM_LIB / f) for f in
                    ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
    return run([tool("mlir-runner"), "-e", entry, "-entry-point-result=void",
                f"-shared-libs={libs}"], input_text=lowered, big_stack=True)


_MEMREF = re.compile(r"Unranked Memref .*?sizes = \[([0-9, ]*)\].*?data =\s*(.*?)(?=Unranked Memref|\Z)",
                     re.S)


def parse_printed_memrefs(text: str):
    """Parses every printMemrefF32 block of mlir-runner output into arrays."""
    arrays = []
    for sizes, data in _MEMREF.findall(text):
        shape = tuple(int(s) for s in sizes.split(",") if s.strip())
        numbers = re.findall(r"[-+]?(?:nan|inf|\d+\.?\d*(?:[eE][-+]?\d+)?)", data)
        values = np.array([float(n) for n in numbers], dtype=np.float64)
        arrays.append(values.reshape(shape))
    return arrays


def build_aarch64_driver(out_dir) -> Path:
    """Cross-builds runtime/examples/lowbit_run_raw for AArch64 (the driver
    that runs --target=aarch64 artifacts under qemu-aarch64) into out_dir."""
    import shutil
    for t in ("aarch64-linux-gnu-g++", "aarch64-linux-gnu-gcc", "qemu-aarch64-static"):
        if not shutil.which(t):
            raise RuntimeError(f"{t} missing: run scripts/setup.sh")
    out_dir = Path(out_dir)
    runtime = REPO_ROOT / "runtime"
    driver = out_dir / "lowbit_run_raw"
    objects = []
    for src in ("runtime.cpp", "gpu.cpp", "gpu_reference.cpp"):
        obj = out_dir / src.replace(".cpp", ".o")
        subprocess.run(["aarch64-linux-gnu-g++", "-O2", "-std=c++17", "-DLOWBIT_RUNTIME_BUILD",
                        f"-I{runtime / 'include'}", "-c", str(runtime / "src" / src),
                        "-o", str(obj)], check=True)
        objects.append(str(obj))
    subprocess.run(["aarch64-linux-gnu-gcc", "-O2", f"-I{runtime / 'include'}",
                    str(runtime / "examples" / "lowbit_run_raw.c"), *objects,
                    "-o", str(driver), "-lstdc++", "-ldl"], check=True)
    return driver


def run_under_qemu(driver, artifact, inputs, outputs) -> list:
    """Runs an AArch64 artifact on numpy inputs under qemu-aarch64; `outputs`
    are (shape, dtype) pairs; returns the output arrays."""
    artifact = Path(artifact)
    work = artifact / "qemu-io"
    work.mkdir(exist_ok=True)
    ins, outs = [], []
    for i, a in enumerate(inputs):
        p = work / f"in_{i}.bin"
        np.ascontiguousarray(a).tofile(p)
        ins.append(str(p))
    for i in range(len(outputs)):
        outs.append(str(work / f"out_{i}.bin"))
    subprocess.run(["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", str(driver),
                    str(artifact), *ins, "--", *outs], check=True)
    return [np.fromfile(p, dtype).reshape(shape) for p, (shape, dtype) in zip(outs, outputs)]
