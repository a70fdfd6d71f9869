/* SPDX-License-Identifier: MIT */
/* incremental.c - the pause-bounded mode: the old generation collected in
 * increments of bounded work, the program running in between.
 *
 * A pass (state in GcHeap.inc, lists with real links at every moment, so
 * that untrack, young collections and user code need not know a pass
 * runs; incpass.c begins, gives up and ends it):
 *
 *   begin     generation 2 becomes the pass set (`pass`, O(1) merge);
 *             objects promoted later go to the new generation 2 and join
 *             the next pass; references from them count as external.
 *   INIT      walk `pass`: flag each object GC_OBJ_WHITE, count 0; when
 *             `pass` is far from address order (collect.c's rule for
 *             sorting), move each to one of GC_INC_BUCKETS bucket lists
 *             by its address (the top radix digit).
 *   SORT      (after a distributing INIT) the buckets in address order,
 *             each sorted in place (sort.c; a bucket spans 1/1024 of the
 *             heap: this runs in cache) and appended to `pass`, which
 *             ends in address order: the walks below stream through
 *             memory instead of missing the cache on every object.  A
 *             bucket too large to sort in one step (arenas far apart put
 *             most objects in a few buckets) is split over its own
 *             address range into sub-buckets, taken the same way.
 *   SUBTRACT  walk `pass`: traverse each object; each reference to a
 *             WHITE object adds 1 to its count (saturating at
 *             GC_OBJ_CNT_MAX, which then reads as "referenced from
 *             outside").
 *   MARK      walk `pass`: an object with more references (its refcount
 *             now) than its count, or a saturated count, or reached
 *             before the walk got to it, is traversed; one that is none
 *             of these is flagged PASSED.  Each WHITE object a traversed
 *             one refers to is reached (flags cleaned) and stays in its
 *             place on `pass`: the walk traverses it when it gets there,
 *             or, PASSED, it is traversed from a stack; what the stack
 *             holds when an increment ends moves to `grey`, traversed
 *             first by the next one and then appended to generation 2.
 *   SWEEP     walk `pass`: the objects still WHITE are the candidates U
 *             (onto `cand`); the rest joins generation 2 in its order.
 *   rounds    the search leaves stale counts (a reference counted in
 *             SUBTRACT and moved before MARK), so live objects may be in
 *             U.  Up to CONFIRM_MAX candidates are confirmed in one step
 *             (below).  More run confirmation rounds: SUBTRACT, MARK,
 *             SWEEP again on U alone, the SWEEP that found U having
 *             zeroed each count and set RC_OBJ_WATCHED on each object
 *             (rc_setref storing or dropping a
 *             reference to it, rc_weakref_get returning it, or its death
 *             makes the round dirty).  A clean round's U is exactly the
 *             garbage (below): large and needing no finalizer or weakref
 *             work, it goes to `doomed` in O(1) (settle), cleared within
 *             the budget by the next increments (the first thing each
 *             does; no pass begins before `doomed` is empty).  A dirty
 *             round runs another, up to ROUNDS_MAX; then, or when the
 *             garbage needs finalizers or weakref work, confirm.
 *   confirm   (one step) exact trial deletion restricted to U
 *             (gc_reach_split, as a young collection does): the
 *             survivors join generation 2, the garbage takes the path of
 *             any collection (garbage.c), or, large and needing nothing,
 *             goes to `doomed`.
 *
 * Cost (rcgc-bench pause, graph): with `pass` in address order and up to
 * RING referents in flight, a pass costs about what a full collection
 * does: the walks of INIT and of the buckets' sorts miss the cache on
 * each object as the full collection's sort does, the others stream.
 *
 * Soundness.  confirm needs nothing from the walks: restricted trial
 * deletion frees only what nothing outside U refers to at that moment.
 * A clean round: every slot write goes through rc_setref (the mode's
 * rule, cyclegc.h), so from its SUBTRACT to its end no reference from an
 * object of U to one of U appeared or went (that would have touched a
 * watched object), and none of U died: each count is the references
 * the object receives from U.  MARK reached everything a root of U (an
 * object whose refcount exceeded its count when the walk passed it)
 * refers to, and every object an object of U refers to once it is
 * traversed.  An object x left WHITE had no reference from outside U
 * when passed; a later one would have been stored with rc_setref or read
 * from a weakref (watched), or copied from an object the program
 * reached, itself of U' and reached the same way: none.  So U' is
 * closed, and garbage.  Debug builds recount it (check_garbage).
 * Completeness: members of a garbage cycle that was in the pass set when
 * the pass began are never referred to by reached objects, and their
 * counts are exact (garbage does not change), so they stay WHITE and end
 * in U; nothing touches them, so no round is dirtied by them.
 *
 * Mutation between increments: an object freed by refcount is untracked
 * (gc_inc_forget advances the cursor past it; the lists shed it); no raw
 * pointer is kept across increments except the cursor.  Counts may go
 * stale; a live object may then end in U, where a round or confirm
 * keeps it.
 *
 * Budget: an increment stops when its work cap is reached or, checked
 * every CLOCK_EVERY work units, its deadline has passed; it always
 * makes some progress.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "cyclegc/internal.h"

#include <stdint.h>
#include <time.h>

#define CLOCK_EVERY 64 /* work units between two looks at the clock */
/* A bucket larger than this is split (walk_sort): sorting a bucket is
 * one atomic step, and its first walk misses the cache on each object
 * (about 100 ns each, measured with rcgc-bench pause): this keeps it
 * under a millisecond.  Buckets this large come from dense heaps (a
 * bucket spans a power of two, up to 1/512 of the pass set's span: in
 * rcgc-bench pause's 4M-node graph, 512 KiB of 48-byte objects, some
 * 10900), and from a pass set whose span is mostly a gap between its
 * objects (arenas far apart: most objects then share a few buckets). */
#define SORT_MAX 8192
/* A bucket whose span is larger is not prefetched (the L2 cache is a few
 * MiB on the machines measured). */
#define PREFETCH_MAX ((uintptr_t)2 << 20)

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define RING  GC_RING
#define STACK 1024 /* reached objects to traverse, within one increment */

/* The work of one increment and its limits, and the ring that delays
 * the handling of each referent until its header has (likely) arrived
 * in cache: emptied before the increment ends, so no raw pointer
 * outlives it. */
typedef struct Budget {
    uint64_t deadline; /* 0: none */
    uint64_t limit;    /* work units; 0: none */
    uint64_t work;
    uint64_t next_clock; /* work at which to read the clock */
    GcInc *inc;
    RcObject *ring[RING];
    unsigned pos;
    RcGcHead *stack[STACK]; /* MARK: empty between increments */
    unsigned nstack;
} Budget;

static int
spent(Budget *b)
{
    if (b->limit != 0 && b->work >= b->limit) {
        return 1;
    }
    if (b->deadline != 0 && b->work >= b->next_clock) {
        b->next_clock = b->work + CLOCK_EVERY;
        return now_ns() >= b->deadline;
    }
    return 0;
}

/* r's head when r is tracked and WHITE (in the pass set, not reached). */
static inline RcGcHead *
white_head(RcObject *r)
{
    if (!(r->type->flags & RC_TYPE_GC) || !(r->flags & GC_OBJ_WHITE)) {
        return NULL;
    }
    RcGcHead *g = gc_head(r);
    return g->next != 0 ? g : NULL;
}

/* Begin a walk of the pass list: the phase and a cursor at its start. */
static void
enter(GcInc *inc, int phase)
{
    inc->phase = phase;
    inc->cursor = gc_list_first(&inc->pass);
}

/* ---- the walks ----------------------------------------------------- */

/* INIT: flag WHITE, count 0, and when distributing move each object to
 * its bucket.  Invariant: the objects before the cursor (on `pass`, or
 * in the buckets) are WHITE with count 0 or were reached since.  1 when
 * the walk is done. */
static int
walk_init(GcInc *inc, Budget *b)
{
    RcGcHead *end = &inc->pass.head;
    while (inc->cursor != end) {
        if (spent(b)) {
            return 0;
        }
        RcGcHead *g = inc->cursor;
        RcObject *op = gc_obj(g);
        if (!(op->flags & GC_OBJ_WHITE)) {
            inc->nwhite++; /* (every one: INIT runs as a pass begins) */
        }
        op->flags =
            (op->flags & ~(GC_OBJ_CNT_MASK | GC_OBJ_PASSED)) | GC_OBJ_WHITE;
        inc->pass_objects++;
        b->work++;
        inc->cursor = gc_next(g);
        if (inc->distribute) {
            uintptr_t k = ((uintptr_t)g - inc->bucket_lo) >> inc->bucket_shift;
            RCGC_ASSERT((uintptr_t)g >= inc->bucket_lo && k < GC_INC_BUCKETS);
            gc_list_move(g, &inc->bucket[k]);
        }
    }
    return 1;
}

/* Bring [lo, hi] into the cache, a line at a time in address order, when
 * it is small enough to stay there (a bucket spans 1/GC_INC_BUCKETS of
 * the pass set's span: a few hundred KiB).  The sort's first walk, in
 * list order, would miss the cache on each object, one at a time; a
 * walk in address order keeps many misses in flight and lets the
 * hardware prefetcher run ahead.  Prefetching never faults. */
static void
prefetch_span(uintptr_t lo, uintptr_t hi)
{
    if (hi < lo || hi - lo > PREFETCH_MAX) {
        return;
    }
    for (uintptr_t a = lo & ~(uintptr_t)63; a <= hi + 63; a += 64) {
        __builtin_prefetch((const void *)a, 1, 3);
    }
}

/* Sort k (sort.c) and append it to `pass`: one step, of k->size_ub
 * work units. */
static void
sort_onto_pass(GcHeap *gc, GcList *k, Budget *b)
{
    b->work += k->size_ub;
    prefetch_span(k->lo, k->hi);
    gc_list_sort(gc, k);
    gc_list_merge(k, &gc->inc.pass);
}

/* Begin a split of k (too large to sort in one step): the next level's
 * sub-buckets, emptied, share k's recorded span [lo, hi] by the top
 * GC_INC_SPLIT_BITS bits of an object's offset in it. */
static void
split_begin(GcInc *inc, GcList *k)
{
    GcIncSplit *s = &inc->split[inc->split_depth++];
    unsigned bits = 0;
    for (uintptr_t span = k->hi - k->lo; span != 0; span >>= 1) {
        bits++;
    }
    s->src = k;
    s->lo = k->lo;
    s->shift = bits > GC_INC_SPLIT_BITS ? bits - GC_INC_SPLIT_BITS : 0;
    s->next = 0;
    for (int i = 0; i < GC_INC_SPLIT; i++) {
        gc_list_init(&s->sub[i]);
    }
}

/* Move the objects of s->src to their sub-buckets, one a work unit,
 * within the budget (the lists stay real: an object that dies between
 * two increments leaves src or its sub-bucket as from any list); 1 when
 * src is empty. */
static int
split_walk(GcIncSplit *s, Budget *b)
{
    RcGcHead *end = &s->src->head;
    while (gc_next(end) != end) {
        if (spent(b)) {
            return 0;
        }
        RcGcHead *g = gc_next(end);
        uintptr_t k = ((uintptr_t)g - s->lo) >> s->shift;
        RCGC_ASSERT((uintptr_t)g >= s->lo && (uintptr_t)g <= s->src->hi &&
                    k < GC_INC_SPLIT);
        gc_list_move(g, &s->sub[k]);
        b->work++;
    }
    return 1;
}

/* SORT: the buckets, in address order, each sorted (sort.c) and appended
 * to `pass`; a bucket of more than SORT_MAX objects is split over its own
 * address range (split_begin), its sub-buckets handled the same way in
 * address order, a sub-bucket too large split in turn, up to
 * GC_INC_SPLIT_LEVELS deep (internal.h: enough for any heap).
 * Invariant: the buckets before bucket_next and, at each level of split,
 * the sub-buckets before its next are empty but the list being split at
 * the level below; `pass` holds the objects they had, in address order,
 * all below those still in buckets.  A step: a bucket sorted (at most
 * SORT_MAX objects), an object moved to its sub-bucket, or an empty
 * list passed. */
static int
walk_sort(GcHeap *gc, Budget *b)
{
    GcInc *inc = &gc->inc;
    for (;;) {
        if (spent(b)) {
            return 0;
        }
        GcList *k;
        if (inc->split_depth > 0) {
            GcIncSplit *s = &inc->split[inc->split_depth - 1];
            if (!split_walk(s, b)) {
                return 0;
            }
            if (s->next == GC_INC_SPLIT) {
                /* every sub-bucket is on `pass`: src is done, and
                 * fresh (its counters reset) for the next pass */
                gc_list_init(s->src);
                inc->split_depth--;
                continue;
            }
            k = &s->sub[s->next++];
        }
        else if (inc->bucket_next < GC_INC_BUCKETS) {
            k = &inc->bucket[inc->bucket_next++];
        }
        else {
            RCGC_ASSERT_EXPENSIVE(gc_list_ascending(&inc->pass));
            return 1;
        }
        if (gc_list_is_empty(k)) {
            gc_list_init(k); /* (its objects died: counters reset) */
            continue;
        }
        if (k->size_ub <= SORT_MAX) {
            sort_onto_pass(gc, k, b);
        }
        else if (inc->split_depth < GC_INC_SPLIT_LEVELS) {
            split_begin(inc, k);
        }
        else {
            /* unreachable (internal.h: a list this deep spans fewer
             * than SORT_MAX heads); sorted whole, in one step */
            RCGC_ASSERT(!"pause-bounded SORT: a list too large at the "
                         "deepest split level");
            sort_onto_pass(gc, k, b);
        }
    }
}

static inline void
count_one(RcObject *r)
{
    if (white_head(r) != NULL &&
        (r->flags & GC_OBJ_CNT_MASK) != GC_OBJ_CNT_MASK) {
        r->flags += 1u << GC_OBJ_CNT_SHIFT;
    }
}

static int
visit_count(RcObject *r, void *arg)
{
    Budget *b = arg;
    b->work++;
    gc_prefetch_head(r);
    RcObject *old = gc_ring_swap(b->ring, &b->pos, r);
    if (old != NULL) {
        count_one(old);
    }
    return 0;
}

/* Handle every referent waiting in the ring with fn. */
static void
ring_flush(Budget *b, void (*fn)(Budget *, RcObject *))
{
    for (unsigned i = 0; i < RING; i++) {
        RcObject *old = gc_ring_swap(b->ring, &b->pos, NULL);
        if (old != NULL) {
            fn(b, old);
        }
    }
}

static void
flush_count(Budget *b, RcObject *r)
{
    (void)b;
    count_one(r);
}

/* SUBTRACT: count the references from the pass set.  Invariant: the
 * count of a WHITE object is the number of references to it seen in the
 * traversals of the objects before the cursor (saturated). */
static int
walk_count(GcInc *inc, Budget *b)
{
    RcGcHead *end = &inc->pass.head;
    while (inc->cursor != end) {
        if (spent(b)) {
            ring_flush(b, flush_count);
            return 0;
        }
        RcGcHead *g = inc->cursor;
        RcObject *op = gc_obj(g);
        b->work++;
        /* the cursor moves first: traverse runs no user code, but keep
         * one rule for every walk */
        inc->cursor = gc_next(g);
        op->type->traverse(op, visit_count, b);
    }
    ring_flush(b, flush_count);
    return 1;
}

/* r is referred to by a reached object: it is reached (flags clean,
 * no longer a candidate) and stays where it is on `pass`, so that `pass`
 * keeps its order (address order, most often) for the next pass's
 * walks.  Not passed by the mark walk yet: the walk traverses it when it
 * gets there.  Passed: traverse it from the increment's stack, or, when
 * that is full, from `grey` (unlinked: this costs the cache misses of
 * its neighbours, the stack none). */
static void
shade_one(Budget *b, RcObject *r)
{
    RcGcHead *g = white_head(r);
    if (g == NULL) {
        return;
    }
    uint32_t passed = r->flags & GC_OBJ_PASSED;
    r->flags &= ~GC_OBJ_PASS_BITS;
    b->inc->nwhite--;
    if (!passed) {
        return;
    }
    if (b->nstack < STACK) {
        b->stack[b->nstack++] = g;
    }
    else {
        gc_list_move(g, &b->inc->grey);
    }
}

static int
visit_shade(RcObject *r, void *arg)
{
    Budget *b = arg;
    b->work++;
    gc_prefetch_head(r);
    RcObject *old = gc_ring_swap(b->ring, &b->pos, r);
    if (old != NULL) {
        shade_one(b, old);
    }
    return 0;
}

/* Held from outside the pass set, as far as the counts tell. */
static inline int
is_root(const RcObject *op)
{
    uint32_t cnt = (op->flags & GC_OBJ_CNT_MASK) >> GC_OBJ_CNT_SHIFT;
    return cnt == GC_OBJ_CNT_MAX || op->refcnt == 0 || op->refcnt > cnt;
}

/* Before the increment ends: what the ring holds is shaded, and what is
 * on the stack moves to `grey` (the stack does not outlive it). */
static void
mark_pause(Budget *b)
{
    ring_flush(b, shade_one);
    while (b->nstack > 0) {
        gc_list_move(b->stack[--b->nstack], &b->inc->grey);
    }
}

/* MARK.  Invariant: every object of `grey` and of the stack is reached
 * (flags clean) and not traversed yet; every object of `pass` before
 * the cursor is WHITE and PASSED (not a root when the cursor passed
 * it, not reached since), or reached and traversed, or on the stack;
 * one after it is WHITE, or reached and to be traversed when the
 * cursor gets there; a reference waiting in the ring is to an object
 * in any of these states (shade_one handles each).  The stack and
 * `grey` are drained before the cursor moves on; the ring is not (so
 * that up to RING misses stay in flight), but before the walk ends, and
 * with the stack before the increment ends.  An object of `grey`, once
 * traversed, goes to generation 2. */
static int
walk_mark(GcHeap *gc, Budget *b)
{
    GcInc *inc = &gc->inc;
    RcGcHead *end = &inc->pass.head;
    for (;;) {
        if (spent(b)) {
            mark_pause(b);
            return 0;
        }
        if (b->nstack > 0) {
            RcObject *op = gc_obj(b->stack[--b->nstack]);
            b->work++;
            op->type->traverse(op, visit_shade, b);
            continue;
        }
        if (!gc_list_is_empty(&inc->grey)) {
            RcGcHead *g = gc_list_first(&inc->grey);
            gc_list_move(g, &gc->gens[GC_NGENERATIONS - 1].list);
            RcObject *op = gc_obj(g);
            b->work++;
            op->type->traverse(op, visit_shade, b);
            op->flags &= ~RC_OBJ_WATCHED; /* traversed: see walk_sweep */
            continue;
        }
        if (inc->cursor == end) {
            int pending = 0;
            for (unsigned i = 0; i < RING && !pending; i++) {
                pending = b->ring[i] != NULL;
            }
            if (!pending) {
                return 1;
            }
            ring_flush(b, shade_one);
            continue;
        }
        RcGcHead *g = inc->cursor;
        RcObject *op = gc_obj(g);
        b->work++;
        inc->cursor = gc_next(g);
        if (op->flags & GC_OBJ_WHITE) {
            if (!is_root(op)) {
                op->flags |= GC_OBJ_PASSED; /* a candidate so far */
                continue;
            }
            op->flags &= ~GC_OBJ_PASS_BITS; /* a root: reached */
            inc->nwhite--;
        }
        /* reached before the walk got here, or a root: traverse it */
        op->type->traverse(op, visit_shade, b);
    }
}

/* What freeing op would need beyond clearing (reach.c's rule). */
static unsigned
need_of(const RcObject *op)
{
    const RcType *t = op->type;
    unsigned need = t->legacy_del != NULL ? GC_NEED_LEGACY : 0;
    if (t == &rc_weakref_type || (op->flags & RC_OBJ_HAS_WEAKREFS)) {
        need |= GC_NEED_WEAKREFS;
    }
    if (t->finalize != NULL && !(op->flags & RC_OBJ_FINALIZED)) {
        need |= GC_NEED_FINALIZE;
    }
    return need;
}

/* SWEEP: the candidates (still WHITE) move from `pass` to `cand`, and
 * inc->need collects what they need; what stays on `pass` was reached
 * (and traversed: it is watched no more), and joins generation 2 at the
 * end of the walk in its order.  Invariant: no object of `pass` before
 * the cursor is WHITE. */
static int
walk_sweep(GcHeap *gc, Budget *b)
{
    GcInc *inc = &gc->inc;
    RcGcHead *end = &inc->pass.head;
    while (inc->cursor != end) {
        if (spent(b)) {
            return 0;
        }
        RcGcHead *g = inc->cursor;
        RcObject *op = gc_obj(g);
        b->work++;
        inc->cursor = gc_next(g);
        if (op->flags & GC_OBJ_WHITE) {
            inc->need |= need_of(op);
            /* ready for a confirmation round: count 0, watched */
            op->flags = (op->flags & ~(GC_OBJ_CNT_MASK | GC_OBJ_PASSED)) |
                        RC_OBJ_WATCHED;
            gc_list_move(g, &inc->cand);
        }
        else {
            op->flags &= ~RC_OBJ_WATCHED;
        }
    }
    gc_list_merge(&inc->pass, &gc->gens[GC_NGENERATIONS - 1].list);
    gc_list_merge(&inc->cand, &inc->pass);
    return 1;
}

/* ---- clearing the doomed --------------------------------------------- */

/* Clear doomed objects within the budget; 1 when none is left.  As
 * garbage.c's last phase: clear under a temporary reference; one still
 * alive afterwards (a dealloc stored it somewhere) goes to generation
 * 2.  Deaths untrack the objects, which leave the list. */
static int
clear_doomed(GcHeap *gc, Budget *b)
{
    GcList *d = &gc->inc.doomed;
    while (!gc_list_is_empty(d)) {
        if (spent(b)) {
            return 0;
        }
        RcGcHead *g = gc_list_first(d);
        RcObject *op = gc_obj(g);
        /* a clear and, most often, a deallocation (a clear that frees a
         * long chain by refcount costs its length, as any decref) */
        b->work += 4;
        if (op->flags & GC_OBJ_WHITE) {
            gc->inc.nwhite--; /* from a confirmation round (settle) */
        }
        op->flags &= ~(GC_OBJ_PASS_BITS | RC_OBJ_WATCHED);
        if (op->type->clear != NULL) {
            rc_incref(op);
            op->type->clear(op);
            rc_decref(op);
        }
        if (gc_list_first(d) == g) {
            op->flags &= ~GC_OBJ_UNREACHABLE;
            gc_list_move(g, &gc->gens[GC_NGENERATIONS - 1].list);
        }
    }
    return 1;
}

/* ---- one increment -------------------------------------------------- */

/* One increment of the pause-bounded mode, within budget_ns (0: no clock)
 * and the work limit.  Frees the doomed garbage of the last pass first; then,
 * if idle and may_begin, begins a pass; then advances the pass through
 * INIT, SUBTRACT and MARK, each walk resuming at inc->cursor until the
 * budget runs out; when MARK ends and refine does not start another
 * round, confirms the garbage (unclaimed: it runs user code).  After:
 * *work and *examined hold what this increment did, *out what it freed. */
void
gc_inc_step(GcHeap *gc, uint64_t budget_ns, int may_begin, GcOutcome *out,
            uint64_t *work, uint64_t *examined)
{
    GcInc *inc = &gc->inc;
    uint64_t t0 = now_ns();
    Budget b = {.deadline = budget_ns != 0 ? t0 + budget_ns : 0,
                .limit = inc->work_limit,
                .work = 0,
                .next_clock = CLOCK_EVERY,
                .inc = inc,
                .pos = 0,
                .nstack = 0};
    for (unsigned i = 0; i < RING; i++) {
        b.ring[i] = NULL;
    }
    out->collected = 0;
    out->uncollectable = 0;
    *examined = 0;
    /* The doomed garbage of the last pass goes first: a pass begins only
     * once it is freed. */
    if (!clear_doomed(gc, &b) || (inc->phase == GC_INC_IDLE && !may_begin)) {
        *work = b.work;
        inc->stats.increments++;
        inc->stats.work += b.work;
        return;
    }
    if (inc->phase == GC_INC_IDLE) {
        gc_inc_begin(gc);
    }
    /* Walks pack nothing, but no other thread may relink meanwhile. */
    oa_heap_claim(gc->oa, "gc_collect_increment");
    int done = 1;
    /* done == 0: the budget ran out inside a walk, whose cursor says where
     * the next increment resumes; each phase that ends sets the next
     * one's cursor to the first object of the pass. */
    while (done && inc->phase != GC_INC_IDLE) {
        switch (inc->phase) {
            case GC_INC_INIT:
                done = walk_init(inc, &b);
                if (done && inc->distribute) {
                    /* every object is in a bucket: `pass` restarts empty,
                     * its recorded order and bounds with it */
                    RCGC_ASSERT(gc_list_is_empty(&inc->pass));
                    gc_list_init(&inc->pass);
                    inc->phase = GC_INC_SORT;
                }
                else if (done) {
                    enter(inc, GC_INC_SUBTRACT);
                    /* a confirmation round watches from here on: what
                     * happened before SUBTRACT it counts as it is */
                    inc->dirty = 0;
                }
                break;
            case GC_INC_SORT:
                done = walk_sort(gc, &b);
                if (done) {
                    enter(inc, GC_INC_SUBTRACT);
                }
                break;
            case GC_INC_SUBTRACT:
                done = walk_count(inc, &b);
                if (done) {
                    enter(inc, GC_INC_MARK);
                }
                break;
            case GC_INC_MARK:
                done = walk_mark(gc, &b);
                if (done) {
                    enter(inc, GC_INC_SWEEP);
                }
                break;
            default:
                done = walk_sweep(gc, &b);
                if (done) {
                    oa_heap_release(gc->oa);
                    gc_inc_after_sweep(gc, out, examined);
                    oa_heap_claim(gc->oa, "gc_collect_increment");
                }
                break;
        }
    }
    oa_heap_release(gc->oa);
    *work = b.work;
    inc->stats.increments++;
    inc->stats.work += b.work;
}
