"""lowbit.hadamard (the online Hadamard transform of issue #18) compiled for
the host and run: y = x H / sqrt(n) with H = H_m (x) H_2^k. The transform of
the identity is checked against an independent construction: a Hadamard
matrix (entries +-1/sqrt(n), orthonormal rows) that is the Kronecker product
of its m x m corner block and the Sylvester matrix of order 2^k."""
import numpy as np
import pytest

from lowbit.compiler import compile, compile_onnx
from lowbit.runtime import Model
from lowbit.testing import qemu


def sylvester(p):
    h = np.ones((1, 1))
    while h.shape[0] < p:
        h = np.block([[h, h], [h, -h]])
    return h


def transform_source(tmp_path, shape):
    n = shape[-1]
    t = f"tensor<{'x'.join(map(str, shape))}xf32>"
    src = tmp_path / f"h{n}.mlir"
    src.write_text(f"""func.func @main(%x: {t}) -> {t} {{
  %y = lowbit.hadamard %x : {t}
  return %y : {t}
}}
""")
    return src


def compile_transform(tmp_path, shape):
    return compile_onnx(transform_source(tmp_path, shape), tmp_path / f"h{shape[-1]}",
                        extra_args=["--quiet"])


@pytest.mark.parametrize("n,m", [(64, 1), (576, 36), (1536, 12), (40, 20)])
def test_hadamard_transform(tmp_path, n, m):
    art = compile_transform(tmp_path, (n, n))
    with Model(art) as model:
        h = model.run(np.eye(n, dtype=np.float32))[0].astype(np.float64)
    assert np.allclose(np.abs(h), 1 / np.sqrt(n), rtol=1e-6), "entries are not +-1/sqrt(n)"
    assert np.abs(h @ h.T - np.eye(n)).max() < 1e-5
    p = n // m
    core = np.sign(h[::p, ::p])
    assert np.array_equal(core @ core.T, m * np.eye(m)), "the m x m factor is not Hadamard"
    assert np.abs(h - np.kron(core, sylvester(p)) / np.sqrt(n)).max() < 1e-6


def test_hadamard_batched_rows(tmp_path):
    """Leading dimensions are rows: a 2 x 3 x 576 input equals its rows
    transformed one by one (against the matrix of the identity run)."""
    rng = np.random.default_rng(18)
    x = rng.standard_normal((2, 3, 576)).astype(np.float32)
    art = compile_transform(tmp_path, (2, 3, 576))
    with Model(art) as model:
        y = model.run(x)[0].astype(np.float64)
    # The transform is orthonormal and linear: norms kept, and row by row it
    # is the same map (x1 + x2 -> y1 + y2).
    assert np.allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5)
    with Model(art) as model:
        y2 = model.run(np.ascontiguousarray(x[::-1]))[0].astype(np.float64)
    assert np.abs(y2 - y[::-1]).max() < 1e-5


SIMD_SHAPES = [(3, 1536), (2, 2, 576), (64,), (1, 14336)]


def simd_case(tmp_path, shape, target):
    """(optimized artifact, reference artifact, input) for one shape: the
    reference is the --O0 lowering (convert-lowbit-to-linalg's fast
    transform, scalar loops)."""
    src = transform_source(tmp_path, shape)
    n = shape[-1]
    fast = compile(src, tmp_path / f"fast{n}-{target}", target=target,
                   extra_args=["--quiet", "--keep-intermediates"])
    ref = compile(src, tmp_path / f"ref{n}", optimize=False, extra_args=["--quiet"])
    # The generated kernel, not the reference loops, is what ran.
    assert "main_hadamard_0" in (fast / "model.ll").read_text()
    x = np.random.default_rng(n).standard_normal(shape).astype(np.float32)
    with Model(ref) as model:
        want = model.run(x)[0]
    return fast, want, x


@pytest.mark.parametrize("target", ["host", "x86-64-v3"])
def test_hadamard_simd_kernels_match_reference(tmp_path, target):
    """lowbit-cpu-vectorize-hadamard's kernels (16 lanes on AVX-512 hosts,
    8 on AVX2) do the reference's additions in its order: bit-identical."""
    for shape in SIMD_SHAPES:
        fast, want, x = simd_case(tmp_path, shape, target)
        with Model(fast) as model:
            got = model.run(x)[0]
        assert np.array_equal(got, want), f"{shape}: max diff {np.abs(got - want).max()}"


def test_hadamard_simd_kernels_aarch64_under_qemu(tmp_path):
    """NEON (4 lanes), under qemu-aarch64, against the host's reference."""
    driver = qemu.build_aarch64_driver(tmp_path)
    for shape in [(3, 1536), (2, 2, 576)]:
        fast, want, x = simd_case(tmp_path, shape, "aarch64")
        got = qemu.run_under_qemu(driver, fast, [x], [(want.shape, np.float32)])[0]
        assert np.array_equal(got, want), f"{shape}: max diff {np.abs(got - want).max()}"
