/* SPDX-License-Identifier: MIT */
/* incpass.c - the life of a pass of the pause-bounded mode around its
 * walks (incremental.c, whose opening describes the algorithm): how a
 * pass begins (the pass set, whether to sort it) and is given up, how it
 * ends (confirmation rounds, one-step confirmation, the garbage handed
 * over), the automatic trigger and the mode's settings and statistics.
 *
 *   gc_inc_begin        generation 2 becomes the pass set; INIT will
 *                       distribute it when it is far from address order
 *   gc_inc_abandon      every list back into generation 2, flags clean
 *   gc_inc_after_sweep  SWEEP ended: settle, confirm or another round
 *   gc_inc_watched      refcount's barrier hook: the round is dirty
 *   gc_inc_maybe_collect  the automatic trigger (collect.c calls it)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "cyclegc/internal.h"

#include <stdint.h>
#include <time.h>

/* Garbage sets larger than this, that need no finalizer or weakref work,
 * are cleared over the next increments. */
#define DOOM_MIN 1024
/* Candidates confirmed in one step (exact trial deletion restricted to
 * them) when there are at most this many, or after this many rounds.
 * Builds with asserts run rounds from a few candidates up, so that the
 * oracle test and the fuzzer drive them (check_garbage verifies what
 * each clean round proves). */
#if RCGC_ASSERTS
#define CONFIRM_MAX 8
#else
#define CONFIRM_MAX 1024
#endif
#define ROUNDS_MAX 8
/* Distribute the pass set when it has more objects than this and runs in
 * address order shorter than SORT_MIN_RUN on average (collect.c's rule
 * for sorting a collected list). */
#define SORT_MIN_SIZE 16384
#define SORT_MIN_RUN  256
#define BUCKET_BITS   10 /* GC_INC_BUCKETS == 1 << BUCKET_BITS */
_Static_assert(GC_INC_BUCKETS == 1 << BUCKET_BITS, "bucket digit");

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- begin, abandon ------------------------------------------------- */

void
gc_inc_begin(GcHeap *gc)
{
    GcInc *inc = &gc->inc;
    RCGC_ASSERT(inc->phase == GC_INC_IDLE);
    gc_hints_clear(gc);
    gc_list_merge(&gc->gens[GC_NGENERATIONS - 1].list, &inc->pass);
    gc->gens[GC_NGENERATIONS - 1].count = 0;
    inc->pass_objects = 0;
    inc->nwhite = 0;
    inc->rounds = 0;
    inc->cursor = gc_list_first(&inc->pass);
    inc->phase = GC_INC_INIT;
    GcList *p = &inc->pass;
    inc->distribute = p->size_ub >= SORT_MIN_SIZE && p->descents != 0 &&
                      p->descents * SORT_MIN_RUN > p->size_ub;
    if (inc->distribute) {
        /* the bucket of an object: the top 10 bits of its offset in the
         * span [lo, hi] that holds every head of `pass` (GcList) */
        unsigned bits = 0;
        for (uintptr_t span = p->hi - p->lo; span != 0; span >>= 1) {
            bits++;
        }
        inc->bucket_lo = p->lo;
        inc->bucket_shift = bits > BUCKET_BITS ? bits - BUCKET_BITS : 0;
        inc->bucket_next = 0;
        inc->split_depth = 0;
    }
}

/* Clear the pass bits and the watch of every object of l. */
static void
clean_flags(GcList *l)
{
    for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
        gc_obj(g)->flags &= ~(GC_OBJ_PASS_BITS | RC_OBJ_WATCHED);
    }
}

/* The doomed garbage back into generation 2 (it is still garbage: the
 * next collection finds it again). */
static void
undoom(GcHeap *gc)
{
    GcList *d = &gc->inc.doomed;
    for (RcGcHead *g = gc_list_first(d); g != &d->head; g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        if (op->flags & GC_OBJ_WHITE) {
            gc->inc.nwhite--; /* a confirmation round's garbage */
        }
        op->flags &= ~(GC_OBJ_UNREACHABLE | GC_OBJ_PASS_BITS | RC_OBJ_WATCHED);
    }
    gc_list_merge(d, &gc->gens[GC_NGENERATIONS - 1].list);
}

void
gc_inc_abandon(GcHeap *gc)
{
    GcInc *inc = &gc->inc;
    undoom(gc);
    if (inc->phase == GC_INC_IDLE) {
        return;
    }
    GcList *old = &gc->gens[GC_NGENERATIONS - 1].list;
    clean_flags(&inc->pass);
    clean_flags(&inc->cand);
    clean_flags(&inc->grey);
    gc_list_merge(&inc->cand, old);
    gc_list_merge(&inc->grey, old);
    gc_list_merge(&inc->pass, old);
    for (int i = 0; i < GC_INC_BUCKETS; i++) {
        clean_flags(&inc->bucket[i]);
        gc_list_merge(&inc->bucket[i], old);
        /* (a bucket a split emptied keeps its counters: reset them, as
         * the next pass's INIT expects) */
        gc_list_init(&inc->bucket[i]);
    }
    for (int d = 0; d < GC_INC_SPLIT_LEVELS; d++) {
        for (int i = 0; i < GC_INC_SPLIT; i++) {
            GcList *l = &inc->split[d].sub[i];
            clean_flags(l);
            gc_list_merge(l, old);
        }
    }
    inc->split_depth = 0;
    inc->cursor = NULL;
    inc->phase = GC_INC_IDLE;
    inc->stats.abandoned++;
}

void
gc_inc_lists(GcHeap *gc, GcList *lists[GC_INC_NLISTS])
{
    lists[0] = &gc->inc.pass;
    lists[1] = &gc->inc.grey;
    lists[2] = &gc->inc.cand;
    lists[3] = &gc->inc.doomed;
    for (int i = 0; i < GC_INC_BUCKETS; i++) {
        lists[4 + i] = &gc->inc.bucket[i];
    }
    GcList **sub = lists + 4 + GC_INC_BUCKETS;
    for (int d = 0; d < GC_INC_SPLIT_LEVELS; d++) {
        for (int i = 0; i < GC_INC_SPLIT; i++) {
            *sub++ = &gc->inc.split[d].sub[i];
        }
    }
}

void
gc_inc_init(GcHeap *gc)
{
    gc_list_init(&gc->inc.pass);
    gc_list_init(&gc->inc.grey);
    gc_list_init(&gc->inc.cand);
    gc_list_init(&gc->inc.doomed);
    for (int i = 0; i < GC_INC_BUCKETS; i++) {
        gc_list_init(&gc->inc.bucket[i]);
    }
    for (int d = 0; d < GC_INC_SPLIT_LEVELS; d++) {
        for (int i = 0; i < GC_INC_SPLIT; i++) {
            gc_list_init(&gc->inc.split[d].sub[i]);
        }
    }
    gc->inc.split_depth = 0;
}

/* ---- confirmation rounds ------------------------------------------- */

/* A round of SUBTRACT, MARK, SWEEP on the candidates alone: the SWEEP
 * that found them did what an INIT would (count 0) and watches them
 * (RC_OBJ_WATCHED) until the round ends; the round counts what happens
 * to them from its SUBTRACT on. */
static void
next_round(GcInc *inc)
{
    inc->rounds++;
    inc->stats.refinements++;
    inc->need = 0;
    inc->phase = GC_INC_SUBTRACT;
    inc->cursor = gc_list_first(&inc->pass);
    inc->dirty = 0;
}

/* ---- confirm -------------------------------------------------------- */

/* The pass is over with `unreachable` of its `examined` candidates
 * garbage: statistics, the long-lived brake and pacing. */
static void
end_pass(GcHeap *gc, size_t examined, size_t unreachable)
{
    GcInc *inc = &gc->inc;
    inc->cursor = NULL;
    inc->phase = GC_INC_IDLE;
    inc->stats.passes++;
    inc->stats.candidates += examined;
    /* the pass set's survivors: what was in it minus what is garbage
     * (objects freed by refcount meanwhile are counted: an estimate for
     * the long-lived brake, as CPython's) */
    size_t survivors = inc->pass_objects;
    survivors -= survivors > unreachable ? unreachable : survivors;
    gc->long_lived_total = survivors;
    /* The brake counts from the end of a pass (as from a full
     * collection): what was promoted during the pass waits for the next
     * one like the promotions after it, so passes are as frequent as
     * full collections would be. */
    gc->long_lived_pending = 0;
    /* adaptive pacing of generation 2, and the bytes rearmed, as after a
     * full collection */
    gc_pace(gc, GC_NGENERATIONS - 1, inc->pass_objects, unreachable);
}

static void
count_outcome(GcHeap *gc, const GcOutcome *out)
{
    gc->inc.stats.collected += out->collected + out->uncollectable;
    gc->stats[GC_NGENERATIONS - 1].collections++;
    gc->stats[GC_NGENERATIONS - 1].collected += out->collected;
    gc->stats[GC_NGENERATIONS - 1].uncollectable += out->uncollectable;
}

/* `pass` holds the candidates: trial deletion restricted to them, in
 * one step. */
static void
confirm(GcHeap *gc, GcOutcome *out, uint64_t *examined)
{
    GcInc *inc = &gc->inc;
    GcList *old = &gc->gens[GC_NGENERATIONS - 1].list;
    GcList cand, reachable, unreachable;
    gc_list_init(&cand);
    gc_list_init(&reachable);
    gc_list_init(&unreachable);
    gc_list_merge(&inc->pass, &cand);
    clean_flags(&cand);
    oa_heap_claim(gc->oa, "gc_collect_increment");
    GcSplit split;
    gc_reach_split(&cand, &reachable, &unreachable, NULL, &split);
    gc_list_merge(&reachable, old);
    oa_heap_release(gc->oa);
    *examined += split.examined;
    end_pass(gc, split.examined, split.unreachable);
    if (split.unreachable > DOOM_MIN && split.need == 0 &&
        !(gc->debug & (GC_DEBUG_SAVEALL | GC_DEBUG_COLLECTABLE))) {
        /* Nothing can reach this garbage any more: no reference from
         * outside it, no weakref to it, no finalizer to run.  Clearing it
         * is the rest of the work: spread over the next increments. */
        gc_list_merge(&unreachable, &inc->doomed);
        out->collected = split.unreachable;
    }
    else {
        gc_handle_unreachable(gc, &unreachable, old, &split, out);
    }
    count_outcome(gc, out);
}

#if RCGC_ASSERTS
/* One more reference to r from the garbage, if r is of it (WHITE). */
static int
visit_recount(RcObject *r, void *arg)
{
    (void)arg;
    if ((r->type->flags & RC_TYPE_GC) && (r->flags & GC_OBJ_WHITE) &&
        gc_head(r)->next != 0 &&
        (r->flags & GC_OBJ_CNT_MASK) != GC_OBJ_CNT_MASK) {
        r->flags += 1u << GC_OBJ_CNT_SHIFT;
    }
    return 0;
}

/* Debug builds: after a clean confirmation round, l is closed: each of
 * its objects is referred to by objects of l alone (its refcount is the
 * references it receives from l, counted again now).  A difference is a
 * reference stored, dropped or taken past the write barrier. */
static void
check_garbage(const GcList *l)
{
    const RcGcHead *end = &l->head;
    for (RcGcHead *g = gc_next(end); g != end; g = gc_next(g)) {
        gc_obj(g)->flags &= ~GC_OBJ_CNT_MASK;
    }
    for (RcGcHead *g = gc_next(end); g != end; g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        op->type->traverse(op, visit_recount, NULL);
    }
    for (RcGcHead *g = gc_next(end); g != end; g = gc_next(g)) {
        const RcObject *op = gc_obj(g);
        uint32_t cnt = (op->flags & GC_OBJ_CNT_MASK) >> GC_OBJ_CNT_SHIFT;
        if (op->refcnt != cnt && cnt != GC_OBJ_CNT_MAX) {
            rcgc_fatal(
                "cyclegc: gc_collect_increment: object %p (type "
                "'%s') was confirmed as garbage with reference count %u, but "
                "the garbage holds %u references to it: a reference "
                "was stored or dropped without rc_setref, or taken "
                "from a weakref without rc_weakref_get, while a pass "
                "ran (cyclegc.h: the pause-bounded mode's write "
                "barrier)",
                (const void *)op, op->type->name, (unsigned)op->refcnt,
                (unsigned)cnt);
        }
    }
}
#endif

/* A clean confirmation round: `pass` holds the garbage, exactly (see the
 * top of this file).  Large and in no need of finalizers or weakref work,
 * it goes to `doomed` as it is, in O(1) (clear_doomed cleans each
 * object's bits); otherwise confirm() takes it in one step. */
static void
settle(GcHeap *gc, GcOutcome *out, uint64_t *examined)
{
    GcInc *inc = &gc->inc;
    size_t n = inc->nwhite; /* every WHITE object is on `pass` */
#if RCGC_ASSERTS
    check_garbage(&inc->pass);
#endif
    if (n <= DOOM_MIN || inc->need != 0 ||
        (gc->debug & (GC_DEBUG_SAVEALL | GC_DEBUG_COLLECTABLE))) {
        confirm(gc, out, examined);
        return;
    }
    RCGC_ASSERT_EXPENSIVE(gc_list_size(&inc->pass) == n);
    gc_list_merge(&inc->pass, &inc->doomed);
    *examined += n;
    end_pass(gc, n, n);
    out->collected = n;
    count_outcome(gc, out);
}

/* SWEEP is over with nwhite candidates on `pass`.  After a clean
 * confirmation round they are the garbage (settle); few, or after
 * ROUNDS_MAX rounds, they are confirmed in one step; otherwise (the
 * search, or a round the program disturbed) another round runs. */
void
gc_inc_after_sweep(GcHeap *gc, GcOutcome *out, uint64_t *examined)
{
    GcInc *inc = &gc->inc;
    if (inc->rounds > 0 && !inc->dirty) {
        settle(gc, out, examined);
    }
    else if (inc->nwhite <= CONFIRM_MAX || inc->rounds >= ROUNDS_MAX) {
        confirm(gc, out, examined);
    }
    else {
        next_round(inc);
    }
}

void
gc_inc_watched(void *ctx, RcObject *op)
{
    (void)op;
    GcHeap *gc = ctx;
    gc->inc.dirty = 1;
}

/* ---- the automatic trigger ------------------------------------------ */

/* Called when generation 0 passed its threshold, mode on.  A young
 * collection as usual (generation 1 when a pass is due, so that the pass
 * set holds every tracked object), then one increment of the running
 * pass with what is left of the budget - none when less than a quarter
 * is left, unless the last trigger had none either (then, and when a
 * pass begins, a quarter). */
void
gc_inc_maybe_collect(GcHeap *gc)
{
    GcInc *inc = &gc->inc;
    uint64_t t0 = now_ns();
    int top = GC_NGENERATIONS - 1;
    int idle = inc->phase == GC_INC_IDLE && gc_list_is_empty(&inc->doomed);
    /* A full collection would be due: by the thresholds and the
     * long-lived brake, or by the accounted bytes (pacing.c). */
    int start =
        idle && ((gc->gens[top].count > gc->gens[top].threshold &&
                  gc->long_lived_pending >= gc->long_lived_total / 4) ||
                 gc_bytes_due(gc));
    if (!start && gc->gens[0].count <= gc->gens[0].threshold) {
        return; /* called for the bytes, which the running pass serves */
    }
    int young = start || gc->gens[1].count > gc->gens[1].threshold;
    if (young || !gc_pace_skip_young(gc)) {
        gc_collect_auto(gc, young);
    }
    if (!start && inc->phase == GC_INC_IDLE &&
        gc_list_is_empty(&inc->doomed)) {
        return;
    }
    uint64_t budget = inc->budget_us * 1000u;
    uint64_t used = now_ns() - t0;
    uint64_t left = used < budget ? budget - used : 0;
    if (left < budget / 4) {
        if (!start && !inc->deferred) {
            /* the young collection used the budget: next time (once in
             * a row at most, so that a pass always progresses) */
            inc->deferred = 1;
            return;
        }
        left = budget / 4;
    }
    inc->deferred = 0;
    gc_run_increment(gc, left, start);
}

/* ---- API ------------------------------------------------------------ */

int
gc_set_pause_budget(GcHeap *gc, uint64_t budget_us)
{
    if (gc == NULL) {
        gc_null_heap("gc_set_pause_budget");
        return -1;
    }
    if (budget_us > 10000000u) {
        gc_set_error(gc,
                     "gc_set_pause_budget: budget %llu us is more than 10 s",
                     (unsigned long long)budget_us);
        return -1;
    }
    gc->inc.budget_us = budget_us;
    GC_CHECKPOINT(gc, "gc_set_pause_budget", NULL);
    return 0;
}

uint64_t
gc_get_pause_budget(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_pause_budget");
        return 0;
    }
    return gc->inc.budget_us;
}

void
gc_set_increment_work(GcHeap *gc, size_t work)
{
    if (gc == NULL) {
        gc_null_heap("gc_set_increment_work");
        return;
    }
    gc->inc.work_limit = work;
    GC_CHECKPOINT(gc, "gc_set_increment_work", NULL);
}

size_t
gc_get_increment_work(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_increment_work");
        return 0;
    }
    return gc->inc.work_limit;
}

long
gc_collect_increment(GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_collect_increment");
        return -1;
    }
    return gc_run_increment(gc, gc->inc.budget_us * 1000u, 1);
}

void
gc_get_incremental_stats(const GcHeap *gc, GcIncStats *st)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_incremental_stats");
        return;
    }
    *st = gc->inc.stats;
    st->budget_us = gc->inc.budget_us;
    st->work_limit = gc->inc.work_limit;
    st->phase = gc->inc.phase;
    st->pass_running = gc->inc.phase != GC_INC_IDLE;
}
