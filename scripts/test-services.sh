#!/bin/bash
# test-services.sh -- start/stop the servers the integration tests share:
# a private RabbitMQ and a private PostgreSQL (test-speed durability), on
# their own ports and directories, started in parallel.
#
#   test-services.sh start DIR   -> writes DIR/services.env (sourceable)
#   test-services.sh stop DIR    -> stops both and removes their state
#
# Ports: ZUN_TEST_RMQ_PORT (default 5692; AMQPS on ZUN_TEST_RMQ_TLS_PORT,
# default that port + 1000),
# ZUN_TEST_PG_PORT (default 5443). Both servers also speak TLS with a private
# CA (DIR/tls, scripts/make-certs.sh): RabbitMQ on an AMQPS listener that
# requires a client certificate, PostgreSQL for the role zun_tls, which may
# only log in over TLS with a client certificate.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACTION="${1:?usage: test-services.sh start|stop DIR}"
DIR="${2:?usage: test-services.sh start|stop DIR}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
RMQ_PORT="${ZUN_TEST_RMQ_PORT:-5692}"
PG_PORT="${ZUN_TEST_PG_PORT:-5443}"
RMQ_BASE="/tmp/zun-test-rmq-$RMQ_PORT"
PG_BASE="/tmp/zun-test-pg-$PG_PORT"

RMQ_TLS_PORT="${ZUN_TEST_RMQ_TLS_PORT:-$((RMQ_PORT + 1000))}"

case "$ACTION" in
start)
  "$HERE/make-certs.sh" "$DIR/tls" zun_tls
  export RMQ_TLS_DIR="$DIR/tls" RMQ_TLS_PORT PG_TLS_DIR="$DIR/tls" PG_TLS_ROLE=zun_tls
  "$HERE/start-rabbitmq.sh" "$RMQ_BASE" "$RMQ_PORT" > "$DIR/rmq.url" 2> "$DIR/rmq.log" &
  rmq_pid=$!
  "$HERE/start-postgres.sh" "$PG_BASE" "$PG_PORT" > "$DIR/pg.url" 2> "$DIR/pg.log" &
  pg_pid=$!
  rc=0
  wait "$rmq_pid" || { echo "test-services: RabbitMQ failed:" >&2; tail -20 "$DIR/rmq.log" >&2; rc=1; }
  wait "$pg_pid" || { echo "test-services: PostgreSQL failed:" >&2; tail -20 "$DIR/pg.log" >&2; rc=1; }
  [ "$rc" = 0 ] || exit 1
  amqp="$(cat "$DIR/rmq.url")"
  cat > "$DIR/services.env" <<ENV
ZUN_TEST_AMQP_URL=${amqp/amqp:/rabbit:}
ZUN_TEST_RMQ_BASE=$RMQ_BASE
ZUN_TEST_RMQ_PORT=$RMQ_PORT
ZUN_TEST_RMQ_TLS_PORT=$RMQ_TLS_PORT
ZUN_TEST_TLS_DIR=$DIR/tls
ZUN_TEST_PG_URL=$(cat "$DIR/pg.url")
ZUN_TEST_PG_BASE=$PG_BASE
ZUN_TEST_PG_PORT=$PG_PORT
ZUN_TEST_PG_SOCKET=$PG_BASE/sock
ZUN_TEST_SCRIPTS=$HERE
ENV
  echo "test-services: up ($DIR/services.env)" >&2
  ;;
stop)
  "$HERE/stop-rabbitmq.sh" "$RMQ_BASE" --purge 2>> "$DIR/stop.log" || true
  "$HERE/stop-postgres.sh" "$PG_BASE" --purge 2>> "$DIR/stop.log" || true
  rm -rf "$DIR/services.env" "$DIR/tls"
  echo "test-services: stopped" >&2
  ;;
*) echo "usage: test-services.sh start|stop DIR" >&2; exit 2 ;;
esac
