#!/bin/bash
# test-containerd.sh -- start/stop the private containerd of the e2e tests
# (its own state dir, socket, CNI bridge and subnet, local registry port),
# with locally built images imported and pushed to the registry.
#
#   test-containerd.sh start DIR  -> writes DIR/containerd.env
#   test-containerd.sh stop DIR   -> removes every pod, stops and cleans up
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACTION="${1:?usage: test-containerd.sh start|stop DIR}"
DIR="${2:?usage: test-containerd.sh start|stop DIR}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
export ZUN_CRI_DIR="${ZUN_TEST_CRI_DIR:-/tmp/zun-e2e-ctd}"
export CNI_BRIDGE="${ZUN_TEST_CNI_BRIDGE:-zune2e0}"
export CNI_SUBNET="${ZUN_TEST_CNI_SUBNET:-10.233.78.0/24}"
export CNI_NAME=zune2e
export REGISTRY_ADDR="${ZUN_TEST_REGISTRY:-127.0.0.1:5001}"
export ZUN_CGROUP_ROOT="${ZUN_TEST_CGROUP_ROOT:-zun-e2e}"
SOCK="$ZUN_CRI_DIR/containerd.sock"

case "$ACTION" in
start)
  "$HERE/start-containerd.sh" "$SOCK" > "$DIR/containerd.sock.txt" 2> "$DIR/containerd-start.log" \
    || { tail -30 "$DIR/containerd-start.log" >&2; exit 1; }
  cat > "$DIR/containerd.env" <<ENV
ZUN_TEST_CRI_ENDPOINT=unix://$SOCK
ZUN_TEST_CRI_DIR=$ZUN_CRI_DIR
ZUN_TEST_REGISTRY=$REGISTRY_ADDR
ZUN_TEST_CGROUP_ROOT=/$ZUN_CGROUP_ROOT
ENV
  echo "test-containerd: up ($SOCK)" >&2
  ;;
stop)
  "$HERE/stop-containerd.sh" "$SOCK" --purge 2>> "$DIR/containerd-stop.log" || true
  rm -f "$DIR/containerd.env"
  echo "test-containerd: stopped" >&2
  ;;
*) echo "usage: test-containerd.sh start|stop DIR" >&2; exit 2 ;;
esac
