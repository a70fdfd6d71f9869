# rcgc front door.  `make demo` and `make check` set up everything they need
# on a fresh Debian/Ubuntu machine (missing packages via scripts/deps.sh).
#
#   make demo     build (release) and run the main example
#   make check    every test: C suites (debug build), the same under
#                 Valgrind memcheck, under ASan+UBSan, the must-fail
#                 programs, and the Python extension's tests
#   make bench    side-by-side benchmarks against the anchors
#   make install  PREFIX=/usr/local

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON  ?= python3
PREFIX  ?= /usr/local
BUILD   ?= build
CMAKE   ?= cmake
WERROR  ?= ON

DEPS_BUILD  = cmake make gcc pkg-config libcriterion-dev
DEPS_CHECK  = $(DEPS_BUILD) libpython3.11-dev valgrind clang libclang-rt-14-dev python3-dev \
              python3-setuptools
DEPS_DEMO   = $(DEPS_BUILD) libpython3.11-dev python3-dev python3-setuptools
DEPS_BENCH  = $(DEPS_BUILD) libpython3.11-dev libmimalloc-dev libjemalloc-dev \
              libgoogle-perftools-dev

.PHONY: all deps-build deps-check deps-demo deps-bench release debug asan demo check \
        check-c check-valgrind check-asan check-bad check-python check-fuzz \
        check-cpython fuzz experiments bench traces python-check \
        install format format-check clean

all: release

deps-build:
	@scripts/deps.sh $(DEPS_BUILD)
deps-check:
	@scripts/deps.sh $(DEPS_CHECK)
deps-demo:
	@scripts/deps.sh $(DEPS_DEMO)
deps-bench:
	@scripts/deps.sh $(DEPS_BENCH)

# --- builds -------------------------------------------------------------
release: deps-build
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release \
	    -DRCGC_WERROR=$(WERROR) -DRCGC_TESTS=OFF >/dev/null
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)

debug: deps-check
	$(CMAKE) -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug \
	    -DRCGC_DEBUG=ON -DRCGC_VALGRIND=ON -DRCGC_WERROR=$(WERROR) >/dev/null
	$(CMAKE) --build $(BUILD)/debug -j $(JOBS)

asan: deps-check
	$(CMAKE) -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug \
	    -DRCGC_DEBUG=ON -DRCGC_SANITIZE=ON -DRCGC_WERROR=$(WERROR) >/dev/null
	$(CMAKE) --build $(BUILD)/asan -j $(JOBS)

# --- the main job -------------------------------------------------------
demo: deps-demo release
	$(BUILD)/release/examples/demo
	@echo
	@echo "== the same from Python (the rcgc extension, built in place)"
	$(PYTHON) setup.py -q build_ext --inplace >/dev/null
	PYTHONPATH=pyext $(PYTHON) examples/demo.py

# --- tests --------------------------------------------------------------
check: check-c check-valgrind check-asan check-bad check-python check-fuzz \
       check-cpython
	@echo "make check: all suites passed"

check-c: debug
	cd $(BUILD)/debug && ctest --output-on-failure

check-valgrind: debug
	scripts/valgrind-tests.sh $(BUILD)/debug
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect,possible \
	    $(BUILD)/debug/examples/demo --steps 20000 --no-cpython >/dev/null
	@echo "valgrind: demo clean"

check-asan: asan
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure

check-bad: debug asan
	scripts/check-bad.sh $(BUILD)

check-python: deps-check
	@if [ -f pyext/rcgcmodule.c ]; then \
	    scripts/check-python.sh $(PYTHON); \
	else echo "check-python: no extension yet"; fi

check-fuzz: deps-check
	BUILD=$(BUILD) scripts/fuzz.sh check

# A quick subset of CPython's own regression tests under rcgc-python.
check-cpython: deps-bench
	scripts/python-check.sh $(BUILD) --quick

fuzz: deps-check
	BUILD=$(BUILD) scripts/fuzz.sh run $(or $(SECONDS),300)

experiments: deps-check
	scripts/experiments.sh $(PYTHON)

# --- benchmarks ---------------------------------------------------------
# Allocation traces of stdlib programs (bench/traces/*.py) for the trace
# table of rcgc-bench, into $(BUILD)/traces (not in the repository).
traces: deps-bench
	bench/traces.sh $(BUILD)

bench: deps-bench traces
	$(CMAKE) -S . -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release \
	    -DRCGC_BENCH=ON -DRCGC_TESTS=OFF -DRCGC_EXAMPLES=OFF >/dev/null
	$(CMAKE) --build $(BUILD)/bench -j $(JOBS) --target rcgc-bench
	scripts/run-bench.sh $(BUILD)/bench

# CPython's own regression tests under the rcgc-python launcher (issue 8).
python-check: deps-bench
	scripts/python-check.sh $(BUILD)

install: release
	$(CMAKE) --install $(BUILD)/release --prefix $(PREFIX)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i
format-check:
	git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD)
