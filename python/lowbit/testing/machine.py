"""What machine a benchmark figure came from: printed beside every table."""
from __future__ import annotations

import platform
from pathlib import Path

# The CPU features Lowbit's kernels choose between (as /proc/cpuinfo names them).
KERNEL_FEATURES = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
                   "amx_tile", "amx_int8", "asimd", "i8mm"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line.split(":", 1)[1].split()
    except OSError:
        pass
    return []


def describe() -> str:
    """`model; features` with the kernel-relevant features the CPU has."""
    flags = cpu_flags()
    have = [f for f in KERNEL_FEATURES if f in flags]
    return f"{cpu_model()}; {' '.join(have) or 'no SIMD flags listed'}"
