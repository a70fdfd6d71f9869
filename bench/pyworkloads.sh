#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pyworkloads.sh - real stdlib workloads: rcgc-python vs the stock CPython.
#
# Usage: bench/pyworkloads.sh [BUILD]
#
# Builds rcgc-python, rcgc-python-stock (+ librcgc-pyalloc*.so) and
# rcgc-python-static (when Debian's libpython3.11.a is installed) into
# BUILD/launcher (Release) unless RCGC_PYTHON names an existing launcher
# (then RCGC_PYTHON_STOCK and RCGC_PYTHON_STATIC name the others, if any),
# then runs bench/pyworkloads/driver.py: json round trips, ast.parse of
# stdlib files, compileall of a copied stdlib subset, regex-heavy text
# processing, each under the stock /usr/bin/python3.11 (pymalloc),
# PYTHONMALLOC=malloc, the same stock binary with objalloc preloaded
# (rcgc-python-stock) and with the library preloaded but idle
# (RCGC_OBJALLOC=0), rcgc-python (objalloc, libpython3.11.so),
# rcgc-python-static and rcgc-python with RCGC_OBJALLOC=0.  Prints two
# markdown tables on stdout (medians of alternating runs: wall time, CPU
# time and peak RSS as ratios to the stock interpreter; then issue 8's
# target, objalloc / pymalloc within each binary); progress on stderr.
# Environment: PYWORKLOADS_RUNS (default 5), JOBS (build, default 2).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
STOCK=${STOCK_PYTHON:-/usr/bin/python3.11}

"$ROOT/scripts/deps.sh" cmake make gcc pkg-config libpython3.11-dev \
    python3.11 >&2
LAUNCHER=${RCGC_PYTHON:-}
STATIC=${RCGC_PYTHON_STATIC:-}
PRELOADED=${RCGC_PYTHON_STOCK:-}
if [ -z "$LAUNCHER" ]; then
    cmake -S "$ROOT" -B "$BUILD/launcher" -DCMAKE_BUILD_TYPE=Release \
        -DRCGC_LAUNCHER=ON -DRCGC_TESTS=OFF >/dev/null
    cmake --build "$BUILD/launcher" -j "${JOBS:-2}" --target rcgc-python \
        >&2
    LAUNCHER="$BUILD/launcher/rcgc-python"
    cmake --build "$BUILD/launcher" -j "${JOBS:-2}" \
        --target rcgc-python-stock >&2
    PRELOADED="$BUILD/launcher/rcgc-python-stock"
    if cmake --build "$BUILD/launcher" -j "${JOBS:-2}" \
        --target rcgc-python-static >&2 2>/dev/null; then
        STATIC="$BUILD/launcher/rcgc-python-static"
    fi
fi
exec "$STOCK" "$ROOT/bench/pyworkloads/driver.py" --launcher "$LAUNCHER" \
    ${STATIC:+--static "$STATIC"} ${PRELOADED:+--preloaded "$PRELOADED"} \
    --stock "$STOCK" \
    --runs "${PYWORKLOADS_RUNS:-5}"
