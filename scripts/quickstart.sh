#!/usr/bin/env bash
# Installs every dependency, builds Lowbit and runs its main job on the
# built-in default: all-MiniLM-L6-v2 and SmolLM2-135M compiled to native
# artifacts in float, RTN and GPTQ 4-bit (calibrated on WikiText-2 valid),
# run on WikiText-2 test, with a summary table (python -m lowbit.quickstart).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root/python"
exec "$root/.venv/bin/python" -m lowbit.quickstart "$@"
