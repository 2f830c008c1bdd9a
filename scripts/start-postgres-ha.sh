#!/bin/bash
# start-postgres-ha.sh -- a private PostgreSQL primary + synchronous hot standby
# (no systemd), for zun-agent's failover tests.
#
# Usage: start-postgres-ha.sh BASE PRIMARY_PORT STANDBY_PORT             start (idempotent)
#        start-postgres-ha.sh BASE PRIMARY_PORT STANDBY_PORT --promote   promote the standby
#
#   BASE/primary   the primary, made and started by start-postgres.sh (data/, sock/,
#                  log/, env.sh) with wal_level = replica, synchronous_commit = on and
#                  synchronous_standby_names = 'standby1': a commit returns only once
#                  the standby has flushed its WAL (fsync stays off unless PG_DURABLE=1;
#                  the tests have no OS crashes).
#   BASE/standby   data/ made by `pg_basebackup -R` from the primary (replication as
#                  the postgres superuser over the primary's unix socket: trust),
#                  application_name = standby1, port STANDBY_PORT, socket dir
#                  BASE/standby/sock, started with pg_ctl. Its own
#                  synchronous_standby_names is '' so that, once promoted, it
#                  commits without a standby.
# Start waits until pg_stat_replication on the primary shows standby1 as 'sync'.
#
# On success prints exactly one line on stdout, a multi-host libpq URI over TCP:
#   postgresql://USER:PASS@127.0.0.1:PRIMARY_PORT,127.0.0.1:STANDBY_PORT/DB?target_session_attrs=read-write
# and writes BASE/ha.env (PGHA_URL, PGHA_PRIMARY_DIR, PGHA_STANDBY_DIR, ports, data
# dirs, sockets, PGHA_PRIMARY_PID_FILE, PGHA_STANDBY_PID_FILE, PG_BIN, PG_RUNAS,
# PGHA_PROMOTE_CMD). Everything else goes to stderr.
#
# --promote: `pg_ctl promote -w` on the standby, then waits until it accepts
# writes (pg_is_in_recovery() = false). Prints nothing on stdout. Idempotent.
# A failover test: kill -9 $(head -1 "$PGHA_PRIMARY_PID_FILE"); eval "$PGHA_PROMOTE_CMD"
#
# Env: as start-postgres.sh (PG_DB, PG_USER, PG_PASS, PG_RUNAS, PG_BIN, PG_TIMEOUT,
# PG_DURABLE); PG_EXTRA_CONF is set by this script.
# Stop with stop-postgres-ha.sh BASE [--purge].
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "start-postgres-ha: ERROR: $*" >&2; exit 1; }
log() { echo "start-postgres-ha: $*" >&2; }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.1f\", $(now)-$1}"; }

[ $# -ge 3 ] || die "usage: $0 BASE PRIMARY_PORT STANDBY_PORT [--promote]"
BASE="$1"; P1="$2"; P2="$3"; MODE="${4:-start}"
case "$MODE" in start|--promote) ;; *) die "unknown argument: $MODE" ;; esac
[[ "$P1" =~ ^[0-9]+$ && "$P2" =~ ^[0-9]+$ && "$P1" != "$P2" ]] || die "bad ports: $P1 $P2"
DB="${PG_DB:-zun}"; DBUSER="${PG_USER:-zun}"; DBPASS="${PG_PASS:-zun}"
TIMEOUT="${PG_TIMEOUT:-60}"
APP=standby1
if [ -z "${PG_BIN:-}" ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_basebackup" ] || die "pg_basebackup not found (apt-get install postgresql); set PG_BIN"
export PG_BIN

mkdir -p "$BASE"
BASE="$(cd "$BASE" && pwd)"
# The paths go into postgresql.conf and primary_conninfo unquoted-safe only.
[[ "$BASE" =~ ^[A-Za-z0-9_./-]+$ ]] || die "BASE path must match [A-Za-z0-9_./-]+: $BASE"
chmod 0755 "$BASE"
PDIR="$BASE/primary"; PDATA="$PDIR/data"; PSOCK="$PDIR/sock"
SDIR="$BASE/standby"; SDATA="$SDIR/data"; SSOCK="$SDIR/sock"; SLOG="$SDIR/log/postgres.log"
URL="postgresql://$DBUSER:$DBPASS@127.0.0.1:$P1,127.0.0.1:$P2/$DB?target_session_attrs=read-write"

if [ "$(id -u)" = 0 ]; then
  RUNAS="${PG_RUNAS:-postgres}"
  if ! id "$RUNAS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUNAS" || die "cannot create user $RUNAS"
  fi
  as_pg() { runuser -u "$RUNAS" -- "$@"; }
else
  RUNAS="$(id -un)"
  as_pg() { "$@"; }
fi
export PG_RUNAS="$RUNAS"

# psql as the superuser over a socket: sql_on SOCK PORT SQL
sql_on() { as_pg "$PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U postgres -d postgres -c "$3"; }
# zombies (reaped late by a non-reaping init) count as dead
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
standby_running() { [ -s "$SDATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$SDATA" status >/dev/null 2>&1; }

# ---------------------------------------------------------------- --promote
if [ "$MODE" = --promote ]; then
  [ -s "$SDATA/PG_VERSION" ] || die "no standby in $SDATA (start it first)"
  standby_running || die "standby in $SDATA is not running"
  T0=$(now)
  if [ -e "$SDATA/standby.signal" ]; then
    if [ -f "$PDATA/postmaster.pid" ] && alive "$(head -n1 "$PDATA/postmaster.pid")"; then
      log "WARNING: the primary (pid $(head -n1 "$PDATA/postmaster.pid")) is still running: two primaries"
    fi
    log "promoting the standby (port $P2)"
    as_pg "$PG_BIN/pg_ctl" -D "$SDATA" promote -w -t "$TIMEOUT" >&2 || die "pg_ctl promote failed (log: $SLOG)"
  else
    log "standby already promoted"
  fi
  deadline=$(( $(date +%s) + TIMEOUT ))
  until [ "$(sql_on "$SSOCK" "$P2" "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'" 2>/dev/null)" = t ]; do
    [ "$(date +%s)" -lt "$deadline" ] || die "standby does not accept writes after ${TIMEOUT}s (log: $SLOG)"
    sleep 0.1
  done
  log "standby on port $P2 accepts writes ($(since "$T0")s)"
  exit 0
fi

# ---------------------------------------------------------------- start
if [ -s "$SDATA/PG_VERSION" ] && [ ! -e "$SDATA/standby.signal" ]; then
  die "the standby in $SDATA was promoted; run stop-postgres-ha.sh $BASE --purge first"
fi

# 1. the primary (start-postgres.sh is idempotent; the settings apply at initdb).
# Its own writes (role, database) must not wait for a standby that is not there
# yet: its sessions run with synchronous_commit = local (PGOPTIONS).
T0=$(now)
PGOPTIONS="-c synchronous_commit=local" PG_EXTRA_CONF="# replication (start-postgres-ha.sh)
wal_level = replica
max_wal_senders = 10
wal_keep_size = '64MB'
hot_standby = on
synchronous_commit = on
synchronous_standby_names = '$APP'" \
  "$HERE/start-postgres.sh" "$PDIR" "$P1" >/dev/null || die "primary failed to start"
# an older primary (made without the settings above) cannot serve as one
[ "$(sql_on "$PSOCK" "$P1" "SHOW synchronous_standby_names")" = "$APP" ] \
  || die "primary in $PDATA lacks synchronous_standby_names = '$APP' (stop-postgres-ha.sh $BASE --purge)"
log "primary up on port $P1 ($(since "$T0")s)"

# 2. the standby
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$SDIR/log" "$SSOCK"
  chown "$RUNAS" "$SDIR" "$SDIR/log" "$SSOCK"
  [ -d "$SDATA" ] && chown -R "$RUNAS" "$SDATA"
else
  mkdir -p "$SDIR/log" "$SSOCK"
fi
chmod 0755 "$SDIR" "$SSOCK"
if standby_running; then
  log "standby already running (pid $(head -n1 "$SDATA/postmaster.pid"))"
else
  if (exec 3<>"/dev/tcp/127.0.0.1/$P2") 2>/dev/null; then die "port $P2 already in use by something else"; fi
  if [ ! -s "$SDATA/PG_VERSION" ]; then
    rm -rf "$SDATA"
    T0=$(now)
    as_pg "$PG_BIN/pg_basebackup" -D "$SDATA" -R -X stream -c fast --no-sync \
        -d "host=$PSOCK port=$P1 user=postgres application_name=$APP" >"$SDIR/log/basebackup.log" 2>&1 \
      || { cat "$SDIR/log/basebackup.log" >&2; die "pg_basebackup failed"; }
    # postgresql.auto.conf is read last: these override the primary's lines.
    cat >> "$SDATA/postgresql.auto.conf" <<EOF
# --- standby settings (start-postgres-ha.sh) ---
port = $P2
unix_socket_directories = '$SSOCK'
synchronous_standby_names = ''
primary_conninfo = 'host=$PSOCK port=$P1 user=postgres application_name=$APP'
EOF
    log "pg_basebackup done in $(since "$T0")s"
  fi
  T0=$(now)
  as_pg "$PG_BIN/pg_ctl" -D "$SDATA" -l "$SLOG" -w -t "$TIMEOUT" -o "-p $P2 -k $SSOCK" start >&2 \
    || { tail -n 30 "$SLOG" >&2 || true; die "standby pg_ctl start failed (log: $SLOG)"; }
  log "standby up on port $P2 in $(since "$T0")s (pid $(head -n1 "$SDATA/postmaster.pid"))"
fi

# 3. wait for synchronous replication
T0=$(now)
deadline=$(( $(date +%s) + TIMEOUT ))
until [ "$(sql_on "$PSOCK" "$P1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$APP' AND state = 'streaming'" 2>/dev/null)" = sync ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { tail -n 20 "$SLOG" >&2 || true; die "$APP not in sync state after ${TIMEOUT}s"; }
  sleep 0.1
done
log "$APP is a synchronous standby ($(since "$T0")s)"

cat > "$BASE/ha.env" <<EOF
export PGHA_URL='$URL'
export PGHA_PRIMARY_URL='postgresql://$DBUSER:$DBPASS@127.0.0.1:$P1/$DB'
export PGHA_STANDBY_URL='postgresql://$DBUSER:$DBPASS@127.0.0.1:$P2/$DB'
export PGHA_BASE='$BASE'
export PGHA_PRIMARY_DIR='$PDIR'
export PGHA_STANDBY_DIR='$SDIR'
export PGHA_PRIMARY_DATA='$PDATA'
export PGHA_STANDBY_DATA='$SDATA'
export PGHA_PRIMARY_SOCK='$PSOCK'
export PGHA_STANDBY_SOCK='$SSOCK'
export PGHA_PRIMARY_PORT='$P1'
export PGHA_STANDBY_PORT='$P2'
export PGHA_PRIMARY_PID_FILE='$PDATA/postmaster.pid'
export PGHA_STANDBY_PID_FILE='$SDATA/postmaster.pid'
export PG_BIN='$PG_BIN'
export PG_RUNAS='$RUNAS'
export PGHA_PROMOTE_CMD='$HERE/start-postgres-ha.sh $BASE $P1 $P2 --promote'
EOF
echo "$URL"
