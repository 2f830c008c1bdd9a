#!/bin/bash
# start-rabbitmq.sh -- start a private RabbitMQ node without systemd, for
# zun-agent's tests, benchmarks and `make run`.
#
# Usage: start-rabbitmq.sh [BASE_DIR] [AMQP_PORT]
#   BASE_DIR   private state dir (default: $RMQ_BASE or /tmp/rmq-<port>)
#   AMQP_PORT  AMQP listener on 127.0.0.1 (default: $RMQ_PORT or 5682)
# Optional env:
#   RMQ_EPMD_PORT   private epmd port         (default: 4371; 4369 = system epmd)
#   RMQ_NODENAME    Erlang node name          (default: rmqtest<port>@localhost)
#   RMQ_USER/RMQ_PASS  default user created on first boot (default guest/guest)
#   RMQ_MGMT_PORT   if set, enable rabbitmq_management on 127.0.0.1:<port>
#   RMQ_TIMEOUT     seconds to wait for boot  (default 120)
#   RMQ_TLS_DIR     if set (ca.pem, server.pem, server.key: make-certs.sh),
#                   also an AMQPS listener on 127.0.0.1:RMQ_TLS_PORT
#                   (default AMQP_PORT+1000) that requires a client certificate
#                   signed by that CA
#
# On success prints exactly one line on stdout: the AMQP URL
#   amqp://USER:PASS@127.0.0.1:PORT/
# (oslo.messaging: transport_url = rabbit://USER:PASS@127.0.0.1:PORT/)
# Everything else goes to stderr. Exit status != 0 on failure.
# Writes BASE_DIR/env.sh (source it to use rabbitmqctl on this node) and
# BASE_DIR/rabbitmqctl (wrapper). Idempotent: if the node is already up,
# it just prints the URL again.
set -euo pipefail

PORT="${2:-${RMQ_PORT:-5682}}"
BASE="${1:-${RMQ_BASE:-/tmp/zun-rmq-$PORT}}"
EPMD_PORT="${RMQ_EPMD_PORT:-4371}"
NODENAME="${RMQ_NODENAME:-rmqtest$PORT@localhost}"
RUSER="${RMQ_USER:-guest}"
RPASS="${RMQ_PASS:-guest}"
TIMEOUT="${RMQ_TIMEOUT:-120}"
DIST_PORT=$((PORT + 20000))
RMQ_BIN=/usr/lib/rabbitmq/bin   # NOT /usr/sbin: those wrappers 'su rabbitmq' when run as root

die() { echo "start-rabbitmq: ERROR: $*" >&2; exit 1; }
log() { echo "start-rabbitmq: $*" >&2; }

[ -x "$RMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server not installed ($RMQ_BIN); apt-get install rabbitmq-server"
command -v epmd >/dev/null || die "epmd not found (erlang-base)"
[ "$DIST_PORT" -le 65535 ] || die "port too high: dist port $DIST_PORT"
BASE="$(mkdir -p "$BASE" && cd "$BASE" && pwd)"
URL="amqp://$RUSER:$RPASS@127.0.0.1:$PORT/"

mkdir -p "$BASE/mnesia" "$BASE/log"
# Erlang cookie: private HOME so server and CLI share it (must be mode 0400)
if [ ! -s "$BASE/.erlang.cookie" ]; then
  (umask 077; head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 40 > "$BASE/.erlang.cookie")
  chmod 400 "$BASE/.erlang.cookie"
fi

# The Erlang VM's schedulers busy-wait for work by default: on a shared
# two-core machine each idle node would take CPU from the agent, the tests
# and the benchmarks (+sbwt none: they sleep instead).
cat > "$BASE/env.sh" <<EOF
# source me to talk to this node with $RMQ_BIN/rabbitmqctl
export HOME='$BASE'
export ERL_EPMD_PORT='$EPMD_PORT'
export ERL_EPMD_ADDRESS='127.0.0.1'
export RABBITMQ_NODENAME='$NODENAME'
export RABBITMQ_NODE_IP_ADDRESS='127.0.0.1'
export RABBITMQ_NODE_PORT='$PORT'
export RABBITMQ_DIST_PORT='$DIST_PORT'
export RABBITMQ_MNESIA_BASE='$BASE/mnesia'
export RABBITMQ_LOG_BASE='$BASE/log'
export ERL_CRASH_DUMP='$BASE/log/erl_crash.dump'
export RABBITMQ_CONFIG_FILE='$BASE/rabbitmq.conf'
export RABBITMQ_ADVANCED_CONFIG_FILE='$BASE/advanced.config'
export RABBITMQ_CONF_ENV_FILE='$BASE/rabbitmq-env.conf'
export RABBITMQ_ENABLED_PLUGINS_FILE='$BASE/enabled_plugins'
export RABBITMQ_PID_FILE='$BASE/rabbit.pid'
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none'
export PATH='$RMQ_BIN':"\$PATH"
EOF
cat > "$BASE/rabbitmqctl" <<EOF
#!/bin/sh
. '$BASE/env.sh'
exec '$RMQ_BIN/rabbitmqctl' -n '$NODENAME' "\$@"
EOF
chmod +x "$BASE/rabbitmqctl"
# shellcheck disable=SC1091
. "$BASE/env.sh"

ctl() { "$RMQ_BIN/rabbitmqctl" -n "$NODENAME" "$@"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Idempotency: already running?
if [ -s "$BASE/rabbit.pid" ] && kill -0 "$(cat "$BASE/rabbit.pid")" 2>/dev/null; then
  if port_open "$PORT" && ctl -q await_startup >/dev/null 2>&1; then
    log "already running (pid $(cat "$BASE/rabbit.pid"))"
    echo "$URL"; exit 0
  fi
  die "pid $(cat "$BASE/rabbit.pid") alive but node not answering; run stop-rabbitmq.sh $BASE"
fi
rm -f "$BASE/rabbit.pid"
port_open "$PORT" && die "port $PORT already in use by something else"
if [ -n "${RMQ_TLS_DIR:-}" ] && port_open "${RMQ_TLS_PORT:-$((PORT + 1000))}"; then
  die "TLS port ${RMQ_TLS_PORT:-$((PORT + 1000))} already in use by something else"
fi

: > "$BASE/rabbitmq-env.conf"          # keep /etc/rabbitmq/rabbitmq-env.conf out
echo '[].' > "$BASE/advanced.config"
cat > "$BASE/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$PORT
default_user = $RUSER
default_pass = $RPASS
loopback_users = none
disk_free_limit.absolute = 10MB
vm_memory_high_watermark.relative = 0.8
log.file.level = info
log.console = false
EOF
if [ -n "${RMQ_TLS_DIR:-}" ]; then
  TLS_DIR="$(cd "$RMQ_TLS_DIR" && pwd)"
  cat >> "$BASE/rabbitmq.conf" <<EOF
listeners.ssl.default = 127.0.0.1:${RMQ_TLS_PORT:-$((PORT + 1000))}
ssl_options.cacertfile = $TLS_DIR/ca.pem
ssl_options.certfile = $TLS_DIR/server.pem
ssl_options.keyfile = $TLS_DIR/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
EOF
fi
if [ -n "${RMQ_MGMT_PORT:-}" ]; then
  echo '[rabbitmq_management].' > "$BASE/enabled_plugins"
  printf 'management.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\n' "$RMQ_MGMT_PORT" >> "$BASE/rabbitmq.conf"
else
  echo '[].' > "$BASE/enabled_plugins"
fi

# private epmd (harmless if one is already listening on that port)
epmd -daemon -port "$EPMD_PORT" -address 127.0.0.1 || true

T0=$(date +%s.%N)
# -detached is not used: we keep the wrapper as our child so the log captures
# early boot failures; setsid detaches it from this shell and its terminal.
# It runs in BASE, so that nothing the VM writes to its working directory
# (Erlang's default Mnesia directory, a crash dump) lands in the caller's.
(cd "$BASE" && exec setsid "$RMQ_BIN/rabbitmq-server" >"$BASE/log/startup_stdout.log" 2>"$BASE/log/startup_stderr.log" </dev/null) &
WRAPPER_PID=$!
echo "$WRAPPER_PID" > "$BASE/wrapper.pid"
log "launched wrapper pid $WRAPPER_PID, node $NODENAME, waiting up to ${TIMEOUT}s"

deadline=$(( $(date +%s) + TIMEOUT ))
until port_open "$PORT"; do
  if ! kill -0 "$WRAPPER_PID" 2>/dev/null; then
    tail -n 30 "$BASE/log/startup_stdout.log" "$BASE/log/startup_stderr.log" >&2 || true
    die "rabbitmq-server exited during boot (logs: $BASE/log)"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { tail -n 30 "$BASE/log/startup_stdout.log" >&2; die "timeout waiting for port $PORT"; }
  sleep 0.2
done
ctl -q await_startup --timeout "$TIMEOUT" >&2 || die "await_startup failed (logs: $BASE/log)"
if [ -n "${RMQ_TLS_DIR:-}" ]; then
  until port_open "${RMQ_TLS_PORT:-$((PORT + 1000))}"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timeout waiting for the TLS listener"
    sleep 0.2
  done
fi
T1=$(date +%s.%N)
log "up in $(awk "BEGIN{printf \"%.1f\", $T1-$T0}")s; beam pid $(cat "$BASE/rabbit.pid" 2>/dev/null || echo '?')"
echo "$URL"
