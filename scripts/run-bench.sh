#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-bench.sh - run every rcgc benchmark; publish a run on request.
#
# Usage: scripts/run-bench.sh BUILDDIR [rcgc-bench options...]
#        scripts/run-bench.sh --publish
#   BUILDDIR  a build configured with -DRCGC_BENCH=ON and built (make bench
#             does both: BUILDDIR = $(BUILD)/bench)
#   options   passed to rcgc-bench (--quick, --rounds N, --sizes 100k,1m,4m,
#             --wall); also read from $BENCH_ARGS
#
# A run writes only to bench/out/ (a --quick trial included):
#   1. rcgc-bench all: allocator, refcount, collector, young generation and
#      memory tables on stdout, CSV + markdown in bench/out/;
#   2. bench/pyworkloads.sh (CPython's stdlib workloads on objalloc), when
#      present, its markdown table appended (skip with PYWORKLOADS=0;
#      PYWORKLOADS_RUNS rounds, default 3, 1 with --quick);
#   3. bench/out/RESULTS.md: date, machine (uname -m, CPU model, cores), the
#      command, then every table.
# --publish (make bench-publish) copies bench/out/RESULTS.md to
# bench/RESULTS.md, the page README.md links to; nothing else is rewritten.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/bench/out"
RESULTS="$OUT/RESULTS.md"
PUBLISHED="$ROOT/bench/RESULTS.md"

if [ "${1:-}" = --publish ]; then
    if [ ! -f "$RESULTS" ]; then
        echo "run-bench: no ${RESULTS#"$ROOT"/}: run make bench first" >&2
        exit 1
    fi
    cp "$RESULTS" "$PUBLISHED"
    echo "run-bench: published ${RESULTS#"$ROOT"/} as" \
        "${PUBLISHED#"$ROOT"/}" >&2
    exit 0
fi
BUILD=${1:?usage: scripts/run-bench.sh BUILDDIR [options]}
shift
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
BIN="$BUILD/bench/rcgc-bench"
# shellcheck disable=SC2206
ARGS=(${BENCH_ARGS:-} "$@")

if [ ! -x "$BIN" ]; then
    echo "run-bench: $BIN not found; build with -DRCGC_BENCH=ON" >&2
    exit 1
fi
# jemalloc is dlopen'ed and needs static TLS room (rcgc-bench would
# re-exec itself with this otherwise).
case "${GLIBC_TUNABLES:-}" in
    *optional_static_tls*) ;;
    "") export GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536 ;;
    *) export GLIBC_TUNABLES="$GLIBC_TUNABLES:glibc.rtld.optional_static_tls=65536" ;;
esac

mkdir -p "$OUT"
rm -f "$OUT"/*.md "$OUT"/*.csv
cd "$ROOT"
START=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0
# The trace table (first): traces recorded by `make traces` next to BUILD.
TRACES="$(dirname "$BUILD")/traces"
"$BIN" all --out "$OUT" --traces "$TRACES" "${ARGS[@]}" | tee "$OUT/bench.txt"

PYSTATUS=""
if [ -x "$ROOT/bench/pyworkloads.sh" ] && [ "${PYWORKLOADS:-1}" != 0 ]; then
    echo "run-bench: bench/pyworkloads.sh" >&2
    # make bench: BUILD is $(BUILD)/bench and the launcher goes to
    # $(BUILD)/launcher; any other build dir gets it inside.
    PYBUILD="$BUILD/py"
    if [ "$(basename "$BUILD")" = bench ]; then
        PYBUILD=$(dirname "$BUILD")
    fi
    # Its own default is 5 runs (about 2-3 minutes each here); 3 keeps
    # make bench within a quarter of an hour, 1 with --quick.
    RUNS=3
    case " ${ARGS[*]:-} " in *" --quick "*) RUNS=1 ;; esac
    export PYWORKLOADS_RUNS=${PYWORKLOADS_RUNS:-$RUNS}
    if "$ROOT/bench/pyworkloads.sh" "$PYBUILD" >"$OUT/pyworkloads.md.tmp"; then
        mv "$OUT/pyworkloads.md.tmp" "$OUT/pyworkloads.md"
        cat "$OUT/pyworkloads.md"
    else
        PYSTATUS="bench/pyworkloads.sh failed (exit $?); its table is missing."
        rm -f "$OUT/pyworkloads.md.tmp"
        echo "run-bench: $PYSTATUS" >&2
    fi
fi

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
CMD=${RCGC_BENCH_CMD:-"scripts/run-bench.sh ${BUILD#"$ROOT"/} ${ARGS[*]:-}"}
if [ -n "${MAKELEVEL:-}" ] && [ -z "${RCGC_BENCH_CMD:-}" ]; then
    CMD="make bench${ARGS[*]:+ BENCH_ARGS=\"${ARGS[*]}\"}"
fi
{
    echo "## Benchmarks"
    echo
    echo "Produced by \`$CMD\` on $START ($((SECONDS / 60)) min"
    echo "$((SECONDS % 60)) s): $(uname -m), ${CPU:-unknown CPU},"
    echo "$(nproc) cores of a shared virtual machine (other tenants' load comes and goes)."
    echo "Every table holds all its competitors in one process, alternating"
    echo "them round by round; cells are the median (min–max) over the"
    echo "rounds and **the ratio to the reference** in the same run (absolute"
    echo "times on a shared machine drift; ratios are what to read). Times"
    echo "are the thread's CPU time unless \`--wall\`; targets are the"
    echo "project's stated goals (✓ met, ✗ missed). Raw numbers: \`bench/out/*.csv\`."
    echo
    for t in trace alloc alloc-rss refcount gc young pacing pacing_sweep mem heaps pause; do
        if [ -f "$OUT/$t.md" ]; then
            sed 's/^### /#### /' "$OUT/$t.md"
        fi
    done
    if [ -f "$OUT/pyworkloads.md" ]; then
        echo "#### CPython's stdlib workloads on objalloc (bench/pyworkloads.sh)"
        echo
        cat "$OUT/pyworkloads.md"
        echo
    elif [ -n "$PYSTATUS" ]; then
        echo "$PYSTATUS"
        echo
    fi
    if [ -f "$OUT/alloc-lifo-classes.md" ]; then
        echo "<details><summary>LIFO per size class</summary>"
        echo
        sed 's/^### /#### /' "$OUT/alloc-lifo-classes.md"
        echo "</details>"
    fi
} >"$RESULTS"
echo "run-bench: wrote ${RESULTS#"$ROOT"/} (make bench-publish copies it" \
    "to bench/RESULTS.md)" >&2
