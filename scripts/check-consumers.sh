#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-consumers.sh - use rcgc from outside, as a new user would, through
# each documented door; every door builds and runs tests/consumer/main.c
# (a C99 program, -Werror, that includes <rcgc/rcgc.h> and collects a
# cycle) against the static and the shared library:
#   1. add_subdirectory(rcgc) from another CMake project (the build must
#      define no test, example or benchmark target of ours);
#   2. find_package(rcgc) from an install into a temporary prefix;
#   3. pkg-config from the same install, whose Cflags must be
#      -I<prefix>/include alone (no generic folder names on the path).
# Usage: scripts/check-consumers.sh   (about a minute on 2 cores)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcgc-consumers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
VERSION=$(head -n1 "$ROOT/VERSION")
CONSUMER="$ROOT/tests/consumer"
TARGETS=(--target consumer_rcgc consumer_rcgc_shared)

run_both() {
    "$1/consumer_rcgc"
    "$1/consumer_rcgc_shared"
}

echo "== consumers: add_subdirectory"
cmake -S "$CONSUMER" -B "$WORK/sub" -DCMAKE_BUILD_TYPE=Release \
    -DRCGC_CONSUME=subdirectory -DRCGC_SOURCE_DIR="$ROOT" >/dev/null
cmake --build "$WORK/sub" -j "$JOBS" "${TARGETS[@]}" >/dev/null
run_both "$WORK/sub"

echo "== consumers: install, then find_package"
cmake -S "$ROOT" -B "$WORK/lib" -DCMAKE_BUILD_TYPE=Release \
    -DRCGC_TESTS=OFF -DRCGC_EXAMPLES=OFF >/dev/null
cmake --build "$WORK/lib" -j "$JOBS" --target rcgc rcgc_shared >/dev/null
cmake --install "$WORK/lib" --prefix "$WORK/prefix" >/dev/null
for f in include/rcgc/rcgc.h include/rcgc/version.h share/doc/rcgc/LICENSE; do
    [ -f "$WORK/prefix/$f" ] || { echo "consumers: $f not installed"; exit 1; }
done
extra=$(find "$WORK/prefix/include" -mindepth 1 ! -path "*/include/rcgc" \
    ! -path "*/include/rcgc/*.h")
if [ -n "$extra" ]; then
    echo "consumers: unexpected entries under include/: $extra"
    exit 1
fi
cmake -S "$CONSUMER" -B "$WORK/pkg" -DCMAKE_BUILD_TYPE=Release \
    -DRCGC_CONSUME=package -DRCGC_SOURCE_DIR="$ROOT" \
    -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
cmake --build "$WORK/pkg" -j "$JOBS" "${TARGETS[@]}" >/dev/null
run_both "$WORK/pkg"

echo "== consumers: pkg-config"
export PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig"
[ -d "$PKG_CONFIG_PATH" ] ||
    PKG_CONFIG_PATH=$(dirname "$(find "$WORK/prefix" -name rcgc.pc)")
cflags=$(pkg-config --cflags rcgc)
read -r -a words <<<"$cflags"
if [ "${#words[@]}" != 1 ] || [ "${words[0]#-I}" = "${words[0]}" ] ||
    [ "$(readlink -f "${words[0]#-I}")" != "$(readlink -f "$WORK/prefix/include")" ]; then
    echo "consumers: pkg-config --cflags rcgc gave '$cflags'"
    exit 1
fi
[ "$(pkg-config --modversion rcgc)" = "$VERSION" ]
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Wpedantic -Werror \
    -DEXPECTED_VERSION="\"$VERSION\"" "$CONSUMER/main.c" \
    $(pkg-config --cflags --libs rcgc) -o "$WORK/consumer_pc"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir rcgc)" "$WORK/consumer_pc"
echo "consumers: all passed"
