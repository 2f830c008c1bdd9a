#!/bin/bash
# lint.sh -- clang-format (Google style, .clang-format) check of our C++.
#   lint.sh          report files that are not formatted (exit 1 if any)
#   lint.sh --fix    format them in place
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^build')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
