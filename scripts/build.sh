#!/bin/bash
# build.sh -- configure (once) and build zun-agent with CMake + Ninja.
#   build.sh [BUILD_DIR] [BUILD_TYPE] [extra cmake args...]
# Uses ccache when installed (cache in .cache/ccache, shared by every build
# directory: the generated CRI code is compiled once for all of them).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build}"
BUILD_TYPE="${2:-RelWithDebInfo}"
shift $(( $# > 2 ? 2 : $# ))
cd "$ROOT"
args=(-S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE")
if command -v ccache >/dev/null; then
  export CCACHE_DIR="${CCACHE_DIR:-$ROOT/.cache/ccache}"
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-4G}"
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake "${args[@]}" "$@" >/dev/null
fi
# BUILD_TARGETS: build only these targets (default: all).
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j "$(nproc)" "${targets[@]}"
