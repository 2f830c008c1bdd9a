#!/bin/bash
# test-openstack.sh -- start/stop the servers the openstack tests share: a
# private Keystone and a private Placement that authenticates through it
# (Debian's python3-keystone and python3-placement under uwsgi, sqlite,
# loopback only), their own RabbitMQ and PostgreSQL (scripts/test-services.sh
# on other ports), a private Neutron with Keystone auth (start-neutron.sh:
# ML2 + linuxbridge agent; database `neutron` in that PostgreSQL, vhost
# `neutron` in that RabbitMQ), and a private containerd whose CNI network is
# Zun's own plugin (start-containerd.sh with CNI=zun), started once for the
# suite, in parallel where their dependencies allow.
#
#   test-openstack.sh start DIR   -> DIR/openstack.env and DIR/services.env
#   test-openstack.sh stop DIR    -> stops them all and removes their state
#
# Fixed ports stay below 32768, outside Linux's ephemeral range, so that no
# client connection of a test can hold one when a server binds it.
# Ports: ZUN_TEST_KEYSTONE_PORT (default 21510), ZUN_TEST_PLACEMENT_PORT
# (default 21788), ZUN_TEST_NEUTRON_PORT (21696), ZUN_TEST_CNI_DAEMON_PORT
# (21936: where the zun-cni plugin finds the CNI daemon, i.e. the agent under
# test; nothing listens there until a test starts one), ZUN_OS_RMQ_PORT
# (5694), ZUN_OS_PG_PORT (5445). Placement validates every token at Keystone
# (no token cache), so a revoked token is refused at once.
# Networking: Neutron's agent reports host ZUN_TEST_NEUTRON_HOST (zunnet-node),
# the [DEFAULT] host an agent under test must use for its ports to bind;
# physnet1 is backed by the local veth pair zunosphys0/zunosphys1. The
# containerd (ZUN_TEST_NET_CRI_DIR, default /tmp/zun-net-ctd; cgroups under
# /zun-net) runs build/bin/zun-cni (ZUN_CNI_BIN), which reads ZUN_TEST_CNI_CONF.
# Network namespaces and links the tests make themselves start with
# ZUN_TEST_NET_PREFIX (zunt); stop deletes any that are left, as well as the
# bridges and taps of Neutron's networks and ports.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACTION="${1:?usage: test-openstack.sh start|stop DIR}"
DIR="${2:?usage: test-openstack.sh start|stop DIR}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
KS_PORT="${ZUN_TEST_KEYSTONE_PORT:-21510}"
PL_PORT="${ZUN_TEST_PLACEMENT_PORT:-21788}"
NT_PORT="${ZUN_TEST_NEUTRON_PORT:-21696}"
CNI_PORT="${ZUN_TEST_CNI_DAEMON_PORT:-21936}"
KS_DIR="$DIR/keystone"
PL_DIR="$DIR/placement"
NT_DIR="$DIR/neutron"
NT_HOST=zunnet-node
NT_PHYS_IF=zunosphys0
NET_PREFIX=zunt
CNI_CONF="$DIR/zun-cni.conf"
export ZUN_TEST_RMQ_PORT="${ZUN_OS_RMQ_PORT:-5694}"
export ZUN_TEST_PG_PORT="${ZUN_OS_PG_PORT:-5445}"
# as test-services.sh names them
RMQ_BASE="/tmp/zun-test-rmq-$ZUN_TEST_RMQ_PORT"
PG_BASE="/tmp/zun-test-pg-$ZUN_TEST_PG_PORT"
# the networking containerd: apart from the e2e one (/tmp/zun-e2e-ctd,
# bridge zune2e0, registry 5001) and `make run`'s (/tmp/zun-containerd)
export ZUN_CRI_DIR="${ZUN_TEST_NET_CRI_DIR:-/tmp/zun-net-ctd}"
export ZUN_CGROUP_ROOT=zun-net
NET_SOCK="$ZUN_CRI_DIR/containerd.sock"

t0=$(date +%s.%N)
elapsed() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}"; }
log() { echo "test-openstack: [+$(elapsed)s] $*" >&2; }

case "$ACTION" in
start)
  # -------------------------------------------------------------- containerd
  # Needs nothing else: the plugin only runs when a test creates a pod.
  cat > "$CNI_CONF" <<INI
[cni_daemon]
cni_daemon_host = 127.0.0.1
cni_daemon_port = $CNI_PORT
vif_active_timeout = 60
INI
  CNI=zun ZUN_CNI_CONF="$CNI_CONF" ZUN_CNI_BIN="${ZUN_CNI_BIN:-$(dirname "$HERE")/build/bin/zun-cni}" \
    REGISTRY=0 "$HERE/start-containerd.sh" "$NET_SOCK" > "$DIR/containerd.out" 2> "$DIR/containerd.log" &
  ctd=$!

  # -------------------------------------------------------------- RabbitMQ, PostgreSQL, then Neutron
  # Neutron needs the database and the broker; it waits for Keystone itself.
  (
    "$HERE/test-services.sh" start "$DIR" ||
      { echo "test-openstack: RabbitMQ/PostgreSQL failed" >&2; exit 1; }
    log "RabbitMQ and PostgreSQL up"
    # shellcheck disable=SC1091
    . "$PG_BASE/env.sh"
    if [ "$(runuser -u "$PG_RUNAS" -- "$PG_BIN/psql" -X -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres \
           -tAc "SELECT 1 FROM pg_database WHERE datname = 'neutron'")" != 1 ]; then
      runuser -u "$PG_RUNAS" -- "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres \
        -c "CREATE DATABASE neutron OWNER \"$PGUSER\"" >&2
    fi
    # the node's own wrapper: rabbitmqctl with the private node's environment
    "$RMQ_BASE/rabbitmqctl" -q add_vhost neutron >/dev/null 2>&1 || true
    "$RMQ_BASE/rabbitmqctl" -q set_permissions -p neutron guest '.*' '.*' '.*' >&2
    log "database and vhost neutron ready"
    KEYSTONE_URL="http://127.0.0.1:$KS_PORT/v3" NEUTRON_HOST="$NT_HOST" PHYS_IF="$NT_PHYS_IF" \
      NEUTRON_DB_URL="postgresql+psycopg2://$PGUSER:$PGPASSWORD@/neutron?host=$PGHOST&port=$PGPORT" \
      NEUTRON_TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:$ZUN_TEST_RMQ_PORT/neutron" \
      "$HERE/start-neutron.sh" "$NT_DIR" "$NT_PORT" > "$DIR/neutron.out" 2> "$DIR/neutron.log" ||
      { echo "test-openstack: Neutron failed:" >&2; tail -20 "$DIR/neutron.log" >&2; exit 1; }
    log "Neutron up"
  ) &
  net=$!

  # -------------------------------------------------------------- Keystone, Placement
  PLACEMENT_URL="http://127.0.0.1:$PL_PORT" NEUTRON_URL="http://127.0.0.1:$NT_PORT" \
    "$HERE/start-keystone.sh" "$KS_DIR" "$KS_PORT" > "$DIR/keystone.out" 2> "$DIR/keystone.log" ||
    { echo "test-openstack: Keystone failed:" >&2; tail -20 "$DIR/keystone.log" >&2; exit 1; }
  KEYSTONE_URL="$(sed -n 's/^KEYSTONE_URL=//p' "$DIR/keystone.out" | tail -1)"
  log "Keystone up"
  PLACEMENT_TOKEN_CACHE_TIME=-1 \
    "$HERE/start-placement.sh" "$PL_DIR" "$PL_PORT" "$KEYSTONE_URL" > "$DIR/placement.out" 2> "$DIR/placement.log" ||
    { echo "test-openstack: Placement failed:" >&2; tail -20 "$DIR/placement.log" >&2; exit 1; }
  log "Placement up"

  rc=0
  wait "$ctd" || { echo "test-openstack: containerd failed:" >&2; tail -20 "$DIR/containerd.log" >&2; rc=1; }
  [ "$rc" = 0 ] && log "containerd up"
  wait "$net" || rc=1
  [ "$rc" = 0 ] || exit 1
  cat > "$DIR/openstack.env" <<ENV
ZUN_TEST_KEYSTONE_URL=$KEYSTONE_URL
ZUN_TEST_PLACEMENT_URL=http://127.0.0.1:$PL_PORT
ZUN_TEST_PLACEMENT_PORT=$PL_PORT
ZUN_TEST_KEYSTONE_DIR=$KS_DIR
ZUN_TEST_PLACEMENT_DIR=$PL_DIR
ZUN_TEST_SCRIPTS=$HERE
ZUN_TEST_NEUTRON_URL=$(sed -n 's/^NEUTRON_URL=//p' "$DIR/neutron.out" | tail -1)
ZUN_TEST_NEUTRON_HOST=$NT_HOST
ZUN_TEST_NEUTRON_DIR=$NT_DIR
ZUN_TEST_NET_CRI_SOCKET=$NET_SOCK
ZUN_TEST_NET_CRI_DIR=$ZUN_CRI_DIR
ZUN_TEST_NET_CGROUP_ROOT=/$ZUN_CGROUP_ROOT
ZUN_TEST_CNI_DAEMON_PORT=$CNI_PORT
ZUN_TEST_CNI_CONF=$CNI_CONF
ZUN_TEST_NET_PREFIX=$NET_PREFIX
ENV
  log "up ($DIR/openstack.env)"
  ;;
stop)
  # containerd first (its pods hold taps), then Neutron while its database is
  # still up (it looks up which bridges and taps are its own there).
  # With no CNI daemon left to answer, zun-cni retries each DEL for 30 s and
  # the pod cannot be removed; the daemon's work is undone below anyway
  # (taps by stop-neutron.sh, netns by stop-containerd.sh), so DEL becomes a
  # no-op.
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$CNI_PORT") 2>/dev/null && [ -L "$ZUN_CRI_DIR/cni/bin/zun-cni" ]; then
    ln -sfn /bin/true "$ZUN_CRI_DIR/cni/bin/zun-cni"
  fi
  "$HERE/stop-containerd.sh" "$NET_SOCK" --purge 2>> "$DIR/stop.log" || true
  log "containerd stopped"
  "$HERE/stop-neutron.sh" "$NT_DIR" --purge 2>> "$DIR/stop.log" || true
  log "Neutron stopped"
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case "$ns" in "$NET_PREFIX"*) ip netns del "$ns" 2>/dev/null && log "deleted netns $ns" ;; esac
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    case "$l" in "$NET_PREFIX"*) ip link del "$l" 2>/dev/null && log "deleted link $l" ;; esac
  done
  "$HERE/stop-placement.sh" "$PL_DIR" --purge 2>> "$DIR/stop.log" || true
  "$HERE/stop-keystone.sh" "$KS_DIR" --purge 2>> "$DIR/stop.log" || true
  "$HERE/test-services.sh" stop "$DIR" || true
  rm -f "$DIR/openstack.env" "$CNI_CONF"
  log "stopped"
  ;;
*) echo "usage: test-openstack.sh start|stop DIR" >&2; exit 2 ;;
esac
