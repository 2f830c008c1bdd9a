#!/bin/bash
# run.sh -- `make run`: a single-node Zun compute stack on this machine.
#
#   run.sh [containerd|fake]
#
# Starts a private RabbitMQ, PostgreSQL, Keystone, Placement (the node
# registers itself there, and zun-capsule schedules through it) and CRI
# runtime, in parallel:
#   containerd (default): containerd with its CRI plugin on a private root,
#     state and socket, a CNI bridge with host-local IPAM, pause and busybox
#     images built offline and imported, and a local registry on
#     127.0.0.1:5000 holding busybox (so PullImage really pulls);
#   fake: the in-memory fake-cri.
# Then writes build/run/zun-agent.conf, runs db-sync and runs zun-agent in
# the foreground. Ctrl-C (or SIGTERM) stops the agent and everything this
# script started: pods and their shims, mounts, CNI state and bridge, pod
# cgroups, ip_forward as it was, the registry and the servers.
#
# Ports and places (override with the environment):
#   ZUN_RUN_RMQ_PORT=5682  ZUN_RUN_PG_PORT=5433  ZUN_RUN_DIR=build/run
#   ZUN_RUN_METRICS=127.0.0.1:9464  ZUN_RUN_CRI_DIR=/tmp/zun-run-ctd
#   ZUN_RUN_CNI_BRIDGE=zunrun0  ZUN_RUN_CNI_SUBNET=10.233.79.0/24
#   ZUN_RUN_REGISTRY=127.0.0.1:5000  ZUN_RUN_CGROUP_ROOT=zun-run
#   ZUN_RUN_KEYSTONE_PORT=41500  ZUN_RUN_PLACEMENT_PORT=41778
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRI="${1:-containerd}"
RUN_DIR="${ZUN_RUN_DIR:-$ROOT/build/run}"
RMQ_PORT="${ZUN_RUN_RMQ_PORT:-5682}"
PG_PORT="${ZUN_RUN_PG_PORT:-5433}"
RMQ_BASE="/tmp/zun-run-rmq-$RMQ_PORT"
PG_BASE="/tmp/zun-run-pg-$PG_PORT"
BIN="$ROOT/build/bin"
HOST="${ZUN_RUN_HOST:-$(hostname -s 2>/dev/null || echo zun-node)}"
METRICS="${ZUN_RUN_METRICS:-127.0.0.1:9464}"
KS_PORT="${ZUN_RUN_KEYSTONE_PORT:-41500}"
PL_PORT="${ZUN_RUN_PLACEMENT_PORT:-41778}"
KS_DIR="$RUN_DIR/keystone"
PL_DIR="$RUN_DIR/placement"
mkdir -p "$RUN_DIR" "$RUN_DIR/state"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
say() { echo "[make run] $*" >&2; }

# The private containerd of `make run` (see scripts/start-containerd.sh).
export ZUN_CRI_DIR="${ZUN_RUN_CRI_DIR:-/tmp/zun-run-ctd}"
export CNI_BRIDGE="${ZUN_RUN_CNI_BRIDGE:-zunrun0}"
export CNI_SUBNET="${ZUN_RUN_CNI_SUBNET:-10.233.79.0/24}" CNI_NAME=zunrun
export REGISTRY_ADDR="${ZUN_RUN_REGISTRY:-127.0.0.1:5000}"
export ZUN_CGROUP_ROOT="${ZUN_RUN_CGROUP_ROOT:-zun-run}"
CTD_SOCK="$ZUN_CRI_DIR/containerd.sock"
CTD_STARTED=0

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
  if [ "$CTD_STARTED" = 1 ]; then
    say "removing pods and stopping containerd"
    "$ROOT/scripts/stop-containerd.sh" "$CTD_SOCK" --purge 2>>"$RUN_DIR/stop.log" || true
  fi
  "$ROOT/scripts/stop-placement.sh" "$PL_DIR" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-keystone.sh" "$KS_DIR" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-rabbitmq.sh" "$RMQ_BASE" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-postgres.sh" "$PG_BASE" --purge 2>>"$RUN_DIR/stop.log" || true
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$CRI" in
fake|containerd) ;;
*) say "unknown CRI '$CRI' (expected: containerd or fake)"; exit 2 ;;
esac
if [ "$CRI" = containerd ] && [ "$(id -u)" != 0 ]; then
  say "containerd needs root (or use: make run CRI=fake)"; exit 1
fi

ctd=""
if [ "$CRI" = containerd ]; then
  say "starting containerd (state in $ZUN_CRI_DIR; first start builds images)"
  CTD_STARTED=1
  "$ROOT/scripts/start-containerd.sh" "$CTD_SOCK" >"$RUN_DIR/containerd.sock.txt" \
    2>"$RUN_DIR/containerd-start.log" &
  ctd=$!
fi
say "starting RabbitMQ (port $RMQ_PORT) and PostgreSQL (port $PG_PORT)"
"$ROOT/scripts/start-rabbitmq.sh" "$RMQ_BASE" "$RMQ_PORT" >"$RUN_DIR/rmq.url" 2>"$RUN_DIR/rmq.log" &
rmq=$!
"$ROOT/scripts/start-postgres.sh" "$PG_BASE" "$PG_PORT" >"$RUN_DIR/pg.url" 2>"$RUN_DIR/pg.log" &
pg=$!
say "starting Keystone (port $KS_PORT), then Placement (port $PL_PORT)"
(
  PLACEMENT_URL="http://127.0.0.1:$PL_PORT" \
    "$ROOT/scripts/start-keystone.sh" "$KS_DIR" "$KS_PORT" >"$RUN_DIR/keystone.out" 2>"$RUN_DIR/keystone.log" &&
  "$ROOT/scripts/start-placement.sh" "$PL_DIR" "$PL_PORT" "http://127.0.0.1:$KS_PORT/v3" \
    >"$RUN_DIR/placement.out" 2>"$RUN_DIR/placement.log"
) &
os=$!
wait "$rmq" || { tail -20 "$RUN_DIR/rmq.log" >&2; exit 1; }
wait "$pg" || { tail -20 "$RUN_DIR/pg.log" >&2; exit 1; }
wait "$os" || { say "Keystone/Placement did not start:"; tail -20 "$RUN_DIR/keystone.log" "$RUN_DIR/placement.log" >&2; exit 1; }
AMQP_URL="$(cat "$RUN_DIR/rmq.url")"
AMQP_URL="rabbit:${AMQP_URL#amqp:}"
PG_URL="$(cat "$RUN_DIR/pg.url")"

if [ "$CRI" = fake ]; then
  CRI_SOCK="$RUN_DIR/cri.sock"
  say "starting fake-cri on $CRI_SOCK"
  "$BIN/fake-cri" --listen "unix://$CRI_SOCK" >"$RUN_DIR/fake-cri.log" 2>&1 &
  FAKE_PID=$!
  for _ in $(seq 1 100); do [ -S "$CRI_SOCK" ] && break; sleep 0.05; done
  [ -S "$CRI_SOCK" ] || { say "fake-cri did not start"; cat "$RUN_DIR/fake-cri.log" >&2; exit 1; }
  CGROUP_ROOT=""
else
  wait "$ctd" || { say "containerd did not start:"; tail -30 "$RUN_DIR/containerd-start.log" >&2; exit 1; }
  CRI_SOCK="$CTD_SOCK"
  CGROUP_ROOT="/$ZUN_CGROUP_ROOT"
fi

CONF="$RUN_DIR/zun-agent.conf"
umask 077
cat >"$CONF" <<EOF
# Written by scripts/run.sh for \`make run\`.
[DEFAULT]
host = $HOST
transport_url = $AMQP_URL
report_interval = 10
metrics_listen = $METRICS
state_path = $RUN_DIR/state
[database]
connection = $PG_URL
[cri]
runtime_endpoint = unix://$CRI_SOCK
[compute]
pod_log_root = $RUN_DIR/pods
cgroup_root = $CGROUP_ROOT
[volume]
volume_dir = $RUN_DIR/volumes
[keystone_auth]
auth_type = password
auth_url = http://127.0.0.1:$KS_PORT/v3
username = zun
password = zun
project_name = service
user_domain_name = Default
project_domain_name = Default
[placement_client]
endpoint_type = publicURL
EOF
umask 022
"$BIN/zun-agent" --config-file "$CONF" db-sync >&2

redact() { sed -E 's#(//[^:/@]*):[^@/]*@#\1:***@#'; }
say "RabbitMQ:   $(redact <<<"$AMQP_URL")"
say "PostgreSQL: $(redact <<<"$PG_URL")"
say "Keystone:   http://127.0.0.1:$KS_PORT/v3 (admin credentials in $KS_DIR/env.sh)"
say "Placement:  http://127.0.0.1:$PL_PORT (zun-capsule schedules through it)"
say "config:     $CONF"
say "runtime:    $CRI (unix://$CRI_SOCK)"
say "metrics:    http://$METRICS/metrics and /healthz"
say "try:        $BIN/zun-capsule --config-file $CONF create -f etc/capsules/web.yaml"
say "            $BIN/zun-capsule --config-file $CONF list"
say "running zun-agent as host '$HOST' (Ctrl-C stops everything)"
"$BIN/zun-agent" --config-file "$CONF" &
AGENT_PID=$!
set +e
wait "$AGENT_PID"
rc=$?
AGENT_PID=""
exit "$rc"
