#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 + ASan/UBSan in build-fuzz/ and
# runs the ONNX importer fuzzer for $1 seconds (default 180) on a corpus
# seeded with the test models. Crashes land in build-fuzz/crashes/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-fuzz
seconds=${1:-180}
# Every library is instrumented for coverage (fuzzer-no-link); the target
# itself links libFuzzer.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DLOWBIT_ENABLE_FUZZERS=ON
fi
ninja -C "$build" -j "${LOWBIT_JOBS:-2}" onnx-import-fuzzer
corpus=$build/corpus
mkdir -p "$corpus" "$build/crashes"
gen=$root/test/Import/ONNX/Inputs/onnx_models.py
for case in mlp attributes optional_and_unsorted shape_inference external cycle \
            dangling bad_initializer untyped subgraph; do
  [ -f "$corpus/$case.onnx" ] || "$root/.venv/bin/python" "$gen" "$case" "$corpus/$case.onnx"
done
rm -f "$corpus"/*.data  # external data files are not models
cd "$build"  # libFuzzer writes its logs into the working directory
ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1 \
  "$build/tools/fuzz/onnx-import-fuzzer" "$corpus" -max_total_time="$seconds" \
  -artifact_prefix="$build/crashes/" -max_len=65536 -print_final_stats=1 \
  -fork=1 -ignore_crashes=1
