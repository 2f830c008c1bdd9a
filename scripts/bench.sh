#!/bin/bash
# bench.sh -- `make bench`: start what the benchmarks need (RabbitMQ and
# PostgreSQL with default durability, a private containerd, Keystone,
# Placement and a three-node RabbitMQ cluster for the fleet scenario), run every scenario of
# build/bin/zun-bench, stop everything (also on failure).
#
#   bench.sh [zun-bench args...]      e.g. --only 1,2  or  --quick
#
# Results: the table on stdout and build/bench/results.json; containerd's
# log in build/bench/containerd.log (scripts/bench-containerd-spans.py).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ENV_DIR="$BUILD_DIR/bench/env"
mkdir -p "$ENV_DIR"
export ZUN_TEST_RMQ_PORT="${ZUN_BENCH_RMQ_PORT:-5721}"
export ZUN_TEST_PG_PORT="${ZUN_BENCH_PG_PORT:-5451}"
export PG_DURABLE=1                      # fsync and synchronous_commit on
# Latencies end at the commit of the Running write (bench_util StatusTimes).
export PG_EXTRA_CONF="track_commit_timestamp = on"
export ZUN_TEST_CRI_DIR=/tmp/zun-bench-ctd ZUN_TEST_CNI_BRIDGE=zunbench0
export ZUN_TEST_CNI_SUBNET=10.233.82.0/24 ZUN_TEST_REGISTRY=127.0.0.1:5004
export ZUN_TEST_CGROUP_ROOT=zun-bench

KS_PORT="${ZUN_BENCH_KEYSTONE_PORT:-21530}"
PL_PORT="${ZUN_BENCH_PLACEMENT_PORT:-21808}"

RMQC_DIR="$ENV_DIR/rmq-cluster"
RMQC_PORT="${ZUN_BENCH_RMQC_PORT:-5740}"
SCRATCH=/tmp/zun-bench-scratch  # a tmpfs, mounted below

stop() {
  # containerd's log (each CRI call's start and end) outlives its purge:
  # scripts/bench-containerd-spans.py reads scenario 3's calls from it.
  cp "$ZUN_TEST_CRI_DIR/log/containerd.log" "$BUILD_DIR/bench/containerd.log" \
    2>/dev/null || true
  "$ROOT/scripts/stop-rabbitmq-cluster.sh" "$RMQC_DIR" --purge >/dev/null 2>&1 || true
  "$ROOT/scripts/stop-placement.sh" "$ENV_DIR/placement" --purge >/dev/null 2>&1 || true
  "$ROOT/scripts/stop-keystone.sh" "$ENV_DIR/keystone" --purge >/dev/null 2>&1 || true
  "$ROOT/scripts/test-containerd.sh" stop "$ENV_DIR" >/dev/null 2>&1 || true
  "$ROOT/scripts/test-services.sh" stop "$ENV_DIR" >/dev/null 2>&1 || true
  if mountpoint -q "$SCRATCH"; then umount "$SCRATCH" 2>/dev/null || true; fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The scenarios' scratch directories (pod logs, the agents' state, fake-cri's
# log files) go on a tmpfs of their own. This machine kind's root
# filesystem is ext4 without a journal, whose inode allocator passes over
# every inode freed in the last minute or more, one by one: the scenarios
# create and delete tens of thousands of files, so on it each scenario paid
# for the files the one before had deleted (scenario 2 straight after
# scenario 1: 1.50x and 1.51x on ext4, 1.31x and 1.37x on a tmpfs; a mkdir
# and a file cost 29 us on a fresh ext4, 106-125 us after 30,000 deletes).
# The real containerd of scenario 3 keeps its own state on disk.
mkdir -p "$SCRATCH"
if mountpoint -q "$SCRATCH" ||
   mount -t tmpfs -o size=4g,mode=0755 zun-bench-scratch "$SCRATCH" 2>/dev/null; then
  export ZUN_TEST_TMPDIR="$SCRATCH"
else
  echo "[bench] cannot mount a tmpfs on $SCRATCH: scratch directories stay in /tmp" >&2
fi

echo "[bench] starting RabbitMQ, PostgreSQL (durable) and containerd" >&2
"$ROOT/scripts/test-services.sh" start "$ENV_DIR" &
svc=$!
(
  PLACEMENT_URL="http://127.0.0.1:$PL_PORT" \
    "$ROOT/scripts/start-keystone.sh" "$ENV_DIR/keystone" "$KS_PORT" > "$ENV_DIR/keystone.out" 2> "$ENV_DIR/keystone.log"
  KEYSTONE_URL="$(sed -n 's/^KEYSTONE_URL=//p' "$ENV_DIR/keystone.out" | tail -1)"
  "$ROOT/scripts/start-placement.sh" "$ENV_DIR/placement" "$PL_PORT" "$KEYSTONE_URL" > "$ENV_DIR/placement.out" 2> "$ENV_DIR/placement.log"
  cat > "$ENV_DIR/openstack.env" <<ENV
ZUN_TEST_KEYSTONE_URL=$KEYSTONE_URL
ZUN_TEST_PLACEMENT_URL=http://127.0.0.1:$PL_PORT
ZUN_TEST_PLACEMENT_PORT=$PL_PORT
ZUN_TEST_KEYSTONE_DIR=$ENV_DIR/keystone
ZUN_TEST_PLACEMENT_DIR=$ENV_DIR/placement
ZUN_TEST_SCRIPTS=$ROOT/scripts
ENV
) &
os=$!
# The fleet scenario's broker: three clustered nodes (quorum queues).
"$ROOT/scripts/start-rabbitmq-cluster.sh" "$RMQC_DIR" "$RMQC_PORT" 3 \
  > "$ENV_DIR/rmq-cluster.url" 2> "$ENV_DIR/rmq-cluster.log" &
rmqc=$!
"$ROOT/scripts/test-containerd.sh" start "$ENV_DIR"
wait "$svc"
wait "$os" || { echo "[bench] Keystone/Placement failed (logs in $ENV_DIR)" >&2; exit 1; }
wait "$rmqc" || { echo "[bench] the RabbitMQ cluster failed ($ENV_DIR/rmq-cluster.log)" >&2; exit 1; }
export ZUN_BENCH_RMQ_CLUSTER="$RMQC_DIR"

# PostgreSQL as on a node where it has run for a while: WAL segments to
# recycle. A cluster fresh from initdb has one segment, and its first
# commits create each next 16 MB segment (zero-filled and fsynced while
# every commit waits behind it): scenario 1 writes about 40 MB of WAL, and
# on a fresh cluster its paced p99 caught one of those stalls (22-31 ms,
# against 11-18 ms on a server that had already run it). About 130 MB of
# WAL, then a checkpoint, which renames the old segments into future ones.
# Nothing else changes: fsync and synchronous_commit stay on.
# As the superuser (CHECKPOINT), over the socket (trust).
PG_SOCK="$(sed -n 's/^ZUN_TEST_PG_SOCKET=//p' "$ENV_DIR/services.env")"
psql -X -q -h "$PG_SOCK" -p "$ZUN_TEST_PG_PORT" -U postgres -d postgres \
  -v ON_ERROR_STOP=1 >/dev/null <<'SQL' ||
CREATE TABLE zun_bench_wal_warmup AS
  SELECT g, repeat('w', 1000) AS pad FROM generate_series(1, 120000) AS g;
DROP TABLE zun_bench_wal_warmup;
CHECKPOINT;
SQL
  { echo "[bench] PostgreSQL's WAL warm-up failed" >&2; exit 1; }
cd "$ROOT"
rc=0
ZUN_TEST_ENV_DIR="$ENV_DIR" "$BUILD_DIR/bin/zun-bench" \
  --out "$BUILD_DIR/bench/results.json" "$@" || rc=$?
# A full run (no arguments) rewrites the README's table from its results,
# met or missed; partial runs leave the README alone.
if [ $# -eq 0 ] && [ -s "$BUILD_DIR/bench/results.json" ]; then
  /usr/bin/python3 "$ROOT/scripts/bench-readme.py" \
    "$BUILD_DIR/bench/results.json" "$ROOT/README.md" || rc=1
fi
exit "$rc"
