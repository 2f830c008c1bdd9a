#!/bin/bash
# install-deps.sh -- install every Debian 12 package zun-agent needs to build,
# test and run. Idempotent: when everything is present it only checks (a
# fraction of a second) and prints nothing.
#
# Usage: install-deps.sh [--quiet]
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ make pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libpqxx-dev libpq-dev librabbitmq-dev libspdlog-dev libfmt-dev
  catch2 nlohmann-json3-dev prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libssl-dev
  libcurl4-openssl-dev libnl-3-dev libnl-route-3-dev
  clang clang-format libfuzzer-14-dev libclang-rt-14-dev
  # the Debian package (make deb) and its test
  debhelper dpkg-dev fakeroot lintian adduser logrotate
  # services for tests and `make run`
  postgresql pgbouncer rabbitmq-server amqp-tools openssl
  containerd runc containernetworking-plugins iproute2
  busybox-static skopeo umoci docker-registry file curl
  # OpenStack services for tests and `make run` (library packages, run
  # under uwsgi by our scripts: the service packages want an init system)
  python3-keystone python3-placement uwsgi-core uwsgi-plugin-python3
  # Neutron for the networking tests and `make run` (start-neutron.sh runs neutron-server
  # and the linuxbridge agent itself; policy-rc.d below keeps the packages'
  # init scripts from starting them)
  neutron-server neutron-linuxbridge-agent
  # real oslo.messaging / CRI / PostgreSQL clients for interop tests
  python3 python3-oslo.messaging python3-psycopg2 python3-grpcio
  python3-protobuf python3-yaml python3-cryptography
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Services must not be started by package scripts (no systemd here anyway).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt_install() {
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >&2
}
if ! apt_install "${missing[@]}"; then
  apt-get update -q -o DPkg::Lock::Timeout=600 >&2
  apt_install "${missing[@]}"
fi
