#!/bin/bash
# run.sh -- `make run`: a single-node Zun compute stack on this machine.
#
#   run.sh [containerd|fake]
#
# Starts a private RabbitMQ, PostgreSQL, Keystone, Placement (the node
# registers itself there, and zun-capsule schedules through it) and CRI
# runtime, in parallel:
#   containerd (default): containerd with its CRI plugin on a private root,
#     state and socket, pause and busybox images built offline and imported,
#     and a local registry on 127.0.0.1:5000 holding busybox (so PullImage
#     really pulls);
#   fake: the in-memory fake-cri.
# Pod networking (ZUN_RUN_NETWORK):
#   neutron (default with containerd): tenant networking as in
#     docs/networking.md. A private Neutron (neutron-server + linuxbridge
#     agent, Keystone auth; database `neutron` in our PostgreSQL, vhost
#     `neutron` in our RabbitMQ; physnet1 on a local veth pair
#     ZUN_RUN_PHYS_IF/..1 attached to nothing) reporting host $HOST; a shared
#     flat network `zun-run-net` (port security off) with subnet
#     ZUN_RUN_TENANT_SUBNET (no DHCP), created as user zun; containerd's CNI
#     is zun-cni; the agent runs with `[network] driver = cni`, and
#     zun-cni-daemon plugs the ports. Pod addresses live on the Neutron
#     bridge only: the host has no route to them (a connection from the
#     host would leave by the default route; exec into a pod instead).
#   local (the default with fake): the node-local CNI bridge network
#     ZUN_RUN_CNI_BRIDGE with host-local IPAM on ZUN_RUN_CNI_SUBNET (pods are
#     reachable from the host); no Neutron.
# Then writes build/run/zun-agent.conf, runs db-sync, starts zun-cni-daemon
# (neutron mode) and runs zun-agent in the foreground. Ctrl-C (or SIGTERM)
# stops the agent and everything this script started: pods and their shims,
# mounts, CNI state, the bridge, pod cgroups, ip_forward as it was, the
# CNI daemon, Neutron with its bridges, taps and veth pair, the registry
# and the servers.
#
# Ports and places (override with the environment):
#   ZUN_RUN_RMQ_PORT=5682  ZUN_RUN_PG_PORT=5433  ZUN_RUN_DIR=build/run
#   ZUN_RUN_METRICS=127.0.0.1:9464  ZUN_RUN_CRI_DIR=/tmp/zun-run-ctd
#   ZUN_RUN_REGISTRY=127.0.0.1:5000  ZUN_RUN_CGROUP_ROOT=zun-run
#   ZUN_RUN_KEYSTONE_PORT=41500  ZUN_RUN_PLACEMENT_PORT=41778
#   ZUN_RUN_HOST=$(hostname -s)
#   local:   ZUN_RUN_CNI_BRIDGE=zunrun0  ZUN_RUN_CNI_SUBNET=10.233.79.0/24
#   neutron: ZUN_RUN_NEUTRON_PORT=41686  ZUN_RUN_CNI_DAEMON_PORT=9036
#            ZUN_RUN_PHYS_IF=zunrunphys0 (ends in 0, at most 15 characters)
#            ZUN_RUN_TENANT_SUBNET=10.233.80.0/24 (gateway: its first address)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRI="${1:-containerd}"
RUN_DIR="${ZUN_RUN_DIR:-$ROOT/build/run}"
RMQ_PORT="${ZUN_RUN_RMQ_PORT:-5682}"
PG_PORT="${ZUN_RUN_PG_PORT:-5433}"
RMQ_BASE="/tmp/zun-run-rmq-$RMQ_PORT"
PG_BASE="/tmp/zun-run-pg-$PG_PORT"
BIN="$ROOT/${BUILD_DIR:-build}/bin"
HOST="${ZUN_RUN_HOST:-$(hostname -s 2>/dev/null || echo zun-node)}"
METRICS="${ZUN_RUN_METRICS:-127.0.0.1:9464}"
KS_PORT="${ZUN_RUN_KEYSTONE_PORT:-41500}"
PL_PORT="${ZUN_RUN_PLACEMENT_PORT:-41778}"
KS_URL="http://127.0.0.1:$KS_PORT/v3"
case "$CRI" in
fake) NETWORK="${ZUN_RUN_NETWORK:-local}" ;;
*) NETWORK="${ZUN_RUN_NETWORK:-neutron}" ;;
esac
NT_PORT="${ZUN_RUN_NEUTRON_PORT:-41686}"
NT_URL="http://127.0.0.1:$NT_PORT"
CNI_DAEMON_PORT="${ZUN_RUN_CNI_DAEMON_PORT:-9036}"
PHYS_IF="${ZUN_RUN_PHYS_IF:-zunrunphys0}"
TENANT_SUBNET="${ZUN_RUN_TENANT_SUBNET:-10.233.80.0/24}"
TENANT_NET=zun-run-net
mkdir -p "$RUN_DIR" "$RUN_DIR/state"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
KS_DIR="$RUN_DIR/keystone"
PL_DIR="$RUN_DIR/placement"
NT_DIR="$RUN_DIR/neutron"
T0=$SECONDS
say() { echo "[make run +$((SECONDS - T0))s] $*" >&2; }

# The private containerd of `make run` (see scripts/start-containerd.sh).
export ZUN_CRI_DIR="${ZUN_RUN_CRI_DIR:-/tmp/zun-run-ctd}"
export REGISTRY_ADDR="${ZUN_RUN_REGISTRY:-127.0.0.1:5000}"
export ZUN_CGROUP_ROOT="${ZUN_RUN_CGROUP_ROOT:-zun-run}"
if [ "$NETWORK" = local ]; then
  export CNI_BRIDGE="${ZUN_RUN_CNI_BRIDGE:-zunrun0}"
  export CNI_SUBNET="${ZUN_RUN_CNI_SUBNET:-10.233.79.0/24}" CNI_NAME=zunrun
else
  # stop-containerd.sh deletes $CNI_BRIDGE if set: Neutron's bridges are
  # stop-neutron.sh's business
  unset CNI_BRIDGE CNI_SUBNET
fi
CTD_SOCK="$ZUN_CRI_DIR/containerd.sock"
CTD_STARTED=0
NT_STARTED=0
CONF="$RUN_DIR/zun-agent.conf"

FAKE_PID=""
AGENT_PID=""
DAEMON_PID=""
START_JOBS=()
stop_pid() { # pid: TERM, wait for it
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  trap - EXIT INT TERM
  local t0=$SECONDS j
  say "stopping"
  # Start-up steps still running (Ctrl-C during start-up, or another step
  # failed) record what they start as they go: let them finish (for up to
  # 4 minutes), so that the stop scripts find all of it.
  for j in "${START_JOBS[@]}"; do
    kill -0 "$j" 2>/dev/null || continue
    say "waiting for a start-up step (pid $j) to finish first"
    while kill -0 "$j" 2>/dev/null && [ $((SECONDS - t0)) -lt 240 ]; do sleep 0.5; done
  done
  stop_pid "$AGENT_PID"
  stop_pid "$FAKE_PID"
  if [ "$CTD_STARTED" = 1 ]; then
    # Pods first, while zun-cni-daemon still answers their CNI DEL. Without
    # it zun-cni would retry each DEL for 30 s; stop-neutron.sh removes the
    # taps anyway, so DEL becomes a no-op then.
    if [ "$NETWORK" = neutron ] && ! kill -0 "${DAEMON_PID:-0}" 2>/dev/null &&
       [ -L "$ZUN_CRI_DIR/cni/bin/zun-cni" ]; then
      ln -sfn /bin/true "$ZUN_CRI_DIR/cni/bin/zun-cni"
    fi
    say "removing pods and stopping containerd"
    "$ROOT/scripts/stop-containerd.sh" "$CTD_SOCK" --purge 2>>"$RUN_DIR/stop.log" || true
  fi
  if [ -n "$DAEMON_PID" ]; then
    say "stopping zun-cni-daemon"
    stop_pid "$DAEMON_PID"
  fi
  # the daemon's record of what it plugged: those pods are gone
  [ "$NETWORK" = neutron ] && rm -rf "$RUN_DIR/cni"
  if [ "$NT_STARTED" = 1 ]; then
    # while its database is up: it looks its bridges and taps up there
    say "stopping Neutron (its bridges, taps and $PHYS_IF go too)"
    "$ROOT/scripts/stop-neutron.sh" "$NT_DIR" --purge 2>>"$RUN_DIR/stop.log" || true
  fi
  "$ROOT/scripts/stop-placement.sh" "$PL_DIR" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-keystone.sh" "$KS_DIR" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-rabbitmq.sh" "$RMQ_BASE" --purge 2>>"$RUN_DIR/stop.log" || true
  "$ROOT/scripts/stop-postgres.sh" "$PG_BASE" --purge 2>>"$RUN_DIR/stop.log" || true
  say "stopped (in $((SECONDS - t0)) s)"
}
case "$CRI" in
fake|containerd) ;;
*) say "unknown CRI '$CRI' (expected: containerd or fake)"; exit 2 ;;
esac
case "$NETWORK" in
local) ;;
neutron)
  if [ "$CRI" != containerd ]; then
    say "ZUN_RUN_NETWORK=neutron needs containerd (its CNI plugs the ports); use ZUN_RUN_NETWORK=local with CRI=fake"
    exit 2
  fi
  for b in zun-cni zun-cni-daemon; do
    [ -x "$BIN/$b" ] || { say "missing $BIN/$b: build it first (make build)"; exit 1; }
  done
  [ "${PHYS_IF%0}" != "$PHYS_IF" ] && [ ${#PHYS_IF} -le 15 ] ||
    { say "ZUN_RUN_PHYS_IF must end in 0 and have at most 15 characters: $PHYS_IF"; exit 2; }
  TENANT_GW="$(/usr/bin/python3 -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1])[1])' \
    "$TENANT_SUBNET")" || { say "ZUN_RUN_TENANT_SUBNET is not a network: $TENANT_SUBNET"; exit 2; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$CNI_DAEMON_PORT") 2>/dev/null; then
    say "port $CNI_DAEMON_PORT (ZUN_RUN_CNI_DAEMON_PORT) is already in use"; exit 1
  fi
  ;;
*) say "unknown ZUN_RUN_NETWORK '$NETWORK' (expected: neutron or local)"; exit 2 ;;
esac
if [ "$CRI" = containerd ] && [ "$(id -u)" != 0 ]; then
  say "containerd needs root (or use: make run CRI=fake)"; exit 1
fi

# Checks above exit before anything is started (or stopped: the stop
# scripts below would stop another run's servers on the same ports).
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ctd=""
if [ "$CRI" = containerd ]; then
  say "starting containerd (state in $ZUN_CRI_DIR; first start builds images)"
  CTD_STARTED=1
  if [ "$NETWORK" = neutron ]; then
    # no bridge of containerd's to delete at stop, even if its start fails
    # early (stop-containerd.sh would fall back to its default bridge)
    mkdir -p "$ZUN_CRI_DIR/cni" && echo >"$ZUN_CRI_DIR/cni/bridge"
    # zun-cni reads [cni_daemon] of the agent's config (written below; the
    # plugin only runs at RunPodSandbox)
    CNI=zun ZUN_CNI_CONF="$CONF" ZUN_CNI_BIN="$BIN/zun-cni" \
      "$ROOT/scripts/start-containerd.sh" "$CTD_SOCK" >"$RUN_DIR/containerd.sock.txt" \
      2>"$RUN_DIR/containerd-start.log" &
  else
    "$ROOT/scripts/start-containerd.sh" "$CTD_SOCK" >"$RUN_DIR/containerd.sock.txt" \
      2>"$RUN_DIR/containerd-start.log" &
  fi
  ctd=$!
  START_JOBS+=("$ctd")
fi
say "starting RabbitMQ (port $RMQ_PORT) and PostgreSQL (port $PG_PORT)"
"$ROOT/scripts/start-rabbitmq.sh" "$RMQ_BASE" "$RMQ_PORT" >"$RUN_DIR/rmq.url" 2>"$RUN_DIR/rmq.log" &
rmq=$!
"$ROOT/scripts/start-postgres.sh" "$PG_BASE" "$PG_PORT" >"$RUN_DIR/pg.url" 2>"$RUN_DIR/pg.log" &
pg=$!
START_JOBS+=("$rmq" "$pg")
say "starting Keystone (port $KS_PORT), then Placement (port $PL_PORT)"
ks_env=(PLACEMENT_URL="http://127.0.0.1:$PL_PORT")
[ "$NETWORK" = neutron ] && ks_env+=(NEUTRON_URL="$NT_URL")
(
  env "${ks_env[@]}" \
    "$ROOT/scripts/start-keystone.sh" "$KS_DIR" "$KS_PORT" >"$RUN_DIR/keystone.out" 2>"$RUN_DIR/keystone.log" &&
  "$ROOT/scripts/start-placement.sh" "$PL_DIR" "$PL_PORT" "$KS_URL" \
    >"$RUN_DIR/placement.out" 2>"$RUN_DIR/placement.log"
) &
os=$!
START_JOBS+=("$os")
wait "$rmq" || { tail -20 "$RUN_DIR/rmq.log" >&2; exit 1; }
wait "$pg" || { tail -20 "$RUN_DIR/pg.log" >&2; exit 1; }
say "RabbitMQ and PostgreSQL up"

nt=""
if [ "$NETWORK" = neutron ]; then
  # Neutron needs the database and the broker; it waits for Keystone itself.
  say "starting Neutron (port $NT_PORT, physnet1 on $PHYS_IF, host '$HOST')"
  NT_STARTED=1
  (
    set -e
    # shellcheck disable=SC1091
    . "$PG_BASE/env.sh"
    if [ "$(runuser -u "$PG_RUNAS" -- "$PG_BIN/psql" -X -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres \
           -tAc "SELECT 1 FROM pg_database WHERE datname = 'neutron'")" != 1 ]; then
      runuser -u "$PG_RUNAS" -- "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres \
        -c "CREATE DATABASE neutron OWNER \"$PGUSER\""
    fi
    # the node's own wrapper: rabbitmqctl with the private node's environment
    "$RMQ_BASE/rabbitmqctl" -q add_vhost neutron >/dev/null 2>&1 || true
    "$RMQ_BASE/rabbitmqctl" -q set_permissions -p neutron guest '.*' '.*' '.*'
    KEYSTONE_URL="$KS_URL" NEUTRON_HOST="$HOST" PHYS_IF="$PHYS_IF" \
      NEUTRON_DB_URL="postgresql+psycopg2://$PGUSER:$PGPASSWORD@/neutron?host=$PGHOST&port=$PGPORT" \
      NEUTRON_TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:$RMQ_PORT/neutron" \
      "$ROOT/scripts/start-neutron.sh" "$NT_DIR" "$NT_PORT" >"$RUN_DIR/neutron.out"
  ) 2>"$RUN_DIR/neutron.log" &
  nt=$!
  START_JOBS+=("$nt")
fi
wait "$os" || { say "Keystone/Placement did not start:"; tail -n 20 "$RUN_DIR/keystone.log" "$RUN_DIR/placement.log" >&2; exit 1; }
say "Keystone and Placement up"
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
  say "containerd up"
  CRI_SOCK="$CTD_SOCK"
  CGROUP_ROOT="/$ZUN_CGROUP_ROOT"
fi

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
auth_url = $KS_URL
username = zun
password = zun
project_name = service
user_domain_name = Default
project_domain_name = Default
[placement_client]
endpoint_type = publicURL
EOF
if [ "$NETWORK" = neutron ]; then
  cat >>"$CONF" <<EOF
[network]
driver = cni
[cni_daemon]
cni_daemon_host = 127.0.0.1
cni_daemon_port = $CNI_DAEMON_PORT
state_dir = $RUN_DIR/cni
EOF
fi
umask 022
"$BIN/zun-agent" --config-file "$CONF" db-sync >&2

if [ "$NETWORK" = neutron ]; then
  wait "$nt" || { say "Neutron did not start:"; tail -20 "$RUN_DIR/neutron.log" >&2; exit 1; }
  say "Neutron up"
  # The tenant network, as user zun (role admin in project service: a flat
  # provider network, shared), unless it is there already.
  token() {
    curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d '{"auth":{
      "identity":{"methods":["password"],"password":{"user":{"name":"zun",
      "domain":{"id":"default"},"password":"zun"}}},
      "scope":{"project":{"name":"service","domain":{"id":"default"}}}}}' \
      "$KS_URL/auth/tokens" | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}' | tr -d '\r'
  }
  TOKEN="$(token)" || true
  [ -n "$TOKEN" ] || { say "no Keystone token for user zun"; exit 1; }
  neutron() { # METHOD PATH [BODY]: the JSON answer
    curl -sf -X "$1" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
      ${3:+-d "$3"} "$NT_URL/v2.0/$2"
  }
  field() { # PYTHON-EXPR over j (the JSON on stdin): prints it, "" for None
    /usr/bin/python3 -c 'import json, sys; j = json.load(sys.stdin); v = eval(sys.argv[1]); print("" if v is None else v)' "$1"
  }
  NET_ID="$(neutron GET "networks?name=$TENANT_NET" | field 'next((n["id"] for n in j["networks"]), None)')" ||
    { say "cannot list Neutron networks"; exit 1; }
  if [ -z "$NET_ID" ]; then
    NET_ID="$(neutron POST networks "{\"network\": {\"name\": \"$TENANT_NET\", \"shared\": true,
      \"provider:network_type\": \"flat\", \"provider:physical_network\": \"physnet1\",
      \"port_security_enabled\": false}}" | field 'j["network"]["id"]')" ||
      { say "cannot create network $TENANT_NET"; exit 1; }
  fi
  SUBNET_ID="$(neutron GET "subnets?network_id=$NET_ID" |
    field "next((s['id'] for s in j['subnets'] if s['cidr'] == '$TENANT_SUBNET'), None)")" ||
    { say "cannot list the subnets of $TENANT_NET"; exit 1; }
  if [ -z "$SUBNET_ID" ]; then
    SUBNET_ID="$(neutron POST subnets "{\"subnet\": {\"network_id\": \"$NET_ID\",
      \"name\": \"$TENANT_NET-subnet\", \"cidr\": \"$TENANT_SUBNET\", \"ip_version\": 4,
      \"gateway_ip\": \"$TENANT_GW\", \"enable_dhcp\": false}}" | field 'j["subnet"]["id"]')" ||
      { say "cannot create subnet $TENANT_SUBNET on $TENANT_NET"; exit 1; }
  fi
  say "network $TENANT_NET ($NET_ID): flat on physnet1, shared, subnet $TENANT_SUBNET ($SUBNET_ID)"

  say "starting zun-cni-daemon (127.0.0.1:$CNI_DAEMON_PORT)"
  "$BIN/zun-cni-daemon" --config-file "$CONF" >"$RUN_DIR/zun-cni-daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CNI_DAEMON_PORT/healthz")" = 200 ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CNI_DAEMON_PORT/healthz")" != 200 ]; then
    say "zun-cni-daemon did not come up:"; tail -20 "$RUN_DIR/zun-cni-daemon.log" >&2; exit 1
  fi
fi
START_JOBS=()

redact() { sed -E 's#(//[^:/@]*):[^@/]*@#\1:***@#'; }
say "up in $((SECONDS - T0)) s"
say "RabbitMQ:   $(redact <<<"$AMQP_URL")"
say "PostgreSQL: $(redact <<<"$PG_URL")"
say "Keystone:   $KS_URL (admin credentials in $KS_DIR/env.sh)"
say "Placement:  http://127.0.0.1:$PL_PORT (zun-capsule schedules through it)"
say "config:     $CONF"
say "runtime:    $CRI (unix://$CRI_SOCK)"
say "metrics:    http://$METRICS/metrics and /healthz"
if [ "$NETWORK" = neutron ]; then
  say "network:    neutron: Neutron $NT_URL (L2 agent host '$HOST'), zun-cni-daemon on"
  say "            127.0.0.1:$CNI_DAEMON_PORT (log $RUN_DIR/zun-cni-daemon.log)"
  say "            tenant network $TENANT_NET $NET_ID, subnet $TENANT_SUBNET"
else
  say "network:    local: CNI bridge $CNI_BRIDGE, $CNI_SUBNET"
fi
say "try:        $BIN/zun-capsule --config-file $CONF create -f etc/capsules/web.yaml"
say "            $BIN/zun-capsule --config-file $CONF list"
if [ "$NETWORK" = neutron ]; then
  say "            the capsule gets a Neutron port on the project's oldest network, else"
  say "            the oldest shared one ($TENANT_NET); zun-capsule --help shows how to"
  say "            name networks or ports. Its address is on $TENANT_NET only: this host"
  say "            has no route there (do not connect from the host; exec into a pod)."
fi
say "running zun-agent as host '$HOST' (Ctrl-C stops everything)"
"$BIN/zun-agent" --config-file "$CONF" &
AGENT_PID=$!
# When it serves (/healthz: bus, database and runtime up), and how long each
# phase of `make run` took.
(
  for _ in $(seq 1 1200); do
    kill -0 "$AGENT_PID" 2>/dev/null || exit 0
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$METRICS/healthz")" = 200 ]; then
      servers=$((SECONDS - T0))
      if [ -n "${ZUN_RUN_MAKE_T0:-}" ]; then
        say "serving: $(( $(date +%s) - ZUN_RUN_MAKE_T0 )) s after make run began" \
          "(deps ${ZUN_RUN_DEPS_S:-?} s, build ${ZUN_RUN_BUILD_S:-?} s, servers and agent ${servers} s)"
      else
        say "serving: ${servers} s after run.sh began"
      fi
      exit 0
    fi
    sleep 0.2
  done
) &
set +e
wait "$AGENT_PID"
rc=$?
AGENT_PID=""
exit "$rc"
