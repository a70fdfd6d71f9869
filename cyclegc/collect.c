/* SPDX-License-Identifier: MIT */
/* collect.c - one collection, phase by phase, and when to run one.
 *
 * gc_collect(generation) and the automatic trigger both end in
 * collect_with_callbacks(), which marks the heap as collecting (so that a
 * collection requested from a finalizer or a callback does nothing and
 * returns 0), calls the "start" callbacks, runs collect_main(), then the
 * "stop" callbacks.  collect_main, following CPython's gc_collect_main:
 *
 *   1. counters: gen g+1 counts one more collection of g, gens 0..g
 *      restart from 0;
 *   2. merge gens 0..g into a private list `young` (objects created
 *      meanwhile go to the now empty gen 0 and stay there);
 *   3. if young is far from address order, sort it in place (sort.c),
 *      whole (its next links only: step 4 rewrites every prev) or (a
 *      reused heap's shuffle) inside each address window;
 *   4. split it into reachable / unreachable (reach.c);
 *   5. survivors go to `old` (gen g+1, or gen 2 for a full collection);
 *      long-lived counters as CPython;
 *   6. the unreachable are set aside, finalized, cleared (garbage.c);
 *   7. statistics, the pacing decision (pacing.c), event log, debug
 *      lines.
 *
 * Automatic collection (created hook): when gen 0's count passes its
 * threshold, collect the oldest generation whose count passed its
 * threshold; a full collection also waits until the objects promoted into
 * gen 2 since the last full collection exceed a quarter of those that
 * survived it (CPython's long-lived brake).  Accounted bytes that doubled
 * since the last full collection start one at once (pacing.c).
 *
 * One heap per thread at a time: `active` is the heap collecting on this
 * thread; collecting another heap from inside its finalizers or
 * callbacks is refused with an error.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "cyclegc/internal.h"

#include <time.h>

static _Thread_local GcHeap *active;

/* Sort when the runs in address order are short on average, and the
 * set is too big for the caches (a young generation of a few thousand
 * objects was just allocated: it is in cache in any order).  With long
 * runs, sort inside each GC_NEAR window when at least one step in
 * SHUFFLE_MIN goes back (a reused heap's free-list order). */
#define SORT_MIN_RUN  256
#define SORT_MIN_SIZE 16384
#define SHUFFLE_MIN   16

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
debug_start(GcHeap *gc, int generation)
{
    FILE *out = gc_stream(gc);
    fprintf(out, "gc: collecting generation %d...\n", generation);
    fprintf(out, "gc: objects in each generation:");
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        fprintf(out, " %zu", gc_list_size(&gc->gens[i].list));
    }
    fprintf(out, "\ngc: objects in permanent generation: %zu\n",
            gc_list_size(&gc->permanent));
}

static void
record_event(GcHeap *gc, int generation, GcReason reason, const GcSplit *split,
             const GcOutcome *out, uint64_t pause, long threshold)
{
    GcEvent *e = &gc->events[gc->nevents % GC_EVENT_LOG];
    gc->nevents++;
    e->seq = gc->nevents;
    e->generation = generation;
    e->reason = reason;
    e->examined = split->examined;
    e->visits = split->visits;
    e->collected = out->collected;
    e->uncollectable = out->uncollectable;
    e->pause_ns = pause;
    e->threshold = threshold;
    e->next_threshold = gc->gens[generation].threshold;
    e->bytes = gc->bytes;
    e->skipped = gc->skips_unlogged;
    gc->skips_unlogged = 0;
    e->increment = 0;
    e->work = 0;
}

static void
maybe_sort(GcHeap *gc, GcList *young, RcGcHead *const *starts, size_t nstarts)
{
    if (young->size_ub < SORT_MIN_SIZE) {
        return;
    }
    if (young->descents * SORT_MIN_RUN > young->size_ub) {
        /* short runs; reach.c's passes write every prev */
        gc_list_sort_next_from(gc, young, starts, nstarts);
    }
    else if (young->backsteps * SHUFFLE_MIN > young->size_ub) {
        /* Long runs, shuffled inside their windows: sorting the windows
         * costs one walk in list order and one in address order, and
         * makes this collection's later walks (and the next
         * collections') stream.  bench gc, 100k live random graph on
         * a reused heap: 1.23x the fresh heap's time unsorted, 1.10x
         * sorted by windows (1.46x sorted whole). */
        gc_list_sort_windows(young);
    }
}

/* One collection of generations 0..generation, steps 1-7 of the list at the
 * top of this file in that order.  Precondition: the heap is marked as
 * collecting (collect_with_callbacks).  Steps 2-5 run under the heap's
 * claim and call no user code; step 6 runs finalizers and callbacks
 * unclaimed.  After: generations 0..generation are empty (bar objects user
 * code made during step 6), survivors are in `old`, *out holds the counts,
 * and the result is collected + uncollectable. */
static long
collect_main(GcHeap *gc, int generation, GcReason reason, GcOutcome *out)
{
    uint64_t t0 = now_ns();
    long threshold = gc->gens[generation].threshold;
    if (gc->debug & GC_DEBUG_STATS) {
        debug_start(gc, generation);
    }
    /* 1. (a full collection gives up a pass of the pause-bounded mode) */
    if (generation == GC_NGENERATIONS - 1) {
        gc_inc_abandon(gc);
    }
    if (generation + 1 < GC_NGENERATIONS) {
        gc->gens[generation + 1].count++;
    }
    for (int i = 0; i <= generation; i++) {
        gc->gens[i].count = 0;
    }
    /* 2 to 5 run no user code but traverse, and leave the lists packed
     * while they run: in debug builds another thread that uses the heap
     * meanwhile aborts with a message instead of corrupting it.  (User
     * code run later - finalizers, callbacks - may hand the heap to
     * another thread under the caller's lock, as CPython's may release
     * the GIL; the later phases allow for that.) */
    oa_heap_claim(gc->oa, "gc_collect");
    /* 2. */
    GcList young;
    gc_list_init(&young);
    /* A full collection's sort starts a chain at each generation's first
     * object and at each batch promoted into generation 2 since the last
     * one (GcHeap.hints): all in young's order after the merge. */
    RcGcHead *starts[GC_SORT_CHAINS - 1];
    size_t nstarts = 0;
    if (generation == GC_NGENERATIONS - 1) {
        for (int i = 1; i <= generation; i++) {
            if (!gc_list_is_empty(&gc->gens[i].list)) {
                starts[nstarts++] = gc_list_first(&gc->gens[i].list);
            }
        }
        for (size_t i = 0; i < gc->nhints; i++) {
            starts[nstarts++] = gc->hints[i];
        }
        gc_hints_clear(gc);
    }
    for (int i = 0; i <= generation; i++) {
        gc_list_merge(&gc->gens[i].list, &young);
    }
    RCGC_ASSERT_EXPENSIVE(gc_list_valid(&young, 0));
    int full = generation == GC_NGENERATIONS - 1;
    GcList *old = &gc->gens[full ? generation : generation + 1].list;
    /* 3, 4. */
    maybe_sort(gc, &young, starts, nstarts);
    GcList reachable, unreachable;
    gc_list_init(&reachable);
    gc_list_init(&unreachable);
    GcSplit split;
    /* A full collection with nothing frozen holds every tracked object
     * of the heap (other heaps' objects are told apart in reach.c). */
    int all = full && gc_list_is_empty(&gc->permanent);
    if ((generation == 0 && !gc->young_stale) ||
        (generation == 1 && gc->gen1_young && gc->gen0_filter_on &&
         gc->gen1_filter_on)) {
        /* the marks tell exactly young's objects, and the filters cover
         * them (internal.h): no update_refs walk */
        gc_reach_split_young(&young, &reachable, &unreachable, gc->rc, gc,
                             generation, &split);
    }
    else {
        gc_reach_split_filtered(&young, &reachable, &unreachable,
                                all ? gc->rc : NULL, gc->young_filter,
                                gc->young_order, full ? gc : NULL,
                                generation == 0 ? gc : NULL, &split);
    }
    if (generation > 0) {
        gc->young_stale = 0; /* generation 1 was in young */
        gc_gen1_reset(gc);
    }
    gc_gen0_filter_reset(gc); /* generation 0 is empty until user code */
    size_t examined = split.examined;
    RCGC_ASSERT(split.unreachable <= examined);
    RCGC_ASSERT_EXPENSIVE(gc_list_valid(&reachable, 0) &&
                          gc_list_valid(&unreachable, GC_OBJ_UNREACHABLE));
    /* 5. */
    size_t survivors = examined - split.unreachable;
    if (full) {
        gc->long_lived_pending = 0;
        gc->long_lived_total = survivors;
    }
    else if (generation == GC_NGENERATIONS - 2) {
        gc->long_lived_pending += survivors;
    }
    if (!full && old == &gc->gens[GC_NGENERATIONS - 1].list &&
        !gc_list_is_empty(&reachable) && !gc_list_is_empty(old)) {
        gc_hint_note(gc, gc_list_first(&reachable));
    }
    gc_list_merge(&reachable, old);
    RCGC_ASSERT(gc_list_is_empty(&young) && gc_list_is_empty(&reachable));
    oa_heap_release(gc->oa);
    /* 6. (objects it moves into generation 1 carry no GC_OBJ_YOUNG: size_ub
     * counts every append, and a freeze meanwhile clears gen1_young) */
    size_t old_ub = old->size_ub;
    gc_handle_unreachable(gc, &unreachable, old, &split, out);
    if (generation == 0 && old->size_ub != old_ub) {
        gc->gen1_young = 0; /* until generation 1 is next emptied */
        gc->gen1_filter_on = 0;
    }
    /* 7. */
    gc->stats[generation].collections++;
    gc->stats[generation].collected += out->collected;
    gc->stats[generation].uncollectable += out->uncollectable;
    gc_pace(gc, generation, examined, split.unreachable);
    uint64_t pause = now_ns() - t0;
    record_event(gc, generation, reason, &split, out, pause, threshold);
    if (gc->debug & GC_DEBUG_STATS) {
        fprintf(gc_stream(gc),
                "gc: done, %zu unreachable, %zu uncollectable, %.4fs "
                "elapsed\n",
                out->collected + out->uncollectable, out->uncollectable,
                (double)pause / 1e9);
    }
    return (long)(out->collected + out->uncollectable);
}

static void
invoke_callbacks(GcHeap *gc, GcPhase phase, int generation,
                 const GcOutcome *out)
{
    GcInfo info = {.generation = generation,
                   .collected = out != NULL ? (long)out->collected : 0,
                   .uncollectable =
                       out != NULL ? (long)out->uncollectable : 0};
    /* A callback may remove itself or others: index with a fresh bound. */
    for (size_t i = 0; i < gc->ncallbacks; i++) {
        GcCallbackEntry e = gc->callbacks[i];
        e.cb(gc, phase, &info, e.ctx);
    }
}

static long
collect_with_callbacks(GcHeap *gc, int generation, GcReason reason)
{
    GcHeap *outer = active;
    active = gc;
    gc->collecting = 1;
    GcOutcome out = {0, 0};
    invoke_callbacks(gc, GC_PHASE_START, generation, NULL);
    long n = collect_main(gc, generation, reason, &out);
    invoke_callbacks(gc, GC_PHASE_STOP, generation, &out);
    gc->collecting = 0;
    active = outer;
    /* A full collection walked the heap: check all of it (as long), unless
     * rc_decref is destroying an object of it (tracked with count 0). */
    RCGC_ASSERT_EXPENSIVE(generation != GC_NGENERATIONS - 1 ||
                          rc_heap_busy(gc->rc) || gc_check(gc) == 0);
    GC_CHECKPOINT(gc, "gc_collect", NULL);
    return n;
}

long
gc_collect_reason(GcHeap *gc, int generation, GcReason reason)
{
    if (gc->collecting) {
        return 0;
    }
    if (active != NULL && active != gc) {
        gc_set_error(gc, "gc_collect: a collection of another heap is "
                         "running on this thread");
        return -1;
    }
    return collect_with_callbacks(gc, generation, reason);
}

long
gc_collect(GcHeap *gc, int generation)
{
    if (gc == NULL) {
        gc_null_heap("gc_collect");
        return -1;
    }
    if (generation < 0 || generation >= GC_NGENERATIONS) {
        gc_set_error(gc, "gc_collect: invalid generation %d (0..%d)",
                     generation, GC_NGENERATIONS - 1);
        return -1;
    }
    if (gc->collecting) {
        gc_set_error(gc, "gc_collect: a collection is already running");
        return 0;
    }
    return gc_collect_reason(gc, generation, GC_REASON_EXPLICIT);
}

void
gc_maybe_collect(GcHeap *gc)
{
    if (active != NULL) {
        return; /* another heap (or this one) is collecting */
    }
    if (gc_inc_on(gc)) {
        gc_inc_maybe_collect(gc); /* pause-bounded mode */
        return;
    }
    if (gc_bytes_due(gc)) {
        collect_with_callbacks(gc, GC_NGENERATIONS - 1, GC_REASON_BYTES);
        return;
    }
    for (int i = GC_NGENERATIONS - 1; i >= 0; i--) {
        if (gc->gens[i].count > gc->gens[i].threshold) {
            if (i == GC_NGENERATIONS - 1 &&
                gc->long_lived_pending < gc->long_lived_total / 4) {
                continue;
            }
            if (i == 0 && gc_pace_skip_young(gc)) {
                break; /* adaptive pacing: promoted unexamined */
            }
            collect_with_callbacks(gc, i, GC_REASON_THRESHOLD);
            break;
        }
    }
}

/* ---- the pause-bounded mode's entries (incremental.c) --------------- */

long
gc_collect_auto(GcHeap *gc, int generation)
{
    return collect_with_callbacks(gc, generation, GC_REASON_THRESHOLD);
}

/* One increment as a collection of generation 2: callbacks around it,
 * an event (increment 1, its work) and the debug lines. */
long
gc_run_increment(GcHeap *gc, uint64_t budget_ns, int may_begin)
{
    if (gc->collecting) {
        return 0;
    }
    if (active != NULL && active != gc) {
        gc_set_error(gc, "gc_collect_increment: a collection of another "
                         "heap is running on this thread");
        return -1;
    }
    int top = GC_NGENERATIONS - 1;
    GcHeap *outer = active;
    active = gc;
    gc->collecting = 1;
    uint64_t t0 = now_ns();
    GcOutcome out = {0, 0};
    invoke_callbacks(gc, GC_PHASE_START, top, NULL);
    uint64_t work = 0, examined = 0;
    gc_inc_step(gc, budget_ns, may_begin, &out, &work, &examined);
    uint64_t pause = now_ns() - t0;
    GcSplit split = {.examined = examined, .visits = work};
    record_event(gc, top, GC_REASON_THRESHOLD, &split, &out, pause,
                 gc->gens[top].threshold);
    GcEvent *e = &gc->events[(gc->nevents - 1) % GC_EVENT_LOG];
    e->increment = 1;
    e->work = work;
    if (pause > gc->inc.stats.max_pause_ns) {
        gc->inc.stats.max_pause_ns = pause;
    }
    invoke_callbacks(gc, GC_PHASE_STOP, top, &out);
    gc->collecting = 0;
    active = outer;
    GC_CHECKPOINT(gc, "gc_collect_increment", NULL);
    return (long)(out.collected + out.uncollectable);
}
