#!/bin/bash
# stop-postgres-ha.sh -- stop the primary + standby started by start-postgres-ha.sh.
# Usage: stop-postgres-ha.sh BASE [--purge]      (--purge deletes BASE)
# Each node is stopped by stop-postgres.sh (pg_ctl stop -m fast, then by PID);
# then any postgres process still working in a data dir (e.g. the backends of
# a primary whose postmaster was killed with -9) is killed by PID.
# Idempotent: exits 0 if nothing is running. Prints nothing on stdout.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PURGE=0; ARGS=()
for a in "$@"; do [ "$a" = "--purge" ] && PURGE=1 || ARGS+=("$a"); done
log() { echo "stop-postgres-ha: $*" >&2; }
[ ${#ARGS[@]} -ge 1 ] || { log "usage: $0 BASE [--purge]"; exit 2; }
BASE="${ARGS[0]}"
if [ ! -d "$BASE" ]; then log "$BASE does not exist: nothing to stop"; exit 0; fi
BASE="$(cd "$BASE" && pwd)"
if [ -f "$BASE/ha.env" ]; then . "$BASE/ha.env"; fi
export PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
export PG_RUNAS="${PG_RUNAS:-postgres}"

# Primary first: its walsender hands the shutdown checkpoint to the standby.
for node in primary standby; do
  [ -d "$BASE/$node" ] || continue
  log "$node:"
  "$HERE/stop-postgres.sh" "$BASE/$node" </dev/null >/dev/null
done

# Leftovers: postgres processes (owned by PG_RUNAS) whose cwd is one of our data dirs.
uid="$(id -u "$PG_RUNAS" 2>/dev/null || echo -1)"
for node in primary standby; do
  data="$BASE/$node/data"
  [ -d "$data" ] || continue
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [ "$(stat -c %u "$p" 2>/dev/null)" = "$uid" ] || continue
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$data" ] || continue
    [ "$(cat "$p/comm" 2>/dev/null)" = postgres ] || continue
    log "killing leftover $node process $pid ($(tr '\0' ' ' <"$p/cmdline" 2>/dev/null))"
    kill -KILL "$pid" 2>/dev/null || true
  done
done

if [ "$PURGE" = 1 ]; then rm -rf "$BASE"; log "purged $BASE"; fi
log "stopped"
