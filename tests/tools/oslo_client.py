#!/usr/bin/python3
"""A real oslo.messaging RPC client for zun-agent's interop tests.

Uses Debian's python3-oslo.messaging (run with /usr/bin/python3), so what
reaches the agent is exactly what Zun's control plane sends.

  oslo_client.py --url rabbit://... --server HOST cast METHOD --args JSON
  oslo_client.py --url rabbit://... --server HOST call METHOD --args JSON
                 [--timeout S] [--call-monitor-timeout S]
  oslo_client.py --url rabbit://... cast-paced --file FILE.jsonl [--interval S]
  oslo_client.py --url rabbit://... cast-many --file FILE.jsonl
                 (one {"server","method","args"} object per line, sent over
                 one connection; prints the number sent)

Options: --topic (zun-compute), --exchange (zun), --fanout, --version,
--namespace, --context JSON (the request context dict), --config-file
FILE (oslo.config file, e.g. [oslo_messaging_rabbit] amqp_durable_queues).
A call prints {"result": ...} or {"exception": "<class>", "module": ...,
"message": ...} on stdout; exit status 0 either way, 2 on usage errors.
"""
import argparse
import json
import os
import sys
import uuid

import oslo_messaging as messaging
from oslo_config import cfg


def default_context():
    return {
        "user": "test-user", "user_id": "test-user",
        "project": "test-project", "project_id": "test-project",
        "user_name": "tester", "project_name": "test",
        "is_admin": False, "read_only": False, "show_deleted": False,
        "auth_token": "not-a-real-token",
        "request_id": "req-" + str(uuid.uuid4()),
        "global_request_id": None, "roles": ["member", "reader"],
        "timestamp": "2026-01-02T03:04:05.678901",
    }


def make_client(a, transport):
    target = messaging.Target(topic=a.topic, server=a.server,
                              exchange=a.exchange, fanout=a.fanout,
                              version=a.version, namespace=a.namespace)
    kw = {}
    if a.timeout is not None:
        kw["timeout"] = a.timeout
    if a.call_monitor_timeout is not None:
        kw["call_monitor_timeout"] = a.call_monitor_timeout
    return messaging.get_rpc_client(transport, target, **kw)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--topic", default="zun-compute")
    p.add_argument("--exchange", default="zun")
    p.add_argument("--server")
    p.add_argument("--fanout", action="store_true")
    p.add_argument("--version")
    p.add_argument("--namespace")
    p.add_argument("--context")
    p.add_argument("--timeout", type=float)
    p.add_argument("--call-monitor-timeout", type=float)
    p.add_argument("action", choices=["cast", "call", "cast-many", "cast-paced"])
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("method", nargs="?")
    p.add_argument("--args", default="{}")
    p.add_argument("--file")
    p.add_argument("--config-file")
    a = p.parse_args()

    conf = cfg.CONF
    conf(["--config-file", a.config_file] if a.config_file else [],
         project="zun-agent-tests")
    transport = messaging.get_rpc_transport(
        conf, url=a.url, allowed_remote_exmods=["zun.common.exception"])
    ctx = json.loads(a.context) if a.context else default_context()
    try:
        if a.action == "cast-paced":
            # One cast per line of --file, --interval apart; after each cast
            # returns, prints "sent <index> <unix time>" (for tests that
            # disturb the broker meanwhile).
            import time
            with open(a.file) as f:
                lines = [json.loads(l) for l in f if l.strip()]
            client = None
            for i, m in enumerate(lines):
                if client is None:
                    a.server = m["server"]
                    client = make_client(a, transport)
                c = dict(ctx, request_id="req-" + str(uuid.uuid4()))
                client.cast(c, m["method"], **m["args"])
                print("sent %d %.6f" % (i, time.time()), flush=True)
                time.sleep(a.interval)
            return 0
        if a.action == "cast-many":
            sent = 0
            clients = {}
            with open(a.file) as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    m = json.loads(line)
                    key = m["server"]
                    if key not in clients:
                        a.server = key
                        clients[key] = make_client(a, transport)
                    c = dict(ctx, request_id="req-" + str(uuid.uuid4()))
                    clients[key].cast(c, m["method"], **m["args"])
                    sent += 1
            print(sent)
            return 0
        if not a.method:
            p.error("METHOD is required")
        client = make_client(a, transport)
        kwargs = json.loads(a.args)
        if a.action == "cast":
            client.cast(ctx, a.method, **kwargs)
            return 0
        try:
            result = client.call(ctx, a.method, **kwargs)
            print(json.dumps({"result": result}))
        except messaging.RemoteError as e:
            print(json.dumps({"exception": e.exc_type, "module": "remote",
                              "message": e.value, "remote": True}))
        except Exception as e:  # a re-raised allowed remote exception
            print(json.dumps({"exception": type(e).__name__.replace("_Remote", ""),
                              "module": type(e).__module__.replace("_Remote", ""),
                              "message": str(e), "remote": False}))
        return 0
    finally:
        transport.cleanup()


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # oslo.messaging's metrics client leaves a non-daemon thread that would
    # keep the interpreter alive for ~10 s after cleanup.
    os._exit(rc or 0)
