/* SPDX-License-Identifier: MIT */
/* check.c - gc_check: walk every list of the collector and verify every
 * invariant written in internal.h.  Works as documentation.
 *
 * For each list (gens 0..2, permanent):
 *   - every link is 16-byte aligned and non-zero; next->prev == this
 *     (so each object is on exactly one circular list);
 *   - each object is of a GC type, alive (count > 0), and - outside a
 *     collection - carries no collector bit in its flags but
 *     GC_OBJ_YOUNG, which is on every object of generation 0, on those
 *     of generation 1 (every one while gen1_young) and on no other, and
 *     GC_OBJ_GEN1, on generation 1's objects that carry GC_OBJ_YOUNG
 *     (all of them unless young_stale) and on no other; while on, the
 *     generation-0 and generation-1 filters hold the bit of every object
 *     of their generation;
 *   - the list's descents is at least the adjacent pairs that descend
 *     (to a lower GC_NEAR window), its backsteps at least the pairs
 *     that step to a lower address, size_ub at least its length, and
 *     every object lies within its recorded [lo, hi].
 * Then: thresholds >= 0, counts >= 0, each threshold in force within
 * [base, GC_PACING_MAX_FACTOR * base] (== base under fixed pacing and
 * for generations 0 and 1), young skips in a row within bounds; the
 * garbage list holds live objects.  A failure reports
 * "cyclegc: gc_check: ..." and returns -1.
 *
 * Also here: gc_checkpoint, which ends each mutating call in checked
 * builds (base.h), and gc_fatal_refs_too_small, the debug builds' stop
 * when a collection finds more references to an object than its count.
 */
#include "cyclegc/internal.h"

#include <stdarg.h>
#include <stdio.h>

/* Report the first violation (RCGC_ERROR_CHECK) and return -1. */
static int
fail(const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rcgc_report(RCGC_ERROR_CHECK, "cyclegc: gc_check: %s", what);
    return -1;
}

/* One list: links aligned, non-zero and symmetric; objects of GC types,
 * alive, without collector bits outside a collection but GC_OBJ_YOUNG,
 * which is set on all when young is 1, on none when 0, either way when
 * -1; `allowed` names collector bits a list may also carry (a pass of
 * the pause-bounded mode, incremental.c); descents, backsteps and size_ub
 * at least what the walk counts. */
static int
check_list(const GcHeap *gc, const GcList *l, const char *name, int young,
           uint32_t allowed, size_t *work)
{
    const RcGcHead *head = &l->head;
    const RcGcHead *prev = head;
    size_t n = 0, descents = 0, backsteps = 0;
    for (const RcGcHead *g = gc_next(head); g != head; g = gc_next(g)) {
        if (g == NULL || ((uintptr_t)g & GC_PREV_FLAGS) != 0) {
            return fail("%s: bad link %p after %p", name, (const void *)g,
                        (const void *)prev);
        }
        if (gc_prev(g) != prev) {
            return fail("%s: object %p: prev is %p, expected %p", name,
                        (void *)gc_obj((RcGcHead *)(uintptr_t)g),
                        (void *)g->prev, (const void *)prev);
        }
        const RcObject *op = gc_obj((RcGcHead *)(uintptr_t)g);
        if (!rc_is_gc(op)) {
            return fail("%s: object %p of type '%s' is not of a GC type", name,
                        (const void *)op, op->type->name);
        }
        if (op->refcnt == 0) {
            return fail("%s: object %p of type '%s' has count 0", name,
                        (const void *)op, op->type->name);
        }
        uint32_t bits = op->flags & GC_OBJ_BITS;
        if (!gc->collecting && (bits & ~GC_OBJ_YOUNG & ~allowed) != 0) {
            return fail("%s: object %p has collector flags 0x%x outside a "
                        "collection",
                        name, (const void *)op, bits);
        }
        if (!gc->collecting && young >= 0 &&
            ((bits & GC_OBJ_YOUNG) != 0) != young) {
            return fail("%s: object %p %s generation 0's mark outside a "
                        "collection",
                        name, (const void *)op, young ? "lacks" : "has");
        }
        if (prev != head && (uintptr_t)g < (uintptr_t)prev) {
            backsteps++;
            descents += gc_descends(prev, g);
        }
        if ((uintptr_t)g < l->lo || (uintptr_t)g > l->hi) {
            return fail("%s: object %p outside the list's recorded bounds",
                        name, (void *)gc_obj((RcGcHead *)(uintptr_t)g));
        }
        prev = g;
        n++;
    }
    *work += n;
    if (gc_prev(head) != prev) {
        return fail("%s: sentinel prev is %p, expected %p", name,
                    (void *)head->prev, (const void *)prev);
    }
    if (descents > l->descents) {
        return fail("%s: %zu pairs out of order, recorded %zu", name, descents,
                    l->descents);
    }
    if (backsteps > l->backsteps) {
        return fail("%s: %zu steps back, recorded %zu", name, backsteps,
                    l->backsteps);
    }
    if (n > l->size_ub) {
        return fail("%s: %zu objects, recorded at most %zu", name, n,
                    l->size_ub);
    }
    return 0;
}

/* CPython's validate_list: between two phases of a collection, l is a
 * consistent circular list of objects of GC types with real links, and
 * each has GC_OBJ_UNREACHABLE exactly when `unreachable` says so.  1 when
 * it holds; else the first violation is reported and 0 returned (for
 * RCGC_ASSERT_EXPENSIVE: the assertion names the phase).  O(length). */
int
gc_list_valid(const GcList *l, uint32_t unreachable)
{
    const RcGcHead *head = &l->head;
    const RcGcHead *prev = head;
    for (const RcGcHead *g = gc_next(head); g != head; g = gc_next(g)) {
        if (g == NULL || ((uintptr_t)g & GC_PREV_FLAGS) != 0 ||
            gc_prev(g) != prev) {
            return fail("list %p: bad link at %p after %p", (const void *)l,
                        (const void *)g, (const void *)prev) == 0;
        }
        const RcObject *op = gc_obj((RcGcHead *)(uintptr_t)g);
        if (!rc_is_gc(op) || (op->flags & GC_OBJ_UNREACHABLE) != unreachable) {
            return fail("list %p: object %p: flags 0x%x, expected "
                        "unreachable bit 0x%x",
                        (const void *)l, (const void *)op, op->flags,
                        unreachable) == 0;
        }
        prev = g;
    }
    return gc_prev(head) == prev;
}

int
gc_list_ascending(const GcList *l)
{
    const RcGcHead *head = &l->head;
    for (const RcGcHead *g = gc_next(head); g != head && gc_next(g) != head;
         g = gc_next(g)) {
        if ((uintptr_t)gc_next(g) <= (uintptr_t)g) {
            return fail("list %p: object %p follows %p, out of address "
                        "order",
                        (const void *)l, (void *)gc_obj(gc_next(g)),
                        (void *)gc_obj((RcGcHead *)(uintptr_t)g)) == 0;
        }
    }
    return 1;
}

/* Every object of l above `floor` and in cell `cell` of the span from lo
 * by 2^shift bytes; *work gains them. */
static int
check_cell(const GcList *l, const char *name, int cell, uintptr_t floor,
           uintptr_t lo, unsigned shift, size_t *work)
{
    const RcGcHead *head = &l->head;
    for (const RcGcHead *g = gc_next(head); g != head; g = gc_next(g)) {
        uintptr_t a = (uintptr_t)g;
        if (a <= floor || a < lo || ((a - lo) >> shift) != (uintptr_t)cell) {
            return fail("%s %d: object %p outside its address range, or "
                        "below the sorted part of the pass set",
                        name, cell, (void *)gc_obj((RcGcHead *)a));
        }
        (*work)++;
    }
    return 0;
}

/* A pass's buckets (incremental.c: walk_sort).  In SORT: `pass` in
 * address order; every object of a bucket or sub-bucket above the last
 * of `pass` and in its list's address range; the buckets before
 * bucket_next empty but the one split[0] splits, the last taken; at
 * each split level, the sub-buckets before next empty but the one the
 * level below splits, the last taken, and next 0 until src is empty.
 * Outside INIT and SORT, no split, and every bucket empty with its
 * counters reset (size_ub 0: internal.h's bound on the split depth
 * needs a bucket's recorded span to be its objects'). */
static int
check_sort(const GcHeap *gc, size_t *work)
{
    const GcInc *inc = &gc->inc;
    if (inc->phase != GC_INC_SORT) {
        for (int i = 0; inc->phase != GC_INC_INIT && i < GC_INC_BUCKETS; i++) {
            if (inc->bucket[i].size_ub != 0) {
                return fail("pass bucket %d: counters not reset outside "
                            "INIT and SORT (size_ub %zu)",
                            i, inc->bucket[i].size_ub);
            }
        }
        if (inc->split_depth != 0) {
            return fail("pass: %u bucket splits outside SORT",
                        inc->split_depth);
        }
        return 0;
    }
    if (!gc_list_ascending(&inc->pass)) {
        return -1;
    }
    *work += inc->pass.size_ub;
    uintptr_t floor =
        gc_list_is_empty(&inc->pass) ? 0 : (uintptr_t)gc_prev(&inc->pass.head);
    unsigned depth = inc->split_depth;
    if (depth > GC_INC_SPLIT_LEVELS || inc->bucket_next > GC_INC_BUCKETS ||
        (depth > 0 &&
         (inc->bucket_next == 0 ||
          inc->split[0].src != &inc->bucket[inc->bucket_next - 1]))) {
        return fail("pass: %u bucket splits, the first not of the last "
                    "bucket taken (%u)",
                    depth, inc->bucket_next);
    }
    for (unsigned i = 0; i < GC_INC_BUCKETS; i++) {
        const GcList *l = &inc->bucket[i];
        if (i < inc->bucket_next && !gc_list_is_empty(l) &&
            (depth == 0 || l != inc->split[0].src)) {
            return fail("pass bucket %u: not empty, before the next (%u)", i,
                        inc->bucket_next);
        }
        if (check_cell(l, "pass bucket", (int)i, floor, inc->bucket_lo,
                       inc->bucket_shift, work) != 0) {
            return -1;
        }
    }
    for (unsigned d = 0; d < depth; d++) {
        const GcIncSplit *sp = &inc->split[d];
        const GcList *below = d + 1 < depth ? inc->split[d + 1].src : NULL;
        if (sp->next > GC_INC_SPLIT ||
            (sp->next > 0 && !gc_list_is_empty(sp->src)) ||
            (below != NULL &&
             (sp->next == 0 || below != &sp->sub[sp->next - 1]))) {
            return fail("pass split %u: at sub-bucket %u, its list %s, the "
                        "next level %s",
                        d, sp->next,
                        gc_list_is_empty(sp->src) ? "empty" : "not empty",
                        below == NULL ? "none" : "splitting another");
        }
        for (unsigned i = 0; i < GC_INC_SPLIT; i++) {
            const GcList *l = &sp->sub[i];
            if (i < sp->next && !gc_list_is_empty(l) && l != below) {
                return fail("pass split %u: sub-bucket %u not empty, before "
                            "the next (%u)",
                            d, i, sp->next);
            }
            if (check_cell(l, "pass sub-bucket", (int)i, floor, sp->lo,
                           sp->shift, work) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* The full collection's chain starts (GcHeap.hints): distinct objects
 * of generation 2 in its list order, which carry GC_OBJ_HINT, as no other
 * object of generation 2 does (check_list allows it there alone). */
static int
check_hints(const GcHeap *gc, size_t *work)
{
    if (gc->nhints > GC_HINTS) {
        return fail("%zu chain starts (at most %d)", gc->nhints, GC_HINTS);
    }
    const GcList *l = &gc->gens[GC_NGENERATIONS - 1].list;
    size_t i = 0;
    for (const RcGcHead *g = gc_next(&l->head); g != &l->head;
         g = gc_next(g)) {
        ++*work;
        int flagged = gc_hint_maybe(g);
        if (i < gc->nhints && gc->hints[i] == g) {
            if (!flagged) {
                return fail("chain start %zu (%p) lacks its flag", i,
                            (const void *)g);
            }
            i++;
        }
        else if (flagged) {
            return fail("generation 2: object %p carries a chain start's "
                        "flag but is none (or out of order)",
                        (void *)gc_obj((RcGcHead *)(uintptr_t)g));
        }
    }
    if (i != gc->nhints) {
        return fail("chain start %zu (%p) is not in generation 2 after "
                    "the ones before it",
                    i, (const void *)gc->hints[i]);
    }
    return 0;
}

/* Is op's bit set in a young filter of 2^log2 bits? */
static int
in_filter(const uint64_t *filter, unsigned log2, const RcObject *op)
{
    unsigned b = gc_filter_bit(op, 64 - log2);
    return (int)((filter[b / 64] >> (b % 64)) & 1);
}

/* The marks and filters of generations 0 and 1 (internal.h: GC_OBJ_YOUNG,
 * GC_OBJ_GEN1, GcHeap's gen0_ and gen1_filter), beyond check_list's
 * GC_OBJ_YOUNG: generation 1's GC_OBJ_GEN1 objects carry GC_OBJ_YOUNG,
 * all its GC_OBJ_YOUNG ones GC_OBJ_GEN1 unless young_stale; each filter
 * that is on has every object of its generation's bit. */
static int
check_young(const GcHeap *gc, size_t *work)
{
    if ((gc->gen1_young & ~1) != 0 || (gc->gen1_filter_on & ~1) != 0 ||
        (gc->gen0_filter_on & ~1) != 0 || (gc->young_stale & ~1) != 0) {
        return fail("generation flags gen1_young %d, gen1_filter_on %d, "
                    "gen0_filter_on %d, young_stale %d: not 0 or 1",
                    gc->gen1_young, gc->gen1_filter_on, gc->gen0_filter_on,
                    gc->young_stale);
    }
    if (gc->gen1_filter_on &&
        gc->gen1_filter_n << 3 > (size_t)1 << GC_FILTER1_LOG2) {
        return fail("generation-1 filter on with %zu objects noted (at most "
                    "%u)",
                    gc->gen1_filter_n, (1u << GC_FILTER1_LOG2) / 8);
    }
    if (gc->gen0_filter_on &&
        (gc->gen0_filter_log2 < 10 || gc->gen0_filter_log2 > GC_FILTER_LOG2 ||
         gc->gen0_filter_n << 3 > (size_t)1 << gc->gen0_filter_log2)) {
        return fail("generation-0 filter on with 2^%u bits and %zu objects "
                    "noted",
                    gc->gen0_filter_log2, gc->gen0_filter_n);
    }
    if (gc->collecting) {
        return 0; /* the lists may be the collection's */
    }
    const GcList *l0 = &gc->gens[0].list;
    for (const RcGcHead *g = gc_next(&l0->head); g != &l0->head;
         g = gc_next(g)) {
        const RcObject *op = gc_obj((RcGcHead *)(uintptr_t)g);
        if (gc->gen0_filter_on &&
            !in_filter(gc->young_filter, gc->gen0_filter_log2, op)) {
            return fail("generation 0: object %p missing from the "
                        "generation-0 filter",
                        (const void *)op);
        }
    }
    const GcList *l1 = &gc->gens[1].list;
    for (const RcGcHead *g = gc_next(&l1->head); g != &l1->head;
         g = gc_next(g)) {
        const RcObject *op = gc_obj((RcGcHead *)(uintptr_t)g);
        uint32_t f = op->flags;
        if ((f & GC_OBJ_GEN1) && !(f & GC_OBJ_YOUNG)) {
            return fail("generation 1: object %p has generation 1's mark "
                        "without generation 0's",
                        (const void *)op);
        }
        if (!gc->young_stale && (f & GC_OBJ_YOUNG) && !(f & GC_OBJ_GEN1)) {
            return fail("generation 1: object %p has generation 0's mark "
                        "without generation 1's (no pacing skip since "
                        "generation 1 was last collected)",
                        (const void *)op);
        }
        if (gc->gen1_filter_on &&
            !in_filter(gc->gen1_filter, GC_FILTER1_LOG2, op)) {
            return fail("generation 1: object %p missing from the "
                        "generation-1 filter",
                        (const void *)op);
        }
    }
    *work += gc->gens[0].list.size_ub + gc->gens[1].list.size_ub;
    return 0;
}

/* Every list (gens, permanent), the generation counters, the garbage
 * list: the invariants of internal.h, first violation reported; *work
 * gains the objects walked. */
static int
check_all(const GcHeap *gc, size_t *work)
{
    static const char *names[GC_NGENERATIONS] = {
        "generation 0", "generation 1", "generation 2"};
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        int young = i == 0 ? 1 : i == 1 ? (gc->gen1_young ? 1 : -1) : 0;
        uint32_t allowed = i == GC_NGENERATIONS - 1 ? GC_OBJ_HINT
                           : i == 1                 ? GC_OBJ_GEN1
                                                    : 0;
        if (check_list(gc, &gc->gens[i].list, names[i], young, allowed,
                       work) != 0) {
            return -1;
        }
        const GcGen *g = &gc->gens[i];
        if (g->threshold < 0 || g->count < 0) {
            return fail("generation %d: threshold %ld, count %ld", i,
                        g->threshold, g->count);
        }
        if (g->threshold < g->base ||
            g->threshold / GC_PACING_MAX_FACTOR > g->base ||
            ((gc->pacing == GC_PACING_FIXED || i < GC_NGENERATIONS - 1) &&
             g->threshold != g->base)) {
            return fail("generation %d: threshold in force %ld outside the "
                        "pacing bounds of base %ld",
                        i, g->threshold, g->base);
        }
    }
    if (check_hints(gc, work) != 0 || check_young(gc, work) != 0) {
        return -1;
    }
    if (gc->young_skips < 0 || gc->young_skips > GC_PACING_MAX_SKIPS) {
        return fail("adaptive pacing: %d young passes skipped in a row "
                    "(at most %d)",
                    gc->young_skips, GC_PACING_MAX_SKIPS);
    }
    if (check_list(gc, &gc->permanent, "permanent generation", 0, 0, work) !=
        0) {
        return -1;
    }
    /* A pass of the pause-bounded mode (incremental.c): objects not
     * reached yet carry the pass bits; a pass runs or all are empty. */
    GcList *pass[GC_INC_NLISTS];
    gc_inc_lists((GcHeap *)(uintptr_t)gc, pass);
    static const char *pass_names[4] = {"pass set", "pass grey list",
                                        "pass candidates", "doomed list"};
    /* doomed: flagged unreachable by a one-step confirmation, or still
     * WHITE after a confirmation round (incpass.c: settle) */
    static const uint32_t pass_bits[4] = {
        GC_OBJ_PASS_BITS, 0, GC_OBJ_PASS_BITS,
        GC_OBJ_UNREACHABLE | GC_OBJ_PASS_BITS};
    for (int i = 0; i < GC_INC_NLISTS; i++) {
        /* 4 and on: the buckets, which hold part of the pass set */
        const char *name = pass_names[i < 4 ? i : 0];
        uint32_t bits = pass_bits[i < 4 ? i : 0];
        if (check_list(gc, pass[i], name, 0, bits, work) != 0) {
            return -1;
        }
        if (i != 3 && gc->inc.phase == GC_INC_IDLE &&
            !gc_list_is_empty(pass[i])) {
            return fail("%s: not empty with no pass running", name);
        }
    }
    if (check_sort(gc, work) != 0) {
        return -1;
    }
    for (size_t i = 0; i < gc->ngarbage; i++) {
        const RcObject *op = gc->garbage[i];
        if (op == NULL || op->refcnt == 0) {
            return fail("garbage[%zu] = %p is not a live object", i,
                        (const void *)op);
        }
    }
    if (gc->ngarbage > gc->garbage_cap) {
        return fail("garbage: %zu items, capacity %zu", gc->ngarbage,
                    gc->garbage_cap);
    }
    *work += gc->ngarbage;
    return 0;
}

int
gc_check(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_check");
        return -1;
    }
    size_t work = 0;
    return check_all(gc, &work);
}

#if RCGC_EXPENSIVE
/* The O(1) part: a tracked op and its two neighbours link to each other
 * (a list link written through a stray pointer stops the call that next
 * relinks around it). */
static void
check_links(GcHeap *gc, const char *fn, RcObject *op)
{
    RcGcHead *g = gc_head(op);
    if (g->next == 0) {
        return; /* untracked */
    }
    RcGcHead *next = gc_next(g), *prev = gc_prev(g);
    if (((uintptr_t)next & GC_PREV_FLAGS) != 0 ||
        ((uintptr_t)prev & GC_PREV_FLAGS) != 0 || next == NULL ||
        prev == NULL || gc_prev(next) != g || gc_next(prev) != g) {
        rcgc_fatal("cyclegc: %s: heap %p: object %p: list links damaged "
                   "(next %p, prev %p: they do not link back)",
                   fn, (void *)gc, (void *)op, (void *)next, (void *)prev);
    }
}

void
gc_checkpoint(GcHeap *gc, const char *fn, RcObject *op)
{
    if (op != NULL) {
        check_links(gc, fn, op);
    }
    if (!rcgc_check_due(&gc->check_calls, gc->check_budget) ||
        gc->collecting || rc_heap_busy(gc->rc)) {
        return;
    }
    size_t work = 0;
    if (check_all(gc, &work) != 0) {
        rcgc_fatal("cyclegc: %s: heap %p: the heap is broken at the end of "
                   "this call (checked build: gc_check failed, the message "
                   "before says what)",
                   fn, (void *)gc);
    }
    rcgc_check_done(&gc->check_calls, &gc->check_budget, work);
}
#endif

void
gc_fatal_refs_too_small(const RcObject *op)
{
    rcgc_fatal("cyclegc: gc_collect: object %p: refcount is too small: "
               "count %u, but the collected objects hold more references to "
               "it (type '%s')",
               (const void *)op, (unsigned)op->refcnt, op->type->name);
}
