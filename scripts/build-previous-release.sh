#!/bin/bash
# build-previous-release.sh -- build the zun-agent of the previous release
# (tests/upgrade/previous-release: version and commit) for the upgrade test.
#   build-previous-release.sh OUT_DIR
# Extracts that commit with `git archive` into OUT_DIR/src and builds its
# zun-agent with its own scripts/build.sh into OUT_DIR/src/build, sharing
# this tree's ccache (same layout relative to the base directory, so the
# files that did not change since are not compiled again). Prints the
# binary's path; skips the build when OUT_DIR already holds that commit's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: build-previous-release.sh OUT_DIR}"
read -r version commit < <(grep -v '^#' "$ROOT/tests/upgrade/previous-release")
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
bin="$OUT/src/build/bin/zun-agent"
if [ -x "$bin" ] && [ "$(cat "$OUT/commit" 2>/dev/null)" = "$commit" ]; then
  echo "$bin"
  exit 0
fi
if ! git -C "$ROOT" cat-file -e "$commit^{commit}" 2>/dev/null; then
  echo "build-previous-release: commit $commit (release $version) is not in" \
       "this clone: the upgrade test needs the project's history" >&2
  exit 1
fi
rm -rf "$OUT/src" "$OUT/commit"
mkdir -p "$OUT/src"
git -C "$ROOT" archive "$commit" | tar -x -C "$OUT/src"
export CCACHE_DIR="${CCACHE_DIR:-$ROOT/.cache/ccache}"
t0=$(date +%s)
BUILD_TARGETS=zun-agent "$OUT/src/scripts/build.sh" "$OUT/src/build" RelWithDebInfo \
  >"$OUT/build.log" 2>&1 || {
  tail -30 "$OUT/build.log" >&2
  echo "build-previous-release: building $version ($commit) failed" >&2
  exit 1
}
got="$("$bin" --version)"
if [ "$got" != "zun-agent $version" ]; then
  echo "build-previous-release: $commit built '$got', expected zun-agent $version" >&2
  exit 1
fi
echo "$commit" > "$OUT/commit"
echo "build-previous-release: zun-agent $version built in $(( $(date +%s) - t0 )) s" >&2
echo "$bin"
