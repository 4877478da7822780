#!/usr/bin/env bash
# Builds the libFuzzer targets (tools/fuzz) with clang-22 + ASan/UBSan in
# build-fuzz/ and runs each for $1 seconds (default 60) on a working copy of
# its committed corpus (tools/fuzz/corpus/<target>). Fails on the first
# crash, leak or sanitizer report of any target; the input lands in
# build-fuzz/crashes/<target>/ (add it to the corpus as crash-<what> with
# the fix). Prints one line per target: executions, coverage, corpus size.
# Usage: [LOWBIT_FUZZ_SEED=N] scripts/fuzz.sh [seconds] [target...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-fuzz
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(onnx-import-fuzzer recipe-fuzzer npy-fuzzer calibration-stats-fuzzer
           artifact-fuzzer)
fi
# Every Lowbit library is instrumented for coverage (fuzzer-no-link); the
# targets link libFuzzer. -O1 (as libFuzzer's documentation suggests for
# ASan builds) halves the build time of -O3 at little cost in speed.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DLOWBIT_ENABLE_FUZZERS=ON
fi
ninja -C "$build" -j "${LOWBIT_JOBS:-2}" "${targets[@]}"

# allow_user_poisoning=0: LLVM's headers poison allocator memory when
# compiled with ASan, but the Debian MLIR libraries are not instrumented.
export ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1
summary=()
status=0
# LOWBIT_FUZZ_SEED=N (what .ci/run sets): libFuzzer's random seed, and a
# working corpus of the committed seeds only, so that every CI run walks the
# same mutations (as far as its speed takes it) and a crash is reproducible.
# Without it: a random seed, and the corpus grows from run to run.
seed=${LOWBIT_FUZZ_SEED:-0}
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  crashes=$build/crashes/$t
  if [ "$seed" != 0 ]; then
    corpus=$build/corpus-seed$seed/$t
    rm -rf "$corpus"
  fi
  mkdir -p "$corpus" "$crashes"
  cp -n "$root/tools/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  # With a seed, also at most as many executions as a 60 s run on a 2-core
  # AMD EPYC made when checked clean, so a faster machine does not explore
  # past what was checked (docs/testing.md).
  runs=-1
  if [ "$seed" != 0 ]; then
    case $t in
      onnx-import-fuzzer) runs=80000 ;;
      recipe-fuzzer) runs=500000 ;;
      npy-fuzzer) runs=5000000 ;;
      calibration-stats-fuzzer) runs=2000000 ;;
      artifact-fuzzer) runs=1000000 ;;
    esac
  fi
  log=$build/$t.log
  echo "fuzz: $t for ${seconds}s"
  # libFuzzer writes its own files into the working directory.
  if (cd "$build" && "$build/bin/fuzz/$t" "$corpus" -max_total_time="$seconds" \
        -seed="$seed" -runs="$runs" -artifact_prefix="$crashes/" -max_len=65536 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1); then
    result=ok
  else
    result="CRASH (see $log and $crashes/)"
    status=1
    tail -40 "$log"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || echo "?")
  summary+=("$(printf '%-26s %8ss %12s execs  %-20s corpus %5s  %s' "$t" "$seconds" "$execs" \
    "$cov" "$(ls "$corpus" | wc -l)" "$result")")
done
printf '%s\n' "${summary[@]}"
exit $status
