#!/bin/bash
# build-deb.sh -- build the Debian package zun-agent_<version>_<arch>.deb
# with dpkg-buildpackage (debian/) and check it with lintian.
#   build-deb.sh [--prebuilt BUILD_DIR] [OUT_DIR]
# The package is built from a copy of the tree (the files git knows, as they
# are in the working tree) under OUT_DIR (default build/deb), where the
# .deb lands. --prebuilt packages the binaries of an existing CMake build
# directory of this tree instead of compiling (make test does that with its
# own build). Exit status is non-zero if the build fails or lintian reports
# an error or a warning.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREBUILT=""
if [ "${1:-}" = "--prebuilt" ]; then
  PREBUILT="$(cd "$2" && pwd)"
  shift 2
fi
OUT="${1:-$ROOT/build/deb}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"

version="$(dpkg-parsechangelog -l debian/changelog -S Version)"
cmake_version="$(sed -n 's/^project(zun_agent VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
if [ "$version" != "$cmake_version" ]; then
  echo "build-deb: debian/changelog says $version, CMakeLists.txt $cmake_version" >&2
  exit 1
fi
arch="$(dpkg --print-architecture)"

src="$OUT/zun-agent-$version"
rm -rf "$src" "$OUT"/zun-agent*_"$version"_* "$OUT"/zun-agent_"$version".*
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
  (while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done) |
  tar --null -T - -cf - | tar -xf - -C "$src"

if command -v ccache >/dev/null; then
  export CCACHE_DIR="${CCACHE_DIR:-$ROOT/.cache/ccache}"
  export CCACHE_BASEDIR="$src" CCACHE_NOHASHDIR=1
fi
t0=$(date +%s)
(cd "$src" && ZUN_DEB_PREBUILT="$PREBUILT" \
  dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$OUT/build.log" 2>&1) || {
  tail -40 "$OUT/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
  exit 1
}
deb="$OUT/zun-agent_${version}_${arch}.deb"
echo "build-deb: $deb in $(( $(date +%s) - t0 )) s" >&2

# lintian: errors and warnings fail the build; notes are printed.
if ! lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$OUT/lintian.txt" 2>&1; then
  cat "$OUT/lintian.txt" >&2
  echo "build-deb: lintian reports errors or warnings" >&2
  exit 1
fi
sed 's/^/lintian: /' "$OUT/lintian.txt" >&2
rm -rf "$src"
echo "$deb"
