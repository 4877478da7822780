#!/usr/bin/env bash
# Installs everything Lowbit needs on a Debian 12 machine and creates the Python
# venv (.venv) with pinned packages. Idempotent: a second run installs nothing and
# only checks. Usage: scripts/setup.sh [--no-venv]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LLVM_VER=22

# Debian packages, grouped by what needs them.
debs=(
  # build
  cmake ninja-build ccache g++ pkg-config
  # LLVM/MLIR 22: libraries, headers, lit/FileCheck/mlir-opt/mlir-runner, clang for fuzzers
  "llvm-${LLVM_VER}-dev" "libmlir-${LLVM_VER}-dev" "mlir-${LLVM_VER}-tools"
  "llvm-${LLVM_VER}-tools" "clang-${LLVM_VER}" "libclang-rt-${LLVM_VER}-dev"
  "libomp-${LLVM_VER}-dev" "lld-${LLVM_VER}"
  # the formatting check of the sources (test/clang-format.test)
  "clang-format-${LLVM_VER}"
  # zlib/zstd/libedit/libxml2 headers LLVM's CMake exports ask for
  zlib1g-dev libzstd-dev libedit-dev libxml2-dev libffi-dev libcurl4-openssl-dev
  # C++ unit tests
  libgtest-dev
  # ONNX import
  libprotobuf-dev protobuf-compiler libonnx-dev
  # ARM code in tests
  qemu-user-static gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
  # host linear algebra and the ILP solver for later passes
  libeigen3-dev
  # the bit-allocation solver (lib/Analysis): COIN-OR CBC
  coinor-libcbc-dev
)

missing=()
for p in "${debs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

[ "${1:-}" = "--no-venv" ] && exit 0

# Python venv with pinned packages (python/requirements.txt).
venv="$root/.venv"
req="$root/python/requirements.txt"
req_nodeps="$root/python/requirements-nodeps.txt"
stamp="$venv/.requirements.sha256"
want=$(cat "$req" "$req_nodeps" "$root/python/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: .venv up to date"
else
  echo "setup: creating .venv from $req"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$req"
  "$venv/bin/python" -m pip install -q --no-deps -r "$req_nodeps"
  # The lowbit package itself, editable: `import lowbit` in the venv.
  "$venv/bin/python" -m pip install -q --no-deps -e "$root/python"
  echo "$want" >"$stamp"
fi
