#!/bin/bash
# make-certs.sh -- a private PKI for the TLS tests (and for trying TLS with
# `make run`): a CA, a server certificate for localhost / 127.0.0.1, a client
# certificate, and a second, unrelated CA (for "wrong CA" cases).
#
# Usage: make-certs.sh DIR [CLIENT_CN]
#   DIR/ca.pem ca.key            the CA that signs everything below
#   DIR/server.pem server.key    CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   DIR/client.pem client.key    CN=CLIENT_CN (default zun_tls): the
#                                PostgreSQL role the cert authenticates
#   DIR/other-ca.pem             a CA that signed nothing here
#   DIR/wronghost.pem .key       signed by the CA, but for another host
#                                (CN and SAN DNS:other.example only)
# Keys are 0600. Idempotent: an existing DIR/ca.pem is kept.
set -euo pipefail
DIR="${1:?usage: make-certs.sh DIR [CLIENT_CN]}"
CN="${2:-zun_tls}"
mkdir -p "$DIR"
cd "$DIR"
[ -s ca.pem ] && [ -s client.pem ] && [ -s wronghost.pem ] && exit 0
umask 077
days=30
ossl() { openssl "$@" 2>/dev/null; }

ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days \
  -subj "/CN=zun-agent test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem \
  -days $days -subj "/CN=unrelated CA" -addext "basicConstraints=critical,CA:TRUE"

leaf() {  # name subject extensions
  ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf '%s\n' "$3" > "$1.ext"
  ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out "$1.pem" -days $days -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
leaf server "/CN=localhost" \
  "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client "/CN=$CN" "extendedKeyUsage=clientAuth"
leaf wronghost "/CN=other.example" \
  "subjectAltName=DNS:other.example
extendedKeyUsage=serverAuth"
chmod 0644 ca.pem other-ca.pem server.pem client.pem wronghost.pem
chmod 0600 ./*.key
openssl verify -CAfile ca.pem server.pem client.pem wronghost.pem >/dev/null
