#!/bin/bash
# start-keystone.sh -- start a private, loopback-only Keystone 22 (identity
# v3, fernet tokens) for zun-agent's tests and `make run`, without systemd.
# Debian 12 packages (library only; the `keystone` service package would try
# to start Apache/init services):
#   apt-get install -y --no-install-recommends python3-keystone uwsgi-core uwsgi-plugin-python3
#
# Usage: start-keystone.sh DIR [PORT]          PORT default 41500
# Layout of DIR: etc/keystone.conf, keystone.db (sqlite), fernet-keys/,
#   credential-keys/, log/, run/keystone.pid, env.sh (OS_* for admin).
# Env (all optional):
#   ADMIN_PASSWORD        password of user admin (default admin)
#   SERVICE_USERS         users created in project "service" with role admin
#                         (default "zun placement neutron"); the password of
#                         user X is $X_PASSWORD (upper case), default X itself,
#                         e.g. ZUN_PASSWORD, PLACEMENT_PASSWORD, NEUTRON_PASSWORD
#   PLACEMENT_URL         register service placement (type placement) there
#   NEUTRON_URL           register service neutron (type network) there
#   ZUN_URL               register service zun (type container) there
#   KEYSTONE_DB_URL       SQLAlchemy URL instead of sqlite, e.g. the
#                         postgresql+psycopg2://... printed by start-postgres.sh
#   KEYSTONE_THREADS      uwsgi threads in its single process (default 1
#                         with sqlite, 4 with another database)
#   KEYSTONE_TOKEN_EXPIRATION  token lifetime in seconds (default 7200)
# Catalog endpoints (public, internal, admin) all get the same URL, region
# RegionOne.  Re-running with another *_URL moves the endpoints there.
# Idempotent: if the server already answers it only re-ensures the
# users/services/endpoints.
# Prints (last line of stdout):  KEYSTONE_URL=http://127.0.0.1:PORT/v3
# Stop with stop-keystone.sh DIR.
set -euo pipefail

DIR=${1:?usage: start-keystone.sh DIR [PORT]}
PORT=${2:-41500}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin}
SERVICE_USERS=${SERVICE_USERS:-zun placement neutron}
PY=/usr/bin/python3          # Debian's; a pyenv python3 on PATH lacks keystone

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR"/{etc,log,run,fernet-keys,credential-keys}
t0=$(date +%s.%N)
elapsed() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}"; }
log() { echo "[start-keystone +$(elapsed)s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

UWSGI=$(command -v uwsgi || command -v uwsgi-core || true)
[ -n "$UWSGI" ] || die "uwsgi not found (apt-get install uwsgi-core uwsgi-plugin-python3)"
[ -f /usr/lib/uwsgi/plugins/python3_plugin.so ] || die "missing uwsgi-plugin-python3"
for b in keystone-manage /usr/bin/keystone-wsgi-public "$PY"; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install python3-keystone)"
done

URL=http://127.0.0.1:$PORT/v3
DB_URL=${KEYSTONE_DB_URL:-sqlite:///$DIR/keystone.db?timeout=30}
# SQLite cannot take concurrent writers here: oslo.db opens every
# transaction with a plain BEGIN, so two sessions that read and then write
# fail at once with "database is locked" (no busy wait).  With sqlite the
# server therefore handles one request at a time.
case $DB_URL in sqlite*) THREADS=${KEYSTONE_THREADS:-1} ;; *) THREADS=${KEYSTONE_THREADS:-4} ;; esac
PIDF=$DIR/run/keystone.pid
# zombies (left by a parent that does not reap) count as dead
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
          [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

RUNNING=0
if [ -s "$PIDF" ] && alive "$(cat "$PIDF")"; then
  curl -sf -o /dev/null "$URL" || die "pid $(cat "$PIDF") alive but $URL not answering; run stop-keystone.sh $DIR"
  RUNNING=1
  log "already running (pid $(cat "$PIDF"))"
elif port_open "$PORT"; then
  die "port $PORT already in use by something else"
fi

# ---------------------------------------------------------------- config
cat >"$DIR/etc/keystone.conf" <<EOF
[DEFAULT]
log_file = $DIR/log/keystone.log
use_stderr = false
debug = false
[database]
connection = $DB_URL
[token]
provider = fernet
expiration = ${KEYSTONE_TOKEN_EXPIRATION:-7200}
[fernet_tokens]
key_repository = $DIR/fernet-keys
[fernet_receipts]
key_repository = $DIR/fernet-keys
[credential]
key_repository = $DIR/credential-keys
[identity]
# bcrypt's minimum cost: a password check takes ~1 ms instead of ~250 ms
# (default cost 12); every password login pays it
password_hash_rounds = 4
[cache]
# In-process cache: token validation (what keystonemiddleware asks for every
# new token) drops from ~1 s to ~30 ms on this 2-core VM.  Coherent because
# the server is a single process.
enabled = true
backend = dogpile.cache.memory
EOF
manage() { # name args...: keystone-manage, output to log/manage-NAME.log
  local name=$1; shift
  keystone-manage --config-file "$DIR/etc/keystone.conf" "$@" >"$DIR/log/manage-$name.log" 2>&1
}

if [ "$RUNNING" = 0 ]; then
  # ------------------------------------------------------------ keys, schema
  # Each keystone-manage run spends ~3 s importing keystone; the key set-ups
  # do not touch the database, so they run beside db_sync.
  KUSER=$(id -un); KGROUP=$(id -gn)
  jobs_=()
  if [ ! -s "$DIR/fernet-keys/0" ]; then
    manage fernet fernet_setup --keystone-user "$KUSER" --keystone-group "$KGROUP" & jobs_+=("$!:fernet")
  fi
  if [ ! -s "$DIR/credential-keys/0" ]; then
    manage credential credential_setup --keystone-user "$KUSER" --keystone-group "$KGROUP" & jobs_+=("$!:credential")
  fi
  manage db_sync db_sync & jobs_+=("$!:db_sync")
  for j in "${jobs_[@]}"; do
    wait "${j%%:*}" || die "keystone-manage ${j#*:} failed, see $DIR/log/manage-${j#*:}.log and keystone.log"
  done
  if [ -z "${KEYSTONE_DB_URL:-}" ]; then
    # WAL journal (persistent in the file).  Seen with the default rollback
    # journal: a serial series of user creations failed with "database is
    # locked" after the 5 s busy wait, a reader blocking the commit.
    "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0])' \
      "$DIR/keystone.db" >/dev/null || die "cannot switch $DIR/keystone.db to WAL"
  fi
  log "keys and schema ready ($DB_URL)"
  # bootstrap is idempotent: it (re)sets the admin password and endpoints.
  # It runs while the server imports; nothing asks the server for data (and
  # so fills its cache) before bootstrap has finished.
  manage bootstrap bootstrap --bootstrap-username admin --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$URL" --bootstrap-internal-url "$URL" --bootstrap-public-url "$URL" &
  BOOT=$!

  # ------------------------------------------------------------ server
  # One uwsgi process, no master: the pid we record is the whole server.
  # --http-socket closes the connection after each response but does not
  # say so; without "Connection: close" keystoneauth/requests reuse the
  # socket and the next POST fails with "Connection reset by peer".
  # setsid gives it its own process group, which stop-keystone.sh signals.
  setsid "$UWSGI" --plugin python3 --http-socket "127.0.0.1:$PORT" \
    --wsgi-file /usr/bin/keystone-wsgi-public --need-app \
    --env "OS_KEYSTONE_CONFIG_DIR=$DIR/etc" --chdir "$DIR" \
    --processes 1 --threads "$THREADS" --enable-threads --buffer-size 65535 \
    --add-header 'Connection: close' \
    --die-on-term --pidfile "$PIDF" --logto "$DIR/log/uwsgi.log" \
    >"$DIR/log/uwsgi.out" 2>&1 </dev/null &
  echo $! >"$PIDF"
  wait "$BOOT" || die "keystone-manage bootstrap failed, see $DIR/log/manage-bootstrap.log and keystone.log"
  log "bootstrap done (user/project/role admin, region RegionOne)"
  for _ in $(seq 240); do
    curl -sf -o /dev/null "$URL" && break
    alive "$(cat "$PIDF")" || die "uwsgi exited, see $DIR/log/uwsgi.log and $DIR/log/keystone.log"
    sleep 0.25
  done
  curl -sf -o /dev/null "$URL" || die "$URL not answering, see $DIR/log/uwsgi.log"
  log "keystone answering at $URL (pid $(cat "$PIDF"))"
fi

# ---------------------------------------------------------------- resources
# Plain REST with the standard library: faster than the openstack CLI
# (which spends ~2 s importing per call).
export KS_URL=$URL ADMIN_PASSWORD SERVICE_USERS
for u in $SERVICE_USERS; do
  v=$(echo "${u}_PASSWORD" | tr '[:lower:]-' '[:upper:]_')
  export "KS_PW_$u=${!v:-$u}"
done
"$PY" - >&2 <<'PYEOF' || die "could not create project/users/services (see above)"
import json, os, sys, urllib.error, urllib.request

base = os.environ["KS_URL"]

def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw, headers = resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        sys.exit("%s %s -> HTTP %s %s" % (method, path, err.code, err.read()[:400]))
    return headers, (json.loads(raw) if raw else None)

def token_for(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    headers, data = call("POST", "/auth/tokens", body)
    return headers["X-Subject-Token"], data["token"]

tok, _ = token_for("admin", os.environ["ADMIN_PASSWORD"], "admin")

def one(collection, query):
    _, data = call("GET", "/%s?%s" % (collection, query), token=tok)
    items = data[collection]
    return items[0] if items else None

project = one("projects", "name=service&domain_id=default")
if project is None:
    _, data = call("POST", "/projects", {"project": {
        "name": "service", "domain_id": "default",
        "description": "OpenStack service users"}}, tok)
    project = data["project"]
role = one("roles", "name=admin")

for name in os.environ["SERVICE_USERS"].split():
    password = os.environ["KS_PW_" + name]
    user = one("users", "name=%s&domain_id=default" % name)
    spec = {"name": name, "domain_id": "default", "password": password,
            "default_project_id": project["id"], "enabled": True}
    if user is None:
        _, data = call("POST", "/users", {"user": spec}, tok)
        user = data["user"]
    else:
        call("PATCH", "/users/" + user["id"], {"user": spec}, tok)
    call("PUT", "/projects/%s/users/%s/roles/%s" % (project["id"], user["id"], role["id"]),
         token=tok)
    print("user %s: admin in project service" % name)

for env, name, stype in (("PLACEMENT_URL", "placement", "placement"),
                         ("NEUTRON_URL", "neutron", "network"),
                         ("ZUN_URL", "zun", "container")):
    url = os.environ.get(env, "").strip()
    if not url:
        continue
    svc = one("services", "type=" + stype)
    if svc is None:
        _, data = call("POST", "/services", {"service": {
            "name": name, "type": stype, "enabled": True}}, tok)
        svc = data["service"]
    _, data = call("GET", "/endpoints?service_id=" + svc["id"], token=tok)
    have = {e["interface"]: e for e in data["endpoints"]}
    for iface in ("public", "internal", "admin"):
        ep = have.get(iface)
        if ep is None:
            call("POST", "/endpoints", {"endpoint": {
                "service_id": svc["id"], "interface": iface, "url": url,
                "region_id": "RegionOne", "enabled": True}}, tok)
        elif ep["url"] != url or ep.get("region_id") != "RegionOne":
            call("PATCH", "/endpoints/" + ep["id"], {"endpoint": {
                "url": url, "region_id": "RegionOne"}}, tok)
    print("service %s (%s): %s" % (name, stype, url))

# Check what a service sees: a token of the first service user, scoped to
# project service, with its roles and catalog.
first = os.environ["SERVICE_USERS"].split()[0]
_, t = token_for(first, os.environ["KS_PW_" + first], "service")
print("token for %s@service: roles %s; catalog %s" % (
    first, sorted(r["name"] for r in t["roles"]),
    sorted(s["type"] for s in t.get("catalog", []))))
PYEOF

cat >"$DIR/env.sh" <<EOF
export KEYSTONE_URL='$URL'
export OS_AUTH_URL='$URL'
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD='$ADMIN_PASSWORD'
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
EOF
log "ready; admin credentials in $DIR/env.sh"
echo "KEYSTONE_URL=$URL"
