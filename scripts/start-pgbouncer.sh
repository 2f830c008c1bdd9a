#!/bin/bash
# start-pgbouncer.sh -- a private PgBouncer (Debian's package, no systemd) in
# transaction pooling mode in front of a PostgreSQL server, for zun-agent's tests.
#
# Usage: start-pgbouncer.sh BASE PORT PG_HOST PG_PORT
#   BASE     private dir: pgbouncer.ini, userlist.txt, pgbouncer.pid, log/, sock/
#   PORT     pgbouncer listens on 127.0.0.1:PORT (and BASE/sock/.s.PGSQL.PORT)
#   PG_HOST  server host (e.g. 127.0.0.1) or unix socket dir; PG_PORT its port
# Optional env:
#   PG_USER / PG_PASS     the one client login (default zun/zun): scram-sha-256
#                         against userlist.txt (plain password, also used to log in
#                         to the server, scram or md5 or trust there); also admin
#                         (SHOW POOLS etc. in the `pgbouncer` database)
#   PG_DB                 database in the printed URL (default zun)
#   PGB_POOL_SIZE         default_pool_size (default 10)
#   PGB_MAX_CLIENT_CONN   max_client_conn (default 1000)
#   PGB_IGNORE_STARTUP    ignore_startup_parameters (default extra_float_digits).
#                         PgBouncer 1.18 answers a startup packet with any other
#                         parameter it does not know -- libpq's `options`
#                         (PGOPTIONS, ?options=-c...) included -- with
#                         "unsupported startup parameter"; a parameter listed here
#                         is silently dropped (it never reaches the server).
#   PGB_QUERY_WAIT_TIMEOUT  query_wait_timeout, seconds a query may wait for a server
#                         connection, e.g. while the server is down (default 120,
#                         pgbouncer's; 0 = forever). A new client whose pool has no
#                         server yet waits client_login_timeout (60 s) instead.
#   PGB_RUNAS             OS user that runs it when invoked as root (default postgres;
#                         pgbouncer refuses to run as root)
#   PGB_TIMEOUT           seconds to wait for start (default 30)
# Every database name is forwarded to the server ([databases] * = ...).
# On success prints exactly one line on stdout:
#   postgresql://USER:PASS@127.0.0.1:PORT/DB
# and writes BASE/env.sh (PGBOUNCER_URL, PGBOUNCER_ADMIN_URL, PGBOUNCER_PID_FILE, ...).
# Idempotent: if already running it rewrites the config, reloads it (SIGHUP) if it
# changed, and prints the URL. Stop with stop-pgbouncer.sh BASE [--purge].
# Installs the pgbouncer package if missing (root only).
set -euo pipefail

die() { echo "start-pgbouncer: ERROR: $*" >&2; exit 1; }
log() { echo "start-pgbouncer: $*" >&2; }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.1f\", $(now)-$1}"; }

[ $# -ge 4 ] || die "usage: $0 BASE PORT PG_HOST PG_PORT"
BASE="$1"; PORT="$2"; PGH="$3"; PGP="$4"
[[ "$PORT" =~ ^[0-9]+$ && "$PGP" =~ ^[0-9]+$ ]] || die "bad port: $PORT / $PGP"
[[ "$PGH" =~ ^[A-Za-z0-9_./:-]+$ ]] || die "bad PG_HOST: $PGH"
DB="${PG_DB:-zun}"; DBUSER="${PG_USER:-zun}"; DBPASS="${PG_PASS:-zun}"
[[ "$DBUSER$DBPASS" != *'"'* ]] || die "PG_USER / PG_PASS must not contain a double quote"
POOL="${PGB_POOL_SIZE:-10}"; MAXC="${PGB_MAX_CLIENT_CONN:-1000}"
IGNORE="${PGB_IGNORE_STARTUP-extra_float_digits}"
TIMEOUT="${PGB_TIMEOUT:-30}"

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  [ "$(id -u)" = 0 ] || die "pgbouncer not installed (apt-get install pgbouncer, as root)"
  log "installing pgbouncer"
  # the package's init script must not start the system-wide instance
  trap_rm=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap_rm=1; trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 pgbouncer >&2; }
  apt_install || { apt-get update -q -o DPkg::Lock::Timeout=600 >&2; apt_install; } || die "apt-get install pgbouncer failed"
  if [ -n "$trap_rm" ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
PGBOUNCER="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"

mkdir -p "$BASE"
BASE="$(cd "$BASE" && pwd)"
[[ "$BASE" =~ ^[A-Za-z0-9_./-]+$ ]] || die "BASE path must match [A-Za-z0-9_./-]+: $BASE"
SOCK="$BASE/sock"; LOGF="$BASE/log/pgbouncer.log"; PIDF="$BASE/pgbouncer.pid"
INI="$BASE/pgbouncer.ini"; USERS="$BASE/userlist.txt"
mkdir -p "$BASE/log" "$SOCK"
if [ "$(id -u)" = 0 ]; then
  RUNAS="${PGB_RUNAS:-postgres}"
  if ! id "$RUNAS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUNAS" || die "cannot create user $RUNAS"
  fi
  as_run() { runuser -u "$RUNAS" -- "$@"; }
  chown "$RUNAS" "$BASE" "$BASE/log" "$SOCK"
  as_run test -w "$BASE" || die "$RUNAS cannot write $BASE (a parent dir is not traversable?)"
else
  RUNAS="$(id -un)"
  as_run() { "$@"; }
fi
chmod 0755 "$BASE" "$SOCK"

URL="postgresql://$DBUSER:$DBPASS@127.0.0.1:$PORT/$DB"
ADMIN_URL="postgresql://$DBUSER:$DBPASS@127.0.0.1:$PORT/pgbouncer"

# zombies (reaped late by a non-reaping init) count as dead
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
PID=""
if [ -s "$PIDF" ]; then
  PID="$(head -n1 "$PIDF")"
  if ! alive "$PID" || [ "$(cat "/proc/$PID/comm" 2>/dev/null)" != pgbouncer ]; then
    log "stale pid file (pid $PID)"; PID=""; rm -f "$PIDF"
  fi
fi
if [ -z "$PID" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT already in use by something else"
fi

umask 077
printf '"%s" "%s"\n' "$DBUSER" "$DBPASS" > "$USERS.new"
cat > "$INI.new" <<EOF
;; written by start-pgbouncer.sh
[databases]
;; any database name is forwarded to the server
* = host=$PGH port=$PGP

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir = $SOCK
pidfile = $PIDF
logfile = $LOGF
auth_type = scram-sha-256
auth_file = $USERS
admin_users = $DBUSER
stats_users = $DBUSER
pool_mode = transaction
max_client_conn = $MAXC
default_pool_size = $POOL
ignore_startup_parameters = $IGNORE
;; a server that failed a login (e.g. during a failover) is retried soon
server_login_retry = 1
query_wait_timeout = ${PGB_QUERY_WAIT_TIMEOUT:-120}
log_connections = 0
log_disconnections = 0
EOF
umask 022
CHANGED=0
for f in "$INI" "$USERS"; do
  if ! cmp -s "$f" "$f.new"; then CHANGED=1; mv "$f.new" "$f"; else rm -f "$f.new"; fi
  if [ "$(id -u)" = 0 ]; then chown "$RUNAS" "$f"; fi
done

T0=$(now)
if [ -n "$PID" ]; then
  if [ "$CHANGED" = 1 ]; then
    log "already running (pid $PID): config changed, reloading"
    kill -HUP "$PID"
  else
    log "already running (pid $PID)"
  fi
else
  as_run "$PGBOUNCER" -d -q "$INI" >&2 </dev/null || { tail -n 20 "$LOGF" >&2 || true; die "pgbouncer failed to start (log: $LOGF)"; }
fi

# wait until it answers on TCP with the password (admin console: no server needed)
deadline=$(( $(date +%s) + TIMEOUT ))
until PGCONNECT_TIMEOUT=2 psql -X -q -tA "$ADMIN_URL" -c "SHOW VERSION" >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 20 "$LOGF" >&2 || true; die "pgbouncer does not accept connections on 127.0.0.1:$PORT after ${TIMEOUT}s (log: $LOGF)"
  fi
  sleep 0.1
done
PID="$(head -n1 "$PIDF")"
log "pgbouncer up on 127.0.0.1:$PORT in $(since "$T0")s (pid $PID) -> $PGH:$PGP"
# through to the server, as a client would (retried: after a failed server login
# pgbouncer refuses clients for server_login_retry seconds)
until err="$(PGCONNECT_TIMEOUT=5 psql -X -q -tA "$URL" -c "SELECT 1" 2>&1 >/dev/null)"; do
  [ "$(date +%s)" -lt "$deadline" ] || die "pgbouncer is up but cannot reach database $DB at $PGH:$PGP: $err"
  sleep 0.5
done

cat > "$BASE/env.sh" <<EOF
export PGBOUNCER_URL='$URL'
export PGBOUNCER_ADMIN_URL='$ADMIN_URL'
export PGBOUNCER_PORT='$PORT'
export PGBOUNCER_PID_FILE='$PIDF'
export PGBOUNCER_INI='$INI'
export PGBOUNCER_LOG='$LOGF'
export PGBOUNCER_SERVER='host=$PGH port=$PGP'
export PGBOUNCER_RUNAS='$RUNAS'
EOF
echo "$URL"
