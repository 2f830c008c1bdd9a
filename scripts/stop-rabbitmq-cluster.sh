#!/bin/bash
# stop-rabbitmq-cluster.sh -- stop a cluster started by start-rabbitmq-cluster.sh
# (every BASE/node<i> via stop-rabbitmq.sh: by PID, never by name).
# Usage: stop-rabbitmq-cluster.sh BASE [--purge]
#   --purge  also delete BASE afterwards
# Nodes 1..N-1 are stopped (in parallel) before node0, so node0 is the last one
# down and can later boot first, even alone. Idempotent: exits 0 if nothing runs.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PURGE=0; ARGS=()
for a in "$@"; do [ "$a" = "--purge" ] && PURGE=1 || ARGS+=("$a"); done
[ "${#ARGS[@]}" = 1 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
BASE="${ARGS[0]}"
log() { echo "stop-rabbitmq-cluster: $*" >&2; }
[ -d "$BASE" ] || { log "no $BASE; nothing to stop"; exit 0; }

stop_node() {  # $1 = node dir; stderr prefixed with [node<i>]
  "$HERE/stop-rabbitmq.sh" "$1" 2>&1 | sed -u "s/^/[$(basename "$1")] /" >&2
}
OTHERS=()
for d in "$BASE"/node*; do
  [ -d "$d" ] && [ "$d" != "$BASE/node0" ] && OTHERS+=("$d")
done
PIDS=()
for d in "${OTHERS[@]}"; do stop_node "$d" & PIDS+=($!); done
RC=0
for p in "${PIDS[@]}"; do wait "$p" || RC=1; done
[ ! -d "$BASE/node0" ] || stop_node "$BASE/node0" || RC=1

if [ "$PURGE" = 1 ]; then
  # refuse to delete something that is not a cluster dir
  if [ -f "$BASE/cluster.env" ] || [ -d "$BASE/node0" ] || [ -z "$(ls -A "$BASE")" ]; then
    rm -rf "$BASE"; log "purged $BASE"
  else
    log "$BASE does not look like a cluster dir (no cluster.env, no node0); not purged"; RC=1
  fi
fi
[ "$RC" = 0 ] && log "stopped" || log "some node did not stop cleanly"
exit "$RC"
