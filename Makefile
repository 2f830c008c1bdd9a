# zun-agent: the single entry point.
#   make run     install deps, build, start RabbitMQ + PostgreSQL + a CRI
#                runtime, db-sync, run the agent in the foreground;
#                Ctrl-C stops everything it started.
#                CRI=containerd (default): a private containerd,
#                images and a local registry; CRI=fake: fake-cri.
#                ZUN_RUN_NETWORK=neutron (default with containerd): a
#                private Neutron, a shared tenant network, zun-cni and
#                zun-cni-daemon; ZUN_RUN_NETWORK=local: the node's CNI
#                bridge (scripts/run.sh lists every ZUN_RUN_* knob)
#   make test    install deps, build, run every test (and the unit tests
#                under ASan+UBSan)
#   make deb     build the Debian package (build/deb/zun-agent_<v>_<arch>.deb,
#                checked with lintian)
#   make bench   run the benchmark scenarios (table + build/bench/results.json)
#   make fuzz    build the libFuzzer targets (clang, ASan+UBSan) into
#                build-fuzz/ and run each for FUZZ_SECONDS (default 60)
#   make build   configure + build into build/ (binaries in build/bin/)
#   make lint    clang-format check (make format fixes)
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
CRI ?= containerd

.PHONY: all deps build test run bench deb fuzz lint format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@scripts/build.sh $(BUILD_DIR) $(BUILD_TYPE)

test: build
	@BUILD_DIR=$(BUILD_DIR) scripts/run-tests.sh

# What make run needs (make test builds everything), and the time each
# phase took: deps, build, then run.sh prints when the agent serves.
RUN_TARGETS := zun-agent zun-capsule zun-cni zun-cni-daemon fake-cri

run:
	@t0=$$(date +%s); scripts/install-deps.sh; t1=$$(date +%s); \
	BUILD_TARGETS="$(RUN_TARGETS)" scripts/build.sh $(BUILD_DIR) $(BUILD_TYPE); \
	t2=$$(date +%s); \
	echo "[make run] deps $$((t1 - t0)) s, build $$((t2 - t1)) s" >&2; \
	ZUN_RUN_MAKE_T0=$$t0 ZUN_RUN_DEPS_S=$$((t1 - t0)) \
	ZUN_RUN_BUILD_S=$$((t2 - t1)) BUILD_DIR=$(BUILD_DIR) scripts/run.sh $(CRI)

bench: build
	@BUILD_DIR=$(BUILD_DIR) scripts/bench.sh $(BENCH_ARGS)

deb: deps
	@scripts/build-deb.sh

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_TARGETS)

lint:
	@scripts/lint.sh

format:
	@scripts/lint.sh --fix

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
