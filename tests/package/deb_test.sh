#!/bin/bash
# deb_test.sh -- the Debian package, the way an operator meets it:
#   deb_test.sh BUILD_DIR
# builds zun-agent_<version>_<arch>.deb from BUILD_DIR's binaries
# (scripts/build-deb.sh --prebuilt: dpkg-buildpackage, lintian without
# errors or warnings), checks what it holds, installs it on this machine (root), runs
# the installed zun-agent (--version; --check-config as the package's user
# zun, reading the root:zun 0640 conffile), checks the units and the
# logrotate file, then purges it and checks that nothing of it is left.
# Refuses to run where zun-agent is already installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)"
OUT="$BUILD/deb-test"

fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
if dpkg-query -W -f='${Status}' zun-agent 2>/dev/null | grep -q "ok installed"; then
  fail "zun-agent is installed on this machine already; not touching it"
fi

deb="$("$ROOT/scripts/build-deb.sh" --prebuilt "$BUILD" "$OUT" | tail -1)"
[ -f "$deb" ] || fail "no package built"
version="$(dpkg-deb -f "$deb" Version)"
echo "deb_test: $deb ($version)"

# What the package holds.
contents="$(dpkg-deb -c "$deb" | awk '{print $6}')"
for f in ./usr/bin/zun-agent ./usr/bin/zun-cni-daemon ./usr/bin/zun-capsule \
         ./usr/bin/zun-cri ./usr/lib/cni/zun-cni ./etc/zun/zun-agent.conf \
         ./lib/systemd/system/zun-agent.service \
         ./lib/systemd/system/zun-cni-daemon.service \
         ./etc/logrotate.d/zun-agent \
         ./usr/share/doc/zun-agent/copyright \
         ./usr/share/man/man8/zun-agent.8.gz; do
  grep -qx -- "$f" <<<"$contents" || fail "$f is not in the package"
done
if grep -q "fake-cri\|_tests$\|zun-bench" <<<"$contents"; then
  fail "test binaries in the package"
fi
conffiles="$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)"
grep -qx /etc/zun/zun-agent.conf <<<"$conffiles" ||
  fail "/etc/zun/zun-agent.conf is not a conffile"

# Directories the purge must remove unless they were here before.
preexisting=()
for d in /etc/zun /var/lib/zun /var/log/zun; do [ -e "$d" ] && preexisting+=("$d"); done

cleanup() { dpkg --purge zun-agent >/dev/null 2>&1 || true; }
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$OUT/install.log" 2>&1 ||
  { cat "$OUT/install.log" >&2; fail "dpkg -i"; }

# The user and the ownership of what it uses.
id zun >/dev/null 2>&1 || fail "no system user zun"
[ "$(id -u zun)" -lt 1000 ] || fail "zun is not a system user"
[ "$(stat -c '%U:%G %a' /etc/zun/zun-agent.conf)" = "root:zun 640" ] ||
  fail "/etc/zun/zun-agent.conf is $(stat -c '%U:%G %a' /etc/zun/zun-agent.conf)"
for d in /var/lib/zun /var/log/zun; do
  [ "$(stat -c %U "$d")" = zun ] || fail "$d is not owned by zun"
done

# The installed binaries, as the service runs them.
got="$(/usr/bin/zun-agent --version)"
[ "$got" = "zun-agent $version" ] || fail "--version says '$got', package $version"
setpriv --reuid zun --regid zun --init-groups \
  /usr/bin/zun-agent --config-file /etc/zun/zun-agent.conf --check-config \
  >"$OUT/check-config.txt" 2>&1 ||
  { cat "$OUT/check-config.txt" >&2; fail "--check-config as zun"; }
for b in zun-agent zun-cni-daemon zun-capsule zun-cri; do
  ldd "/usr/bin/$b" | grep -q "not found" && fail "$b: missing libraries"
done

# The units and the logrotate file.
if command -v systemd-analyze >/dev/null; then
  for u in zun-agent zun-cni-daemon; do
    systemd-analyze verify "/lib/systemd/system/$u.service" \
      >"$OUT/verify-$u.txt" 2>&1 ||
      { cat "$OUT/verify-$u.txt" >&2; fail "systemd-analyze verify $u"; }
  done
fi
grep -qx "User=zun" /lib/systemd/system/zun-agent.service || fail "unit runs as root"
grep -qx "ExecStart=/usr/bin/zun-agent --config-file /etc/zun/zun-agent.conf" \
  /lib/systemd/system/zun-agent.service || fail "unit ExecStart"
logrotate -d /etc/logrotate.d/zun-agent >"$OUT/logrotate.txt" 2>&1 ||
  { cat "$OUT/logrotate.txt" >&2; fail "logrotate -d"; }
grep -qi "error" "$OUT/logrotate.txt" && { cat "$OUT/logrotate.txt" >&2; fail "logrotate errors"; }

# A purge removes even an edited conffile and the logs.
echo "# edited by the operator" >> /etc/zun/zun-agent.conf
echo "log" > /var/log/zun/zun-agent.log
dpkg --purge zun-agent >"$OUT/purge.log" 2>&1 || { cat "$OUT/purge.log" >&2; fail "dpkg --purge"; }
trap - EXIT
if dpkg-query -W zun-agent >/dev/null 2>&1; then
  fail "dpkg still knows zun-agent after the purge"
fi
for f in /usr/bin/zun-agent /usr/bin/zun-cni-daemon /usr/lib/cni/zun-cni \
         /etc/zun/zun-agent.conf /etc/zun /var/log/zun /var/lib/zun \
         /lib/systemd/system/zun-agent.service /etc/logrotate.d/zun-agent \
         /usr/share/doc/zun-agent; do
  [[ " ${preexisting[*]} " == *" $f "* ]] && continue
  [ ! -e "$f" ] || fail "$f is left after the purge"
done
echo "deb_test: ok"
