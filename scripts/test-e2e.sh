#!/bin/bash
# test-e2e.sh -- start/stop everything the e2e tests use, apart from what the
# integration tests share: RabbitMQ and PostgreSQL on their own ports, and
# the private containerd (scripts/test-containerd.sh).
#
#   test-e2e.sh start DIR   -> DIR/services.env and DIR/containerd.env
#   test-e2e.sh stop DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACTION="${1:?usage: test-e2e.sh start|stop DIR}"
DIR="${2:?usage: test-e2e.sh start|stop DIR}"
export ZUN_TEST_RMQ_PORT="${ZUN_E2E_RMQ_PORT:-5693}"
export ZUN_TEST_PG_PORT="${ZUN_E2E_PG_PORT:-5444}"
case "$ACTION" in
start)
  "$HERE/test-services.sh" start "$DIR" &
  svc=$!
  rc=0
  "$HERE/test-containerd.sh" start "$DIR" || rc=1
  wait "$svc" || rc=1
  exit "$rc"
  ;;
stop)
  "$HERE/test-containerd.sh" stop "$DIR" || true
  "$HERE/test-services.sh" stop "$DIR" || true
  ;;
*) echo "usage: test-e2e.sh start|stop DIR" >&2; exit 2 ;;
esac
