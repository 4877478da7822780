#!/usr/bin/env bash
# Configures (once) and builds Lowbit with Ninja and ccache: tools, unit
# tests and the ODS-generated docs. Usage: scripts/build.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-${LOWBIT_BUILD_DIR:-$root/build}}
jobs=${LOWBIT_JOBS:-2}

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$build" -j "$jobs" quant-opt quant-translate quant-compile quant-run lowbit_runtime lowbit_run_raw LowbitUnitTests mlir-doc \
  onnx-import-fuzzer-replay recipe-fuzzer-replay npy-fuzzer-replay \
  calibration-stats-fuzzer-replay artifact-fuzzer-replay
