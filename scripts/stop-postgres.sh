#!/bin/bash
# stop-postgres.sh -- stop a cluster started by start-postgres.sh (pg_ctl, then by PID).
# Usage: stop-postgres.sh [BASE_DIR] [--purge]
#   BASE_DIR default: $PG_BASE or /tmp/zun-pg-${PG_PORT:-5433};  --purge deletes BASE_DIR.
# Idempotent: exits 0 if nothing is running.
set -uo pipefail
PURGE=0; ARGS=()
for a in "$@"; do [ "$a" = "--purge" ] && PURGE=1 || ARGS+=("$a"); done
BASE="${ARGS[0]:-${PG_BASE:-/tmp/zun-pg-${PG_PORT:-5433}}}"
log() { echo "stop-postgres: $*" >&2; }
DATA="$BASE/data"
if [ -f "$BASE/env.sh" ]; then . "$BASE/env.sh"; fi
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
RUNAS="${PG_RUNAS:-postgres}"
# zombies (reaped late by a non-reaping init) count as dead
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u "$RUNAS" -- "$@"; }; else as_pg() { "$@"; }; fi

if [ -f "$DATA/postmaster.pid" ]; then
  PID="$(head -n1 "$DATA/postmaster.pid")"
  if alive "$PID"; then
    log "pg_ctl stop -m fast (pid $PID)"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2 || true
    if alive "$PID"; then log "SIGQUIT $PID"; kill -QUIT "$PID"; sleep 2; fi
    if alive "$PID"; then log "SIGKILL $PID"; kill -KILL "$PID"; fi
  else
    log "stale postmaster.pid (pid $PID not running)"
  fi
else
  log "not running"
fi
if [ "$PURGE" = 1 ]; then rm -rf "$BASE"; log "purged $BASE"; fi
log "stopped"
