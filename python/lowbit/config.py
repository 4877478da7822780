"""Where Lowbit's tools, runtime library and LLVM live: the one place that
knows paths. Every other module asks here.

In order:
- `LOWBIT_BUILD_DIR` (a build tree: bin/, lib/) or `LOWBIT_PREFIX` (an
  install prefix: bin/, lib/);
- the prefix this package was installed into by `cmake --install`
  (`_install.py`, written at install time);
- the source checkout this package sits in (`<checkout>/build`, what
  `scripts/build.sh` makes; also after `pip install -e python`).

LLVM's tools (FileCheck, mlir-runner) and MLIR's runner libraries come from
`LOWBIT_LLVM_DIR` or the Debian LLVM 22 packages.
"""
import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def source_root():
    """The source checkout this package belongs to, or None when it was
    installed elsewhere."""
    root = _PACKAGE.parents[1]
    return root if (root / "CMakeLists.txt").exists() and (root / "runtime").is_dir() else None


def _installed_prefix():
    try:
        from . import _install  # written by cmake --install
        return Path(_install.PREFIX)
    except ImportError:
        return None


def build_dir() -> Path:
    """The tree holding bin/quant-* and lib/liblowbit_runtime.so."""
    for var in ("LOWBIT_BUILD_DIR", "LOWBIT_PREFIX"):
        if os.environ.get(var):
            return Path(os.environ[var])
    prefix = _installed_prefix()
    if prefix is not None:
        return prefix
    root = source_root()
    if root is None:
        raise RuntimeError("cannot find Lowbit's tools: set LOWBIT_PREFIX (an install "
                           "prefix) or LOWBIT_BUILD_DIR (a build tree)")
    return root / "build"


def llvm_dir() -> Path:
    """LLVM 22: $LOWBIT_LLVM_DIR or Debian's /usr/lib/llvm-22."""
    return Path(os.environ.get("LOWBIT_LLVM_DIR", "/usr/lib/llvm-22"))


def llvm_bin() -> Path:
    return llvm_dir() / "bin"


def llvm_lib() -> Path:
    return llvm_dir() / "lib"


def runtime_library() -> Path:
    """$LOWBIT_RUNTIME or <build>/lib/liblowbit_runtime.so."""
    return Path(os.environ.get("LOWBIT_RUNTIME", build_dir() / "lib" / "liblowbit_runtime.so"))


def runtime_sources() -> Path:
    """The runtime's sources (runtime/ of the checkout, or share/lowbit/runtime
    of an install): the AArch64 test driver is built from them."""
    root = source_root()
    if root is not None:
        return root / "runtime"
    return build_dir() / "share" / "lowbit" / "runtime"


def output_dir(name: str) -> Path:
    """Default output folder of the main job and the demo: <checkout>/out/name,
    or ./out/name outside a checkout."""
    root = source_root()
    return (root if root is not None else Path.cwd()) / "out" / name


def shared_dir() -> Path:
    """The project's shared data: $LOWBIT_SHARED_DIR, or shared/ beside the
    checkout (where CI puts it too)."""
    if os.environ.get("LOWBIT_SHARED_DIR"):
        return Path(os.environ["LOWBIT_SHARED_DIR"])
    root = source_root()
    return (root.parent if root is not None else Path.cwd()) / "shared"
