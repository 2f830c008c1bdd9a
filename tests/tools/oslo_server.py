#!/usr/bin/python3
"""A real oslo.messaging RPC server (as Zun's zun-compute builds it) for
interop tests: declares exactly what oslo declares for Target(topic, server)
on the given broker, serves for --seconds, then stops. Exits 0 if the
declares were accepted, 1 otherwise (e.g. 406 PRECONDITION_FAILED because
someone declared the same queue with other arguments).

  oslo_server.py --url rabbit://... --server HOST [--topic T] [--seconds S]
"""
import argparse
import os
import sys
import time

import oslo_messaging as messaging
from oslo_config import cfg


class Endpoint(object):
    def ping(self, ctxt, **kwargs):
        return "pong-from-python"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--topic", default="zun-compute")
    p.add_argument("--exchange", default="zun")
    p.add_argument("--server", required=True)
    p.add_argument("--seconds", type=float, default=2)
    a = p.parse_args()
    conf = cfg.CONF
    conf([], project="zun-agent-tests")
    transport = messaging.get_rpc_transport(conf, url=a.url)
    target = messaging.Target(topic=a.topic, server=a.server, exchange=a.exchange)
    server = messaging.get_rpc_server(transport, target, [Endpoint()],
                                      executor="threading")
    try:
        server.start()
        time.sleep(a.seconds)
        server.stop()
        server.wait()
        print("ok")
        return 0
    except Exception as e:  # noqa
        print("error: %s: %s" % (type(e).__name__, e))
        return 1
    finally:
        transport.cleanup()


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)
