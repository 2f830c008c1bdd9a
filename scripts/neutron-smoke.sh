#!/bin/bash
# neutron-smoke.sh -- check a Neutron started by start-neutron.sh end to end:
# make a network with port security off, a subnet and two compute:zun
# ports bound to HOST, plumb two network namespaces by hand the way a
# linuxbridge-aware CNI daemon does (veth; netns end eth0 with the port's
# MAC and IP; host end tap<port[:11]> in bridge brq<net[:11]>, created if
# absent), wait until both ports are ACTIVE, check TCP between the two
# namespaces, then delete everything it made.
#
# Usage: neutron-smoke.sh [URL] [HOST]
#   URL   default http://127.0.0.1:39696;  HOST default $(hostname)
# Env (all optional):
#   TOKEN         a Keystone token (Neutron started with KEYSTONE_URL): sent as
#                 X-Auth-Token, and the objects belong to the token's project;
#                 unset: noauth headers and an explicit tenant_id
#   NETWORK_TYPE  flat (default; provider network on physnet1, needs the
#                 admin role) or local (a bridge with no uplink)
#   NS_PREFIX     prefix of the namespaces and veth names (default zunt-smk)
# Subnet 10.77.0.0/24 lives only in the bridge; nothing leaves the machine.
# Prints SMOKE-OK on success.  Must run as root.
set -euo pipefail
URL=${1:-http://127.0.0.1:39696}
HOST=${2:-$(hostname)}
NETWORK_TYPE=${NETWORK_TYPE:-flat}
NS_PREFIX=${NS_PREFIX:-zunt-smk}
PY=/usr/bin/python3
PROJ=0123456789abcdef0123456789abcdef
if [ -n "${TOKEN:-}" ]; then
  H=(-H "X-Auth-Token: $TOKEN" -H "Content-Type: application/json")
  TEN=''
else
  H=(-H "X-Project-Id: $PROJ" -H "X-Roles: admin" -H "Content-Type: application/json")
  TEN="\"tenant_id\":\"$PROJ\","
fi
case $NETWORK_TYPE in
  flat) PROVIDER='"provider:network_type":"flat","provider:physical_network":"physnet1",' ;;
  local) PROVIDER='' ;;
  *) echo "NETWORK_TYPE must be flat or local" >&2; exit 2 ;;
esac
api() { curl -sf "${H[@]}" "$@"; }
jget() { $PY -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.1f\", $(now) - $1}"; }

NET=""; PORTS=(); NSS=(); BR=""
cleanup() {
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  for p in "${PORTS[@]}"; do api -X DELETE "$URL/v2.0/ports/$p" >/dev/null || true; done
  if [ -n "$NET" ]; then
    api -X DELETE "$URL/v2.0/networks/$NET" >/dev/null || true
    # The agent removes the bridge when it learns of the deletion; if it
    # has not yet, remove ours unless a tap is still in it (the physnet
    # veth goes back to the next bridge the agent builds).
    if ip link show "$BR" >/dev/null 2>&1 &&
       ! ip -o link show master "$BR" 2>/dev/null | grep -q ' tap'; then
      ip link del "$BR" 2>/dev/null || true
    fi
  fi
}
trap cleanup EXIT

NET=$(api -X POST "$URL/v2.0/networks" -d "{\"network\":{\"name\":\"zun-smoke\",
  $TEN $PROVIDER \"port_security_enabled\":false}}" | jget '["network"]["id"]')
api -X POST "$URL/v2.0/subnets" -d "{\"subnet\":{\"network_id\":\"$NET\",
  $TEN\"cidr\":\"10.77.0.0/24\",\"ip_version\":4,
  \"gateway_ip\":\"10.77.0.1\",\"enable_dhcp\":false}}" >/dev/null
BR=brq${NET:0:11}
echo "network $NET ($NETWORK_TYPE), bridge $BR"
IPS=()
t0=$(now)
for i in 1 2; do
  capsule=$(cat /proc/sys/kernel/random/uuid)
  port=$(api -X POST "$URL/v2.0/ports" -d "{\"port\":{\"network_id\":\"$NET\",
    $TEN\"device_id\":\"$capsule\",\"device_owner\":\"compute:zun\",
    \"binding:host_id\":\"$HOST\"}}")
  pid=$(echo "$port" | jget '["port"]["id"]')
  mac=$(echo "$port" | jget '["port"]["mac_address"]')
  ip4=$(echo "$port" | jget '["port"]["fixed_ips"][0]["ip_address"]')
  vt=$(echo "$port" | jget '["port"]["binding:vif_type"]')
  PORTS+=("$pid"); IPS+=("$ip4")
  [ "$vt" = bridge ] || { echo "port $pid: binding:vif_type $vt (want bridge; is an agent alive on host $HOST?)" >&2; exit 1; }
  ns=$NS_PREFIX$i; tap=tap${pid:0:11}; NSS+=("$ns")
  ip netns add "$ns"
  ip link add "$tap" type veth peer name "$NS_PREFIX$i"
  ip link set "$NS_PREFIX$i" netns "$ns"
  ip -n "$ns" link set "$NS_PREFIX$i" name eth0
  ip -n "$ns" link set eth0 address "$mac" mtu 1500
  ip -n "$ns" addr add "$ip4/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" route add default via 10.77.0.1 dev eth0
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge forward_delay 0 stp_state 0
    ip link set "$BR" up
  fi
  ip link set "$tap" mtu 1500 master "$BR" up
  echo "capsule $i: port $pid mac $mac ip $ip4, $tap in $BR, netns $ns"
done

st=""
for _ in $(seq 240); do
  st=$(api "$URL/v2.0/ports?network_id=$NET&fields=status" |
       $PY -c 'import json,sys; print(" ".join(sorted(p["status"] for p in json.load(sys.stdin)["ports"])))')
  [ "$st" = "ACTIVE ACTIVE" ] && break
  sleep 0.25
done
echo "ports: $st after $(since "$t0")s"
[ "$st" = "ACTIVE ACTIVE" ] || exit 1
for p in "${PORTS[@]}"; do
  h=$(api "$URL/v2.0/ports/$p" | jget '["port"]["binding:host_id"]')
  [ "$h" = "$HOST" ] || { echo "port $p: binding:host_id $h (want $HOST)" >&2; exit 1; }
done
echo "binding:host_id of both ports: $HOST"

ip netns exec "${NSS[1]}" $PY -c "
import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('${IPS[1]}', 7777)); s.listen(1); s.settimeout(15)
c, a = s.accept(); c.sendall(('hello ' + a[0]).encode()); c.close()" &
srv=$!
got=""
for _ in $(seq 20); do
  got=$(ip netns exec "${NSS[0]}" $PY -c "
import socket; s=socket.create_connection(('${IPS[1]}', 7777), timeout=5); print(s.recv(100).decode())" 2>/dev/null) && break
  sleep 0.25
done
wait "$srv" || true
echo "tcp ${NSS[0]} -> ${NSS[1]}: $got"
[ "$got" = "hello ${IPS[0]}" ] || exit 1
echo SMOKE-OK
