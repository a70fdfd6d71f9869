#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every criterion binary of a build under Valgrind memcheck.
# Each test runs in its own forked worker; memcheck follows the fork and
# writes one log per process.  A worker passes when its log has zero
# errors and no definite, indirect or possible leak.  Tests whose suite
# name ends in _death abort on purpose (the debug checks) and are left to
# the native and ASan runs.  objalloc's pools are visible to memcheck
# through client requests (the debug build sets RCGC_VALGRIND).
set -uo pipefail
build=${1:?usage: valgrind-tests.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d "${TMPDIR:-/tmp}/rcgc-vg.XXXXXX")
trap 'rm -rf "$logs"' EXIT
status=0
found=0
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    mkdir -p "$logs/$name"
    echo "== valgrind: $name"
    RCGC_UNDER_VALGRIND=1 valgrind -q --error-exitcode=99 --trace-children=yes \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible \
        --suppressions="$here/valgrind.supp" --num-callers=30 \
        --log-file="$logs/$name/vg.%p" \
        "$t" --jobs=2 --filter='!(*_death/*)'
    rc=$?
    bad=0
    for log in "$logs/$name"/vg.*; do
        if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost|indirectly lost|possibly lost|Invalid (read|write|free)|uninitialised' "$log"; then
            bad=1
            echo "--- $(basename "$log")"
            cat "$log"
        fi
    done
    if [ $rc -ne 0 ] || [ $bad -ne 0 ]; then
        echo "valgrind: $name FAILED (exit $rc)"
        status=1
    else
        echo "valgrind: $name clean"
    fi
done
[ $found = 1 ] || { echo "valgrind: no test binaries in $build/tests"; exit 1; }
exit $status
