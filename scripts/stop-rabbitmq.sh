#!/bin/bash
# stop-rabbitmq.sh -- stop a node started by start-rabbitmq.sh (by PID, never by name).
# Usage: stop-rabbitmq.sh [BASE_DIR] [--purge]
#   BASE_DIR default: $RMQ_BASE or /tmp/zun-rmq-${RMQ_PORT:-5682}
#   --purge  also delete BASE_DIR afterwards
# Idempotent: exits 0 if nothing is running.
set -uo pipefail
PURGE=0; ARGS=()
for a in "$@"; do [ "$a" = "--purge" ] && PURGE=1 || ARGS+=("$a"); done
BASE="${ARGS[0]:-${RMQ_BASE:-/tmp/zun-rmq-${RMQ_PORT:-5682}}}"
RMQ_BIN=/usr/lib/rabbitmq/bin
log() { echo "stop-rabbitmq: $*" >&2; }
[ -f "$BASE/env.sh" ] || { log "no $BASE/env.sh; nothing to stop"; exit 0; }
# shellcheck disable=SC1091
. "$BASE/env.sh"

BEAM_PID="$(cat "$BASE/rabbit.pid" 2>/dev/null || true)"
WRAPPER_PID="$(cat "$BASE/wrapper.pid" 2>/dev/null || true)"
# zombies (reaped late by a non-reaping init) count as dead
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

if alive "$BEAM_PID"; then
  log "rabbitmqctl shutdown (node $RABBITMQ_NODENAME, pid $BEAM_PID)"
  timeout 60 "$RMQ_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q shutdown >&2 2>&1 || log "shutdown command failed; falling back to SIGTERM"
  for _ in $(seq 1 50); do alive "$BEAM_PID" || break; sleep 0.2; done
  if alive "$BEAM_PID"; then kill -TERM "$BEAM_PID" 2>/dev/null; sleep 3; fi
  if alive "$BEAM_PID"; then log "SIGKILL $BEAM_PID"; kill -KILL "$BEAM_PID" 2>/dev/null; fi
fi
if alive "$WRAPPER_PID"; then
  kill -TERM "$WRAPPER_PID" 2>/dev/null; sleep 1
  alive "$WRAPPER_PID" && kill -KILL "$WRAPPER_PID" 2>/dev/null
fi
rm -f "$BASE/rabbit.pid" "$BASE/wrapper.pid"
# Stop the private epmd only if no other Erlang node is registered with it.
if command -v epmd >/dev/null && epmd -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; then
  if ! epmd -port "$ERL_EPMD_PORT" -names 2>/dev/null | grep -q '^name '; then
    epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 && log "stopped private epmd on port $ERL_EPMD_PORT"
  else
    log "epmd on $ERL_EPMD_PORT still serves other nodes; left running"
  fi
fi
if [ "$PURGE" = 1 ]; then rm -rf "$BASE"; log "purged $BASE"; fi
log "stopped"
