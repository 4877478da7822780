"""The NVIDIA GPU path (--target=cuda-sm80|cuda-sm90): every kernel variant
the GPU packer takes (2/4/8-bit fields: 1-8-bit codes; sym and asym; groups
of 16-128 along K, per channel, per tensor; K not a multiple of the 512-byte
block; N not a multiple of the tile; 1-16 rows on the decode GEMVs (split-K
on the Marlin-style `mma` layout, or the `gpu` layout's for 2-bit fields and
groups that are not multiples of 16), more on the mma.sync GEMM (the WMMA
GEMM for those groups)) compiles to PTX that ptxas
accepts for sm_80 and sm_90 without spills; the artifact runs its kernels'
CPU reference (LOWBIT_GPU=cpu) against a float64 reference, which checks
the packed layout, the launch table and the host side; without a driver it
refuses with a clear message. The kernels' own numerics need a GPU: that
test runs when one is present and says why it is skipped otherwise."""
import ctypes
import json
import os
import re
import shutil

import numpy as np
import pytest

from lowbit.testing.kernel_cases import Case, module, reference, tolerance
from lowbit.testing.ptx_emulator import PTXModule, UnsupportedInstruction
from lowbit.compiler import compile_onnx
from lowbit.runtime import Model


def cases(m: int) -> list:
    return [
        Case(m, 200, 37, 4, True, 32, seed=1),          # masked last block
        Case(m, 1024, 33, 4, False, 128, seed=2),       # whole blocks
        Case(m, 576, 19, 4, True, 64, True, seed=3),    # weight stored N x K
        Case(m, 2048 + 300, 20, 2, True, 64, seed=4),   # 2-bit, 2 blocks
        Case(m, 512, 64, 2, False, 0, True, seed=5),    # per channel
        Case(m, 1100, 17, 8, True, 0, seed=6),          # 8-bit, 3 blocks
        Case(m, 64, 9, 8, False, 32, True, seed=7),
        Case(m, 100, 5, 4, True, -1, seed=8),           # per tensor
        Case(m, 48, 3, 2, False, 16, seed=9),
        Case(m, 160, 11, 3, True, 32, seed=10),         # 3 bits in 4-bit fields
        Case(m, 96, 7, 6, False, 0, seed=18),           # 6 bits in bytes
        Case(m, 64, 6, 1, True, 32, True, seed=19),     # 1 bit in 2-bit fields
        Case(m, 130, 9, 4, True, 0, seed=20),           # K % 4 != 0: stays on the CPU
        Case(m, 96, 10, 4, True, 24, seed=21),          # groups of 24: WMMA above 16 rows
        Case(m, 208, 12, 4, False, 16, seed=22),        # mma: a group per MMA step
        Case(m, 320, 16, 8, True, 128, seed=23),        # mma: groups of 2 blocks
        Case(m, 192, 10, 4, True, 48, seed=24),         # mma: groups across steps
    ]


def compile_gpu(tmp_path, name, cs, target, *flags):
    src = tmp_path / f"{name}.mlir"
    src.write_text(module(cs))
    return compile_onnx(src, tmp_path / name, target=target,
                        extra_args=["--quiet", "--keep-intermediates", *flags])


def check(cs, xs, ys, f16=False):
    """Against float64: within the f32 summation bound, or, for the prefill
    GEMMs on a GPU (f16 operands, f32 sums), within 3 * 2^-11 * sum |x w|
    (the f16 activations' rounding; the weights': the f16 scale's and the
    f16 product's) plus that bound."""
    for c, x, y in zip(cs, xs, ys):
        bound = tolerance(c, x)
        if f16:
            bound = bound + 3 * 2.0 ** -11 * (np.abs(x.astype(np.float64)) @ np.abs(c.weight()))
        err = np.abs(y.astype(np.float64) - reference(c, x)) / bound
        assert err.max() <= 1.0, f"{c.name}: error {err.max():.3g} x the bound"


def gpu_kernels(art):
    return json.loads((art / "manifest.json").read_text())["gpu"]


def have_ptxas():
    return bool(os.environ.get("LOWBIT_PTXAS") or shutil.which("ptxas")
                or os.path.exists("/usr/local/cuda/bin/ptxas"))


@pytest.mark.parametrize("target,chip", [("cuda-sm80", "sm_80"), ("cuda-sm90", "sm_90")])
def test_ptx_and_cubin_for_every_variant(tmp_path, target, chip):
    if not have_ptxas():
        pytest.skip("no ptxas (CUDA toolkit): cubin and register checks not run")
    # Rows 3 and 16: the decode GEMV; 40 and 100: the mma.sync GEMM (and
    # the WMMA one for groups of 24).
    cs = cases(3) + [Case(16, 256, 40, 4, False, 128, seed=30),
                     Case(40, 1100, 70, 4, True, 64, seed=31),
                     Case(100, 300, 9, 8, False, 0, True, seed=32),
                     Case(100, 2048 + 64, 130, 2, True, 32, seed=33),
                     Case(40, 520, 66, 8, False, 32, seed=34),
                     Case(64, 96, 10, 4, True, 24, seed=35)]
    art = compile_gpu(tmp_path, "gpu", cs, target)
    info = gpu_kernels(art)
    # One kernel per layout and shape: all but the K % 4 != 0 case.
    assert info["chip"] == chip and info["kernels"] == len(cs) - 1
    ptx = (art / "model.ptx").read_text()
    assert f".target {chip}" in ptx
    assert (art / "model.cubin").read_bytes()[:4] == b"\x7fELF"
    entries = re.findall(r"\.visible \.entry (\w+)\(", ptx)
    assert len(entries) == info["kernels"]
    # What makes them fast: 16-byte read-only loads, codes become floats
    # without integer-to-float conversions; GEMV: FMAs and a shuffle
    # reduction; mma GEMM: codes copied global -> shared with cp.async a
    # stage ahead, decoded with f16x2 arithmetic straight into B fragments,
    # A fragments with ldmatrix, mma.sync m16n8k16; WMMA GEMM: f16 operands
    # in shared memory. ptxas: no spills, no stack.
    kinds = {"gemv": 0, "mma": 0, "gemm": 0}
    split_k = 0  # GEMVs on the `mma` layout: warps reduced through shared memory
    for body in ptx.split(".visible .entry")[1:]:
        kind = body.split("_", 1)[0].strip()
        kinds[kind] += 1
        split_k += kind == "gemv" and "bar.sync" in body
        assert "ld.global.nc.v4" in body
        assert "cvt.rn.f32" not in body
        if kind == "mma":
            assert "cp.async.cg.shared.global" in body
            assert re.search(r"cp\.async\.wait_group\s+1;", body)
            assert "ldmatrix.sync.aligned.m8n8.x4.shared.b16" in body
            assert body.count("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32") >= 64
            # (value - zero) * scale: an f16x2 add or subtract and multiply
            assert re.search(r"(add|sub)\.rn\.f16x2", body) and "mul.rn.f16x2" in body
            assert "bar.sync" in body and "ld.shared.v4.b32" in body
        elif kind == "gemm":
            assert "wmma.mma.sync.aligned.row.col.m16n16k16.f32.f32" in body
            assert "wmma.load.b.sync.aligned.col.m16n16k16.shared.f16" in body
            assert "bar.sync" in body and "cvt.rn.f16x2.f32" in body
        else:
            assert "shfl.sync.bfly.b32" in body and "fma.rn.f32" in body
    assert kinds == {"gemv": len(cs) - 6, "mma": 4, "gemm": 1}
    # Decode on the `mma` layout: 4-8-bit fields with groups of 16k (11 of
    # the 3-row cases and the 16-row one); 2-bit fields and groups of 24
    # keep the `gpu` layout's GEMV.
    assert split_k == 12
    report = (art / "model.ptxas.txt").read_text()
    assert report.count("Compiling entry function") == info["kernels"]
    assert report.count("0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads") \
        == info["kernels"], report


@pytest.mark.parametrize("m", [1, 3, 16, 40, 100])
def test_cpu_fallback_matches_reference(tmp_path, monkeypatch, m):
    cs = cases(m)
    art = compile_gpu(tmp_path, "gpu", cs, "cuda-sm80")
    monkeypatch.setenv("LOWBIT_GPU", "cpu")
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    check(cs, xs, Model(art).run(*xs))


def test_kernel_stats(tmp_path, monkeypatch):
    """The launch table's kernels by name (rows in the name), launches per
    run, and their time with LOWBIT_GPU_TIMING=1 (here the CPU fallback's);
    CPU artifacts have none."""
    cs = [Case(2, 256, 40, 4, True, 64, seed=1), Case(40, 256, 40, 4, True, 64, seed=2)]
    art = compile_gpu(tmp_path, "gpu", cs, "cuda-sm80")
    monkeypatch.setenv("LOWBIT_GPU", "cpu")
    monkeypatch.setenv("LOWBIT_GPU_TIMING", "1")
    rng = np.random.default_rng(0)
    xs = [c.input(rng) for c in cs]
    with Model(art) as model:
        assert model.gpu_kernel_stats() == {"gemv_w4_m2_k256_n40": (0, 0.0),
                                            "mma_w4_m40_k256_n40": (0, 0.0)}
        model.run(*xs)
        model.run(*xs)
        stats = model.gpu_kernel_stats()
    assert [v[0] for v in stats.values()] == [2, 2]
    assert all(v[1] > 0 for v in stats.values())
    cpu = compile_gpu(tmp_path, "cpu", cs, "host")
    with Model(cpu) as model:
        assert model.gpu_kernel_stats() == {}


@pytest.mark.parametrize("target,m", [("cuda-sm80", 1), ("cuda-sm80", 3), ("cuda-sm80", 16),
                                      ("cuda-sm80", 40), ("cuda-sm80", 100), ("cuda-sm90", 3),
                                      ("cuda-sm90", 100)])
def test_emulated_ptx_matches_reference(tmp_path, monkeypatch, target, m):
    """The kernels' numerics without a GPU: the artifact's launches go to
    an emulator of the PTX ptxas compiles (python/lowbit/testing/ptx_emulator.py:
    every thread in lock step, shuffles, barriers, shared memory, cp.async
    completing only at its wait, ldmatrix and mma.sync in the PTX fragment
    layouts, WMMA as matrix operations), against float64 (GEMMs: with the
    f16 operand bound)."""
    cs = cases(m)
    art = compile_gpu(tmp_path, "gpu", cs, target)
    monkeypatch.setenv("LOWBIT_GPU", "cpu")  # loads without a GPU; launches are overridden
    model = Model(art)
    table = model.gpu_kernels()
    ptx = PTXModule((art / "model.ptx").read_text())
    ran = []

    def launch(kernel, args):
        k = table[kernel]
        ptx.run(k["name"], k["grid"], k["block"], args,
                [(a, b) for a, (b, _) in zip(args, k["args"])])
        ran.append(k["name"])

    model.set_gpu_launcher(launch)
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    check(cs, xs, model.run(*xs), f16=m > 16)
    # Every case but K % 4 != 0 ran on an emulated kernel of the right kind:
    # above 16 rows mma.sync, WMMA for groups that are not multiples of 16.
    assert len(ran) == len(cs) - 1
    kinds = sorted(n.split("_")[0] for n in ran)
    assert kinds == (["gemv"] * len(ran) if m <= 16 else ["gemm"] + ["mma"] * (len(ran) - 1))


def outlier_cases(m: int) -> list:
    """SpQR-style f16 outliers beside the codes, on every GPU kernel kind."""
    return [
        Case(m, 200, 37, 4, True, 32, seed=41, outliers="many"),        # mma layout, masked block
        Case(m, 576, 19, 4, True, 64, True, seed=42, outliers="one"),   # the last column's last k
        Case(m, 2048 + 300, 20, 2, True, 64, seed=43, outliers="0.01"),  # 2-bit: `gpu` GEMV
        Case(m, 96, 10, 4, True, 24, seed=44, outliers="many"),         # groups of 24: WMMA
        Case(m, 512, 17, 8, False, 0, seed=45, outliers="0.003"),       # some columns without any
    ]


@pytest.mark.parametrize("m", [1, 3, 16, 40])
def test_outliers_on_every_kernel(tmp_path, monkeypatch, m):
    """The GEMVs add each column's outliers before their reductions (split
    over the lanes of the column), the GEMMs per output before the store:
    the emulated PTX and the runtime's CPU reference against float64, and
    ptxas without spills."""
    cs = outlier_cases(m)
    art = compile_gpu(tmp_path, "gpu", cs, "cuda-sm80")
    monkeypatch.setenv("LOWBIT_GPU", "cpu")
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    model = Model(art)
    table = model.gpu_kernels()
    # All five on the GPU, each with the outlier array as its 4th argument.
    assert len(table) == len(cs)
    assert all([r for _, r in k["args"]] == ["in", "const", "const", "const", "out"]
               for k in table)
    # The launch table's reference carries the outlier count last.
    meta = (art / "lowbit_wrapper.c").read_text()
    nnz = int((cs[0].sparse != 0).sum())
    assert re.search(rf"_k200_n37 .* ref packed_matmul 4 200 37 8 32 1 0 1 {nnz}\b", meta)
    check(cs, xs, model.run(*xs))  # the CPU reference (LOWBIT_GPU=cpu)
    ptx = PTXModule((art / "model.ptx").read_text())
    ran = []

    def launch(kernel, args):
        k = table[kernel]
        ptx.run(k["name"], k["grid"], k["block"], args,
                [(a, b) for a, (b, _) in zip(args, k["args"])])
        ran.append(k["name"].split("_")[0])

    model.set_gpu_launcher(launch)
    check(cs, xs, model.run(*xs), f16=m > 16)
    assert sorted(ran) == (["gemv"] * 5 if m <= 16 else ["gemm"] + ["mma"] * 4)
    if have_ptxas():
        report = (art / "model.ptxas.txt").read_text()
        assert report.count("0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads") \
            == len(cs), report


def test_emulator_catches_a_missing_cp_async_wait(tmp_path, monkeypatch):
    """cp.async copies land only at the cp.async.wait_group that covers
    them: the mma GEMM with `wait_group 2` instead of 1 reads a stage
    before its codes arrived, and the emulated result is wrong."""
    cs = [Case(40, 600, 20, 4, True, 64, seed=40)]
    art = compile_gpu(tmp_path, "gpu", cs, "cuda-sm80")
    monkeypatch.setenv("LOWBIT_GPU", "cpu")
    model = Model(art)
    k = model.gpu_kernels()[0]
    text = (art / "model.ptx").read_text()
    assert k["name"].startswith("mma_") and len(re.findall(r"cp\.async\.wait_group\s+1;", text)) == 1
    results = []
    for ptx_text in (text, re.sub(r"(cp\.async\.wait_group\s+)1;", r"\g<1>2;", text)):
        ptx = PTXModule(ptx_text)
        model.set_gpu_launcher(lambda kernel, args, ptx=ptx: ptx.run(
            k["name"], k["grid"], k["block"], args,
            [(a, b) for a, (b, _) in zip(args, k["args"])]))
        xs = [cs[0].input(np.random.default_rng(0))]
        results.append((xs, model.run(*xs)))
    check(cs, *results[0], f16=True)
    with pytest.raises(AssertionError, match="x the bound"):
        check(cs, *results[1], f16=True)


def test_emulator_refuses_unknown_instructions():
    ptx = PTXModule(""".visible .entry k(
	.param .u64 .ptr .align 1 k_param_0
)
{
	ld.param.b64 	%rd1, [k_param_0];
	mov.b32 	%r1, 5;
	popc.b32 	%r2, %r1;
	ret;
}
""")
    with pytest.raises(UnsupportedInstruction, match="popc.b32"):
        ptx.run("k", (1, 1, 1), (32, 1, 1), [0], [])


def test_refuses_without_driver(tmp_path, monkeypatch):
    cs = cases(1)[:1]
    art = compile_gpu(tmp_path, "gpu", cs, "cuda-sm80")
    monkeypatch.setenv("LOWBIT_CUDA_DRIVER", str(tmp_path / "no-libcuda.so.1"))
    with pytest.raises(RuntimeError, match=r"compiled for CUDA \(sm_80\), but cannot load "
                       r"the NVIDIA driver .*no NVIDIA driver on this machine; load it with "
                       r".*LOWBIT_GPU=cpu for quant-run and Python"):
        Model(art)
    monkeypatch.setenv("LOWBIT_GPU", "tpu")
    with pytest.raises(RuntimeError, match=r"LOWBIT_GPU=tpu \(expected cuda or cpu\)"):
        Model(art)


def cuda_device():
    """(major, minor) of GPU 0, or a reason there is none."""
    try:
        cu = ctypes.CDLL("libcuda.so.1")
    except OSError as e:
        return None, f"no NVIDIA driver ({e})"
    if cu.cuInit(0) != 0:
        return None, "cuInit failed: no usable NVIDIA GPU"
    count = ctypes.c_int(0)
    if cu.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return None, "no NVIDIA GPU"
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    cu.cuDeviceGetAttribute(ctypes.byref(major), 75, 0)
    cu.cuDeviceGetAttribute(ctypes.byref(minor), 76, 0)
    return (major.value, minor.value), ""


@pytest.mark.gpu
@pytest.mark.parametrize("m", [1, 3, 16, 100])
def test_gpu_kernels_on_device(tmp_path, monkeypatch, m):
    """The kernels' numerics on a real GPU, against float64 and against the
    CPU fallback (runs only where a GPU and its driver are present)."""
    cc, why = cuda_device()
    if cc is None:
        pytest.skip(f"GPU numerics not run: {why}; they run on a machine with a CUDA GPU")
    target = "cuda-sm90" if cc[0] >= 9 else "cuda-sm80"
    cs = cases(m)
    art = compile_gpu(tmp_path, "gpu", cs, target)
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    monkeypatch.delenv("LOWBIT_GPU", raising=False)
    model = Model(art)
    ys = model.run(*xs)
    ys = model.run(*xs)  # second run: weights already on the device
    check(cs, xs, ys, f16=m > 16)
