#!/bin/bash
# run-tests.sh -- what `make test` runs after building:
#   1. every test of the main build: unit, integration (RabbitMQ, PostgreSQL
#      and fake-cri, started by the ctest fixture) and e2e (containerd);
#   2. the unit and integration suites again, built with AddressSanitizer +
#      UBSan (the agent, fake-cri and zun-capsule processes they start too);
#   3. the unit suite built with ThreadSanitizer (the threaded parts:
#      executor, reconciler, event loop, clock, health, status sync);
#   4. every libFuzzer target for FUZZ_SECONDS (default 30 here; `make fuzz`
#      alone runs 60) each.
# Sanitizer reports of any process land in <build>/sanitizer-logs/ and fail
# the run even when the process that wrote them was a child nobody waited
# for. Exit status is non-zero if anything failed.
#
# ZUN_TEST_STEPS selects steps (default "main asan tsan fuzz").
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${ZUN_TEST_JOBS:-2}"
STEPS=" ${ZUN_TEST_STEPS:-main asan tsan fuzz} "
status=0
declare -a summary=()

# Every containerd the suites start (the e2e and openstack fixtures, each
# make-run test) remembers net.ipv4.ip_forward when it starts and puts it
# back when it stops; their lifetimes overlap under ctest -j, so one could
# put back a 0 while another test still expects its own value. Forwarding
# is on for the whole run (as the CNI bridge plugin sets it anyway) and the
# host's value comes back at the end.
IP_FORWARD_ORIG="$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || true)"
restore_ip_forward() {
  [ -n "$IP_FORWARD_ORIG" ] && echo "$IP_FORWARD_ORIG" > /proc/sys/net/ipv4/ip_forward 2>/dev/null || true
}
if [ -n "$IP_FORWARD_ORIG" ] && [ -w /proc/sys/net/ipv4/ip_forward ]; then
  echo 1 > /proc/sys/net/ipv4/ip_forward
  trap restore_ip_forward EXIT
fi

step() { echo; echo "=== $* ==="; STEP_T0=$(date +%s); }
done_step() {  # name rc
  local rc=$2
  summary+=("$(printf '%-44s %s %4ss' "$1" "$([ "$rc" = 0 ] && echo ok || echo FAILED)" \
    $(( $(date +%s) - STEP_T0 )))")
  [ "$rc" = 0 ] || status=1
}

# Runs ctest in $1 with the sanitizer logs directed to $1/sanitizer-logs;
# fails if ctest fails or any report was written.
sanitized_ctest() {
  local dir="$1"; shift
  local logs="$ROOT/$dir/sanitizer-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  local rc=0
  (cd "$dir" &&
    ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=1" \
    LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1" \
    TSAN_OPTIONS="log_path=$logs/tsan:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp" \
    ctest --output-on-failure -j "$JOBS" "$@") || rc=1
  if compgen -G "$logs/*" >/dev/null; then
    echo "sanitizer reports in $logs:"
    for f in "$logs"/*; do echo "--- $f"; head -60 "$f"; done
    rc=1
  fi
  return "$rc"
}

if [[ "$STEPS" == *" main "* ]]; then
  step "tests of the main build ($BUILD_DIR)"
  rc=0
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" ${ZUN_CTEST_ARGS:-}) || rc=1
  done_step "unit + integration + e2e" "$rc"
fi

# Builds TARGETS into DIR with -DZUN_SANITIZE=SANITIZERS and runs the ctest
# LABELS there through sanitized_ctest.
#   sanitizer_step SUMMARY DIR SANITIZERS LABELS TARGETS...
sanitizer_step() {
  local name="$1" dir="$2" san="$3" labels="$4"; shift 4
  step "$name ($dir)"
  local rc=0
  if BUILD_TARGETS="$*" scripts/build.sh "$dir" RelWithDebInfo -DZUN_SANITIZE="$san" >/dev/null; then
    sanitized_ctest "$dir" -L "$labels" || rc=1
  else
    echo "$dir build failed"; rc=1
  fi
  done_step "$name" "$rc"
}

if [[ "$STEPS" == *" asan "* ]]; then
  sanitizer_step "unit + integration, ASan+UBSan" build-asan "address;undefined" "unit|integration" \
    unit_tests integration_tests zun-agent fake-cri zun-cri zun-capsule
fi

if [[ "$STEPS" == *" tsan "* ]]; then
  sanitizer_step "unit, TSan" build-tsan thread unit unit_tests
fi

if [[ "$STEPS" == *" fuzz "* ]]; then
  # 30 s each: the seeds and a short search on every run (a fresh CI run
  # spends about 45 minutes in all, most of it compiling three sanitizer
  # builds); `make fuzz` searches longer.
  step "libFuzzer targets, ${FUZZ_SECONDS:-30}s each (build-fuzz)"
  rc=0
  FUZZ_SECONDS="${FUZZ_SECONDS:-30}" scripts/fuzz.sh || rc=1
  done_step "fuzz" "$rc"
fi

echo
printf '%s\n' "${summary[@]}"
if [ "$status" = 0 ]; then echo "make test: all passed"; else echo "make test: FAILED"; fi
exit "$status"
