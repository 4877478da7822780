#!/usr/bin/env bash
# Builds Lowbit with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ and runs the lit and unit tests, then pytest, against it. Not
# part of CI (it rebuilds everything); run it after touching verifiers,
# lowerings, the runtime or the readers of outside input.
# Usage: scripts/sanitize.sh [lit|pytest|all] [pytest args...]
#
# pytest: the Python process loads the instrumented runtime with ctypes, so
# the ASan runtime is preloaded (LD_PRELOAD); the tools it runs
# (quant-compile, quant-run, ...) are the instrumented ones of build-asan.
# Leak detection is off in that stage (CPython, torch and onnxruntime keep
# memory to process exit by design); the lit stage checks leaks of the
# tools and of the runtime under quant-run. The generated model.so files
# are not instrumented (LLVM emits them, not the sanitizing compiler).
#
# allow_user_poisoning=0: LLVM's headers poison allocator memory when
# compiled with ASan, but the Debian MLIR libraries are not instrumented;
# the mix reports false use-after-poison errors inside MLIRContext setup.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-asan
stage=${1:-all}
shift || true
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
fi
ninja -C "$build" -j "${LOWBIT_JOBS:-2}" quant-opt quant-translate quant-compile quant-run \
  lowbit_runtime lowbit_run_raw LowbitUnitTests mlir-doc \
  onnx-import-fuzzer-replay recipe-fuzzer-replay npy-fuzzer-replay \
  calibration-stats-fuzzer-replay artifact-fuzzer-replay
status=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ "$stage" = lit ] || [ "$stage" = all ]; then
  ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1 \
    /usr/lib/llvm-22/bin/lit -sv "$build/test" "$build/test/Unit" || status=1
fi
if [ "$stage" = pytest ] || [ "$stage" = all ]; then
  asan=$(g++ -print-file-name=libasan.so)
  ubsan=$(g++ -print-file-name=libubsan.so)
  (cd "$root/python" &&
    LOWBIT_BUILD_DIR="$build" LD_PRELOAD="$asan:$ubsan" \
    ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=0:verify_asan_link_order=0 \
    "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider "$@") || status=1
fi
exit $status
