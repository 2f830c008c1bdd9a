#!/bin/bash
# start-containerd.sh - start a PRIVATE containerd (CRI plugin enabled) for zun-agent's e2e
# tests, benchmarks and `make run`.
#
# Usage:  start-containerd.sh [SOCKET_PATH]
#   SOCKET_PATH  default: $CRI_SOCKET or $ZUN_CRI_DIR/containerd.sock
# Environment knobs (all optional):
#   ZUN_CRI_DIR=/tmp/zun-containerd   all state lives here (root/, state/, etc/, log/, images/, cni/, registry/)
#   SNAPSHOTTER=auto|overlayfs|native   (auto: overlayfs if a test overlay mount works, else native)
#   CNI=1                          1: bridge CNI network "zuncri" (bridge zuncri0, 10.233.77.0/24); 0: no conf;
#                                  zun: network "zun" of Zun's CNI plugin (cni/net.d/10-zun-cni.conflist,
#                                  {"type": "zun-cni", "zun_conf": ZUN_CNI_CONF}), which asks the
#                                  zun-cni daemon (the agent) to plumb the pod; bin_dir is $ZUN_CRI_DIR/cni/bin
#                                  with links to /usr/lib/cni/loopback and ZUN_CNI_BIN
#   CNI_BRIDGE=zuncri0  CNI_SUBNET=10.233.77.0/24
#   ZUN_CNI_CONF                   (CNI=zun, required) zun.conf-style INI with [cni_daemon] cni_daemon_host/port
#   ZUN_CNI_BIN=<repo>/build/bin/zun-cni  (CNI=zun) the plugin; it need not exist yet: containerd
#                                  only runs it at RunPodSandbox/StopPodSandbox (NetworkReady only
#                                  needs the config file)
#   REGISTRY=1                     1: run Debian's docker-registry on $REGISTRY_ADDR and push busybox there
#   REGISTRY_ADDR=127.0.0.1:5000
#   LOG_LEVEL=info
#   RESTRICT_OOM=true|false        default: true when CAP_SYS_RESOURCE is not in our effective caps
#   RUNC_BINARY=/path/to/runc      default: runc from PATH
# Prints the socket path on stdout when containerd + CRI are ready. Idempotent: if our containerd is
# already running it only (re)imports images and prints the socket path.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

WORK="${ZUN_CRI_DIR:-/tmp/zun-containerd}"
SOCK="${1:-${CRI_SOCKET:-$WORK/containerd.sock}}"
case "$SOCK" in /*) ;; *) SOCK="$PWD/$SOCK" ;; esac
SNAPSHOTTER="${SNAPSHOTTER:-auto}"
CNI="${CNI:-1}"
CNI_BRIDGE="${CNI_BRIDGE:-zuncri0}"
CNI_SUBNET="${CNI_SUBNET:-10.233.77.0/24}"
CNI_NAME="${CNI_NAME:-zuncri}"
REGISTRY="${REGISTRY:-1}"
REGISTRY_ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
LOG_LEVEL="${LOG_LEVEL:-info}"
RUNC_BINARY="${RUNC_BINARY:-}"          # e.g. a debug wrapper around runc
# auto-detect: without CAP_SYS_RESOURCE negative oom_score_adj cannot be set
if [ -z "${RESTRICT_OOM:-}" ]; then
  if (( (0x$(awk '/^CapEff/{print $2}' /proc/self/status) >> 24) & 1 )); then RESTRICT_OOM=false; else RESTRICT_OOM=true; fi
fi
PAUSE_REF="${PAUSE_REF:-localhost/pause:3.6}"
export ZUN_CRI_DIR="$WORK"

log() { echo "[start-containerd] $*" >&2; }

if [ "$(id -u)" != 0 ]; then echo "must run as root" >&2; exit 1; fi
if [ ${#SOCK} -gt 100 ]; then echo "socket path too long for a unix socket: $SOCK" >&2; exit 1; fi

apt_install() {
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "$@" >&2
}
command -v containerd >/dev/null || apt_install containerd
command -v runc >/dev/null || apt_install runc
[ -x /usr/lib/cni/bridge ] || apt_install containernetworking-plugins

mkdir -p "$WORK"/{etc,root,state,log,opt,cni/net.d,cni/ipam,cni/bin,certs.d,pods}
CFG="$WORK/etc/config.toml"
PIDF="$WORK/containerd.pid"
LOGF="$WORK/log/containerd.log"
CTR=(ctr --address "$SOCK")

# alive AND really our containerd (guards against PID reuse)
running() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && \
            tr '\0' ' ' < "/proc/$(cat "$PIDF")/cmdline" 2>/dev/null | grep -qF -- "--config $CFG"; }

# ------------------------------------------------------------------ snapshotter
if [ "$SNAPSHOTTER" = auto ]; then
  T="$WORK/ovtest"; rm -rf "$T"; mkdir -p "$T"/{l,u,w,m}
  if mount -t overlay overlay -o "lowerdir=$T/l,upperdir=$T/u,workdir=$T/w" "$T/m" 2>/dev/null; then
    umount "$T/m"; SNAPSHOTTER=overlayfs
  else
    log "overlay test mount failed on $(stat -f -c %T "$WORK") -> native snapshotter"; SNAPSHOTTER=native
  fi
  rm -rf "$T"
fi

# ------------------------------------------------------------------ CNI
# install_conf FILE: move $WORK/cni/conflist.tmp to net.d/FILE (only if it changed) and remove any other
# config there (max_conf_num = 1: the lexically first file wins)
install_conf() {
  local f
  for f in "$WORK/cni/net.d/"*; do
    [ -e "$f" ] && [ "${f##*/}" != "$1" ] && rm -f "$f"
  done
  if cmp -s "$WORK/cni/conflist.tmp" "$WORK/cni/net.d/$1"; then
    rm -f "$WORK/cni/conflist.tmp"
  else
    mv "$WORK/cni/conflist.tmp" "$WORK/cni/net.d/$1"
  fi
}
CNI_BIN_DIR=/usr/lib/cni
if [ "$CNI" = zun ]; then
  ZUN_CNI_BIN="${ZUN_CNI_BIN:-$(dirname "$HERE")/build/bin/zun-cni}"
  case "$ZUN_CNI_BIN" in /*) ;; *) ZUN_CNI_BIN="$PWD/$ZUN_CNI_BIN" ;; esac
  [ -n "${ZUN_CNI_CONF:-}" ] || { log "CNI=zun needs ZUN_CNI_CONF (the zun.conf the plugin reads)"; exit 1; }
  case "$ZUN_CNI_CONF" in /*) ;; *) ZUN_CNI_CONF="$PWD/$ZUN_CNI_CONF" ;; esac
  [ -f "$ZUN_CNI_CONF" ] || log "WARNING: $ZUN_CNI_CONF does not exist (yet)"
  [ -e "$ZUN_CNI_BIN" ] || log "note: $ZUN_CNI_BIN does not exist yet (only needed at RunPodSandbox)"
  # containerd's CRI always adds its own loopback network, run from bin_dir
  CNI_BIN_DIR="$WORK/cni/bin"
  ln -sfn /usr/lib/cni/loopback "$CNI_BIN_DIR/loopback"
  ln -sfn "$ZUN_CNI_BIN" "$CNI_BIN_DIR/zun-cni"
  # temp file + rename: containerd watches conf_dir (see below)
  cat > "$WORK/cni/conflist.tmp" <<EOF
{
  "cniVersion": "0.3.1",
  "name": "zun",
  "plugins": [
    {
      "type": "zun-cni",
      "zun_conf": "$ZUN_CNI_CONF"
    }
  ]
}
EOF
  install_conf 10-zun-cni.conflist
elif [ "$CNI" = 1 ]; then
  # written to a temp file + atomic rename: containerd watches conf_dir (fsnotify) and would try to
  # parse a half-written file ("unexpected end of JSON input")
  cat > "$WORK/cni/conflist.tmp" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$WORK/cni/ipam",
        "ranges": [[{"subnet": "$CNI_SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  install_conf 10-zuncri.conflist
  # the bridge plugin (isGateway) sets net.ipv4.ip_forward=1; remember the original value once
  [ -f "$WORK/ip_forward.orig" ] || cat /proc/sys/net/ipv4/ip_forward > "$WORK/ip_forward.orig"
else
  rm -f "$WORK/cni/net.d/"*
fi

# ------------------------------------------------------------------ registry host config (hosts.toml)
mkdir -p "$WORK/certs.d/$REGISTRY_ADDR"
cat > "$WORK/certs.d/$REGISTRY_ADDR/hosts.toml" <<EOF
server = "http://$REGISTRY_ADDR"

[host."http://$REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF

# ------------------------------------------------------------------ containerd config (v2)
cat > "$CFG.new" <<EOF
version = 2
root = "$WORK/root"
state = "$WORK/state"
oom_score = 0
# snapshotters that cannot work here; avoids noisy load errors
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$SOCK"
  uid = 0
  gid = 0

[debug]
  level = "$LOG_LEVEL"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$WORK/opt"

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_REF"
    # REQUIRED on this VM: CAP_SYS_RESOURCE is missing from the bounding set, so runc cannot write
    # a negative oom_score_adj (CRI gives the sandbox -998) -> "can't get final child's PID from
    # pipe: EOF" (runc --debug: "failed to update /proc/self/oom_score_adj: Permission denied").
    # restrict_oom_score_adj clamps every requested value to >= containerd's own oom_score_adj.
    restrict_oom_score_adj = $RESTRICT_OOM
    netns_mounts_under_state_dir = true
    disable_apparmor = true
    enable_selinux = false
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    max_container_log_line_size = 16384
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "$SNAPSHOTTER"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$WORK/state/runc"
          BinaryName = "$RUNC_BINARY"

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$CNI_BIN_DIR"
      conf_dir = "$WORK/cni/net.d"
      max_conf_num = 1

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$WORK/certs.d"
EOF

# ------------------------------------------------------------------ start
if running; then
  log "containerd already running (pid $(cat "$PIDF"))"
  if ! cmp -s "$CFG" "$CFG.new"; then
    rm -f "$CFG.new"
    log "ERROR: requested config differs from the running one; run stop-containerd.sh first to apply it"
    exit 1
  fi
  rm -f "$CFG.new"
else
  mv "$CFG.new" "$CFG"
  # what stop-containerd.sh deletes: the bridge of the bridge plugin, none otherwise
  if [ "$CNI" = 1 ]; then echo "$CNI_BRIDGE"; else echo; fi > "$WORK/cni/bridge"
  echo "$SNAPSHOTTER" > "$WORK/snapshotter"
  rm -f "$SOCK" "$SOCK.ttrpc"
  log "starting containerd, log: $LOGF"
  # setsid: detached from the calling shell (own process group), survives it
  setsid containerd --config "$CFG" >>"$LOGF" 2>&1 < /dev/null &
  echo $! > "$PIDF"
fi
echo "$SOCK" > "$WORK/socket"

for i in $(seq 1 100); do
  if ! running; then log "containerd died; tail of log:"; tail -30 "$LOGF" >&2; exit 1; fi
  if [ -S "$SOCK" ] && "${CTR[@]}" plugins ls 2>/dev/null | grep -E '^io\.containerd\.grpc\.v1 +cri +.* ok' >/dev/null; then
    break
  fi
  sleep 0.2
done
if ! "${CTR[@]}" plugins ls 2>/dev/null | grep -E '^io\.containerd\.grpc\.v1 +cri +.* ok' >/dev/null; then
  log "CRI plugin not ready; plugins:"; "${CTR[@]}" plugins ls >&2 || true; tail -30 "$LOGF" >&2; exit 1
fi
"${CTR[@]}" plugins ls | grep -qE "io.containerd.snapshotter.v1 +$SNAPSHOTTER .*ok" 2>/dev/null || \
  "${CTR[@]}" plugins ls | grep -E "snapshotter.v1 +$SNAPSHOTTER " >&2

# ------------------------------------------------------------------ images
IMG="$WORK/images"
if [ ! -f "$IMG/pause.tar" ] || [ ! -f "$IMG/busybox.tar" ]; then
  "$HERE/make-images.sh" "$IMG" >/dev/null
fi
for t in pause busybox; do
  "${CTR[@]}" -n k8s.io images import --snapshotter "$SNAPSHOTTER" "$IMG/$t.tar" >&2
done
"${CTR[@]}" -n k8s.io images ls -q >&2

# ------------------------------------------------------------------ optional local registry
if [ "$REGISTRY" = 1 ]; then
  "$HERE/registry.sh" start "$REGISTRY_ADDR" >&2 || log "WARNING: local registry not available (PullImage test will be skipped)"
fi

echo "$SOCK"
