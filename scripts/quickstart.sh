#!/usr/bin/env bash
# Installs every dependency, builds Lowbit and runs its main job on the
# built-in default: a real all-MiniLM-L6-v2 block on real text, quantized
# with several schemes, lowered and run, with a summary table.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root/python"
exec "$root/.venv/bin/python" -m lowbit.demo "$@"
