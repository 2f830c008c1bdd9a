#!/bin/bash
# bench.sh -- `make bench`: start what the benchmarks need (RabbitMQ and
# PostgreSQL with default durability, a private containerd), run every
# scenario of build/bin/zun-bench, stop everything (also on failure).
#
#   bench.sh [zun-bench args...]      e.g. --only 1,2  or  --quick
#
# Results: the table on stdout and build/bench/results.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ENV_DIR="$BUILD_DIR/bench/env"
mkdir -p "$ENV_DIR"
export ZUN_TEST_RMQ_PORT="${ZUN_BENCH_RMQ_PORT:-5721}"
export ZUN_TEST_PG_PORT="${ZUN_BENCH_PG_PORT:-5451}"
export PG_DURABLE=1                      # fsync and synchronous_commit on
export ZUN_TEST_CRI_DIR=/tmp/zun-bench-ctd ZUN_TEST_CNI_BRIDGE=zunbench0
export ZUN_TEST_CNI_SUBNET=10.233.82.0/24 ZUN_TEST_REGISTRY=127.0.0.1:5004
export ZUN_TEST_CGROUP_ROOT=zun-bench

stop() {
  "$ROOT/scripts/test-containerd.sh" stop "$ENV_DIR" >/dev/null 2>&1 || true
  "$ROOT/scripts/test-services.sh" stop "$ENV_DIR" >/dev/null 2>&1 || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "[bench] starting RabbitMQ, PostgreSQL (durable) and containerd" >&2
"$ROOT/scripts/test-services.sh" start "$ENV_DIR" &
svc=$!
"$ROOT/scripts/test-containerd.sh" start "$ENV_DIR"
wait "$svc"
cd "$ROOT"
ZUN_TEST_ENV_DIR="$ENV_DIR" "$BUILD_DIR/bin/zun-bench" \
  --out "$BUILD_DIR/bench/results.json" "$@"
