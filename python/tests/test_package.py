"""The `lowbit` package as users get it: installed in the venv (`pip install
-e python`, which scripts/setup.sh runs), imported from anywhere, with the
user API at the top level."""
import subprocess
import sys
import textwrap

import numpy as np


def run_outside_the_tree(code, tmp_path):
    """Runs `code` with this venv's Python in an empty folder, without the
    source tree on sys.path (no conftest, no PYTHONPATH)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                          env=env, capture_output=True, text=True)


def test_import_and_compile_from_anywhere(tmp_path):
    model = tmp_path / "affine.mlir"
    model.write_text(
        'func.func @main(%x: tensor<4xf32> {onnx.name = "x"}) -> '
        '(tensor<4xf32> {onnx.name = "y"}) {\n'
        '  %c = arith.constant dense<2.0> : tensor<4xf32>\n'
        '  %e = tensor.empty() : tensor<4xf32>\n'
        '  %y = linalg.mul ins(%x, %c : tensor<4xf32>, tensor<4xf32>) '
        'outs(%e : tensor<4xf32>) -> tensor<4xf32>\n'
        '  return %y : tensor<4xf32>\n}\n')
    r = run_outside_the_tree(f"""
        import numpy as np
        import lowbit
        art = lowbit.compile({str(model)!r}, {str(tmp_path / 'art')!r})
        with lowbit.load(art) as m:
            y, = m.run(x=np.arange(4, dtype=np.float32))
        print(lowbit.__file__)
        print(y.tolist())
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    path, values = r.stdout.splitlines()
    assert path.endswith("python/lowbit/__init__.py")
    assert values == "[0.0, 2.0, 4.0, 6.0]"


def test_user_api_and_testing_are_apart():
    import lowbit
    for name in ("compile", "load", "Model", "LoadOptions", "evaluate", "LowbitError"):
        assert hasattr(lowbit, name), name
    # Test infrastructure lives in lowbit.testing, not at the top level.
    assert not hasattr(lowbit, "ptx_emulator")
    from lowbit.testing import conformance, kernel_cases, ptx_emulator, qemu  # noqa: F401


def test_evaluate_on_known_values():
    from lowbit import evaluate
    # Uniform logits over 4 tokens: perplexity 4 whatever the text.
    ppl, n = evaluate.perplexity(lambda x: np.zeros(x.shape + (4,), np.float32),
                                 np.arange(8) % 4, windows=2, length=4)
    assert n == 6 and abs(ppl - 4.0) < 1e-9
    e = np.eye(3)
    a = evaluate.embedding_agreement(e, e)
    assert a == {"cosine": 1.0, "cosine_min": 1.0, "same_neighbour": 1.0}
