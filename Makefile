# Makefile - front end to the CMake build.
#
#   make demo      install missing packages, build, run the CLI demo (examples/demo.sh)
#   make test      install missing packages, build, run every test (ctest)
#   make asan      the tests under AddressSanitizer + UBSan (build-asan/)
#   make switch    the tests with the portable switch interpreter (build-switch/)
#   make tsan      the host, event-bus, server and Redis queue tests (threads,
#                  chaos, HTTP, workers) under ThreadSanitizer (build-tsan/)
#   make spec SPEC_DIR=/path/to/json   the official spec suite (see README)
#   make spec-native SPEC_DIR=...      the same through the native tier (cc)
#   make wasi-testsuite [WASI_TESTSUITE_DIR=dir]   the official WASI test suite
#                  (a copy made by scripts/fetch-wasi-testsuite.sh; see README)
#   make bench     the benchmark suite (bench/run.sh, build-bench/)
#   make install [PREFIX=/usr/local]
#   make clean
#
# Debian packages the build needs; `make deps` installs those missing (as
# root, or through sudo), then runs DEPS_SCRIPTS. Add packages here or on the
# command line: make test EXTRA_DEB_PACKAGES="valgrind".

DEB_PACKAGES = cmake make gcc clang lld wabt wasi-libc libclang-rt-14-dev-wasm32 \
               libjansson-dev libyaml-dev libsqlite3-dev pkg-config binaryen jq \
               libsodium-dev libarchive-dev libcurl4-openssl-dev minisign python3 openssl libmicrohttpd-dev \
               libhiredis-dev redis-server chromium nodejs wrk curl
EXTRA_DEB_PACKAGES ?=
# Scripts `make deps` runs after the Debian packages, each idempotent (e.g.
# the plugin toolchains: Rust, AssemblyScript, Zig). DEPS_SCRIPTS= skips them.
DEPS_SCRIPTS ?= $(wildcard scripts/install-toolchains.sh)

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
SWITCH_DIR ?= build-switch
TSAN_DIR ?= build-tsan
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
CTEST ?= ctest
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)
# Spec runner flags, e.g. SPEC_FLAGS="--bounds explicit"
SPEC_FLAGS ?=
# The WASI test suite's copy (scripts/fetch-wasi-testsuite.sh makes it).
WASI_TESTSUITE_DIR ?= wasi-testsuite

.PHONY: all deps build test demo asan switch tsan spec spec-native wasi-testsuite bench install clean

# Keep the nested makes CMake generates quiet about directories.
MAKEFLAGS += --no-print-directory

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES) $(EXTRA_DEB_PACKAGES); do \
	    status=$$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null || true); \
	    case "$$status" in *" installed") ;; *) missing="$$missing $$p";; esac; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	    elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	    else echo "deps: missing packages:$$missing (run as root to install them)" >&2; exit 1; fi; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing \
	        </dev/null; \
	else \
	    echo "deps: all packages present"; \
	fi
	@for script in $(DEPS_SCRIPTS); do sh "$$script" </dev/null || exit 1; done

# $(call cmake_build,DIR,FLAGS): configure and build one build tree.
define cmake_build
	$(CMAKE) -S . -B $(1) $(2) $(CMAKE_FLAGS)
	$(CMAKE) --build $(1) -j$(JOBS)
endef

build: deps
	$(call cmake_build,$(BUILD_DIR),)

test: build
	cd $(BUILD_DIR) && $(CTEST) $(CTEST_FLAGS)

# The build's output is shown only if it fails; the demo itself touches
# nothing outside its temporary directory.
demo:
	@log=$$(mktemp); \
	if $(MAKE) -s build >"$$log" 2>&1; then rm -f "$$log"; \
	else cat "$$log"; rm -f "$$log"; echo "demo: the build failed (its output is above)" >&2; exit 1; fi
	@sh examples/demo.sh $(BUILD_DIR)

asan: deps
	$(call cmake_build,$(ASAN_DIR),-DWASMPLUG_SANITIZE=ON)
	cd $(ASAN_DIR) && $(CTEST) $(CTEST_FLAGS)

switch: deps
	$(call cmake_build,$(SWITCH_DIR),-DWASMPLUG_THREADED=OFF)
	cd $(SWITCH_DIR) && $(CTEST) $(CTEST_FLAGS)

# Only the host and event-bus tests are built and run: they are the ones
# with threads.
tsan: deps
	$(CMAKE) -S . -B $(TSAN_DIR) -DWASMPLUG_TSAN=ON -DWASMPLUG_EXAMPLES=OFF \
	    -DWASMPLUG_BENCH=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build $(TSAN_DIR) -j$(JOBS) --target host_tests events_tests \
	    redis_tests wasmplug_cli cli_test_plugins events_plugin_modules
	cd $(TSAN_DIR) && $(CTEST) $(CTEST_FLAGS) -L 'host|events|server|redis'

# Every *.json in SPEC_DIR (the whole core suite); the runner prints a line
# per file and the total.
spec: build
	@test -n "$(SPEC_DIR)" || { echo "usage: make spec SPEC_DIR=/path/to/json" >&2; exit 2; }
	@files=$$(ls "$(SPEC_DIR)"/*.json); \
	test -n "$$files" || { echo "no *.json in $(SPEC_DIR)" >&2; exit 2; }; \
	"$(BUILD_DIR)/wasmplug-spectest" $(SPEC_FLAGS) $$files

# The same suite through the native tier: every module the tier can compile
# (all but SIMD) is compiled with cc and run natively (a few minutes).
spec-native: build
	$(MAKE) spec SPEC_DIR="$(SPEC_DIR)" SPEC_FLAGS="--native $(SPEC_FLAGS)"

# Every wasm32-wasip1 test of the suite through `wasmplug exec`.
wasi-testsuite: build
	bash tests/wasi/run-wasi-testsuite.sh $(BUILD_DIR)/wasmplug $(WASI_TESTSUITE_DIR)

bench: deps
	sh bench/run.sh

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(SWITCH_DIR) $(TSAN_DIR) build-bench
