#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The differential fuzzer (fuzz/): build, run for a while, or check.
#
#   scripts/fuzz.sh run SECONDS   libFuzzer (clang, ASan+UBSan) for SECONDS,
#                                 starting from fuzz/corpus; new inputs go to
#                                 $BUILD/fuzz-corpus, crashes to
#                                 $BUILD/fuzz-artifacts (make fuzz)
#   scripts/fuzz.sh check         bounded and deterministic (make check):
#                                 1. replay fuzz/corpus under libFuzzer;
#                                 2. a mutation pass, fixed seed, fixed runs;
#                                 3. random inputs through the plain replay
#                                    binary (gcc, RCGC_DEBUG), 2 processes,
#                                    until the three passes made at least
#                                    FUZZ_MIN_OPS operations (10 million);
#                                 4. the corpus again under Valgrind memcheck.
#   scripts/fuzz.sh build         only build both binaries
#
# Builds go to $BUILD/fuzz-libfuzzer and $BUILD/fuzz-replay (BUILD defaults
# to "build", as in the Makefile).  Each binary prints "fuzz: N operations
# in M inputs" at exit; any disagreement with the model aborts with a
# message naming the operation.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOBS=${JOBS:-2}
MIN_OPS=${FUZZ_MIN_OPS:-10000000}
MUTATE_RUNS=${FUZZ_MUTATE_RUNS:-2500}
lf=$BUILD/fuzz-libfuzzer
rp=$BUILD/fuzz-replay

build() {
    cmake -S fuzz -B "$lf" -DFUZZ_ENGINE=libfuzzer -DCMAKE_C_COMPILER=clang \
        >/dev/null
    cmake --build "$lf" -j "$JOBS"
    cmake -S fuzz -B "$rp" -DFUZZ_ENGINE=replay -DCMAKE_C_COMPILER=gcc \
        >/dev/null
    cmake --build "$rp" -j "$JOBS"
}

# The operation count a run printed (its last "fuzz: N operations" line).
ops_of() {
    grep -o 'fuzz: [0-9]* operations' "$1" | tail -1 | awk '{print $2}'
}

run() {
    local secs=${1:?usage: fuzz.sh run SECONDS}
    build
    mkdir -p "$BUILD/fuzz-corpus" "$BUILD/fuzz-artifacts"
    ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16} \
        "$lf/fuzz_rcgc" -max_total_time="$secs" -max_len=4096 -timeout=60 \
        -artifact_prefix="$BUILD/fuzz-artifacts/" \
        "$BUILD/fuzz-corpus" fuzz/corpus
    echo "fuzz: new inputs in $BUILD/fuzz-corpus; to keep the useful ones:"
    echo "  $lf/fuzz_rcgc -merge=1 fuzz/corpus $BUILD/fuzz-corpus"
}

check() {
    build
    # (global: the EXIT trap runs after check returns)
    logs=$(mktemp -d "${TMPDIR:-/tmp}/rcgc-fuzz.XXXXXX")
    trap 'rm -rf "$logs"' EXIT
    export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    local total=0 n

    echo "== fuzz: replay fuzz/corpus (libFuzzer, ASan+UBSan)"
    if ! "$lf/fuzz_rcgc" fuzz/corpus/* >"$logs/replay" 2>&1; then
        tail -40 "$logs/replay"
        echo "fuzz: corpus replay FAILED"
        return 1
    fi
    n=$(ops_of "$logs/replay"); total=$((total + n))
    echo "fuzz: corpus: $n operations"

    echo "== fuzz: mutation pass (-seed=1 -runs=$MUTATE_RUNS)"
    mkdir -p "$logs/new"
    if ! "$lf/fuzz_rcgc" -seed=1 -runs="$MUTATE_RUNS" -max_len=4096 \
        -len_control=0 -timeout=60 -artifact_prefix="$logs/" \
        "$logs/new" fuzz/corpus >"$logs/mutate" 2>&1; then
        tail -40 "$logs/mutate"
        mkdir -p "$BUILD/fuzz-artifacts"
        cp "$logs"/crash-* "$logs"/timeout-* "$logs"/leak-* \
            "$BUILD/fuzz-artifacts/" 2>/dev/null || true
        echo "fuzz: mutation pass FAILED (input kept in $BUILD/fuzz-artifacts)"
        return 1
    fi
    n=$(ops_of "$logs/mutate"); total=$((total + n))
    echo "fuzz: mutation pass: $n operations"

    echo "== fuzz: random pass (replay binary) up to $MIN_OPS operations"
    local seed=1
    while [ "$total" -lt "$MIN_OPS" ]; do
        local pids=() i
        for i in 1 2; do
            "$rp/fuzz_replay" -random 1000 "$seed" 4096 \
                >"$logs/random.$i" 2>&1 &
            pids+=($!)
            seed=$((seed + 1))
        done
        for i in 1 2; do
            if ! wait "${pids[$((i - 1))]}"; then
                tail -20 "$logs/random.$i"
                echo "fuzz: random pass FAILED (fuzz_replay -random 1000" \
                    "$((seed - 3 + i)) 4096 reproduces it)"
                return 1
            fi
            n=$(ops_of "$logs/random.$i"); total=$((total + n))
        done
    done
    echo "fuzz: $total operations in all"

    if command -v valgrind >/dev/null; then
        echo "== fuzz: replay fuzz/corpus under Valgrind memcheck"
        if ! valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect,possible \
            --show-leak-kinds=definite,indirect,possible \
            "$rp/fuzz_replay" fuzz/corpus >"$logs/vg" 2>&1; then
            tail -40 "$logs/vg"
            echo "fuzz: Valgrind replay FAILED"
            return 1
        fi
        echo "fuzz: Valgrind replay clean"
    fi
    echo "fuzz: check passed"
}

case ${1:-} in
    run) run "${2:-}" ;;
    check) check ;;
    build) build ;;
    *)
        echo "usage: scripts/fuzz.sh run SECONDS | check | build" >&2
        exit 2
        ;;
esac
