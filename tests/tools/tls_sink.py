#!/usr/bin/python3
"""A TLS server for zun-agent's TLS tests: accepts connections on
127.0.0.1:PORT with CERT/KEY, and for each one prints either
"handshake failed: <reason>" or "received <first bytes, repr>" (what the
client sent after a successful handshake), then closes it.

  tls_sink.py PORT CERT KEY
Prints "listening" once it accepts connections.
"""
import socket
import ssl
import sys


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(8)
        print("listening", flush=True)
        while True:
            conn, _ = s.accept()
            conn.settimeout(10)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    data = tls.recv(64)
                    print("received %r" % data, flush=True)
            except (ssl.SSLError, OSError) as e:
                print("handshake failed: %s" % e, flush=True)


if __name__ == "__main__":
    main()
