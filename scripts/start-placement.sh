#!/bin/bash
# start-placement.sh -- start a private, loopback-only OpenStack Placement 8
# for zun-agent's tests and `make run`, without systemd.  Debian 12
# packages (library only; `placement-api`, the service package, would try to
# start Apache/init services):
#   apt-get install -y --no-install-recommends python3-placement uwsgi-core uwsgi-plugin-python3
#
# Usage: start-placement.sh DIR [PORT] [KEYSTONE_URL]     PORT default 41778
#   KEYSTONE_URL  e.g. http://127.0.0.1:41500/v3 (start-keystone.sh prints it).
#                 Given: [api] auth_strategy = keystone; requests need a
#                 Keystone token (X-Auth-Token); the service user is
#                 placement in project service.  Absent: noauth2, where the
#                 header "X-Auth-Token: admin" means an admin user.
# Layout of DIR: etc/placement.conf, placement.db (sqlite), log/,
#   run/placement.pid.
# Env (all optional):
#   PLACEMENT_PASSWORD   password of Keystone user placement (default placement)
#   PLACEMENT_DB_URL     SQLAlchemy URL instead of sqlite, e.g. the
#                        postgresql+psycopg2://... printed by start-postgres.sh
#   PLACEMENT_THREADS    uwsgi threads in its single process (default 1
#                        with sqlite, 4 with another database)
#   PLACEMENT_TOKEN_CACHE_TIME  keystonemiddleware's token_cache_time in
#                        seconds (-1: validate every token at Keystone, so
#                        revocations apply at once; default: its own, 300)
# Idempotent: if the server already answers it only prints the URL.
# Prints (last line of stdout):  PLACEMENT_URL=http://127.0.0.1:PORT
# Requests need "OpenStack-API-Version: placement 1.x" for anything past 1.0
# (allocation candidates: >= 1.10).  Stop with stop-placement.sh DIR.
set -euo pipefail

DIR=${1:?usage: start-placement.sh DIR [PORT] [KEYSTONE_URL]}
PORT=${2:-41778}
KEYSTONE_URL=${3:-}
PLACEMENT_PASSWORD=${PLACEMENT_PASSWORD:-placement}
PY=/usr/bin/python3          # Debian's; a pyenv python3 on PATH lacks placement

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR"/{etc,log,run}
t0=$(date +%s.%N)
elapsed() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}"; }
log() { echo "[start-placement +$(elapsed)s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

UWSGI=$(command -v uwsgi || command -v uwsgi-core || true)
[ -n "$UWSGI" ] || die "uwsgi not found (apt-get install uwsgi-core uwsgi-plugin-python3)"
[ -f /usr/lib/uwsgi/plugins/python3_plugin.so ] || die "missing uwsgi-plugin-python3"
for b in placement-manage /usr/bin/placement-api "$PY"; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install python3-placement)"
done

URL=http://127.0.0.1:$PORT
DB_URL=${PLACEMENT_DB_URL:-sqlite:///$DIR/placement.db?timeout=30}
# SQLite cannot take concurrent writers here: oslo.db opens every
# transaction with a plain BEGIN, so two sessions that read and then write
# fail at once with "database is locked" (no busy wait).  With sqlite the
# server therefore handles one request at a time.
case $DB_URL in sqlite*) THREADS=${PLACEMENT_THREADS:-1} ;; *) THREADS=${PLACEMENT_THREADS:-4} ;; esac
PIDF=$DIR/run/placement.pid
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
          [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -s "$PIDF" ] && alive "$(cat "$PIDF")"; then
  curl -sf -o /dev/null "$URL/" || die "pid $(cat "$PIDF") alive but $URL not answering; run stop-placement.sh $DIR"
  log "already running (pid $(cat "$PIDF"))"
  echo "PLACEMENT_URL=$URL"
  exit 0
fi
port_open "$PORT" && die "port $PORT already in use by something else"

# ---------------------------------------------------------------- config
if [ -n "$KEYSTONE_URL" ]; then
  AUTH=keystone
  curl -sf -o /dev/null "$KEYSTONE_URL" || die "Keystone not answering at $KEYSTONE_URL"
else
  AUTH=noauth2
fi
cat >"$DIR/etc/placement.conf" <<EOF
[DEFAULT]
log_file = $DIR/log/placement.log
use_stderr = false
debug = false
[placement_database]
connection = $DB_URL
[api]
auth_strategy = $AUTH
EOF
if [ "$AUTH" = keystone ]; then
  cat >>"$DIR/etc/placement.conf" <<EOF
[keystone_authtoken]
# No memcached: keystonemiddleware keeps validated tokens in process memory.
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
username = placement
password = $PLACEMENT_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
service_token_roles_required = true
EOF
  if [ -n "${PLACEMENT_TOKEN_CACHE_TIME:-}" ]; then
    echo "token_cache_time = $PLACEMENT_TOKEN_CACHE_TIME" >>"$DIR/etc/placement.conf"
  fi
fi

# ---------------------------------------------------------------- schema
placement-manage --config-file "$DIR/etc/placement.conf" db sync \
  >"$DIR/log/manage-db-sync.log" 2>&1 ||
  die "placement-manage db sync failed, see $DIR/log/manage-db-sync.log and placement.log"
if [ -z "${PLACEMENT_DB_URL:-}" ]; then
  # WAL journal (persistent in the file): readers never block the writer.
  "$PY" -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' \
    "$DIR/placement.db" || die "cannot switch $DIR/placement.db to WAL"
fi
log "schema ready ($DB_URL)"

# ---------------------------------------------------------------- server
# --http-socket closes the connection after each response but does not say
# so; without "Connection: close" keystoneauth/requests reuse the socket and
# the next POST fails with "Connection reset by peer".
# One uwsgi process, no master: the pid we record is the whole server;
# setsid gives it its own process group, which stop-placement.sh signals.
setsid "$UWSGI" --plugin python3 --http-socket "127.0.0.1:$PORT" \
  --wsgi-file /usr/bin/placement-api --need-app \
  --env "OS_PLACEMENT_CONFIG_DIR=$DIR/etc" --chdir "$DIR" \
  --processes 1 --threads "$THREADS" --enable-threads --buffer-size 65535 \
  --add-header 'Connection: close' \
  --die-on-term --pidfile "$PIDF" --logto "$DIR/log/uwsgi.log" \
  >"$DIR/log/uwsgi.out" 2>&1 </dev/null &
echo $! >"$PIDF"
for _ in $(seq 240); do
  curl -sf -o /dev/null "$URL/" && break
  alive "$(cat "$PIDF")" || die "uwsgi exited, see $DIR/log/uwsgi.log and $DIR/log/placement.log"
  sleep 0.25
done
curl -sf -o /dev/null "$URL/" || die "$URL not answering, see $DIR/log/uwsgi.log"
log "placement answering at $URL (pid $(cat "$PIDF"), auth $AUTH)"

# ---------------------------------------------------------------- check
# One authenticated request proves the whole chain (for keystone: our user's
# password, and the service user that keystonemiddleware logs in with).
if [ "$AUTH" = keystone ]; then
  TOKEN=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"auth\":{
    \"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"placement\",
    \"domain\":{\"id\":\"default\"},\"password\":\"$PLACEMENT_PASSWORD\"}}},
    \"scope\":{\"project\":{\"name\":\"service\",\"domain\":{\"id\":\"default\"}}}}}" \
    "$KEYSTONE_URL/auth/tokens" | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}' | tr -d '\r') ||
    die "no token for user placement in project service (run start-keystone.sh first)"
else
  TOKEN="admin"
fi
code=$(curl -s -o "$DIR/log/check.json" -w '%{http_code}' -H "X-Auth-Token: $TOKEN" \
  "$URL/resource_providers")
[ "$code" = 200 ] || die "GET /resource_providers -> HTTP $code ($(head -c 300 "$DIR/log/check.json")); see $DIR/log/placement.log"
log "authenticated GET /resource_providers ok"
echo "PLACEMENT_URL=$URL"
