#!/bin/bash
# start-rabbitmq-cluster.sh -- start a private N-node RabbitMQ cluster on this
# machine (no systemd), for zun-agent's tests (quorum queues, failover).
# Each node is a start-rabbitmq.sh node; this script only adds the shared
# Erlang cookie, the joins and the checks.
#
# Usage: start-rabbitmq-cluster.sh BASE FIRST_PORT [N]            whole cluster
#        start-rabbitmq-cluster.sh BASE FIRST_PORT N --node I     node I only
#   BASE        private state dir; node i lives in BASE/node<i>
#   FIRST_PORT  node i listens for AMQP on 127.0.0.1:FIRST_PORT+i and is named
#               rmqc<FIRST_PORT+i>@localhost (Erlang dist port = AMQP + 20000)
#   N           number of nodes (default 3; quorum queues want >= 3)
#   --node I    (re)start only node I, e.g. after `kill -9 $(cat BASE/node<I>/rabbit.pid)`,
#               and wait until it is a running cluster member again. Prints
#               nothing on stdout. Equivalent by hand (it keeps its mnesia dir,
#               so it rejoins on its own):
#                 RMQ_NODENAME=rmqc<P>@localhost RMQ_EPMD_PORT=<same> start-rabbitmq.sh BASE/node<I> <P>
#               (without RMQ_NODENAME, start-rabbitmq.sh would boot another,
#               empty node rmqtest<P> there and rewrite its env.sh/rabbitmqctl)
# Optional env:
#   RMQ_EPMD_PORT   private epmd port shared by all nodes (default: 4371)
#   RMQ_USER/RMQ_PASS  default user (default guest/guest)
#   RMQ_TIMEOUT     seconds to wait for each boot (default 120)
#   RMQC_TIMEOUT    seconds to wait for the cluster to form (default 60)
#   RMQ_MGMT_PORT, RMQ_TLS_DIR, RMQ_TLS_PORT: as for start-rabbitmq.sh; the
#                   management and explicit TLS ports are offset by i per node
#
# On success prints exactly one line on stdout, oslo.messaging's multi-host
# transport URL:
#   rabbit://USER:PASS@127.0.0.1:P0,USER:PASS@127.0.0.1:P1,USER:PASS@127.0.0.1:P2/
# and writes BASE/cluster.env (shell-sourceable):
#   RMQC_URL, RMQC_N, RMQC_NODE<i>_DIR, RMQC_NODE<i>_PORT, RMQC_NODE<i>_NAME
# BASE/node<i>/rabbitmqctl talks to node i. Everything else goes to stderr.
# Exit status != 0 on failure (with the tail of the failing node's log).
# Idempotent: if all nodes are up and clustered, it just prints the URL again;
# nodes that are down are started (all in parallel) and fresh nodes are joined
# (a node that is already a member is never joined again: a join resets it).
# After a full stop, restart the whole cluster (not one --node): a node that
# was not the last one down waits for its peers while booting.
# On failure, nodes that did start are left running: stop-rabbitmq-cluster.sh.
# Stop with stop-rabbitmq-cluster.sh BASE [--purge].
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
die() { echo "start-rabbitmq-cluster: ERROR: $*" >&2; exit 1; }
log() { echo "start-rabbitmq-cluster: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

ONLY=""; ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --node) [ $# -ge 2 ] || usage; ONLY="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ "${#ARGS[@]}" -ge 2 ] && [ "${#ARGS[@]}" -le 3 ] || usage
BASE="${ARGS[0]}"; FIRST_PORT="${ARGS[1]}"; N="${ARGS[2]:-3}"
[[ "$FIRST_PORT" =~ ^[0-9]+$ ]] || die "FIRST_PORT must be a number"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] || die "N must be a number >= 1"
[ -z "$ONLY" ] || { [[ "$ONLY" =~ ^[0-9]+$ ]] && [ "$ONLY" -lt "$N" ]; } || die "--node I needs 0 <= I < N"
[ $((FIRST_PORT + N - 1 + 20000)) -le 65535 ] || die "ports too high (dist port = AMQP port + 20000)"

export RMQ_EPMD_PORT="${RMQ_EPMD_PORT:-4371}"
RUSER="${RMQ_USER:-guest}"
RPASS="${RMQ_PASS:-guest}"
CTIMEOUT="${RMQC_TIMEOUT:-60}"
# cluster.env holds plain KEY=value lines (sourceable and easy to parse)
SAFE='^[A-Za-z0-9_./:@,%+=-]+$'
[[ "$BASE" =~ $SAFE ]] || die "BASE must not contain spaces or shell metacharacters: $BASE"
BASE="$(mkdir -p "$BASE" && cd "$BASE" && pwd)"
[[ "$BASE" =~ $SAFE ]] || die "BASE must not contain spaces or shell metacharacters: $BASE"

DIR=(); PORT=(); NAME=(); URL=""
for ((i = 0; i < N; i++)); do
  PORT[i]=$((FIRST_PORT + i))
  DIR[i]="$BASE/node$i"
  NAME[i]="rmqc${PORT[i]}@localhost"
  URL+="${URL:+,}$RUSER:$RPASS@127.0.0.1:${PORT[i]}"
done
URL="rabbit://$URL/"
[[ "$URL" =~ $SAFE ]] || die "RMQ_USER/RMQ_PASS must be URL-safe (no spaces, quotes, '/', ...)"

# One Erlang cookie for the whole cluster: BASE/.erlang.cookie, copied into each
# node's HOME (BASE/node<i>, see start-rabbitmq.sh) before the node starts.
if [ ! -s "$BASE/.erlang.cookie" ]; then
  (umask 077; head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 40 > "$BASE/.erlang.cookie")
  chmod 400 "$BASE/.erlang.cookie"
fi
for ((i = 0; i < N; i++)); do
  mkdir -p "${DIR[i]}"
  if ! cmp -s "$BASE/.erlang.cookie" "${DIR[i]}/.erlang.cookie"; then
    [ -e "${DIR[i]}/.erlang.cookie" ] && log "node$i: replacing its Erlang cookie with the cluster's"
    rm -f "${DIR[i]}/.erlang.cookie"
    (umask 077; cp "$BASE/.erlang.cookie" "${DIR[i]}/.erlang.cookie")
    chmod 400 "${DIR[i]}/.erlang.cookie"
  fi
done

# The private epmd, started once here (not N times concurrently by the nodes).
epmd -daemon -port "$RMQ_EPMD_PORT" -address 127.0.0.1 </dev/null >/dev/null 2>&1 || true

node_log_tail() {  # $1 = node index
  local f
  for f in "${DIR[$1]}/log/${NAME[$1]}.log" "${DIR[$1]}/log/startup_stdout.log" "${DIR[$1]}/log/startup_stderr.log"; do
    [ -s "$f" ] && { echo "---- tail of $f" >&2; tail -n 25 "$f" >&2; }
  done
  return 0
}

# start_node I: start-rabbitmq.sh for node I (a no-op if it is already up);
# its stderr is prefixed with [nodeI].
start_node() {
  local i=$1 rc=0
  (
    export RMQ_NODENAME="${NAME[i]}"
    [ -z "${RMQ_MGMT_PORT:-}" ] || export RMQ_MGMT_PORT=$((RMQ_MGMT_PORT + i))
    [ -z "${RMQ_TLS_PORT:-}" ] || export RMQ_TLS_PORT=$((RMQ_TLS_PORT + i))
    "$HERE/start-rabbitmq.sh" "${DIR[i]}" "${PORT[i]}" 2>&1 >/dev/null | sed -u "s/^/[node$i] /" >&2
  ) || rc=$?
  if [ "$rc" != 0 ]; then node_log_tail "$i"; echo "start-rabbitmq-cluster: ERROR: node$i (${NAME[i]}) failed to start" >&2; fi
  return "$rc"
}

# start_nodes I...: start them in parallel. Faster, and needed when restarting
# a stopped cluster: a member that was not the last one down waits for its
# peers while booting (so it cannot be started alone first).
start_nodes() {
  local pids=() i k failed=0
  for i in "$@"; do start_node "$i" & pids+=($!); done
  for k in "${!pids[@]}"; do wait "${pids[k]}" || failed=1; done
  [ "$failed" = 0 ] || die "could not start all nodes (logs: $BASE/node*/log)"
}

ctl() { local i=$1; shift; "${DIR[i]}/rabbitmqctl" "$@"; }

# cluster_nodes I running|disk: cluster members as node I sees them, one a
# line: "running" = up now, "disk" = all members (a node alone lists itself)
cluster_nodes() {
  local out
  out="$(ctl "$1" -q cluster_status --formatter json 2>/dev/null)" || return 1
  { grep -o "\"$2_nodes\":\[[^]]*\]" <<<"$out" | grep -o '"[^"]*@[^"]*"' | tr -d '"'; } || true
}
# sees_all I J...: node I sees every node J as a running member
sees_all() {
  local i=$1 running j; shift
  running="$(cluster_nodes "$i" running)" || return 1
  for j in "$@"; do grep -qxF "${NAME[j]}" <<<"$running" || return 1; done
}
# standalone I: node I is in no cluster (fresh), so it may be joined (a join
# resets the node; a member must never be joined again)
standalone() { [ "$(cluster_nodes "$1" disk)" = "${NAME[$1]}" ]; }

# quiet CTL...: run a CLI command, show its output only if it fails (a join
# prints harmless "[error] Failed to create a tracked connection table" lines)
quiet() { local out; out="$("$@" 2>&1)" || { echo "$out" >&2; return 1; }; }

# join_nodes I...: join nodes I (not 0) into node0's cluster: stop_app in
# parallel, join_cluster one at a time (concurrent joins into one node race),
# start_app in parallel.
join_nodes() {
  local i pids=() failed=""
  log "joining ${*/#/node} into ${NAME[0]}"
  for i in "$@"; do quiet ctl "$i" -q stop_app & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || failed="stop_app"; done
  if [ -z "$failed" ]; then
    for i in "$@"; do
      quiet ctl "$i" -q join_cluster "${NAME[0]}" || { failed="node$i: join_cluster ${NAME[0]}"; break; }
    done
  fi
  pids=()   # start_app even after a failure, so no node is left half-stopped
  for i in "$@"; do quiet ctl "$i" -q start_app & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || failed="${failed:-start_app}"; done
  if [ -n "$failed" ]; then
    for i in "$@"; do node_log_tail "$i"; done
    die "joining ${*/#/node} failed ($failed)"
  fi
}

# wait_member I J...: wait until node I sees all nodes J as running members
wait_member() {
  local i=$1 deadline=$(( $(date +%s) + CTIMEOUT )); shift
  until sees_all "$i" "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      ctl "$i" cluster_status >&2 || true
      for j in "$@"; do sees_all "$i" "$j" || node_log_tail "$j"; done
      die "timeout: ${NAME[i]} does not see nodes $* as running cluster members"
    fi
    sleep 0.5
  done
}

T0=$(date +%s.%N)
if [ -n "$ONLY" ]; then
  # Restart one node; it keeps its mnesia dir and so rejoins on its own.
  start_nodes "$ONLY"
  [ "$ONLY" = 0 ] || ! standalone "$ONLY" || join_nodes "$ONLY"   # a fresh (or wiped) node dir
  REF=""   # ask another node that is up whether ONLY is a running member again
  for ((i = 0; i < N; i++)); do
    [ "$i" != "$ONLY" ] && sees_all "$i" "$i" && { REF=$i; break; }
  done
  [ -n "$REF" ] || { log "no other node is up; checking node$ONLY on its own"; REF=$ONLY; }
  wait_member "$REF" "$ONLY"
  log "node$ONLY (${NAME[ONLY]}) is a running cluster member again ($(awk "BEGIN{printf \"%.1f\", $(date +%s.%N)-$T0}")s)"
  exit 0
fi

ALL=(); for ((i = 0; i < N; i++)); do ALL+=("$i"); done
log "starting $N nodes in $BASE (ports ${PORT[0]}..${PORT[N-1]}, epmd port $RMQ_EPMD_PORT)"
start_nodes "${ALL[@]}"
MEMBERS="$(cluster_nodes 0 disk)" || die "cluster_status on node0 failed"
JOIN=()
for ((i = 1; i < N; i++)); do
  grep -qxF "${NAME[i]}" <<<"$MEMBERS" && continue
  standalone "$i" || die "node$i is in another cluster ($(cluster_nodes "$i" disk | xargs)); start afresh: stop-rabbitmq-cluster.sh $BASE --purge"
  JOIN+=("$i")
done
[ "${#JOIN[@]}" = 0 ] || join_nodes "${JOIN[@]}"
wait_member 0 "${ALL[@]}"
log "cluster of $N running: ${NAME[*]} ($(awk "BEGIN{printf \"%.1f\", $(date +%s.%N)-$T0}")s)"

{
  echo "RMQC_URL=$URL"
  echo "RMQC_N=$N"
  for ((i = 0; i < N; i++)); do
    printf 'RMQC_NODE%d_DIR=%s\nRMQC_NODE%d_PORT=%s\nRMQC_NODE%d_NAME=%s\n' \
      "$i" "${DIR[i]}" "$i" "${PORT[i]}" "$i" "${NAME[i]}"
  done
} > "$BASE/cluster.env"
echo "$URL"
