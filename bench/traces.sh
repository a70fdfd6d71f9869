#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# traces.sh - record the allocation traces that rcgc-bench trace replays.
#
# Usage: bench/traces.sh [BUILD]     (make traces; default BUILD = build)
#
# Builds rcgc-python (Release) into BUILD/launcher unless RCGC_PYTHON
# names one, then runs each program of bench/traces/*.py under it with
# RCGC_TRACE=BUILD/traces/<name>.trc (launcher/pytrace.c: every MEM/OBJ
# allocation call, on CPython's own pymalloc) and PYTHONHASHSEED=0, so
# that a trace is the same from run to run.  A trace is recorded again
# only when it is missing or older than its program (FORCE=1: always).
# The traces (7-22 MB each) stay out of the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OUT="$BUILD/traces"
LAUNCHER=${RCGC_PYTHON:-}
if [ -z "$LAUNCHER" ]; then
    "$ROOT/scripts/deps.sh" cmake make gcc pkg-config libpython3.11-dev >&2
    cmake -S "$ROOT" -B "$BUILD/launcher" -DCMAKE_BUILD_TYPE=Release \
        -DRCGC_LAUNCHER=ON -DRCGC_TESTS=OFF >/dev/null
    cmake --build "$BUILD/launcher" -j "${JOBS:-2}" --target rcgc-python >&2
    LAUNCHER="$BUILD/launcher/rcgc-python"
fi
mkdir -p "$OUT"
for prog in "$ROOT"/bench/traces/*.py; do
    name=$(basename "$prog" .py)
    trc="$OUT/$name.trc"
    if [ "${FORCE:-0}" != 1 ] && [ "$trc" -nt "$prog" ] &&
        [ "$trc" -nt "$LAUNCHER" ]; then
        continue
    fi
    echo "traces: recording $name" >&2
    # A failed run must not leave a trace behind for the replayer.
    if ! env -u PYTHONPATH PYTHONHASHSEED=0 RCGC_TRACE="$trc.tmp" \
        "$LAUNCHER" "$prog" >/dev/null; then
        rm -f "$trc.tmp"
        echo "traces: $name failed" >&2
        exit 1
    fi
    mv "$trc.tmp" "$trc"
done
ls -l "$OUT"/*.trc >&2
