#!/usr/bin/env bash
# Regenerates docs/generated/ from ODS (dialect, attributes, types, ops and
# passes). test/docs-in-sync.test fails when they are stale.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LOWBIT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$build" >/dev/null
mkdir -p "$root/docs/generated"
cp "$build/docs/Dialects/LowbitDialect.md" "$build/docs/Dialects/ONNXDialect.md" \
   "$build/docs/LowbitPasses.md" \
   "$build/docs/LowbitConversionPasses.md" "$build/docs/LowbitCPUPasses.md" \
   "$build/docs/LowbitGPUPasses.md" \
   "$root/docs/generated/"
echo "docs/generated updated"
