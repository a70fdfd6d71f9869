/* SPDX-License-Identifier: MIT */
/* entry.c - the fuzzer's entry point: one input, fresh heaps.
 *
 * LLVMFuzzerTestOneInput (called by libFuzzer, or by replay.c's main in
 * builds without libFuzzer) runs one input from a clean state:
 *   1. create FZ_GC_HEAPS complete stacks (gc_heap_new(NULL)) with the
 *      model's start/stop callback, and one bare objalloc heap; the first
 *      input byte picks the starting threshold of generation 0 (small
 *      thresholds make automatic collections frequent);
 *   2. run the operations (ops.c);
 *   3. tear down under the oracle: a full check of each heap, then drop
 *      every external reference and check again (until no finalizer
 *      resurrects), so that only what immortal objects reach survives;
 *      free the raw blocks; check that every pool block came back;
 *      destroy the heaps.
 * Inputs are independent, so libFuzzer may replay any of them alone.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static Fz state;
Fz *fz = &state;
unsigned long long fz_total_ops;
static unsigned long long total_inputs;

void
fz_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr,
            "fuzz: FAILED at operation %llu (input byte %zu of "
            "%zu): ",
            fz->ops, fz->pos, fz->len);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* Huge requests must come back NULL, not stop the sanitizer. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void
report(void)
{
    fprintf(stderr, "fuzz: %llu operations in %llu inputs\n", fz_total_ops,
            total_inputs);
}

static void
on_gc(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    fz_gc_event((int)(uintptr_t)ctx, phase, info);
}

static void
setup(const uint8_t *data, size_t size)
{
    memset(fz, 0, offsetof(Fz, held));
    memset(fz->map, 0, sizeof fz->map);
    fz->in = data;
    fz->len = size;
    for (int h = 0; h < FZ_GC_HEAPS; h++) {
        GcHeap *gc = gc_heap_new(NULL);
        FZ_CHECK(gc != NULL, "gc_heap_new failed");
        fz->gc[h] = gc;
        fz->rc[h] = gc_heap_rc(gc);
        fz->oa[h] = rc_heap_oa(fz->rc[h]);
        FZ_CHECK(gc_callback_add(gc, on_gc, (void *)(uintptr_t)h) == 0,
                 "gc_callback_add failed");
    }
    fz->oa[FZ_GC_HEAPS] = oa_heap_new();
    FZ_CHECK(fz->oa[FZ_GC_HEAPS] != NULL, "oa_heap_new failed");
    unsigned cfg = fz_byte();
    if (!(cfg & 0x80)) {
        for (int h = 0; h < FZ_GC_HEAPS; h++) {
            FZ_CHECK(gc_set_threshold(fz->gc[h], (long)(cfg % 24), 1 + cfg % 5,
                                      1 + cfg % 3) == 0,
                     "gc_set_threshold failed");
        }
    }
}

static size_t
alive_in(int heap)
{
    size_t n = 0;
    for (int id = 0; id < fz->nobj; id++) {
        n += fz->obj[id].alive && fz->obj[id].heap == heap;
    }
    return n;
}

static void
teardown(void)
{
    for (int h = 0; h < FZ_OA_HEAPS; h++) {
        oa_heap_fail_nth(fz->oa[h], OA_FAIL_ALL, 0, 0);
        oa_heap_set_limit(fz->oa[h], 0);
        fz->inject[h] = fz->limit[h] = fz->oom[h] = 0;
    }
    for (int h = 0; h < FZ_GC_HEAPS; h++) {
        fz_full_check(h);
    }
    do {
        while (fz->nheld > 0) {
            fz_drop_held((size_t)fz->nheld - 1);
        }
        for (int h = 0; h < FZ_GC_HEAPS; h++) {
            fz_full_check(h);
        }
    } while (fz->nheld > 0);
    fz_blocks_free_all();
    fz_heap_checks();
    for (int h = 0; h < FZ_OA_HEAPS; h++) {
        OaStats st;
        oa_heap_stats(fz->oa[h], &st);
        if (h == FZ_GC_HEAPS || alive_in(h) == 0) {
            FZ_CHECK(st.blocks_used == 0 && st.large_blocks == 0,
                     "heap %d: %zu small and %zu large blocks still in use "
                     "after everything died",
                     h, st.blocks_used, st.large_blocks);
        }
    }
    for (int h = 0; h < FZ_GC_HEAPS; h++) {
        gc_heap_destroy(fz->gc[h]);
    }
    oa_heap_destroy(fz->oa[FZ_GC_HEAPS]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int registered;
    if (!registered) {
        registered = 1;
        atexit(report);
    }
    setup(data, size);
    fz_run_ops();
    teardown();
    fz_total_ops += fz->ops;
    total_inputs++;
    return 0;
}
