#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the deliberately wrong programs of tests/bad and pass only if every
# one of them is flagged: under Valgrind memcheck in BUILD/debug (objalloc
# built with RCGC_VALGRIND client requests) and natively in BUILD/asan
# (RCGC_ASAN poisoning).  A program that runs clean means the hooks are
# broken: the pool allocator would be hiding bugs from the tools.
set -uo pipefail
build=${1:?usage: check-bad.sh BUILD (with BUILD/debug and BUILD/asan)}
status=0
found=0
log=$(mktemp "${TMPDIR:-/tmp}/rcgc-bad.XXXXXX")
trap 'rm -f "$log"' EXIT

for prog in "$build"/debug/tests/bad/bad_*; do
    [ -x "$prog" ] || continue
    found=$((found + 1))
    name=$(basename "$prog")
    valgrind -q --error-exitcode=99 --leak-check=no "$prog" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 99 ] && grep -q 'Invalid read' "$log"; then
        echo "check-bad: memcheck flags $name"
    else
        echo "check-bad: memcheck did NOT flag $name (exit $rc)"
        cat "$log"
        status=1
    fi
done

for prog in "$build"/asan/tests/bad/bad_*; do
    [ -x "$prog" ] || continue
    found=$((found + 1))
    name=$(basename "$prog")
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 "$prog" >"$log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] && grep -q 'ERROR: AddressSanitizer' "$log"; then
        echo "check-bad: ASan flags $name"
    else
        echo "check-bad: ASan did NOT flag $name (exit $rc)"
        cat "$log"
        status=1
    fi
done

if [ $found -lt 4 ]; then
    echo "check-bad: expected the bad programs in $build/debug and" \
        "$build/asan, found $found"
    status=1
fi
[ $status -eq 0 ] && echo "check-bad: every wrong program was flagged"
exit $status
