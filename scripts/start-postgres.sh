#!/bin/bash
# start-postgres.sh -- start a private PostgreSQL cluster without systemd, for
# zun-agent's tests, benchmarks and `make run`.
#
# Usage: start-postgres.sh [BASE_DIR] [PORT]
#   BASE_DIR  private dir: data/, sock/, log/ (default: $PG_BASE or /tmp/pg-<port>)
#   PORT      port for 127.0.0.1 and for the socket file name (default: $PG_PORT or 5433)
# Optional env:
#   PG_DB / PG_USER / PG_PASS   database + owner role to create (default zun/zun/zun)
#   PG_RUNAS    OS user that owns/runs the cluster when invoked as root (default: postgres;
#               created as a system user if missing)
#   PG_BIN      dir with initdb/pg_ctl/psql (default: /usr/lib/postgresql/<newest>/bin)
#   PG_TIMEOUT  seconds to wait for start (default 60)
#   PG_TLS_DIR  if set (ca.pem, server.pem, server.key: make-certs.sh): ssl = on,
#               and a role PG_TLS_ROLE (default zun_tls, member of PG_USER) that
#               may only log in over TLS on 127.0.0.1 with a client certificate
#               signed by that CA whose CN is the role name
#   PG_DURABLE  1: keep PostgreSQL's default durability (fsync, synchronous_commit;
#               benchmarks); default 0: test-speed settings (fsync off)
#   PG_EXTRA_CONF  extra postgresql.conf lines, appended last when the cluster is
#               made by initdb (so they override the lines above; e.g. the
#               replication settings of start-postgres-ha.sh). Default: none
#
# On success prints exactly one line on stdout: a libpq URI over the unix socket
#   postgresql://USER:PASS@/DB?host=BASE/sock&port=PORT
# and writes BASE/env.sh (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
# DATABASE_URL, DATABASE_URL_TCP, PQXX_CONNSTR). Everything else goes to stderr.
# Auth: unix socket = trust, 127.0.0.1 = scram-sha-256 (password PG_PASS).
# Idempotent: if already running it only (re)ensures the role/db and prints the URL.
set -euo pipefail

PORT="${2:-${PG_PORT:-5433}}"
BASE="${1:-${PG_BASE:-/tmp/zun-pg-$PORT}}"
DB="${PG_DB:-zun}"; DBUSER="${PG_USER:-zun}"; DBPASS="${PG_PASS:-zun}"
TIMEOUT="${PG_TIMEOUT:-60}"
if [ -z "${PG_BIN:-}" ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
die() { echo "start-postgres: ERROR: $*" >&2; exit 1; }
log() { echo "start-postgres: $*" >&2; }
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || die "initdb not found (apt-get install postgresql); set PG_BIN"

mkdir -p "$BASE"
BASE="$(cd "$BASE" && pwd)"
DATA="$BASE/data"; SOCK="$BASE/sock"; LOGF="$BASE/log/postgres.log"

# Who runs the server: postgres refuses to run as root.
if [ "$(id -u)" = 0 ]; then
  RUNAS="${PG_RUNAS:-postgres}"
  if ! id "$RUNAS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUNAS" || die "cannot create user $RUNAS"
  fi
  as_pg() { runuser -u "$RUNAS" -- "$@"; }
  mkdir -p "$BASE/log" "$SOCK"
  chown "$RUNAS" "$BASE" "$BASE/log" "$SOCK"
  [ -d "$DATA" ] && chown -R "$RUNAS" "$DATA"
  as_pg test -w "$BASE" || die "$RUNAS cannot write $BASE (a parent dir is not traversable?)"
else
  as_pg() { "$@"; }
  mkdir -p "$BASE/log" "$SOCK"
fi
chmod 0755 "$BASE" "$SOCK"   # clients of any uid may reach the socket

ENC_SOCK="$SOCK"   # libpq accepts a raw path in the host= query parameter
URL="postgresql://$DBUSER:$DBPASS@/$DB?host=$ENC_SOCK&port=$PORT"
URL_TCP="postgresql://$DBUSER:$DBPASS@127.0.0.1:$PORT/$DB"

psql_su() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres "$@"; }

RUNNING=0
if [ -s "$DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then RUNNING=1; fi
if [ "$RUNNING" = 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT already in use by something else"
fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  rm -rf "$DATA"
  T0=$(date +%s.%N)
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$BASE/log/initdb.log" 2>&1 \
    || { cat "$BASE/log/initdb.log" >&2; die "initdb failed"; }
  cat >> "$DATA/postgresql.conf" <<EOF

# --- test cluster settings (start-postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 200
shared_buffers = 32MB
logging_collector = off
EOF
  if [ -n "${PG_TLS_DIR:-}" ]; then
    for f in ca.pem server.pem server.key; do
      install -m 0600 "$PG_TLS_DIR/$f" "$DATA/tls-$f"
      if [ "$(id -u)" = 0 ]; then chown "$RUNAS" "$DATA/tls-$f"; fi
    done
    printf "ssl = on\nssl_cert_file = 'tls-server.pem'\nssl_key_file = 'tls-server.key'\nssl_ca_file = 'tls-ca.pem'\n" \
      >> "$DATA/postgresql.conf"
    # First match wins: the TLS role takes TLS + certificate or nothing.
    TLS_ROLE="${PG_TLS_ROLE:-zun_tls}"
    { printf 'hostssl all %s 127.0.0.1/32 cert\nhost all %s all reject\n' "$TLS_ROLE" "$TLS_ROLE"
      cat "$DATA/pg_hba.conf"; } > "$DATA/pg_hba.conf.new"
    mv "$DATA/pg_hba.conf.new" "$DATA/pg_hba.conf"
    if [ "$(id -u)" = 0 ]; then chown "$RUNAS" "$DATA/pg_hba.conf"; fi
  fi
  if [ "${PG_DURABLE:-0}" != 1 ]; then
    printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >> "$DATA/postgresql.conf"
  fi
  if [ -n "${PG_EXTRA_CONF:-}" ]; then
    printf '# --- PG_EXTRA_CONF ---\n%s\n' "$PG_EXTRA_CONF" >> "$DATA/postgresql.conf"
  fi
  T1=$(date +%s.%N)
  log "initdb done in $(awk "BEGIN{printf \"%.1f\", $T1-$T0}")s"
fi

if [ "$RUNNING" = 1 ]; then
  log "already running (pid $(head -n1 "$DATA/postmaster.pid"))"
else
  T0=$(date +%s.%N)
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGF" -w -t "$TIMEOUT" -o "-p $PORT -k $SOCK" start >&2 \
    || { tail -n 30 "$LOGF" >&2 || true; die "pg_ctl start failed (log: $LOGF)"; }
  T1=$(date +%s.%N)
  log "server up in $(awk "BEGIN{printf \"%.1f\", $T1-$T0}")s (pid $(head -n1 "$DATA/postmaster.pid"))"
fi

# role + database (idempotent)
psql_su -d postgres <<EOF >&2
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DBUSER') THEN
    CREATE ROLE "$DBUSER" LOGIN PASSWORD '$DBPASS';
  ELSE
    ALTER ROLE "$DBUSER" LOGIN PASSWORD '$DBPASS';
  END IF;
END\$\$;
EOF
if [ -n "${PG_TLS_DIR:-}" ]; then
  psql_su -d postgres <<EOF >&2
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_TLS_ROLE:-zun_tls}') THEN
    CREATE ROLE "${PG_TLS_ROLE:-zun_tls}" LOGIN IN ROLE "$DBUSER";
  END IF;
END\$\$;
EOF
fi
if [ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_su -d postgres -c "CREATE DATABASE \"$DB\" OWNER \"$DBUSER\" ENCODING 'UTF8'" >&2 || die "createdb failed"
fi
# sanity check as the app role over the socket
as_pg "$PG_BIN/psql" -X -q -h "$SOCK" -p "$PORT" -U "$DBUSER" -d "$DB" -tAc 'SELECT 1' >/dev/null \
  || die "cannot connect as $DBUSER to $DB"

cat > "$BASE/env.sh" <<EOF
export PGHOST='$SOCK'
export PGPORT='$PORT'
export PGUSER='$DBUSER'
export PGPASSWORD='$DBPASS'
export PGDATABASE='$DB'
export DATABASE_URL='$URL'
export DATABASE_URL_TCP='$URL_TCP'
export PQXX_CONNSTR='host=$SOCK port=$PORT dbname=$DB user=$DBUSER password=$DBPASS'
export PG_BIN='$PG_BIN'
export PG_DATA='$DATA'
export PG_RUNAS='${RUNAS:-$(id -un)}'
EOF
log "tcp: $URL_TCP   (SQLAlchemy: postgresql+psycopg2://$DBUSER:$DBPASS@/$DB?host=$SOCK&port=$PORT)"
echo "$URL"
