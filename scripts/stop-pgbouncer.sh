#!/bin/bash
# stop-pgbouncer.sh -- stop a pgbouncer started by start-pgbouncer.sh.
# Usage: stop-pgbouncer.sh BASE [--purge]      (--purge deletes BASE)
# SIGINT (safe shutdown: waits for transactions, up to 10s), then SIGTERM, then SIGKILL.
# Idempotent: exits 0 if nothing is running. Prints nothing on stdout.
set -uo pipefail
PURGE=0; ARGS=()
for a in "$@"; do [ "$a" = "--purge" ] && PURGE=1 || ARGS+=("$a"); done
log() { echo "stop-pgbouncer: $*" >&2; }
[ ${#ARGS[@]} -ge 1 ] || { log "usage: $0 BASE [--purge]"; exit 2; }
BASE="${ARGS[0]}"
PIDF="$BASE/pgbouncer.pid"
# zombies (reaped late by a non-reaping init) count as dead
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
wait_dead() { local i; for ((i = 0; i < $2 * 10; i++)); do alive "$1" || return 0; sleep 0.1; done; ! alive "$1"; }

if [ -s "$PIDF" ]; then
  PID="$(head -n1 "$PIDF")"
  if alive "$PID" && [ "$(cat "/proc/$PID/comm" 2>/dev/null)" = pgbouncer ]; then
    log "SIGINT $PID"; kill -INT "$PID"
    if ! wait_dead "$PID" 10; then log "SIGTERM $PID"; kill -TERM "$PID"; fi
    if ! wait_dead "$PID" 3; then log "SIGKILL $PID"; kill -KILL "$PID"; fi
  else
    log "stale pid file (pid $PID not running)"
  fi
  rm -f "$PIDF"
else
  log "not running"
fi
if [ "$PURGE" = 1 ]; then rm -rf "$BASE"; log "purged $BASE"; fi
log "stopped"
