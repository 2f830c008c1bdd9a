#!/bin/bash
# stop-containerd.sh - stop the private containerd started by start-containerd.sh and clean up
# everything it created (pods, shims, mounts, CNI bridge, registry). Only touches processes whose
# PIDs were recorded by our scripts or whose command line names OUR socket path.
#
# Usage: stop-containerd.sh [SOCKET_PATH] [--purge]     (--purge: also rm -rf $ZUN_CRI_DIR)
# Pod removal goes through CRI with zun-cri (build/bin/zun-cri, or ZUN_CRI_TOOL), so CNI DEL runs;
# without it, pods are still torn down with ctr, by unmounting and by deleting the bridge.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${ZUN_CRI_DIR:-/tmp/zun-containerd}"
export ZUN_CRI_DIR="$WORK"
PURGE=0
SOCK=""
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    *) SOCK="$a" ;;
  esac
done
[ -z "$SOCK" ] && SOCK="${CRI_SOCKET:-$(cat "$WORK/socket" 2>/dev/null || echo "$WORK/containerd.sock")}"
# the bridge to delete: CNI_BRIDGE, else what start-containerd.sh recorded (empty: none)
if [ -z "${CNI_BRIDGE:-}" ]; then
  CNI_BRIDGE="$(cat "$WORK/cni/bridge" 2>/dev/null || echo zuncri0)"
fi
PIDF="$WORK/containerd.pid"
log() { echo "[stop-containerd] $*" >&2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
wait_gone() { # pid secs
  for _ in $(seq 1 $(( $2 * 10 ))); do alive "$1" || return 0; sleep 0.1; done; return 1; }

CPID="$(cat "$PIDF" 2>/dev/null || true)"
# only act on the PID if it is still our containerd (guards against PID reuse)
if alive "$CPID" && tr '\0' ' ' < "/proc/$CPID/cmdline" | grep -qF -- "--config $WORK/etc/config.toml"; then
  # 1. remove all CRI pods through CRI (tears down CNI, netns, containers) ...
  if [ -S "$SOCK" ]; then
    ZUN_CRI_TOOL="${ZUN_CRI_TOOL:-$HERE/../build/bin/zun-cri}"
    if [ -x "$ZUN_CRI_TOOL" ]; then
      timeout 180 "$ZUN_CRI_TOOL" --endpoint "unix://$SOCK" --timeout 60 cleanup >&2 || log "CRI cleanup failed"
    fi
    # ... and anything created with ctr (any namespace)
    for ns in $(ctr --address "$SOCK" namespaces ls -q 2>/dev/null); do
      for t in $(ctr --address "$SOCK" -n "$ns" tasks ls -q 2>/dev/null); do
        ctr --address "$SOCK" -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1
        sleep 0.3
        ctr --address "$SOCK" -n "$ns" tasks delete -f "$t" >/dev/null 2>&1
      done
      for c in $(ctr --address "$SOCK" -n "$ns" containers ls -q 2>/dev/null); do
        ctr --address "$SOCK" -n "$ns" containers delete "$c" >/dev/null 2>&1
      done
    done
  fi
  # 2. stop containerd
  log "stopping containerd pid $CPID"
  kill -TERM "$CPID"
  wait_gone "$CPID" 15 || { log "containerd did not exit, SIGKILL"; kill -KILL "$CPID"; wait_gone "$CPID" 5; }
else
  log "containerd not running"
fi
rm -f "$PIDF"

# 3. leftover shims of OUR containerd (their cmdline contains "-address <our socket>")
for p in /proc/[0-9]*; do
  pid="${p#/proc/}"
  cmd="$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")" || continue
  case "$cmd" in
    *containerd-shim*"-address $SOCK "*)
      log "killing leftover shim pid $pid"; kill -KILL "$pid" 2>/dev/null ;;
  esac
done
# their sockets live in /run/containerd/s/<sha256> (hard-coded in containerd 1.6), address files tell us which
for f in "$WORK"/state/io.containerd.runtime.v2.task/*/*/address; do
  [ -f "$f" ] || continue
  a="$(cat "$f")"; a="${a#unix://}"; [ -n "$a" ] && rm -f "$a"
done

# 4. registry
[ -x "$HERE/registry.sh" ] && "$HERE/registry.sh" stop >&2

# 5. unmount everything below $WORK (netns bind mounts, overlay rootfs, shm), deepest first
for i in 1 2 3; do
  mps="$(awk -v w="$WORK/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r)"
  [ -z "$mps" ] && break
  for m in $mps; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done

# 6. network: our bridge, ip_forward, CNI result cache (/var/lib/cni is libcni's hard-coded cache dir)
if [ -n "$CNI_BRIDGE" ] && ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
  log "deleting bridge $CNI_BRIDGE"; ip link del "$CNI_BRIDGE"
fi
if [ -f "$WORK/ip_forward.orig" ]; then
  cat "$WORK/ip_forward.orig" > /proc/sys/net/ipv4/ip_forward && rm -f "$WORK/ip_forward.orig"
fi
[ -n "$CNI_BRIDGE" ] && rm -f /var/lib/cni/results/zuncri-* 2>/dev/null
# libcni names its cache files <network>-<sandbox id>-<ifname>: those of our sandboxes that are left
for d in "$WORK"/root/io.containerd.grpc.v1.cri/sandboxes/*/ "$WORK"/state/io.containerd.grpc.v1.cri/sandboxes/*/; do
  [ -d "$d" ] || continue
  id="$(basename "$d")"; rm -f /var/lib/cni/results/*-"$id"-* 2>/dev/null
done
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null

# 7. our pod cgroups (ZUN_CGROUP_ROOT, the agent's [compute] cgroup_root). CRI pods without
#    cgroup_parent and ctr-run containers land in /k8s.io/<id> resp. /<namespace>/<id>: remove those
#    parents only if empty.
CG_ROOT="${ZUN_CGROUP_ROOT:-zun-cri}"
CG_ROOT="${CG_ROOT#/}"
for h in /sys/fs/cgroup/*/; do
  d="${h}${CG_ROOT}"
  [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  rmdir "${h}k8s.io" 2>/dev/null
done

# 8. containerd 1.6 hard-codes /run/containerd/s (shim sockets), /run/containerd/fifo (ctr fifos) and
#    /run/containerd/runc (runc root of ctr-created containers): remove them only when empty
for d in /run/containerd/runc/* /run/containerd/runc /run/containerd/s /run/containerd/fifo /run/containerd; do
  [ -d "$d" ] && rmdir "$d" 2>/dev/null
done

if [ "$PURGE" = 1 ]; then
  if awk -v w="$WORK/" 'index($5, w) == 1' /proc/self/mountinfo | grep -q .; then
    log "mounts still present below $WORK, not purging"
  else
    log "purging $WORK"; rm -rf "$WORK"
  fi
fi
log "done"
