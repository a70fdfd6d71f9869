# SPDX-License-Identifier: MIT
# rcgc front door.
#
#   make deps     install the Debian packages every target below needs
#                 (apt-get as root, sudo otherwise).  The builds (make,
#                 release, debug, asan) and make install never run the
#                 package manager; the targets that need more tools (demo,
#                 check, bench, docs, experiments, fuzz, python-check)
#                 install the packages they miss first
#   make demo     build (release) and run the main example
#   make check    every test: C suites (debug build), the same under
#                 Valgrind memcheck, under ASan+UBSan, the must-fail
#                 programs, the Python extension's tests, rcgc used from
#                 outside (add_subdirectory, find_package, pkg-config) and
#                 the Python packaging (sdist, then a wheel from it)
#   make          build the library (release); never runs the package
#                 manager and does not turn warnings into errors
#   make install  PREFIX=/usr/local (the release build; no package manager)
#   make docs     API reference from the public headers (Doxygen) in
#                 $(BUILD)/docs/html
#   make bench    side-by-side benchmarks; results in bench/out/ only
#   make bench-publish   copy the last make bench to bench/RESULTS.md and
#                 README.md's headline rows

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON  ?= python3
PREFIX  ?= /usr/local
BUILD   ?= build
CMAKE   ?= cmake
# -Werror: off in the build users make (release, install), on in the
# development builds (debug, asan) that make check and CI use.  WERROR=ON
# or OFF overrides both.
WERROR  ?=
DEV_WERROR  = $(or $(WERROR),ON)
USER_WERROR = $(or $(WERROR),OFF)

DEPS_BUILD  = cmake make gcc pkg-config
DEPS_PYPKG  = python3-dev python3-setuptools python3-wheel python3-build \
              python3-venv
DEPS_CHECK  = $(DEPS_BUILD) libcriterion-dev $(DEPS_PYPKG) libpython3.11-dev \
              valgrind clang clang-format libclang-rt-14-dev python3-mypy
DEPS_DEMO   = $(DEPS_BUILD) libpython3.11-dev python3-dev python3-setuptools
DEPS_BENCH  = $(DEPS_BUILD) libpython3.11-dev libmimalloc-dev libjemalloc-dev \
              libgoogle-perftools-dev
DEPS_DOCS   = doxygen
DEPS_EXPERIMENTS = $(DEPS_DEMO) python3-matplotlib
DEPS_ALL    = $(sort $(DEPS_CHECK) $(DEPS_DEMO) $(DEPS_BENCH) $(DEPS_DOCS) \
              $(DEPS_EXPERIMENTS))

.PHONY: all deps deps-build deps-check deps-demo deps-bench deps-docs \
        deps-experiments release debug asan demo check check-c check-release \
        check-valgrind check-asan check-bad check-python check-fuzz \
        check-cpython check-consumers check-package check-meta fuzz experiments \
        bench bench-publish traces python-check install docs format \
        format-check clean

all: release

deps:
	@scripts/deps.sh $(DEPS_ALL)
deps-build:
	@scripts/deps.sh $(DEPS_BUILD)
deps-check:
	@scripts/deps.sh $(DEPS_CHECK)
deps-demo:
	@scripts/deps.sh $(DEPS_DEMO)
deps-bench:
	@scripts/deps.sh $(DEPS_BENCH)
deps-docs:
	@scripts/deps.sh $(DEPS_DOCS)
deps-experiments:
	@scripts/deps.sh $(DEPS_EXPERIMENTS)

# --- builds (never run the package manager) ----------------------------
release:
	$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release \
	    -DRCGC_WERROR=$(USER_WERROR) -DRCGC_TESTS=OFF >/dev/null
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)

debug:
	$(CMAKE) -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug \
	    -DRCGC_DEBUG=ON -DRCGC_CHECKED=ON -DRCGC_VALGRIND=ON \
	    -DRCGC_WERROR=$(DEV_WERROR) >/dev/null
	$(CMAKE) --build $(BUILD)/debug -j $(JOBS)

asan:
	$(CMAKE) -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug \
	    -DRCGC_DEBUG=ON -DRCGC_SANITIZE=ON -DRCGC_WERROR=$(DEV_WERROR) >/dev/null
	$(CMAKE) --build $(BUILD)/asan -j $(JOBS)

# --- the main job -------------------------------------------------------
demo: deps-demo
	@$(MAKE) --no-print-directory release
	$(BUILD)/release/examples/demo
	@echo
	@echo "== the same from Python (the rcgc extension, built in place)"
	$(PYTHON) setup.py -q build_ext --inplace >/dev/null
	PYTHONPATH=pyext $(PYTHON) examples/demo.py

# --- tests --------------------------------------------------------------
CHECKS = check-meta check-c check-release check-valgrind check-asan \
         check-bad check-python check-fuzz check-cpython check-consumers \
         check-package

check: deps-check deps-bench
	@$(MAKE) --no-print-directory $(CHECKS)
	@echo "make check: all suites passed"

check-c: debug
	cd $(BUILD)/debug && ctest --output-on-failure

# The same suites against the release build users get (no debug checks,
# no trailers, release-only fast paths): tests that assume a debug build
# must say so.
check-release:
	$(CMAKE) -S . -B $(BUILD)/reltest -DCMAKE_BUILD_TYPE=Release \
	    -DRCGC_TESTS=ON -DRCGC_WERROR=$(DEV_WERROR) >/dev/null
	$(CMAKE) --build $(BUILD)/reltest -j $(JOBS)
	cd $(BUILD)/reltest && ctest --output-on-failure

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

# The extension's unittest suite, its exported symbols, mypy.stubtest of
# the stub (when mypy is installed) and a Valgrind run.
check-python: debug
	@if [ -f pyext/rcgcmodule.c ]; then \
	    RCGC_LIBRCGC=$(CURDIR)/$(BUILD)/debug/librcgc.so \
	    scripts/check-python.sh $(PYTHON); \
	else echo "check-python: no extension yet"; fi

check-fuzz:
	BUILD=$(BUILD) scripts/fuzz.sh check

# A quick subset of CPython's own regression tests under rcgc-python.
check-cpython:
	scripts/python-check.sh $(BUILD) --quick

# rcgc used from another project: add_subdirectory, find_package after an
# install to a temporary prefix, pkg-config (about 10 s).
# Every file names its licence (SPDX), the C sources are formatted, and
# the README's headline rows are those of bench/RESULTS.md.
check-meta:
	scripts/check-spdx.sh
	git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror
	$(PYTHON) scripts/bench-headline.py --check bench/RESULTS.md README.md

check-consumers:
	scripts/check-consumers.sh

# The Python packaging, offline: python3 -m build makes an sdist, a wheel
# is built from that sdist and installed into a fresh venv (about 40 s).
check-package:
	scripts/check-package.sh

fuzz: deps-check
	BUILD=$(BUILD) scripts/fuzz.sh run $(or $(SECONDS),300)

# CSV, and PNG from a Python that has matplotlib (scripts/experiments.sh
# looks for one; PLOT_PYTHON=... chooses it).
experiments: deps-experiments
	scripts/experiments.sh $(PYTHON)

# --- documentation ------------------------------------------------------
# The API reference, from the public headers (Doxyfile): open
# $(BUILD)/docs/html/index.html.  Fails on any Doxygen warning.
docs: deps-docs
	scripts/docs.sh $(BUILD)/docs

# --- benchmarks ---------------------------------------------------------
# Allocation traces of stdlib programs (bench/traces/*.py) for the trace
# table of rcgc-bench, into $(BUILD)/traces (not in the repository).
traces: deps-bench
	bench/traces.sh $(BUILD)

# make bench writes bench/out/ only (RESULTS.md, CSV, markdown tables);
# make bench-publish copies bench/out/RESULTS.md to bench/RESULTS.md, the
# file README.md links to, and refreshes README.md's headline rows from it
# (scripts/bench-headline.py).
bench: deps-bench traces
	$(CMAKE) -S . -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release \
	    -DRCGC_BENCH=ON -DRCGC_TESTS=OFF -DRCGC_EXAMPLES=OFF >/dev/null
	$(CMAKE) --build $(BUILD)/bench -j $(JOBS) --target rcgc-bench
	scripts/run-bench.sh $(BUILD)/bench

bench-publish:
	scripts/run-bench.sh --publish
	$(PYTHON) scripts/bench-headline.py bench/RESULTS.md README.md

# CPython's own regression tests under the rcgc-python launcher.
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
