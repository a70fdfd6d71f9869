#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs.sh - the API reference from the public headers (make docs).
# Usage: scripts/docs.sh [OUTDIR]   (default build/docs)
#   1. configure CMake into OUTDIR/cmake (no build): it writes the headers
#      as installed, OUTDIR/cmake/include/rcgc/*.h;
#   2. doxygen (Doxyfile) on them: OUTDIR/html/index.html;
#   3. fail if Doxygen warned (OUTDIR/warnings.log).
# Needs doxygen (Debian: doxygen; make deps-docs installs it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-build/docs}
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
command -v doxygen >/dev/null || {
    echo "docs: doxygen not found (make deps-docs, or apt-get install doxygen)"
    exit 1
}
mkdir -p "$OUT"
cmake -S "$ROOT" -B "$OUT/cmake" -DRCGC_TESTS=OFF -DRCGC_EXAMPLES=OFF \
    -DRCGC_INSTALL=OFF >/dev/null
export RCGC_VERSION RCGC_DOCS_OUT="$OUT"
export RCGC_DOCS_INPUT="$OUT/cmake/include/rcgc"
export RCGC_DOCS_STRIP="$OUT/cmake/include"
RCGC_VERSION=$(head -n1 "$ROOT/VERSION")
rm -rf "$OUT/html"
(cd "$ROOT" && doxygen Doxyfile)
if [ -s "$OUT/warnings.log" ]; then
    cat "$OUT/warnings.log"
    echo "docs: doxygen warned ($(wc -l <"$OUT/warnings.log") lines)"
    exit 1
fi
echo "docs: $OUT/html/index.html"
