#!/usr/bin/env bash
# The whole test suite: setup (idempotent), build, then lit (FileCheck,
# -verify-diagnostics and execution tests), the GoogleTest units through lit,
# and pytest. Ends with one line "N passed, N failed[, N skipped]".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LOWBIT_BUILD_DIR:-$root/build}
export LOWBIT_BUILD_DIR=$build

"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$build"

results=$(mktemp -d)
status=0
/usr/lib/llvm-22/bin/lit -sv --xunit-xml-output="$results/lit.xml" \
  "$build/test" "$build/test/Unit" || status=1
(cd "$root/python" && "$root/.venv/bin/python" -m pytest -q --durations=15 \
  --junitxml="$results/pytest.xml") || status=1

"$root/.venv/bin/python" - "$results/lit.xml" "$results/pytest.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        failed += 1  # a runner that wrote no report counts as a failure
        continue
    for case in tree.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
PY
rm -rf "$results"
exit $status
