/* SPDX-License-Identifier: MIT */
/* pacing.c - when to collect: thresholds that follow the yield of the
 * collections, and the external bytes objects account for.
 *
 * Data (GcHeap, internal.h): per generation the base threshold (as set)
 * and the threshold in force; the pacing mode and what adaptive pacing
 * remembers of the last young collection; the external bytes accounted
 * and not released, the bytes short of one count, and the bytes at which
 * a full collection is due.
 *
 *   1. bytes: gc_bytes_acquire adds one generation-0 count per
 *      GC_BYTES_PER_COUNT bytes (the rest carried to the next call);
 *      release takes them back, never below 0, as a deallocation does.
 *      The next tracked allocation then starts a collection as usual.
 *   2. yield (adaptive pacing, after each collection, collect.c):
 *      generation 0 with under 1/8 unreachable: the next up to
 *      GC_PACING_MAX_SKIPS times it is due, gc_pace_skip_young moves it
 *      into generation 1 unexamined; a full collection doubles the
 *      oldest generation's threshold under 1/8 and halves it over 1/2,
 *      within [base, GC_PACING_MAX_FACTOR * base];
 *   3. bytes in old cycles: once the accounted bytes have doubled since
 *      the last full collection (and grown by at least threshold0 counts'
 *      worth), the next tracked allocation runs a full collection
 *      (collect.c, reason GC_REASON_BYTES), in either mode.
 *
 * Why skip rather than raise threshold0: measured here, a young
 * collection costs more per object as it grows past the caches (about
 * 21 ns at 2000 objects, 36 at 16000, bench "pacing"), and each object
 * is examined once per generation whatever the thresholds; what a low
 * yield makes wasteful is the examination itself.
 *
 * Invariant: base <= threshold <= GC_PACING_MAX_FACTOR * base for each
 * generation (threshold == base under fixed pacing, and for generations
 * 0 and 1); young_skips <= GC_PACING_MAX_SKIPS.  The idea is PHP's and
 * Nim ORC's (a collection that finds little makes the next one later),
 * with a stated bound instead of an open-ended one.
 */
#include "cyclegc/internal.h"

#include <limits.h>

#define YIELD_LOW  8 /* y < 1/YIELD_LOW: collect less often */
#define YIELD_HIGH 2 /* y > 1/YIELD_HIGH: back toward the base */

int
gc_set_pacing(GcHeap *gc, GcPacing mode)
{
    if (gc == NULL) {
        gc_null_heap("gc_set_pacing");
        return -1;
    }
    if (mode != GC_PACING_FIXED && mode != GC_PACING_ADAPTIVE) {
        gc_set_error(gc,
                     "gc_set_pacing: unknown mode %d (0 fixed, 1 adaptive)",
                     (int)mode);
        return -1;
    }
    gc->pacing = mode;
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        gc->gens[i].threshold = gc->gens[i].base;
    }
    GC_CHECKPOINT(gc, "gc_set_pacing", NULL);
    return 0;
}

GcPacing
gc_get_pacing(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_pacing");
        return GC_PACING_FIXED;
    }
    return gc->pacing;
}

/* 2. the oldest generation's threshold, after a full collection. */
static void
pace_full(GcGen *g, size_t examined, size_t unreachable)
{
    long cap = g->base <= LONG_MAX / GC_PACING_MAX_FACTOR
                   ? g->base * GC_PACING_MAX_FACTOR
                   : LONG_MAX;
    if (unreachable * YIELD_LOW < examined) {
        g->threshold = g->threshold <= cap / 2 ? g->threshold * 2 : cap;
    }
    else if (unreachable * YIELD_HIGH > examined) {
        g->threshold =
            g->threshold / 2 >= g->base ? g->threshold / 2 : g->base;
    }
}

/* Before and after: base <= threshold <= MAX_FACTOR * base; skips <=
 * GC_PACING_MAX_SKIPS. */
void
gc_pace(GcHeap *gc, int generation, size_t examined, size_t unreachable)
{
    if (generation == GC_NGENERATIONS - 1) {
        gc_bytes_rearm(gc);
    }
    if (gc->pacing != GC_PACING_ADAPTIVE || examined == 0) {
        return;
    }
    if (generation == 0) {
        /* 2. the young yield, for the next times generation 0 is due */
        gc->young_low = unreachable * YIELD_LOW < examined;
        gc->young_skips = 0;
    }
    else if (generation == GC_NGENERATIONS - 1) {
        pace_full(&gc->gens[generation], examined, unreachable);
    }
}

int
gc_pace_skip_young(GcHeap *gc)
{
    if (gc->pacing != GC_PACING_ADAPTIVE || !gc->young_low ||
        gc->young_skips >= GC_PACING_MAX_SKIPS) {
        return 0;
    }
    /* What a collection of generation 0 would have done with survivors
     * only: they join generation 1, which counts one more pass. */
    gc_list_merge(&gc->gens[0].list, &gc->gens[1].list);
    gc->young_stale = 1;    /* they keep GC_OBJ_YOUNG (internal.h) */
    gc->gen1_filter_on = 0; /* not noted in generation 1's filter */
    gc_gen0_filter_reset(gc);
    gc->gens[0].count = 0;
    gc->gens[1].count++;
    gc->young_skips++;
    gc->skips_unlogged++;
    gc->stats[0].skipped++;
    return 1;
}

/* ---- 1. bytes ------------------------------------------------------- */

/* 3. bytes_next: twice the bytes accounted now, and at least a young
 * generation's worth more (never, while threshold0 is 0).  Called after
 * each full collection: what cycles that reached an older generation
 * hold may then be most of the bytes. */
void
gc_bytes_rearm(GcHeap *gc)
{
    size_t floor = (size_t)gc->gens[0].base * GC_BYTES_PER_COUNT;
    size_t step = gc->bytes > floor ? gc->bytes : floor;
    if (gc->gens[0].base == 0 || step > SIZE_MAX - gc->bytes) {
        gc->bytes_next = SIZE_MAX;
    }
    else {
        gc->bytes_next = gc->bytes + step;
    }
}

int
gc_bytes_acquire(RcObject *op, size_t nbytes)
{
    if (op == NULL) {
        return -1; /* no heap to leave a message in, as gc_track */
    }
    GcHeap *gc = gc_heap_of(op);
    if (gc == NULL) {
        return 0; /* no collector: nothing to pace */
    }
    if (nbytes > SIZE_MAX - gc->bytes) {
        gc_set_error(gc,
                     "gc_bytes_acquire: %zu more bytes overflow the %zu "
                     "accounted",
                     nbytes, gc->bytes);
        return -1;
    }
    gc->bytes += nbytes;
    size_t units = nbytes / GC_BYTES_PER_COUNT;
    gc->bytes_carry += nbytes % GC_BYTES_PER_COUNT;
    units += gc->bytes_carry / GC_BYTES_PER_COUNT;
    gc->bytes_carry %= GC_BYTES_PER_COUNT;
    long room = LONG_MAX - gc->gens[0].count;
    gc->gens[0].count += units < (size_t)room ? (long)units : room;
    GC_CHECKPOINT(gc, "gc_bytes_acquire", op);
    return 0;
}

int
gc_bytes_release(RcObject *op, size_t nbytes)
{
    if (op == NULL) {
        return -1;
    }
    GcHeap *gc = gc_heap_of(op);
    if (gc == NULL) {
        return 0;
    }
    if (nbytes > gc->bytes) {
        gc_set_error(gc,
                     "gc_bytes_release: object %p of type '%s' releases %zu "
                     "bytes, but only %zu are accounted in its heap",
                     (void *)op, op->type->name, nbytes, gc->bytes);
        return -1;
    }
    gc->bytes -= nbytes;
    size_t units = nbytes / GC_BYTES_PER_COUNT;
    long *count = &gc->gens[0].count;
    *count = units < (size_t)*count ? *count - (long)units : 0;
    GC_CHECKPOINT(gc, "gc_bytes_release", op);
    return 0;
}
