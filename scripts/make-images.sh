#!/bin/bash
# make-images.sh - build two tiny OCI images WITHOUT internet access:
#   localhost/pause:3.6       (busybox-static, entrypoint: /bin/sleep infinity, user 65535)
#   localhost/busybox:latest  (busybox-static with all applet symlinks, cmd: sh)
# Uses only Debian packages: busybox-static, umoci, skopeo.
#
# Usage: make-images.sh [OUTDIR]        (default: $ZUN_CRI_DIR/images, ZUN_CRI_DIR=/tmp/zun-containerd)
# Output in OUTDIR:
#   oci/                      OCI image layout, tags "pause", "busybox", "busybox-pull" (registry.sh pushes these)
#   pause.tar, busybox.tar    docker-archive tarballs carrying the full ref name
#                             (import with: ctr -n k8s.io images import pause.tar)
# Idempotent: rebuilds everything from scratch each time (a few seconds).
set -euo pipefail

WORK="${ZUN_CRI_DIR:-/tmp/zun-containerd}"
OUT="${1:-$WORK/images}"
PAUSE_REF="${PAUSE_REF:-localhost/pause:3.6}"
BUSYBOX_REF="${BUSYBOX_REF:-localhost/busybox:latest}"

need() { # need <binary> <debian-package>
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "[make-images] installing Debian package $2" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "$2" >&2
}
need umoci umoci
need skopeo skopeo
BB=""
for c in /bin/busybox /usr/bin/busybox; do
  if [ -x "$c" ] && file -L "$c" 2>/dev/null | grep -q 'statically linked'; then BB="$c"; break; fi
done
if [ -z "$BB" ]; then
  # file(1) may be missing; fall back to ldd check
  for c in /bin/busybox /usr/bin/busybox; do
    if [ -x "$c" ] && ! ldd "$c" >/dev/null 2>&1; then BB="$c"; break; fi
  done
fi
if [ -z "$BB" ]; then need busybox busybox-static; BB=/bin/busybox; fi

rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"
umoci init --layout oci >/dev/null

# Fixed timestamps (config, history, file mtimes) -> reproducible image digests
CREATED="2024-01-01T00:00:00Z"

# ---------------- pause ----------------
umoci new --image oci:pause
umoci unpack --image oci:pause b-pause >/dev/null
mkdir -p b-pause/rootfs/bin b-pause/rootfs/etc
cp "$BB" b-pause/rootfs/bin/busybox
ln -s busybox b-pause/rootfs/bin/sleep
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > b-pause/rootfs/etc/passwd
printf 'root:x:0:\nnobody:x:65534:\n' > b-pause/rootfs/etc/group
# fixed mtimes -> identical layer digests on every build
find b-pause/rootfs -exec touch -h -d "$CREATED" {} +
umoci repack --image oci:pause --history.created "$CREATED" b-pause
umoci config --image oci:pause --created "$CREATED" --history.created "$CREATED" \
    --architecture amd64 --os linux \
    --config.user 65535:65535 \
    --config.entrypoint /bin/sleep --config.cmd infinity \
    --config.env PATH=/bin
rm -rf b-pause

# ---------------- busybox (+ busybox-pull variant for the registry) ----------------
# busybox-pull = same files + a marker file -> a different layer digest, so a CRI PullImage of it
# really downloads a layer instead of finding the blob already in containerd's content store.
build_busybox() { # tag marker
  umoci new --image "oci:$1"
  umoci unpack --image "oci:$1" "b-$1" >/dev/null
  local R="b-$1/rootfs"
  mkdir -p $R/bin $R/etc $R/tmp $R/root $R/var $R/home
  chmod 1777 $R/tmp
  cp "$BB" $R/bin/busybox
  for a in $("$BB" --list); do
    [ "$a" = busybox ] && continue
    ln -sf busybox "$R/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > $R/etc/passwd
  printf 'root:x:0:\nnobody:x:65534:\n' > $R/etc/group
  [ -n "$2" ] && echo "$2" > $R/etc/zun-marker
  find "$R" -exec touch -h -d "$CREATED" {} +
  umoci repack --image "oci:$1" --history.created "$CREATED" "b-$1"
  umoci config --image "oci:$1" --created "$CREATED" --history.created "$CREATED" \
      --architecture amd64 --os linux \
      --config.cmd sh --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  rm -rf "b-$1"
}
build_busybox busybox ""
build_busybox busybox-pull "pulled from the local registry"
umoci gc --layout oci

# docker-archive tarballs keep the full reference (RepoTags) -> ctr import names them correctly.
skopeo copy --quiet oci:oci:pause   "docker-archive:pause.tar:$PAUSE_REF"
skopeo copy --quiet oci:oci:busybox "docker-archive:busybox.tar:$BUSYBOX_REF"
ls -l "$OUT"/*.tar >&2
echo "$OUT"
