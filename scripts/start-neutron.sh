#!/bin/bash
# start-neutron.sh -- start a private, loopback-only Neutron 21 for
# zun-agent's networking tests and `make run`, without systemd:
# neutron-server (ML2, mechanism driver linuxbridge, port_security
# extension) and neutron-linuxbridge-agent (no VXLAN, noop firewall).
# Debian 12 packages (scripts/install-deps.sh):
#   apt-get install -y --no-install-recommends neutron-server neutron-linuxbridge-agent
#
# Usage: start-neutron.sh DIR [API_PORT]        API_PORT default 39696
# Networks: type flat on physnet physnet1, whose "NIC" is PHYS_IF, one end of
#   a veth pair that exists only on this machine (its peer ${PHYS_IF%0}1 is
#   up and attached to nothing); and type local (a bridge with no uplink),
#   the default type of a network created without provider attributes.
#   Neutron allows one flat network per physnet, any number of local ones.
#   Create test networks with "port_security_enabled": false: with port
#   security on, the agent writes ebtables rules that ebtables-nft cannot
#   delete, and it then retries forever on the next update of that port.
# Env (all optional):
#   KEYSTONE_URL          e.g. http://127.0.0.1:41500/v3 (start-keystone.sh):
#                         auth_strategy = keystone, tokens are validated as
#                         user neutron in project service.  Keystone may come
#                         up after this script starts: it waits up to
#                         KEYSTONE_WAIT seconds (default 180) for it before
#                         the readiness checks.  Unset: noauth (requests carry
#                         X-Project-Id and X-Roles: admin, bodies tenant_id)
#   NEUTRON_PASSWORD      password of Keystone user neutron (default neutron)
#   NEUTRON_HOST          the agent's host name, which ports must carry as
#                         binding:host_id (default: $(hostname))
#   PHYS_IF               host end of the physnet veth pair (default nxphys0;
#                         at most 15 characters, ending in 0)
#   NEUTRON_DB_URL        SQLAlchemy URL (postgresql+psycopg2://...) of an
#                         existing, empty or Neutron-owned database; unset:
#                         a private PostgreSQL under DIR/pg on 127.0.0.1:
#                         NEUTRON_PG_PORT (default 36432)
#   NEUTRON_TRANSPORT_URL oslo.messaging URL (rabbit://user:pass@127.0.0.1:
#                         port/vhost) of an existing RabbitMQ; unset: a
#                         private node under DIR/rabbit on 127.0.0.1:
#                         NEUTRON_RMQ_PORT (default 36672), epmd
#                         NEUTRON_EPMD_PORT (default 36369)
# Layout of DIR: etc/ (neutron.conf, ml2_conf.ini, linuxbridge_agent.ini),
#   log/, run/*.pid (server and agent are process-group leaders), state/,
#   lock/, pg/ and rabbit/ when private, neutron.env (what stop-neutron.sh
#   needs).  Re-running after stop-neutron.sh (without --purge) reuses the
#   database.  Timings of each step go to stderr.
# Prints (last line of stdout):  NEUTRON_URL=http://127.0.0.1:API_PORT
# Stop with stop-neutron.sh DIR.  Must run as root (bridges, veth pairs).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

DIR=${1:?usage: start-neutron.sh DIR [API_PORT]}
PORT=${2:-39696}
KEYSTONE_URL=${KEYSTONE_URL:-}
KEYSTONE_WAIT=${KEYSTONE_WAIT:-180}
NEUTRON_PASSWORD=${NEUTRON_PASSWORD:-neutron}
NEUTRON_HOST=${NEUTRON_HOST:-$(hostname)}
PHYS_IF=${PHYS_IF:-nxphys0}
PHYS_PEER=${PHYS_IF%0}1
PG_PORT=${NEUTRON_PG_PORT:-36432}
RMQ_PORT=${NEUTRON_RMQ_PORT:-36672}
EPMD_PORT=${NEUTRON_EPMD_PORT:-36369}

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR"/{etc,log,run,state,lock}
chmod 755 "$DIR"
t0=$(date +%s.%N)
elapsed() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}"; }
log() { echo "[start-neutron +$(elapsed)s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
          [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ "$(id -u)" = 0 ] || die "must run as root (bridges, veth pairs)"
for b in neutron-server neutron-linuxbridge-agent neutron-db-manage privsep-helper ip curl; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install neutron-server neutron-linuxbridge-agent)"
done
[ "${PHYS_IF%0}" != "$PHYS_IF" ] && [ ${#PHYS_IF} -le 15 ] ||
  die "PHYS_IF must end in 0 and have at most 15 characters: $PHYS_IF"
if [ -s "$DIR/run/neutron-server.pid" ] && alive "$(cat "$DIR/run/neutron-server.pid")"; then
  die "already running (pid $(cat "$DIR/run/neutron-server.pid")); run stop-neutron.sh $DIR first"
fi
port_open "$PORT" && die "port $PORT already in use by something else"

# ---------------------------------------------------------------- PostgreSQL, RabbitMQ
# The private servers start in the background, with the project's own
# scripts; configuration and the veth pair are made meanwhile.
jobs_=()
if [ -n "${NEUTRON_DB_URL:-}" ]; then
  DB_URL=$NEUTRON_DB_URL
  PRIVATE_PG=
else
  PRIVATE_PG=$DIR/pg
  DB_URL="postgresql+psycopg2://neutron:neutron@127.0.0.1:$PG_PORT/neutron"
  env -u PG_TLS_DIR -u PG_EXTRA_CONF -u PG_DURABLE PG_DB=neutron PG_USER=neutron PG_PASS=neutron \
    "$HERE/start-postgres.sh" "$PRIVATE_PG" "$PG_PORT" >/dev/null 2>"$DIR/log/postgres-start.log" &
  jobs_+=("$!:postgres")
fi
if [ -n "${NEUTRON_TRANSPORT_URL:-}" ]; then
  TRANSPORT_URL=$NEUTRON_TRANSPORT_URL
  PRIVATE_RMQ=
else
  PRIVATE_RMQ=$DIR/rabbit
  TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:$RMQ_PORT/"
  env -u RMQ_TLS_DIR -u RMQ_MGMT_PORT -u RMQ_NODENAME -u RMQ_USER -u RMQ_PASS \
    RMQ_EPMD_PORT="$EPMD_PORT" \
    "$HERE/start-rabbitmq.sh" "$PRIVATE_RMQ" "$RMQ_PORT" >/dev/null 2>"$DIR/log/rabbitmq-start.log" &
  jobs_+=("$!:rabbitmq")
fi
case $DB_URL in *@127.0.0.1[:/]*|*@localhost[:/]*|*@/*) ;;
  *) die "NEUTRON_DB_URL must point to a loopback or unix-socket server: $DB_URL" ;; esac
case $TRANSPORT_URL in *@127.0.0.1[:/]*|*@localhost[:/]*) ;;
  *) die "NEUTRON_TRANSPORT_URL must point to 127.0.0.1: $TRANSPORT_URL" ;; esac

# What stop-neutron.sh needs; written first so that a failed start can be
# cleaned up as well.
cat >"$DIR/neutron.env" <<EOF
NEUTRON_URL=http://127.0.0.1:$PORT
NEUTRON_HOST=$NEUTRON_HOST
PHYS_IF=$PHYS_IF
PHYS_PEER=$PHYS_PEER
DB_URL=$DB_URL
PRIVATE_PG=$PRIVATE_PG
PRIVATE_RMQ=$PRIVATE_RMQ
EOF

# ---------------------------------------------------------------- physnet veth pair
if ! ip link show "$PHYS_IF" >/dev/null 2>&1; then
  ip link add "$PHYS_IF" type veth peer name "$PHYS_PEER" || die "cannot create veth $PHYS_IF/$PHYS_PEER"
fi
ip link set "$PHYS_IF" up
ip link set "$PHYS_PEER" up

# ---------------------------------------------------------------- config
if [ -n "$KEYSTONE_URL" ]; then AUTH=keystone; else AUTH=noauth; fi
cp /etc/neutron/api-paste.ini "$DIR/etc/api-paste.ini"
cat >"$DIR/etc/neutron.conf" <<EOF
[DEFAULT]
host = $NEUTRON_HOST
core_plugin = ml2
service_plugins =
auth_strategy = $AUTH
api_paste_config = $DIR/etc/api-paste.ini
bind_host = 127.0.0.1
bind_port = $PORT
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
transport_url = $TRANSPORT_URL
state_path = $DIR/state
agent_down_time = 20
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
use_stderr = false
[database]
connection = $DB_URL
[oslo_concurrency]
lock_path = $DIR/lock
[agent]
# we are root: privsep-helper is started directly, no sudo/rootwrap
root_helper =
report_interval = 5
[experimental]
# without it the linuxbridge mechanism driver exits neutron-server at load
linuxbridge = true
EOF
if [ "$AUTH" = keystone ]; then
  cat >>"$DIR/etc/neutron.conf" <<EOF
[keystone_authtoken]
# No memcached: keystonemiddleware caches validated tokens in process memory.
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
username = neutron
password = $NEUTRON_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
service_token_roles_required = true
EOF
fi
cat >"$DIR/etc/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,local
tenant_network_types = local
mechanism_drivers = linuxbridge
extension_drivers = port_security
[ml2_type_flat]
flat_networks = physnet1
EOF
cat >"$DIR/etc/linuxbridge_agent.ini" <<EOF
[linux_bridge]
physical_interface_mappings = physnet1:$PHYS_IF
[vxlan]
# nothing may leave the machine: no VXLAN (multicast or unicast)
enable_vxlan = false
[agent]
polling_interval = 1
[securitygroup]
enable_security_group = false
firewall_driver = noop
EOF
CONF=(--config-file "$DIR/etc/neutron.conf" --config-file "$DIR/etc/ml2_conf.ini")

for j in "${jobs_[@]}"; do
  wait "${j%%:*}" || { tail -20 "$DIR/log/${j#*:}-start.log" >&2; die "${j#*:} failed, see $DIR/log/${j#*:}-start.log"; }
  log "private ${j#*:} up"
done

# ---------------------------------------------------------------- schema
neutron-db-manage "${CONF[@]}" upgrade heads >"$DIR/log/db-manage.log" 2>&1 ||
  { tail -20 "$DIR/log/db-manage.log" >&2; die "neutron-db-manage upgrade heads failed, see $DIR/log/db-manage.log"; }
log "schema at heads"

# ---------------------------------------------------------------- server, agent
# setsid: each is the leader of its own process group (server: parent, API
# and RPC workers; agent: the agent and its privsep helpers), which
# stop-neutron.sh signals as a whole.
setsid neutron-server "${CONF[@]}" --log-file "$DIR/log/neutron-server.log" \
  >"$DIR/log/neutron-server.out" 2>&1 </dev/null &
echo $! >"$DIR/run/neutron-server.pid"
setsid neutron-linuxbridge-agent --config-file "$DIR/etc/neutron.conf" \
  --config-file "$DIR/etc/linuxbridge_agent.ini" --log-file "$DIR/log/linuxbridge-agent.log" \
  >"$DIR/log/linuxbridge-agent.out" 2>&1 </dev/null &
echo $! >"$DIR/run/linuxbridge-agent.pid"
log "neutron-server (pid $(cat "$DIR/run/neutron-server.pid")) and linuxbridge agent (pid $(cat "$DIR/run/linuxbridge-agent.pid")) launched"

check_procs() {
  alive "$(cat "$DIR/run/neutron-server.pid")" || {
    tail -20 "$DIR/log/neutron-server.log" >&2; die "neutron-server exited, see $DIR/log/neutron-server.log"; }
  alive "$(cat "$DIR/run/linuxbridge-agent.pid")" || {
    tail -20 "$DIR/log/linuxbridge-agent.log" >&2; die "linuxbridge agent exited, see $DIR/log/linuxbridge-agent.log"; }
}

URL=http://127.0.0.1:$PORT
if [ "$AUTH" = keystone ]; then
  # The readiness checks below go through the real auth path, with the
  # neutron service user's own token.  Keystone may still be starting, and
  # start-keystone.sh answers before it has created the service users.
  token() {
    curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"auth\":{
      \"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"neutron\",
      \"domain\":{\"id\":\"default\"},\"password\":\"$NEUTRON_PASSWORD\"}}},
      \"scope\":{\"project\":{\"name\":\"service\",\"domain\":{\"id\":\"default\"}}}}}" \
      "$KEYSTONE_URL/auth/tokens" | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}' | tr -d '\r'
  }
  TOKEN=
  deadline=$((SECONDS + KEYSTONE_WAIT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    TOKEN=$(token || true)
    [ -n "$TOKEN" ] && break
    check_procs
    sleep 0.5
  done
  [ -n "$TOKEN" ] || die "no Keystone token for user neutron in project service at $KEYSTONE_URL"
  log "Keystone token for neutron@service"
  H=(-H "X-Auth-Token: $TOKEN")
else
  H=(-H "X-Project-Id: admin" -H "X-Roles: admin")
fi

for _ in $(seq 480); do
  curl -sf "${H[@]}" -o /dev/null "$URL/v2.0/networks" && break
  check_procs
  sleep 0.25
done
curl -sf "${H[@]}" -o /dev/null "$URL/v2.0/networks" ||
  die "$URL/v2.0/networks not answering, see $DIR/log/neutron-server.log"
log "neutron-server answering at $URL (auth $AUTH)"

agent_alive() {
  curl -sf "${H[@]}" "$URL/v2.0/agents?agent_type=Linux+bridge+agent&host=$NEUTRON_HOST" |
    grep -q '"alive": *true'
}
for _ in $(seq 480); do
  agent_alive && break
  check_procs
  sleep 0.25
done
agent_alive || die "linuxbridge agent of host $NEUTRON_HOST not alive, see $DIR/log/linuxbridge-agent.log"
log "linuxbridge agent alive (host $NEUTRON_HOST, physnet1 on $PHYS_IF)"
echo "NEUTRON_URL=$URL"
