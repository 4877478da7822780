"""The CPU low-bit matmul kernels (lowbit-pack + convert-lowbit-to-cpu)
against the reference lowering and a float64 reference, for every variant
the packer takes: 1 to 8-bit integer codes, NF4, FP4 (e2m1) and 2-4-bit
codebooks (`lut`), symmetric and asymmetric, groups along K
(a shorter last group, K not a multiple of the vector width), per channel
and per tensor, weights stored K x N and N x K, with and without
SpQR-style f16 outliers (none in a whole tile, one alone, many in the first
and last columns), row counts on both sides of the kernels' 8-row chunks,
N not a multiple of the tile; on the AVX-512
(permute), AVX2 (portable, 8 lanes) and AArch64 (portable, 4 lanes, under
qemu) targets."""
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lowbit import tools
from lowbit.testing import qemu
from lowbit.testing.kernel_cases import (Case, module, reference, reference_int8, reference_lut,
                                 tolerance)
from lowbit.compiler import compile_onnx
from lowbit.runtime import Model

CPUINFO = Path("/proc/cpuinfo").read_text()
HOST_AVX512 = "avx512f" in CPUINFO
HOST_VNNI = "avx512_vnni" in CPUINFO
HOST_AVX512BW = "avx512bw" in CPUINFO
HOST_AVX2 = "avx2" in CPUINFO
HOST_AMX = "amx_int8" in CPUINFO and "amx_tile" in CPUINFO


def cases(m: int) -> list:
    return [
        Case(m, 200, 37, 4, True, 32, seed=1),          # K % 16 = 8: masked tail step
        Case(m, 256, 33, 4, False, 128, seed=2),
        Case(m, 576, 19, 4, True, 128, True, seed=3),   # SmolLM2's K: shorter last group
        Case(m, 300, 20, 2, True, 64, seed=4),
        Case(m, 512, 64, 2, False, 0, True, seed=5),
        Case(m, 130, 17, 8, True, 0, seed=6),
        Case(m, 64, 9, 8, False, 32, True, seed=7),
        Case(m, 100, 5, 4, True, -1, seed=8),
        Case(m, 48, 3, 2, False, 16, seed=9),           # group = 16 = lanes
        Case(m, 160, 11, 3, True, 32, seed=10),         # 3 bits in 4-bit fields
        Case(m, 96, 7, 6, False, 0, seed=18),           # 6 bits in bytes
        Case(m, 64, 6, 1, True, 32, True, seed=19),     # 1 bit in 2-bit fields
        Case(m, 200, 9, group=64, seed=22, format="nf4"),   # table-decoded codes
        Case(m, 96, 5, group=32, transpose=True, seed=23, format="e2m1"),
        Case(m, 64, 6, 3, False, 32, seed=24, format="lut"),  # codebook, zero points
        Case(m, 80, 7, 2, True, 0, seed=25, format="lut"),
        # SpQR-style outliers: in every k of the first column but one, in
        # the last, ~2% elsewhere, none in a whole tile; one alone.
        Case(m, 200, 37, 4, True, 64, seed=52, outliers="many"),
        Case(m, 96, 10, 3, False, 32, True, seed=53, outliers="one"),
        Case(m, 144, 9, group=48, seed=54, format="nf4", outliers="many"),  # 48: not a power of two, a multiple of 16 lanes
    ]


def compile_module(tmp_path: Path, name: str, cs, *flags) -> Path:
    src = tmp_path / f"{name}.mlir"
    src.write_text(module(cs))
    return compile_onnx(src, tmp_path / name, extra_args=["--quiet", *flags])


def check(cs, xs, ys, ref_ys=None):
    for c, x, y, i in zip(cs, xs, ys, range(len(cs))):
        want = reference(c, x)
        err = np.abs(y.astype(np.float64) - want) / tolerance(c, x)
        assert err.max() <= 1.0, f"{c.name}: error {err.max():.3g} x the f32 bound"
        if ref_ys is not None:
            r = ref_ys[i].astype(np.float64)
            err = np.abs(y - r) / tolerance(c, x)
            assert err.max() <= 2.0, f"{c.name}: differs from the reference lowering"


@pytest.mark.parametrize("m", [1, 3, 8, 11])
def test_kernels_match_reference_lowering(tmp_path, m):
    cs = cases(m)
    fast = compile_module(tmp_path, "fast", cs, "--keep-intermediates")
    ref = compile_module(tmp_path, "ref", cs, "--O0")
    ll = (fast / "model.ll").read_text()
    # Every case went through a packed kernel (only they prefetch).
    kernels = [f for f in ll.split("\ndefine ")[1:]
               if "call void @llvm.prefetch" in f.split("\n}\n")[0]]
    assert len(kernels) == len(cs)
    if HOST_AVX512:
        assert "llvm.x86.avx512.permvar.sf.512" in ll
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    check(cs, xs, Model(fast).run(*xs), Model(ref).run(*xs))


@pytest.mark.parametrize("m", [1, 2, 5])
def test_kernels_avx2_portable(tmp_path, m):
    """x86-64-v3 (8 lanes, no permute), on any AVX2 host; 1-2 rows take the
    factored-scale path (one multiply per group), 5 the per-weight one."""
    cs = cases(m)
    art = compile_module(tmp_path, "v3", cs, "--target=x86-64-v3", "--keep-intermediates")
    ll = (art / "model.ll").read_text()
    assert "permvar" not in ll and "<8 x float>" in ll
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    check(cs, xs, Model(art).run(*xs))


def test_kernels_are_used_and_weights_are_packed(tmp_path):
    """The artifact's weights file holds the packed codes (4 bits per weight
    plus padding), not a dequantized float copy; with --O0 the reference
    lowering keeps the quantized codes as they came."""
    c = Case(1, 1024, 256, 4, True, 128, seed=3)
    fast = compile_module(tmp_path, "fast", [c])
    size = (fast / "weights.bin").stat().st_size
    assert size < 1024 * 256 * 4 // 8 * 1.2, size
    x = c.input(np.random.default_rng(0))
    check([c], [x], Model(fast).run(x))


@pytest.mark.parametrize("m", [1, 3])
def test_kernels_aarch64_under_qemu(tmp_path, m):
    driver = qemu.build_aarch64_driver(tmp_path)
    cs = cases(m)
    art = compile_module(tmp_path, "arm", cs, "--target=aarch64")
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    ys = qemu.run_under_qemu(driver, art, xs, [((c.m, c.n), np.float32) for c in cs])
    check(cs, xs, ys)


def check_int8(c, x, y):
    """y equals the float64 emulation of the int8 kernels' activation
    rounding within the f32 bound; returns the exact product."""
    err = np.abs(y.astype(np.float64) - reference_int8(c, x)) / tolerance(c, x)
    assert err.max() <= 1.0, f"{c.name}: error {err.max():.3g} x the f32 bound"
    return reference(c, x)


def int8_cases(m: int) -> list:
    return [
        Case(m, 200, 37, 4, True, 64, seed=11),          # padded K, N % tile
        Case(m, 576, 19, 4, False, 128, True, seed=12),  # shorter last group
        Case(m, 300, 20, 2, True, 128, seed=13),
        Case(m, 130, 17, 8, True, 0, seed=14),           # per channel: groups of 128
        Case(m, 192, 9, 8, False, 64, True, seed=15),
        Case(m, 100, 5, 4, True, -1, seed=16),
        Case(m, 256, 13, 3, True, 128, seed=20),
        Case(m, 128, 6, 5, False, 64, seed=21),
        Case(m, 256, 21, 4, True, 128, seed=55, outliers="many"),  # rounded x too
        Case(m, 192, 9, 2, False, 64, True, seed=56, outliers="one"),
        # Long groups: AVX2's i16 pair sums are widened every 4 planes
        # (4-bit codes) or 21 (2-bit), inside the group.
        Case(m, 1024, 11, 4, True, 512, seed=27),
        Case(m, 2048, 7, 2, False, 2048, seed=28),
    ]


# The int8 dot products per target: (flags, intrinsic in the IR, host can run).
INT8_TARGETS = {
    "vnni": ([], "llvm.x86.avx512.vpdpbusd", HOST_VNNI),
    "avx2": (["--target=x86-64-v3"], "llvm.x86.avx2.pmadd.ub.sw", HOST_AVX2),
}


@pytest.mark.parametrize("dot", sorted(INT8_TARGETS))
@pytest.mark.parametrize("m", [1, 3, 8, 11])
def test_int8_activation_kernels(tmp_path, m, dot):
    """--activations=int8: activations quantized per row and group, dot
    products by VNNI vpdpbusd (host) or AVX2 vpmaddubsw (x86-64-v3, which
    every AVX2 host runs, AVX-512 ones included); equal to a float64
    emulation of that quantization within the f32 bound, and within 2% of
    the exact product. Groups that are not multiples of 64 and
    table-decoded codes keep the exact f32 kernel; on AVX2 so do codes in
    8-bit fields (5-8 bits: pmaddubsw's i16 pair sums could saturate)."""
    flags, intrinsic, runs = INT8_TARGETS[dot]
    if not runs:
        pytest.skip(f"the host cannot run the {dot} int8 kernels")
    cs = int8_cases(m)
    exact = [Case(m, 200, 37, 4, True, 32, seed=17),
             Case(m, 128, 5, group=64, seed=26, format="nf4")]
    art = compile_module(tmp_path, "int8", cs + exact, "--activations=int8",
                         "--keep-intermediates", *flags)
    ll = (art / "model.ll").read_text()
    assert intrinsic in ll
    if dot == "avx2":
        assert "vpdpbusd" not in ll
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs + exact]
    ys = Model(art).run(*xs)
    for c, x, y in zip(cs, xs, ys):
        if dot == "avx2" and c.bits > 4:
            check([c], [x], [y])
            continue
        full = check_int8(c, x, y)
        assert np.abs(y - full).max() <= 0.02 * np.abs(full).max(), c.name
    check(exact, xs[-2:], ys[-2:])


def test_int8_activations_prefill(tmp_path):
    """More rows than the weight-streaming kernels take (prefill): the
    reference lowering rounds the activations as the int8 kernels do
    (lowbit.fake_quant), so --activations=int8 means the same numerics at
    any row count; groups of 32 and NF4 keep f32 activations there too."""
    if not HOST_AVX2:
        pytest.skip("the host has no AVX2: x86-64-v3 artifacts cannot run here")
    cs = [c for c in int8_cases(40) if c.bits <= 4]
    exact = [Case(40, 200, 37, 4, True, 32, seed=17),
             Case(40, 128, 5, group=64, seed=26, format="nf4")]
    art = compile_module(tmp_path, "prefill", cs + exact, "--activations=int8",
                         "--keep-intermediates", "--target=x86-64-v3")
    ll = (art / "model.ll").read_text()
    assert "pmadd.ub.sw" not in ll and "vpdpbusd" not in ll
    rng = np.random.default_rng(40)
    xs = [c.input(rng) for c in cs + exact]
    ys = Model(art).run(*xs)
    for c, x, y in zip(cs, xs, ys):
        full = check_int8(c, x, y)
        # Not the exact product: the rounding is there.
        assert np.abs(y - full).max() > 1e-4 * np.abs(full).max(), c.name
    check(exact, xs[-2:], ys[-2:])


@pytest.mark.parametrize("m", [4, 8, 16])
def test_amx_int8_kernels(tmp_path, m):
    """Host targets with AMX: int8-activation matmuls of 4 or more rows run
    on tdpbusd (2/4/8-bit codes whose groups hold whole blocks); equal to
    the float64 emulation of the activation rounding within the f32 bound.
    A 4-bit g64 case keeps the VNNI kernel in the same artifact."""
    if not HOST_AMX:
        pytest.skip("the host has no AMX-INT8: the AMX kernels cannot run here")
    cs = [Case(m, 256, 64, 4, True, 128, seed=40),
          Case(m, 200, 37, 4, False, 128, seed=41),          # padded K, N % 16
          Case(m, 576, 19, 4, True, 128, True, seed=42),     # shorter last group
          Case(m, 130, 17, 8, True, 0, seed=43),             # 8-bit, per channel
          Case(m, 192, 9, 8, False, 64, True, seed=44),
          Case(m, 300, 20, 2, True, 256, seed=45),           # 2-bit: 4 fields
          Case(m, 100, 5, 4, False, -1, seed=46),            # per tensor
          Case(m, 256, 24, 4, True, 64, seed=47),            # g64: VNNI
          Case(m, 256, 40, 4, True, 128, seed=58, outliers="many")]
    art = compile_module(tmp_path, "amx", cs, "--activations=int8", "--keep-intermediates")
    ll = (art / "model.ll").read_text()
    assert "llvm.x86.tdpbusd.internal" in ll and "llvm.x86.avx512.vpdpbusd" in ll
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs]
    for c, x, y in zip(cs, xs, Model(art).run(*xs)):
        err = np.abs(y.astype(np.float64) - reference_int8(c, x)) / tolerance(c, x)
        assert err.max() <= 1.0, f"{c.name}: error {err.max():.3g} x the f32 bound"


def test_int8_activations_without_vnni(tmp_path):
    """x86-64-v4 does not promise VNNI: its int8 kernels take AVX2's
    pmaddubsw (run where the host has AVX-512); x86-64 (SSE2) has neither,
    keeps the exact f32 kernels and says so."""
    cs = int8_cases(1)[:2]
    art = compile_module(tmp_path, "v4", cs, "--activations=int8", "--target=x86-64-v4",
                         "--keep-intermediates")
    ll = (art / "model.ll").read_text()
    assert "vpdpbusd" not in ll and "llvm.x86.avx2.pmadd.ub.sw" in ll
    if HOST_AVX512:
        rng = np.random.default_rng(0)
        xs = [c.input(rng) for c in cs]
        for c, x, y in zip(cs, xs, Model(art).run(*xs)):
            check_int8(c, x, y)
    src = tmp_path / "sse.mlir"
    src.write_text(module(cs))
    proc = subprocess.run([str(tools.tool("quant-compile")), str(src), "-o",
                           str(tmp_path / "sse"), "--activations=int8", "--target=x86-64",
                           "--keep-intermediates"], capture_output=True, text=True, check=True)
    assert "int8 activations need AVX2, AVX-512 VNNI or ARM dot products" in proc.stderr + proc.stdout
    ll = (tmp_path / "sse" / "model.ll").read_text()
    assert "pmadd" not in ll and "vpdpbusd" not in ll
    rng = np.random.default_rng(0)
    xs = [c.input(rng) for c in cs]
    check(cs, xs, Model(tmp_path / "sse").run(*xs))


def test_int8_activation_kernels_aarch64_dotprod_under_qemu(tmp_path):
    """--target=aarch64-dotprod --activations=int8: the same int8 layout,
    four ARM sdot per 64 bytes; 8-bit codes (unsigned, above 127) keep the
    f32 kernels there. Run under qemu-aarch64 against the emulation."""
    driver = qemu.build_aarch64_driver(tmp_path)
    cs = [c for c in int8_cases(3) if c.bits <= 4]
    eight = Case(3, 192, 9, 8, False, 64, True, seed=15)
    art = compile_module(tmp_path, "arm8", cs + [eight], "--target=aarch64-dotprod",
                         "--activations=int8", "--keep-intermediates")
    ll = (art / "model.ll").read_text()
    assert "llvm.aarch64.neon.sdot" in ll
    rng = np.random.default_rng(3)
    xs = [c.input(rng) for c in cs + [eight]]
    ys = qemu.run_under_qemu(driver, art, xs, [((c.m, c.n), np.float32) for c in cs + [eight]])
    for c, x, y in zip(cs, xs, ys):
        err = np.abs(y.astype(np.float64) - reference_int8(c, x)) / tolerance(c, x)
        assert err.max() <= 1.0, f"{c.name}: error {err.max():.3g} x the f32 bound"
    check([eight], xs[-1:], ys[-1:])


def lut_cases(m: int) -> list:
    return [
        Case(m, 256, 64, 2, True, 128, seed=30),          # two whole tiles of 32
        Case(m, 200, 37, 2, False, 64, seed=31),          # padded K, N % 32
        Case(m, 576, 19, 2, True, 128, True, seed=32),    # shorter last group
        Case(m, 512, 40, 2, True, 256, seed=33),          # the largest group
        Case(m, 96, 9, 2, False, 16, True, seed=34),      # group = 16 lanes
        Case(m, 130, 17, 1, True, 0, seed=35),            # 1 bit, per channel
        Case(m, 100, 5, 2, True, -1, seed=36),            # per tensor
        Case(m, 64, 33, 1, False, 32, seed=37),
        Case(m, 256, 40, 4, True, 128, seed=48),          # 4 planes: i32 every 64 k
        Case(m, 200, 21, 4, False, 64, True, seed=49),
        Case(m, 160, 11, 3, True, 32, seed=50),           # 3 bits in 4 planes
        Case(m, 512, 9, 4, True, 256, seed=51),           # 4 planes, largest group
        Case(m, 256, 40, 2, True, 128, seed=57, outliers="many"),
    ]


def check_lut(cs, xs, ys):
    """Equal to the float64 emulation of the table quantization within the
    f32 bound, and within 3% of the exact product."""
    for c, x, y in zip(cs, xs, ys):
        err = np.abs(y.astype(np.float64) - reference_lut(c, x)) / tolerance(c, x)
        assert err.max() <= 1.0, f"{c.name}: error {err.max():.3g} x the f32 bound"
        full = reference(c, x)
        assert np.abs(y - full).max() <= 0.03 * np.abs(full).max(), c.name


@pytest.mark.parametrize("m", [1, 3, 11])
def test_lut_kernels(tmp_path, m):
    """--kernels=lut: 1-4-bit codes on the table-lookup kernels (pshufb +
    pmaddubsw on AVX-512BW); 8-bit codes keep the exact dequantizing
    kernel."""
    if not HOST_AVX512BW:
        pytest.skip("the host has no AVX-512BW: the 512-bit lut kernels cannot run here")
    cs = lut_cases(m)
    exact = Case(m, 160, 11, 8, True, 32, seed=38)
    art = compile_module(tmp_path, "lut", cs + [exact], "--kernels=lut", "--keep-intermediates")
    ll = (art / "model.ll").read_text()
    assert "llvm.x86.avx512.pshuf.b.512" in ll and "llvm.x86.avx512.pmaddubs.w.512" in ll
    rng = np.random.default_rng(m)
    xs = [c.input(rng) for c in cs + [exact]]
    ys = Model(art).run(*xs)
    check_lut(cs, xs, ys)
    check([exact], xs[-1:], ys[-1:])


def test_lut_kernels_avx2(tmp_path):
    if not HOST_AVX2:
        pytest.skip("the host has no AVX2")
    cs = lut_cases(3)
    art = compile_module(tmp_path, "lut2", cs, "--kernels=lut", "--target=x86-64-v3",
                         "--keep-intermediates")
    ll = (art / "model.ll").read_text()
    assert "llvm.x86.avx2.pshuf.b" in ll and "avx512" not in ll
    rng = np.random.default_rng(3)
    xs = [c.input(rng) for c in cs]
    check_lut(cs, xs, Model(art).run(*xs))


def test_lut_kernels_aarch64_under_qemu(tmp_path):
    """NEON tbl lookups, the plane sums widened portably; under qemu."""
    driver = qemu.build_aarch64_driver(tmp_path)
    cs = lut_cases(3)
    art = compile_module(tmp_path, "lutarm", cs, "--kernels=lut", "--target=aarch64",
                         "--keep-intermediates")
    assert "llvm.aarch64.neon.tbl1" in (art / "model.ll").read_text()
    rng = np.random.default_rng(3)
    xs = [c.input(rng) for c in cs]
    ys = qemu.run_under_qemu(driver, art, xs, [((c.m, c.n), np.float32) for c in cs])
    check_lut(cs, xs, ys)
