#!/bin/bash
# Stop what start-neutron.sh DIR started, by recorded PID (each a process
# group leader), never by name, and remove the links it is responsible for:
# the bridges brq<network-id[:11]> and taps tap<port-id[:11]> of the
# networks and ports in its database, any bridge that holds its physnet
# interface (and the taps in it), and the physnet veth pair.  Other
# bridges on the machine are left alone.
# Usage: stop-neutron.sh DIR [--purge]
#   --purge  also delete DIR (private database, logs).
# Idempotent: safe to run twice, exits 0 if nothing is running.  A database
# given by NEUTRON_DB_URL is left to whoever runs that server (it must still
# be up when this runs, so that the links of its networks can be found).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR=${1:?usage: stop-neutron.sh DIR [--purge]}
[ -d "$DIR" ] || { echo "stop-neutron: no $DIR; nothing to stop" >&2; exit 0; }
DIR=$(cd "$DIR" && pwd)
t0=$(date +%s.%N)
elapsed() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}"; }
log() { echo "stop-neutron: [+$(elapsed)s] $*" >&2; }
# zombies (left by a parent that does not reap) count as dead
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
          [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

PHYS_IF=${PHYS_IF:-nxphys0}; PHYS_PEER=; DB_URL=; PRIVATE_PG=; PRIVATE_RMQ=
if [ -f "$DIR/neutron.env" ]; then
  while IFS='=' read -r k v; do
    case $k in PHYS_IF|PHYS_PEER|DB_URL|PRIVATE_PG|PRIVATE_RMQ) printf -v "$k" '%s' "$v" ;; esac
  done <"$DIR/neutron.env"
fi
PHYS_PEER=${PHYS_PEER:-${PHYS_IF%0}1}

stop_group() { # name: TERM the process group recorded in run/NAME.pid, then KILL
  local f="$DIR/run/$1.pid" pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    log "TERM $1 (process group $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 60); do alive "$pid" || break; sleep 0.25; done
  fi
  # the group may outlive its leader (workers, privsep helpers)
  if kill -0 -- "-$pid" 2>/dev/null; then
    log "KILL what is left of process group $pid ($1)"
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -f "$f"
}
# The agent first: it would otherwise re-create bridges while we delete them.
stop_group linuxbridge-agent
stop_group neutron-server

# ---------------------------------------------------------------- links
del_link() { ip link show "$1" >/dev/null 2>&1 && ip link del "$1" 2>/dev/null && log "deleted link $1"; }
names=()
if [ -n "$PRIVATE_PG" ] && [ ! -s "$PRIVATE_PG/data/postmaster.pid" ]; then
  :   # our private database is down: nothing to ask
elif [ -n "$DB_URL" ]; then
  # libpq reads the SQLAlchemy URL once the driver name is dropped
  uri=${DB_URL/+psycopg2/}
  if out=$(timeout 20 psql -XAtq "$uri" -c \
      "select 'brq' || left(id, 11) from networks union all select 'tap' || left(id, 11) from ports" 2>&1); then
    mapfile -t names < <(printf '%s\n' "$out" | grep -E '^(brq|tap)[0-9a-f-]+$')
  else
    log "cannot read networks/ports from the database (${out:0:200}); only the physnet bridge is cleaned"
  fi
fi
for n in "${names[@]}"; do
  case $n in tap*) del_link "$n" ;; esac
done
for n in "${names[@]}"; do
  case $n in brq*) del_link "$n" ;; esac
done
if ip link show "$PHYS_IF" >/dev/null 2>&1; then
  br=$(ip -o link show "$PHYS_IF" | grep -o ' master [^ ]*' | awk '{print $2}')
  if [ -n "$br" ]; then
    for t in $(ip -o link show master "$br" | awk -F': ' '{print $2}' | cut -d@ -f1); do
      case $t in tap*) del_link "$t" ;; esac
    done
    del_link "$br"
  fi
fi
del_link "$PHYS_IF"     # takes its veth peer with it
del_link "$PHYS_PEER"

# ---------------------------------------------------------------- private servers
if [ -n "$PRIVATE_RMQ" ] && [ -d "$PRIVATE_RMQ" ]; then
  "$HERE/stop-rabbitmq.sh" "$PRIVATE_RMQ" >/dev/null 2>>"$DIR/log/stop.log" || log "stop-rabbitmq.sh failed"
fi
if [ -n "$PRIVATE_PG" ] && [ -d "$PRIVATE_PG" ]; then
  "$HERE/stop-postgres.sh" "$PRIVATE_PG" >/dev/null 2>>"$DIR/log/stop.log" || log "stop-postgres.sh failed"
fi
if [ "${2:-}" = --purge ]; then rm -rf "$DIR"; log "purged $DIR"; fi
log "stopped"
