"""AArch64 artifacts under qemu-aarch64: the runtime cross-built with its
raw-file example driver, and a helper that runs an artifact on numpy
arrays through it."""
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .. import config


def build_aarch64_driver(out_dir) -> Path:
    """Cross-builds runtime/examples/lowbit_run_raw for AArch64 (the driver
    that runs --target=aarch64 artifacts under qemu-aarch64) into out_dir."""
    for t in ("aarch64-linux-gnu-g++", "aarch64-linux-gnu-gcc", "qemu-aarch64-static"):
        if not shutil.which(t):
            raise RuntimeError(f"{t} missing: run scripts/setup.sh")
    out_dir = Path(out_dir)
    runtime = config.runtime_sources()
    driver = out_dir / "lowbit_run_raw"
    objects = []
    for src in sorted((runtime / "src").glob("*.cpp")):
        obj = out_dir / (src.stem + ".o")
        subprocess.run(["aarch64-linux-gnu-g++", "-O2", "-std=c++17", "-DLOWBIT_RUNTIME_BUILD",
                        f"-I{runtime / 'include'}", "-c", str(src),
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
