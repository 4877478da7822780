"""The GPU kernels against cuBLAS FP16 and the HBM bandwidth.

Two steps, because the GPU machine (the `device` tool) gets a copy of the
working tree and at most 64 MiB of built files, and cannot compile:

    .venv/bin/python bench/gpu/run.py prepare out/gpu [--shapes 4096x4096]
        [--rows 1,4,16,128,2048] [--target cuda-sm90]
  (here) compiles, per shape K x N, one CUDA artifact whose entry runs a
  random W4 g128 sym weight (stored once, in the `mma` layout) against
  every row count (rows up to 16 take the split-K decode GEMV, more the
  mma.sync GEMM), builds
  bench/gpu/gpubench.c against the runtime, and copies the runtime beside
  it;

    python3 bench/gpu/run.py measure out/gpu
  (on the GPU machine, standard library only) runs gpubench: each kernel's
  device time (CUDA events around the launch, LOWBIT_GPU_TIMING=1; the
  activation and output copies are not counted), cublasGemmEx FP16 (f32
  accumulation) on the same shapes, and the device-to-device copy
  bandwidth; writes out/gpu/results.json and prints the table (also
  `run.py table out/gpu`).

Columns: Lowbit time, cuBLAS FP16 time, cuBLAS / Lowbit, Lowbit's weight
bytes per second, and that as % of the measured copy bandwidth (the HBM
limit for a weight stream). Not a test.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shape_list(text):
    return [tuple(int(v) for v in s.split("x")) for s in text.split(",")]


def prepare(args):
    sys.path.insert(0, str(REPO / "python"))
    from lowbit import tools  # noqa: E402
    from lowbit.testing.kernel_cases import Case, module  # noqa: E402

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [int(r) for r in args.rows.split(",")]
    plan = {"target": args.target, "rows": rows, "shapes": []}
    for k, n in shape_list(args.shapes):
        name = f"{k}x{n}"
        cases = [Case(m, k, n, 4, True, 128, seed=7) for m in rows]
        src = out / f"{name}.mlir"
        src.write_text(module(cases, share_weight=True))
        art = out / name
        print(f"compiling {name} for {args.target} ...", flush=True)
        subprocess.run([tools.tool("quant-compile"), str(src), "-o", str(art),
                        f"--target={args.target}", "--quiet"], check=True)
        src.unlink()
        info = json.loads((art / "manifest.json").read_text())
        plan["shapes"].append({"name": name, "k": k, "n": n,
                               "weight_bytes": info["weights"]["bytes"],
                               "kernels": info["gpu"]["kernels"]})
    from lowbit import config  # noqa: E402
    runtime = config.runtime_library()
    shutil.copy2(runtime, out / runtime.name)
    subprocess.run(["cc", "-O2", f"-I{config.runtime_sources() / 'include'}",
                    str(REPO / "bench" / "gpu" / "gpubench.c"), "-o",
                    str(out / "gpubench"), f"-L{out}", "-llowbit_runtime", "-ldl",
                    "-Wl,-rpath,$ORIGIN"], check=True)
    (out / "plan.json").write_text(json.dumps(plan, indent=1))
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB (the device tool carries at most 64 MiB)")


def gpubench(out, *argv):
    r = subprocess.run([str(out / "gpubench"), *map(str, argv)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"gpubench {' '.join(map(str, argv))}: {r.stderr.strip()}")
    return r.stdout.split("\n")


def measure(args):
    out = Path(args.out)
    plan = json.loads((out / "plan.json").read_text())
    results = {"hbm_gbps": None, "shapes": [], "gpu": None}
    smi = shutil.which("nvidia-smi")
    if smi:
        results["gpu"] = subprocess.run([smi, "--query-gpu=name,driver_version",
                                         "--format=csv,noheader"],
                                        capture_output=True, text=True).stdout.strip()
    for line in gpubench(out, "hbm", 1024):
        if line.startswith("hbm "):
            results["hbm_gbps"] = float(line.split()[1])
    for shape in plan["shapes"]:
        k, n = shape["k"], shape["n"]
        lines = gpubench(out, "model", out / shape["name"], args.iters)
        # Kernel names carry their rows: gemv_w4_m16_k4096_n4096.
        times = {int(re.search(r"_m(\d+)_", l.split()[1]).group(1)): float(l.split()[3])
                 for l in lines if l.startswith("kernel ")}
        entry = {"name": shape["name"], "k": k, "n": n,
                 "weight_bytes": shape["weight_bytes"], "rows": []}
        for m in plan["rows"]:
            t = times[m]
            cublas = None
            try:
                for line in gpubench(out, "cublas", m, k, n, args.iters):
                    if line.startswith("cublas "):
                        cublas = float(line.split()[4])
            except SystemExit as e:
                print(e, file=sys.stderr)
            entry["rows"].append({"m": m, "lowbit_us": t, "cublas_us": cublas})
        results["shapes"].append(entry)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    table(args)


def table(args):
    out = Path(args.out)
    res = json.loads((out / "results.json").read_text())
    hbm = res["hbm_gbps"]
    print(f"GPU: {res['gpu'] or 'unknown'}; device-to-device copy: {hbm:.0f} GB/s")
    print("| K x N | M | Lowbit W4 g128 | cuBLAS FP16 | cuBLAS / Lowbit | weights GB/s | % of copy bandwidth |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in res["shapes"]:
        for r in s["rows"]:
            gbps = s["weight_bytes"] / (r["lowbit_us"] * 1e-6) / 1e9 if r["lowbit_us"] else 0
            cub = f"{r['cublas_us']:.1f} us" if r["cublas_us"] else "-"
            ratio = f"{r['cublas_us'] / r['lowbit_us']:.2f}x" if r["cublas_us"] else "-"
            print(f"| {s['name']} | {r['m']} | {r['lowbit_us']:.1f} us | {cub} | {ratio} | "
                  f"{gbps:.0f} | {100 * gbps / hbm:.0f}% |")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("out")
    a.add_argument("--shapes", default="4096x4096,4096x14336,14336x4096")
    a.add_argument("--rows", default="1,4,16,128,2048")
    a.add_argument("--target", default="cuda-sm90", choices=["cuda-sm80", "cuda-sm90"])
    a.set_defaults(fn=prepare)
    m = sub.add_parser("measure")
    m.add_argument("out")
    m.add_argument("--iters", type=int, default=50)
    m.set_defaults(fn=measure)
    t = sub.add_parser("table")
    t.add_argument("out")
    t.set_defaults(fn=table)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
