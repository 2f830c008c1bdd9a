#!/bin/bash
# registry.sh - local plain-HTTP OCI registry (Debian package docker-registry, distribution 2.8) on loopback.
#   registry.sh start [ADDR]   start on ADDR (default $REGISTRY_ADDR or 127.0.0.1:5000), push the locally
#                              built images as ADDR/busybox:pulled (and :pulled-too) and ADDR/pause:3.6
#   registry.sh stop           stop it (by recorded PID)
# The distro service is NOT used (policy-rc.d / no systemd); we run our own instance with a private
# config + storage under $ZUN_CRI_DIR/registry.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${ZUN_CRI_DIR:-/tmp/zun-containerd}"
export ZUN_CRI_DIR="$WORK"
R="$WORK/registry"
PIDF="$R/registry.pid"
ACTION="${1:-start}"
ADDR="${2:-${REGISTRY_ADDR:-127.0.0.1:5000}}"
log() { echo "[registry] $*" >&2; }
alive() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && \
          tr '\0' ' ' < "/proc/$(cat "$PIDF")/cmdline" 2>/dev/null | grep -qF "serve $R/config.yml"; }

case "$ACTION" in
stop)
  if alive; then
    pid="$(cat "$PIDF")"; log "stopping registry pid $pid"; kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$PIDF"; exit 0 ;;
start) ;;
*) echo "usage: $0 start [ADDR] | stop" >&2; exit 2 ;;
esac

if ! command -v docker-registry >/dev/null; then
  log "installing Debian package docker-registry (its own service is not started: no systemd / policy-rc.d)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 docker-registry >&2
fi
command -v skopeo >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 skopeo >&2

mkdir -p "$R/data"
cat > "$R/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: zun-registry
storage:
  filesystem:
    rootdirectory: $R/data
  delete:
    enabled: true
http:
  addr: $ADDR
EOF

if alive; then
  log "already running (pid $(cat "$PIDF"))"
else
  if (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}") 2>/dev/null; then
    log "ERROR: $ADDR already in use by someone else"; exit 1
  fi
  setsid docker-registry serve "$R/config.yml" >>"$R/registry.log" 2>&1 </dev/null &
  echo $! > "$PIDF"
fi
for _ in $(seq 1 50); do
  curl -fsS "http://$ADDR/v2/" >/dev/null 2>&1 && break
  python3 -c "import urllib.request,sys; urllib.request.urlopen('http://$ADDR/v2/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
alive || { log "registry died:"; tail -5 "$R/registry.log" >&2; exit 1; }

IMG="$WORK/images"
[ -f "$IMG/oci/index.json" ] && grep -q busybox-pull "$IMG/oci/index.json" || "$HERE/make-images.sh" "$IMG" >/dev/null
skopeo copy --quiet --dest-tls-verify=false oci:"$IMG/oci:busybox-pull" "docker://$ADDR/busybox:pulled"
# A second tag of the same image (one image, two tags, in the CRI suite).
skopeo copy --quiet --dest-tls-verify=false oci:"$IMG/oci:busybox-pull" "docker://$ADDR/busybox:pulled-too"
skopeo copy --quiet --dest-tls-verify=false oci:"$IMG/oci:pause" "docker://$ADDR/pause:3.6"
log "registry on http://$ADDR has: $(skopeo list-tags --tls-verify=false docker://$ADDR/busybox | tr -d ' \n')"
echo "$ADDR"
