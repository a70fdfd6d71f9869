#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the rcgc Python extension and run its tests, then a Valgrind smoke
# run.  Usage: scripts/check-python.sh [PYTHON]   (default: python3)
#
# 1. Build with setup.py into a temporary directory, with the library's
#    debug checks and memcheck client requests on (RCGC_PYEXT_DEBUG=1) and
#    -Werror, so that misuse of the C API aborts the tests.
# 2. python -m unittest from the repository root (tests/__init__.py
#    discovers tests/python) against that build; it must run tests.
# 3. The extension exports PyInit__rcgc and nothing else (nm -D), and, when
#    RCGC_LIBRCGC names a built librcgc.so (make check-python passes the
#    debug build's), the tests of weak references, finalizers and nodes
#    pass with that library preloaded (LD_PRELOAD): its exported copies of
#    the API must not replace the extension's own.
# 4. mypy.stubtest of pyext/rcgc/__init__.pyi against the build, with
#    PYTHON or else /usr/bin/python3 when either has mypy (Debian:
#    python3-mypy); said and skipped when neither has.
# 5. Valgrind memcheck on the same tests (SMOKE below: all of them but the
#    pydoc one; about a minute) with PYTHONMALLOC=malloc and
#    RCGC_UNDER_VALGRIND=1.  CPython itself leaves memcheck noise (its
#    interned strings, static types, the allocations it never frees at
#    exit), so the run does not fail on Valgrind's exit status: a filter
#    (vg_filter below) splits each log into error records and fails only
#    on records whose stack has a frame of rcgc's code: a source file under
#    base/, objalloc/, refcount/, cyclegc/, pyalloc/ or pyext/ (valgrind
#    prints full paths with --fullpath-after=) or the _rcgc shared object.  Leaks count
#    when "definitely" or "indirectly" lost.
#    Set RCGC_SKIP_VALGRIND=1 to skip step 5 (or when valgrind is missing).
set -uo pipefail
PY=${1:-python3}
# The interpreter itself, not a wrapper (pyenv's shims are shell scripts,
# and valgrind must run the real binary).
PY=$("$PY" -c 'import sys; print(sys.executable)') || exit 1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/rcgc-py.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== check-python: building rcgc with $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])')"
if ! RCGC_PYEXT_DEBUG=1 RCGC_PYEXT_WERROR=1 "$PY" setup.py -q build_ext \
        --build-lib "$work/lib" --build-temp "$work/tmp" >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "check-python: build FAILED"
    exit 1
fi
# The pure-Python half of the package next to the C module.
cp pyext/rcgc/*.py pyext/rcgc/*.pyi pyext/rcgc/py.typed "$work/lib/rcgc/"

echo "== check-python: unit tests (python -m unittest at the root)"
if ! PYTHONPATH="$work/lib" "$PY" -m unittest -v 2>&1 | tee "$work/unittest.log"; then
    echo "check-python: unit tests FAILED"
    exit 1
fi
if ! grep -Eq '^Ran [1-9][0-9]* tests?' "$work/unittest.log"; then
    echo "check-python: python -m unittest ran no test"
    exit 1
fi

echo "== check-python: exported symbols"
so=$(find "$work/lib/rcgc" -name '_rcgc*.so' | head -n1)
exports=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWi]$/ { print $3 }')
if [ "$exports" != PyInit__rcgc ]; then
    echo "check-python: $so exports more than PyInit__rcgc:"
    echo "$exports" | head -20
    exit 1
fi
echo "only PyInit__rcgc"
if [ -n "${RCGC_LIBRCGC:-}" ]; then
    echo "== check-python: weak references etc. with $RCGC_LIBRCGC preloaded"
    if ! (cd tests/python && PYTHONPATH="$work/lib" \
            LD_PRELOAD="$RCGC_LIBRCGC" "$PY" -m unittest test_nodes \
            test_finalizers test_reentrancy test_errors); then
        echo "check-python: tests FAILED with librcgc.so preloaded"
        exit 1
    fi
fi

echo "== check-python: mypy.stubtest"
stubpy=""
for p in "$PY" /usr/bin/python3; do
    if [ -x "$(command -v "$p")" ] && "$p" -c 'import mypy.stubtest' 2>/dev/null &&
        [ "$("$p" -c 'import sys; print(sys.version_info[:2])')" = \
          "$("$PY" -c 'import sys; print(sys.version_info[:2])')" ]; then
        stubpy=$p
        break
    fi
done
if [ -n "$stubpy" ]; then
    if ! (cd "$work" && PYTHONPATH="$work/lib" "$stubpy" -m mypy.stubtest \
            --allowlist "$root/pyext/stubtest-allowlist.txt" rcgc); then
        echo "check-python: stubtest FAILED"
        exit 1
    fi
else
    echo "check-python: stubtest skipped: no python$("$PY" -c \
        'import sys; print("%d.%d" % sys.version_info[:2])') with mypy" \
        "(Debian: apt-get install python3-mypy)"
fi

if [ "${RCGC_SKIP_VALGRIND:-0}" != 0 ] || ! command -v valgrind >/dev/null; then
    echo "check-python: valgrind smoke run skipped"
    exit 0
fi

SMOKE="test_nodes test_finalizers test_callbacks test_errors test_gc_api test_reentrancy test_builders test_heaps test_oom test_cpython314 test_incremental"
echo "== check-python: valgrind smoke run ($SMOKE)"
(cd tests/python && PYTHONPATH="$work/lib:$root/tests/python" \
    PYTHONMALLOC=malloc RCGC_UNDER_VALGRIND=1 \
    valgrind --tool=memcheck --leak-check=full \
        --show-leak-kinds=definite,indirect --num-callers=40 \
        --fullpath-after= \
        --log-file="$work/vg.%p" \
        "$PY" -m unittest $SMOKE) || {
    echo "check-python: tests FAILED under valgrind"
    exit 1
}
if ! "$PY" - "$work"/vg.* <<'PYEOF'
"""vg_filter: fail on memcheck error records with a frame of rcgc code."""
import re
import sys

KINDS = re.compile(r"^(Invalid (read|write|free)|Mismatched free|"
                   r"Conditional jump|Use of uninitialised|Syscall param|"
                   r"Source and destination overlap|"
                   r".*are (definitely|indirectly) lost)")
OURS = re.compile(r"(/|\(|\s)(base|objalloc|refcount|cyclegc|pyalloc|pyext)/[\w.]+\.c:|_rcgc\.")
bad = total = 0
for path in sys.argv[1:]:
    block = []
    lines = [re.sub(r"^==\d+== ?", "", l.rstrip("\n")) for l in open(path)]
    for line in lines + [""]:
        if line.strip():
            block.append(line)
            continue
        if block and KINDS.match(block[0]):
            total += 1
            if any(OURS.search(l) for l in block[1:]):
                bad += 1
                print("--- %s" % path)
                print("\n".join(block))
        block = []
print("valgrind: %d error records, %d in rcgc code" % (total, bad))
sys.exit(1 if bad else 0)
PYEOF
then
    echo "check-python: valgrind found errors in rcgc code"
    exit 1
fi
echo "check-python: all passed"
