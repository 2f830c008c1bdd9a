#!/bin/bash
# run.sh -- `make run`: a single-node Zun compute stack on this machine.
#
#   run.sh [fake]
#
# Starts a private RabbitMQ and PostgreSQL (in parallel), the CRI runtime
# (fake: the in-memory fake-cri), writes build/run/zun-agent.conf, runs
# db-sync, then runs zun-agent in the foreground. Ctrl-C (or SIGTERM) stops
# the agent and everything this script started.
#
# Ports and places (override with the environment):
#   ZUN_RUN_RMQ_PORT=5682  ZUN_RUN_PG_PORT=5433  ZUN_RUN_DIR=build/run
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRI="${1:-fake}"
RUN_DIR="${ZUN_RUN_DIR:-$ROOT/build/run}"
RMQ_PORT="${ZUN_RUN_RMQ_PORT:-5682}"
PG_PORT="${ZUN_RUN_PG_PORT:-5433}"
RMQ_BASE="/tmp/zun-run-rmq-$RMQ_PORT"
PG_BASE="/tmp/zun-run-pg-$PG_PORT"
BIN="$ROOT/build/bin"
HOST="${ZUN_RUN_HOST:-$(hostname -s 2>/dev/null || echo zun-node)}"
mkdir -p "$RUN_DIR"
say() { echo "[make run] $*" >&2; }

FAKE_PID=""
AGENT_PID=""
cleanup() {
  trap - EXIT INT TERM
  say "stopping"
  if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill -TERM "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  if [ -n "$FAKE_PID" ] && kill -0 "$FAKE_PID" 2>/dev/null; then
    kill -TERM "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
  fi
  "$ROOT/scripts/stop-rabbitmq.sh" "$RMQ_BASE" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-postgres.sh" "$PG_BASE" --purge 2>>"$RUN_DIR/stop.log" || true
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$CRI" in
fake) ;;
*) say "unknown CRI '$CRI' (expected: fake)"; exit 2 ;;
esac

say "starting RabbitMQ (port $RMQ_PORT) and PostgreSQL (port $PG_PORT)"
"$ROOT/scripts/start-rabbitmq.sh" "$RMQ_BASE" "$RMQ_PORT" >"$RUN_DIR/rmq.url" 2>"$RUN_DIR/rmq.log" &
rmq=$!
"$ROOT/scripts/start-postgres.sh" "$PG_BASE" "$PG_PORT" >"$RUN_DIR/pg.url" 2>"$RUN_DIR/pg.log" &
pg=$!
wait "$rmq" || { tail -20 "$RUN_DIR/rmq.log" >&2; exit 1; }
wait "$pg" || { tail -20 "$RUN_DIR/pg.log" >&2; exit 1; }
AMQP_URL="$(cat "$RUN_DIR/rmq.url")"
AMQP_URL="rabbit:${AMQP_URL#amqp:}"
PG_URL="$(cat "$RUN_DIR/pg.url")"

CRI_SOCK="$RUN_DIR/cri.sock"
say "starting fake-cri on $CRI_SOCK"
"$BIN/fake-cri" --listen "unix://$CRI_SOCK" >"$RUN_DIR/fake-cri.log" 2>&1 &
FAKE_PID=$!
for _ in $(seq 1 100); do [ -S "$CRI_SOCK" ] && break; sleep 0.05; done
[ -S "$CRI_SOCK" ] || { say "fake-cri did not start"; cat "$RUN_DIR/fake-cri.log" >&2; exit 1; }

CONF="$RUN_DIR/zun-agent.conf"
umask 077
cat >"$CONF" <<EOF
# Written by scripts/run.sh for \`make run\`.
[DEFAULT]
host = $HOST
transport_url = $AMQP_URL
report_interval = 10
[database]
connection = $PG_URL
[cri]
runtime_endpoint = unix://$CRI_SOCK
[compute]
pod_log_root = $RUN_DIR/pods
cgroup_root =
EOF
umask 022
"$BIN/zun-agent" --config-file "$CONF" db-sync >&2

say "RabbitMQ:   $AMQP_URL"
say "PostgreSQL: $PG_URL"
say "config:     $CONF"
say "running zun-agent as host '$HOST' (Ctrl-C stops everything)"
"$BIN/zun-agent" --config-file "$CONF" &
AGENT_PID=$!
set +e
wait "$AGENT_PID"
rc=$?
AGENT_PID=""
exit "$rc"
