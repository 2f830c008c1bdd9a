#!/bin/bash
# test-openstack.sh -- start/stop the servers the openstack tests share: a
# private Keystone and a private Placement that authenticates through it
# (Debian's python3-keystone and python3-placement under uwsgi, sqlite,
# loopback only), and their own RabbitMQ and PostgreSQL
# (scripts/test-services.sh on other ports), started once for the suite.
#
#   test-openstack.sh start DIR   -> DIR/openstack.env and DIR/services.env
#   test-openstack.sh stop DIR    -> stops them all and removes their state
#
# Ports: ZUN_TEST_KEYSTONE_PORT (default 41510), ZUN_TEST_PLACEMENT_PORT
# (default 41788), ZUN_OS_RMQ_PORT (5694), ZUN_OS_PG_PORT (5445). Placement
# validates every token at Keystone (no token cache), so a revoked token is
# refused at once.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACTION="${1:?usage: test-openstack.sh start|stop DIR}"
DIR="${2:?usage: test-openstack.sh start|stop DIR}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
KS_PORT="${ZUN_TEST_KEYSTONE_PORT:-41510}"
PL_PORT="${ZUN_TEST_PLACEMENT_PORT:-41788}"
KS_DIR="$DIR/keystone"
export ZUN_TEST_RMQ_PORT="${ZUN_OS_RMQ_PORT:-5694}"
export ZUN_TEST_PG_PORT="${ZUN_OS_PG_PORT:-5445}"
PL_DIR="$DIR/placement"

case "$ACTION" in
start)
  t0=$(date +%s)
  "$HERE/test-services.sh" start "$DIR" &
  svc=$!
  PLACEMENT_URL="http://127.0.0.1:$PL_PORT" \
    "$HERE/start-keystone.sh" "$KS_DIR" "$KS_PORT" > "$DIR/keystone.out" 2> "$DIR/keystone.log" ||
    { echo "test-openstack: Keystone failed:" >&2; tail -20 "$DIR/keystone.log" >&2; exit 1; }
  KEYSTONE_URL="$(sed -n 's/^KEYSTONE_URL=//p' "$DIR/keystone.out" | tail -1)"
  PLACEMENT_TOKEN_CACHE_TIME=-1 \
    "$HERE/start-placement.sh" "$PL_DIR" "$PL_PORT" "$KEYSTONE_URL" > "$DIR/placement.out" 2> "$DIR/placement.log" ||
    { echo "test-openstack: Placement failed:" >&2; tail -20 "$DIR/placement.log" >&2; exit 1; }
  cat > "$DIR/openstack.env" <<ENV
ZUN_TEST_KEYSTONE_URL=$KEYSTONE_URL
ZUN_TEST_PLACEMENT_URL=http://127.0.0.1:$PL_PORT
ZUN_TEST_PLACEMENT_PORT=$PL_PORT
ZUN_TEST_KEYSTONE_DIR=$KS_DIR
ZUN_TEST_PLACEMENT_DIR=$PL_DIR
ZUN_TEST_SCRIPTS=$HERE
ENV
  wait "$svc" || { echo "test-openstack: RabbitMQ/PostgreSQL failed" >&2; exit 1; }
  echo "test-openstack: up in $(( $(date +%s) - t0 ))s ($DIR/openstack.env)" >&2
  ;;
stop)
  "$HERE/stop-placement.sh" "$PL_DIR" --purge 2>> "$DIR/stop.log" || true
  "$HERE/stop-keystone.sh" "$KS_DIR" --purge 2>> "$DIR/stop.log" || true
  "$HERE/test-services.sh" stop "$DIR" || true
  rm -f "$DIR/openstack.env"
  echo "test-openstack: stopped" >&2
  ;;
*) echo "usage: test-openstack.sh start|stop DIR" >&2; exit 2 ;;
esac
