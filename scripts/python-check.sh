#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# python-check.sh - CPython's own regression tests on rcgc's objalloc.
#
# Usage: scripts/python-check.sh [BUILD] [--quick] [--debug | --asan]
#
# 1. Installs what it misses (libpython3.11-dev, libpython3.11-testsuite...)
#    and builds BUILD/launcher (rcgc-python, rcgc-python-stock with its
#    preload libraries, and test_pyalloc; Release).
# 2. test_pyalloc: switching a running interpreter to objalloc and back.
# 3. check_launcher.py: rcgc-python, and the stock python3.11 binary with
#    librcgc-pyalloc.so preloaded (rcgc-python-stock), behave like python3
#    and stay on objalloc whatever PYTHONMALLOC / -X dev / -E say.
# 4. Debian's CPython test suite (/usr/lib/python3.11/test), the same
#    modules under the stock /usr/bin/python3.11, under rcgc-python and
#    under rcgc-python-stock (with RCGC_HEAPCHECK=1: every interpreter
#    process, regrtest's workers included, verifies the heap's invariants
#    at exit).  Prints the pass/fail/skip counts per module and fails
#    unless both launchers' counts equal the stock interpreter's.
#
# --quick runs a few modules (well under 2 minutes, for `make check`);
# the default runs the required set plus a wider one.
# --debug builds the launcher with RCGC_DEBUG (objalloc's guards, poisoning
# and misuse checks) into BUILD/launcher-debug; --asan adds ASan+UBSan
# (objalloc poisons free pool memory) into BUILD/launcher-asan.  Both are
# several times slower.
# Environment: JOBS (regrtest workers, default 2), STOCK_PYTHON.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build
MODE=full
FLAVOUR=release
for arg in "$@"; do
    case "$arg" in
        --quick) MODE=quick ;;
        --debug) FLAVOUR=debug ;;
        --asan) FLAVOUR=asan ;;
        -*) echo "usage: $0 [BUILD] [--quick] [--debug | --asan]" >&2; exit 2 ;;
        *) BUILD=$arg ;;
    esac
done
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
JOBS=${JOBS:-2}
STOCK=${STOCK_PYTHON:-/usr/bin/python3.11}
case "$FLAVOUR" in
    release)
        OUT="$BUILD/launcher"
        FLAGS=(-DCMAKE_BUILD_TYPE=Release) ;;
    debug)
        OUT="$BUILD/launcher-debug"
        FLAGS=(-DCMAKE_BUILD_TYPE=Debug -DRCGC_DEBUG=ON) ;;
    asan)
        OUT="$BUILD/launcher-asan"
        FLAGS=(-DCMAKE_BUILD_TYPE=Debug -DRCGC_DEBUG=ON -DRCGC_SANITIZE=ON)
        # CPython keeps memory until exit on purpose; test_pyalloc asks for
        # an impossible size and expects NULL.
        export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ;;
esac

# The modules the issue names, then a wider set of core-object modules.
QUICK="test_list test_dict test_set test_tuple test_gc test_weakref test_json"
REQUIRED="test_list test_dict test_set test_tuple test_sort test_json test_re
    test_gc test_weakref test_ast test_unicode test_bytes"
WIDER="test_collections test_deque test_itertools test_functools test_descr
    test_class test_exceptions test_generators test_coroutines test_array
    test_struct test_memoryview test_pickle test_marshal test_copy
    test_long test_float test_int test_complex test_decimal test_fractions
    test_statistics test_math test_random test_heapq test_bisect test_string
    test_format test_csv test_textwrap test_difflib test_pprint test_enum
    test_dataclasses test_typing test_compile test_grammar test_threading
    test_io test_zlib test_hashlib test_base64 test_codecs
    test_xml_etree test_tokenize test_dis test_inspect test_os"
if [ "$MODE" = quick ]; then
    MODULES=$QUICK
else
    MODULES="$REQUIRED $WIDER"
fi

"$ROOT/scripts/deps.sh" cmake make gcc pkg-config libpython3.11-dev \
    libpython3.11-testsuite python3.11

echo "== python-check ($MODE, $FLAVOUR): building $OUT"
cmake -S "$ROOT" -B "$OUT" "${FLAGS[@]}" -DRCGC_LAUNCHER=ON \
    -DRCGC_TESTS=OFF -DRCGC_WERROR="${WERROR:-ON}" >/dev/null
cmake --build "$OUT" -j "$JOBS" --target rcgc-python rcgc-python-stock \
    test_pyalloc
LAUNCHER="$OUT/rcgc-python"
PRELOADED="$OUT/rcgc-python-stock"
if [ "$FLAVOUR" = asan ]; then
    # An ASan library cannot be preloaded into the uninstrumented stock
    # binary (the ASan runtime must come first): rcgc-python only.
    PRELOADED=""
fi

echo "== test_pyalloc (switching a running interpreter)"
"$OUT/test_pyalloc"

echo "== check_launcher.py (behaves like python3, stays on objalloc)"
"$STOCK" "$ROOT/tests/launcher/check_launcher.py" "$LAUNCHER"
if [ -n "$PRELOADED" ]; then
    echo "== check_launcher.py --stock (python3.11 with librcgc-pyalloc.so)"
    RCGC_STOCK_PYTHON="$STOCK" "$STOCK" "$ROOT/tests/launcher/check_launcher.py" \
        "$PRELOADED" --stock
fi

# regrtest writes temporary files into the current directory.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcgc-python-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# Same environment for both: no PYTHON* or RCGC_* variables leak in
# (ASAN_OPTIONS stays: the stock interpreter ignores it).
clean_env() {
    env $(env | sed -n 's/^\(PYTHON[A-Z_]*\|RCGC_[A-Z_]*\)=.*/-u \1/p') "$@"
}
regrtest() { # NAME PYTHON [ENV...]
    local name=$1 py=$2
    shift 2
    local status=0
    echo "== regrtest under $name: $(echo $MODULES | wc -w) modules"
    clean_env "$@" "$py" -m test -j "$JOBS" --timeout 900 \
        --junit-xml "$WORK/$name.xml" $MODULES >"$WORK/$name.log" 2>&1 ||
        status=$?
    tail -n 4 "$WORK/$name.log" | sed 's/^/   /'
    echo "$status" >"$WORK/$name.status"
}
regrtest stock "$STOCK"
regrtest rcgc "$LAUNCHER" RCGC_HEAPCHECK=1
RUNS=rcgc:rcgc-python
if [ -n "$PRELOADED" ]; then
    regrtest rcgc-stock "$PRELOADED" RCGC_HEAPCHECK=1 \
        RCGC_STOCK_PYTHON="$STOCK"
    RUNS="$RUNS rcgc-stock:rcgc-python-stock"
fi

status=0
for run in $RUNS; do
    name=${run%%:*}
    label=${run#*:}
    echo "== results: $label"
    if ! "$STOCK" "$ROOT/tests/launcher/regrtest_counts.py" \
        "$WORK/stock.xml" "$(cat "$WORK/stock.status")" \
        "$WORK/$name.xml" "$(cat "$WORK/$name.status")" "$label"; then
        echo "--- $label regrtest log (tail)"
        tail -n 60 "$WORK/$name.log"
        status=1
    fi
done
exit $status
