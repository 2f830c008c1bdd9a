#!/bin/bash
# run-tests.sh -- what `make test` runs after building:
#   1. every test of the main build: unit, integration (RabbitMQ, PostgreSQL
#      and fake-cri, started by the ctest fixture) and e2e (containerd);
#   2. the unit tests again, built with AddressSanitizer + UBSan.
# Exit status is non-zero if anything failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${ZUN_TEST_JOBS:-2}"
status=0

step() { echo; echo "=== $* ==="; }

step "tests of the main build ($BUILD_DIR)"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" ${ZUN_CTEST_ARGS:-}) || status=1

step "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
if BUILD_TARGETS=unit_tests scripts/build.sh build-asan RelWithDebInfo -DZUN_SANITIZE="address;undefined" \
     >/dev/null; then
  (cd build-asan && ctest --output-on-failure -j "$JOBS" -L unit) || status=1
else
  echo "sanitizer build failed"; status=1
fi

echo
if [ "$status" = 0 ]; then echo "make test: all passed"; else echo "make test: FAILED"; fi
exit "$status"
