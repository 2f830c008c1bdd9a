#!/bin/bash
# fuzz.sh -- `make fuzz` (and part of `make test`): build the libFuzzer
# targets with clang + ASan + UBSan into build-fuzz/, seed their corpora
# from the captured oslo.messaging messages, the sample templates and
# configuration, and run each for FUZZ_SECONDS (default 60). Fails on any
# crash, leak or sanitizer report; reproducers land in
# build-fuzz/artifacts/<target>/.
#
#   fuzz.sh [TARGET...]     default: every target
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(oslo_message_fuzz zun_object_fuzz template_fuzz config_fuzz cni_fuzz cri_list_fuzz)

export CCACHE_DIR="${CCACHE_DIR:-$ROOT/.cache/ccache}"
if [ ! -f "$OUT/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$OUT" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DZUN_FUZZ=ON \
    "-DZUN_SANITIZE=address;undefined" \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
cmake --build "$OUT" --target "${TARGETS[@]}" -- -j"$(nproc)"

# Seed corpora (copies: libFuzzer adds what it finds to the first directory).
SEEDS="$OUT/seeds"
rm -rf "$SEEDS" && mkdir -p "$SEEDS"/{oslo_message_fuzz,zun_object_fuzz,template_fuzz,config_fuzz,cni_fuzz,cri_list_fuzz}
/usr/bin/python3 - "$ROOT/tests/data/captures" "$SEEDS" <<'PY'
import json, os, sys
src, out = sys.argv[1], sys.argv[2]
n = 0
for name in sorted(os.listdir(src)):
    if not name.endswith(".json"):
        continue
    doc = json.load(open(os.path.join(src, name)))
    for part in ("request", "reply"):
        body = (doc.get(part) or {}).get("body_raw")
        if isinstance(body, str):
            n += 1
            open(os.path.join(out, "oslo_message_fuzz", f"{n:03d}"), "w").write(body)
            try:
                msg = json.loads(json.loads(body)["oslo.message"])
                c = msg.get("args", {}).get("container")
                if c is not None:
                    open(os.path.join(out, "zun_object_fuzz", f"{n:03d}"), "w").write(json.dumps(c))
            except (KeyError, ValueError, TypeError):
                pass
PY
cp "$ROOT"/etc/capsules/* "$SEEDS/template_fuzz/"
cp "$ROOT/etc/zun-agent.conf" "$SEEDS/config_fuzz/"
# cni_fuzz: a network config, NUL, a daemon answer (an os-vif VIF primitive).
printf '{"cniVersion":"0.3.1","name":"zun","type":"zun-cni"}\0%s' \
  '{"versioned_object.name":"VIFBridge","versioned_object.namespace":"os_vif","versioned_object.version":"1.0","versioned_object.data":{"id":"p1","address":"fa:16:3e:00:00:01","plugin":"linux_bridge","vif_name":"tapp1","bridge_name":"brqn1","network":{"versioned_object.name":"Network","versioned_object.data":{"id":"n1","subnets":{"versioned_object.name":"SubnetList","versioned_object.data":{"objects":[{"versioned_object.name":"Subnet","versioned_object.data":{"cidr":"10.0.0.0/24","gateway":"10.0.0.1","dns":["10.0.0.53"],"ips":{"versioned_object.name":"FixedIPList","versioned_object.data":{"objects":[{"versioned_object.name":"FixedIP","versioned_object.data":{"address":"10.0.0.5"}}]}},"routes":{"versioned_object.name":"RouteList","versioned_object.data":{"objects":[]}}}}]}}}}}}' \
  > "$SEEDS/cni_fuzz/vif"

# cri_list_fuzz: a byte (even: ListPodSandbox, odd: ListContainers), then
# an answer as a runtime sends it (encoded by protoc from the text below).
{ printf '\0'; protoc -I "$ROOT/proto" --encode=runtime.v1.ListPodSandboxResponse \
    runtime/v1/api.proto <<'TXT'
items { id: "4f3bad44" metadata { name: "capsule-1" uid: "u1" namespace: "p1" attempt: 1 }
  state: SANDBOX_READY created_at: 1733380000000000000
  labels { key: "zun.openstack.org/capsule-uuid" value: "46238add" }
  labels { key: "zun.openstack.org/host" value: "node-1" }
  annotations { key: "note" value: "x" } runtime_handler: "runc" }
items { id: "9039" state: SANDBOX_NOTREADY }
TXT
} > "$SEEDS/cri_list_fuzz/sandboxes"
{ printf '\1'; protoc -I "$ROOT/proto" --encode=runtime.v1.ListContainersResponse \
    runtime/v1/api.proto <<'TXT'
containers { id: "c1" pod_sandbox_id: "4f3bad44" metadata { name: "web" attempt: 2 }
  image { image: "busybox" annotations { key: "k" value: "v" } }
  image_ref: "sha256:abc" state: CONTAINER_RUNNING created_at: 17
  labels { key: "zun.openstack.org/capsule-uuid" value: "46238add" }
  labels { key: "zun.openstack.org/container-uuid" value: "b7e1" }
  annotations { key: "io.kubernetes.cri.container-type" value: "container" } }
containers { id: "c2" state: CONTAINER_EXITED }
TXT
} > "$SEEDS/cri_list_fuzz/containers"

rc=0
for t in "${TARGETS[@]}"; do
  corpus="$OUT/corpus/$t"
  artifacts="$OUT/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  echo "[fuzz] $t for ${SECONDS_EACH}s" >&2
  if ! ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
       UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
       "$OUT/bin/$t" "$corpus" "$SEEDS/$t" -max_total_time="$SECONDS_EACH" \
         -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
         -artifact_prefix="$artifacts/" >"$OUT/$t.log" 2>&1; then
    echo "[fuzz] $t FAILED; reproducer in $artifacts, log $OUT/$t.log:" >&2
    tail -40 "$OUT/$t.log" >&2
    rc=1
  else
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$OUT/$t.log" \
      | sed "s/^/[fuzz] $t /" >&2 || true
  fi
done
exit "$rc"
