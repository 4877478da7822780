#!/usr/bin/env bash
# clang-format (LLVM 22, .clang-format) over every C/C++ file git knows.
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  list the files that need it; exit 1 if any
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cf=${CLANG_FORMAT:-$(command -v clang-format-22 || echo /usr/lib/llvm-22/bin/clang-format)}
[ -x "$cf" ] || { echo "format.sh: clang-format 22 not found (scripts/setup.sh installs it)"; exit 2; }
cd "$root"
mapfile -t files < <({ git ls-files; git ls-files --others --exclude-standard; } |
  grep -E '\.(c|cpp|h)$' | sort -u)
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
      echo "needs clang-format: $f"
      bad=1
    fi
  done
  [ $bad -eq 0 ] && echo "format.sh: ${#files[@]} files formatted"
  exit $bad
fi
"$cf" -i "${files[@]}"
echo "format.sh: formatted ${#files[@]} files"
