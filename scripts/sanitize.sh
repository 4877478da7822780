#!/usr/bin/env bash
# Builds Lowbit with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ and runs the lit and unit tests under them. Not part of CI
# (it rebuilds everything); run it after touching verifiers or lowerings.
#
# allow_user_poisoning=0: LLVM's headers poison allocator memory when
# compiled with ASan, but the Debian MLIR libraries are not instrumented;
# the mix reports false use-after-poison errors inside MLIRContext setup.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-asan
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
fi
ninja -C "$build" -j "${LOWBIT_JOBS:-2}" quant-opt quant-translate quant-compile quant-run \
  lowbit_runtime LowbitUnitTests mlir-doc
ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  /usr/lib/llvm-22/bin/lit -sv "$build/test" "$build/test/Unit"
