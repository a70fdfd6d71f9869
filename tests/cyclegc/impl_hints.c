/* SPDX-License-Identifier: MIT */
/* impl_hints.c - the chain starts a full collection's sort walks from
 * (GcHeap.hints): noted as batches are promoted into generation 2 and
 * among a full collection's survivors, moved back or dropped when their
 * object leaves generation 2 alone (death, gc_untrack), forgotten when
 * generation 2 leaves its list whole (freeze); gc_check checks them after
 * each step, and the full collection that uses them finds what it
 * should. */
#include "cyclegc/internal.h"
#include "impl_helpers.h"

TestSuite(impl_hints, .init = impl_setup, .fini = impl_teardown);

enum { BATCHES = 40, PER = 30, BASE = 20000 };

/* The index in kept[0..n) of the object whose head is g, or n. */
static size_t
index_of(RcObject *const *kept, size_t n, const RcGcHead *g)
{
    for (size_t i = 0; i < n; i++) {
        if (kept[i] != NULL && gc_head(kept[i]) == g) {
            return i;
        }
    }
    return n;
}

/* BASE long-lived nodes in generation 2 (after a full collection), then
 * BATCHES batches promoted into it one generation-1 collection at a time
 * (batch b has 1 node when b % 4 == 3, else PER); kept[] holds a
 * reference to each. */
static size_t
build(RcObject **kept)
{
    size_t n = 0;
    for (size_t i = 0; i < BASE; i++) {
        kept[n] = impl_new(&impl_node_type);
        if (n > 0) {
            impl_link(kept[n], 0, kept[(n * 7919) % n]);
        }
        n++;
    }
    /* a cycle of garbage so that partition runs and notes survivors */
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    rc_decref(a);
    gc_collect(impl_gc, 2);
    cr_assert_eq(impl_gc->nhints, GC_HINTS_KEPT);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (size_t b = 0; b < BATCHES; b++) {
        size_t m = b % 4 == 3 ? 1 : PER;
        for (size_t i = 0; i < m; i++) {
            kept[n] = impl_new(&impl_node_type);
            impl_link(kept[n], 0, kept[(n * 31) % n]);
            n++;
        }
        gc_collect(impl_gc, 1); /* generations 0 and 1 into 2 */
        cr_assert_eq(gc_check(impl_gc), 0);
    }
    cr_assert_eq(impl_gc->nhints, GC_HINTS);
    return n;
}

Test(impl_hints, starts_follow_deaths_and_untracks_and_the_sort_uses_them)
{
    static RcObject *kept[BASE + BATCHES * PER];
    size_t n = build(kept);
    /* Kill the object of each start in turn, some twice over (its
     * predecessor took its place), untrack a few: gc_check holds after
     * each, and the starts stay within generation 2. */
    for (int round = 0; round < 3 * GC_HINTS && impl_gc->nhints > 0; round++) {
        size_t h = (size_t)round % impl_gc->nhints;
        size_t i = index_of(kept, n, impl_gc->hints[h]);
        cr_assert_lt(i, n, "start %zu is none of the objects", h);
        if (round % 5 == 4) {
            cr_assert_eq(gc_untrack(kept[i]), 0);
        }
        else {
            /* nothing else refers to it: slot 0 points backwards, and
             * only to objects made before it: clear the referrers */
            for (size_t j = i + 1; j < n; j++) {
                if (kept[j] != NULL &&
                    impl_node(kept[j])->slot[0] == kept[i]) {
                    impl_link(kept[j], 0, NULL);
                }
            }
            rc_decref(kept[i]);
            kept[i] = NULL;
        }
        cr_assert_eq(gc_check(impl_gc), 0, "round %d", round);
    }
    /* starts whose batch had no other object were dropped */
    cr_assert_lt(impl_gc->nhints, GC_HINTS);
    size_t before = impl_gc->nhints;
    /* cycles promoted into generation 2 as new batches (held while
     * promoted, then dropped): the full collection sorts from the starts
     * and finds exactly them */
    enum { CYCLES = 100 };
    static RcObject *held[CYCLES];
    for (int c = 0; c < CYCLES; c++) {
        RcObject *x = impl_new(&impl_node_type);
        RcObject *y = impl_new(&impl_node_type);
        impl_link(x, 0, y);
        impl_link(y, 0, x);
        impl_link(x, 1, kept[(size_t)c * 97 % BASE]);
        rc_decref(y);
        held[c] = x;
        if (c % 10 == 9) {
            gc_collect(impl_gc, 1); /* a batch of 10 cycles, a start */
            cr_assert_eq(gc_check(impl_gc), 0);
        }
    }
    for (int c = 0; c < CYCLES; c++) {
        rc_decref(held[c]);
    }
    cr_assert_gt(impl_gc->nhints, before);
    /* most of the old nodes tracked again in a shuffled order (into
     * generation 0; the starts among them move on): the list the full
     * collection gets is far from address order, so it is sorted */
    srand(3);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        RcObject *t = kept[i];
        kept[i] = kept[j];
        kept[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        if (kept[i] != NULL && i % 4 != 0 && gc_is_tracked(kept[i])) {
            cr_assert_eq(gc_untrack(kept[i]), 0);
            cr_assert_eq(gc_track(kept[i]), 0);
        }
    }
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_gt(impl_gc->nhints, 0);
    long found = gc_collect(impl_gc, 2);
    cr_assert_eq(found, 2 * CYCLES);
    cr_assert_eq(gc_check(impl_gc), 0);
    /* generation 2 now holds the survivors in address order */
    GcList *l = &impl_gc->gens[GC_NGENERATIONS - 1].list;
    RcGcHead *prev = NULL;
    for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
        cr_assert(prev == NULL || (uintptr_t)prev < (uintptr_t)g);
        prev = g;
    }
    for (size_t i = 0; i < n; i++) {
        if (kept[i] != NULL) {
            rc_decref(kept[i]);
        }
    }
}

Test(impl_hints, freeze_forgets_the_starts)
{
    static RcObject *kept[BASE + BATCHES * PER];
    size_t n = build(kept);
    gc_freeze(impl_gc);
    cr_assert_eq(impl_gc->nhints, 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_unfreeze(impl_gc);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (size_t i = 0; i < n; i++) {
        rc_decref(kept[i]);
    }
    cr_assert_eq(gc_check(impl_gc), 0);
}

/* ---- adversarial: starts against the paths out of generation 2 ------ */

enum { WN = 600, WT = 8 };
static RcObject *w_node[WN]; /* node i, made just before weakref i */
static RcObject *w_ref[WN];  /* weakref i, to target i % WT */
static long w_calls;

/* Every start a distinct flagged object of generation 2 in its order,
 * no other object of it flagged (check_hints), from inside a callback
 * too. */
static void
w_callback(RcObject *wr, void *ctx)
{
    (void)wr;
    size_t i = (size_t)(uintptr_t)ctx;
    w_calls++;
    cr_assert_eq(gc_check(impl_gc), 0, "in the callback of weakref %zu", i);
    /* node i dies (often a start, or the object before one), node i + 1
     * is untracked every third time: each leaves generation 2 alone
     * while the starts were just noted among the survivors */
    if (w_node[i] != NULL) {
        rc_decref(w_node[i]);
        w_node[i] = NULL;
    }
    if (i % 3 == 0 && i + 1 < WN && w_node[i + 1] != NULL &&
        gc_is_tracked(w_node[i + 1])) {
        cr_assert_eq(gc_untrack(w_node[i + 1]), 0);
    }
    cr_assert_eq(gc_check(impl_gc), 0, "after the callback of %zu", i);
}

/* Count the starts that are weakrefs. */
static size_t
weakref_starts(void)
{
    size_t n = 0;
    for (size_t h = 0; h < impl_gc->nhints; h++) {
        n += gc_obj(impl_gc->hints[h])->type == &rc_weakref_type;
    }
    return n;
}

/* Weakrefs with callbacks make most of generation 2, so that many of
 * the starts a full collection notes among its survivors are weakrefs.
 * Their targets die in the next full collection with the weakref table
 * refused (OOM): every weakref is then held for its callback on a list
 * through its own GC head (garbage.c: hold_on_list), tracked ones
 * leaving generation 2 (a start among them moves back), untracked ones
 * linked for the while (GC_OBJ_WR_UNTRACKED, the bit of GC_OBJ_HINT).
 * The callbacks kill and untrack the nodes between the weakrefs.
 * gc_check holds in each callback and after; no untracked weakref ends
 * tracked or flagged, no tracked one flagged but a start; the next full
 * collection sorts from the starts left. */
Test(impl_hints, starts_against_weakrefs_held_on_a_list_under_oom)
{
    RcHeap *rc = gc_heap_rc(impl_gc);
    RcObject *target[WT];
    for (int t = 0; t < WT; t++) {
        target[t] = impl_new(&impl_node_type);
        impl_link(target[t], 0, target[t]);
    }
    w_calls = 0;
    for (size_t i = 0; i < WN; i++) {
        w_node[i] = impl_new(&impl_node_type);
        w_ref[i] = rc_weakref_new(rc, target[i % WT], w_callback,
                                  (void *)(uintptr_t)i, NULL);
        cr_assert_not_null(w_ref[i]);
        if (i % 7 == 5) {
            cr_assert_eq(gc_untrack(w_ref[i]), 0);
        }
    }
    /* a garbage cycle so that partition runs and notes survivors */
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 2), 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(impl_gc->nhints, GC_HINTS_KEPT);
    cr_assert_geq(weakref_starts(), GC_HINTS_KEPT / 3,
                  "%zu of the starts are weakrefs", weakref_starts());
    for (int t = 0; t < WT; t++) {
        rc_decref(target[t]);
    }
    OaHeap *oa = rc_heap_oa(rc);
    oa_heap_fail_nth(oa, OA_FAIL_META, 1, 1);
    long found = gc_collect(impl_gc, 2);
    oa_heap_fail_nth(oa, 0, 0, 0);
    cr_assert_eq(found, WT);
    cr_assert_eq(w_calls, WN, "%ld callbacks", w_calls);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (size_t i = 0; i < WN; i++) {
        uint32_t bits = w_ref[i]->flags & GC_OBJ_WR_UNTRACKED;
        if (i % 7 == 5) {
            cr_assert(!gc_is_tracked(w_ref[i]), "weakref %zu tracked", i);
            cr_assert_eq(bits, 0, "untracked weakref %zu flagged", i);
            continue;
        }
        cr_assert(gc_is_tracked(w_ref[i]));
        int start = 0;
        for (size_t h = 0; h < impl_gc->nhints; h++) {
            start |= impl_gc->hints[h] == gc_head(w_ref[i]);
        }
        cr_assert_eq(bits != 0, start, "weakref %zu: flag %u, start %d", i,
                     bits, start);
    }
    /* everything left dies, by refcount, then by a full collection from
     * what starts remain */
    for (size_t i = 0; i < WN; i++) {
        rc_decref(w_ref[i]);
        cr_assert_eq(gc_check(impl_gc), 0);
        if (w_node[i] != NULL) {
            rc_decref(w_node[i]);
        }
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
}

enum { UN = 40 };
static RcObject *u_ref[UN];
static long u_calls[UN];
static long u_total;
static int u_seen[6];

static void
u_callback(RcObject *wr, void *ctx)
{
    (void)wr;
    size_t i = (size_t)(uintptr_t)ctx;
    u_calls[i]++;
    if (u_total++ != 0) {
        return;
    }
    /* the first callback (of the newest weakref): weakrefs 0 to 3 wait
     * on the list of callbacks, 0 and 2 untracked by the program */
    u_seen[0] = gc_is_tracked(u_ref[0]);
    u_seen[1] = gc_untrack(u_ref[0]); /* refused: not tracked */
    u_seen[2] = gc_track(u_ref[2]);
    u_seen[3] = gc_untrack(u_ref[1]);
    u_seen[4] = gc_is_tracked(u_ref[1]) * 2 + gc_is_tracked(u_ref[2]);
    u_seen[5] = gc_is_tracked(u_ref[3]);
    cr_assert_eq(gc_check(impl_gc), 0);
}

/* Weakrefs held for their callbacks on a list through their GC heads
 * (OOM): an untracked one, linked with GC_OBJ_WR_UNTRACKED (a chain
 * start's bit on a tracked object), reads untracked, and gc_untrack
 * refuses it; gc_track of one and gc_untrack of a tracked one from a
 * callback take effect once it leaves the list.  Every callback runs
 * once and every reference the collector took is dropped (before, a
 * callback's gc_untrack unlinked a waiting weakref from the list: its
 * callback never ran and its reference leaked). */
Test(impl_hints, weakrefs_held_on_a_list_keep_their_tracked_state)
{
    RcHeap *rc = gc_heap_rc(impl_gc);
    RcObject *t = impl_new(&impl_node_type);
    impl_link(t, 0, t);
    u_total = 0;
    for (size_t i = 0; i < UN; i++) {
        u_calls[i] = 0;
        u_ref[i] =
            rc_weakref_new(rc, t, u_callback, (void *)(uintptr_t)i, NULL);
        if (i % 2 == 0) {
            cr_assert_eq(gc_untrack(u_ref[i]), 0);
        }
    }
    rc_decref(t);
    OaHeap *oa = rc_heap_oa(rc);
    oa_heap_fail_nth(oa, OA_FAIL_META, 1, 1);
    long found = gc_collect(impl_gc, 0);
    oa_heap_fail_nth(oa, 0, 0, 0);
    cr_assert_eq(found, 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(u_seen[0], 0, "a waiting untracked weakref reads tracked");
    cr_assert_eq(u_seen[1], -1);
    cr_assert_eq(u_seen[2], 0);
    cr_assert_eq(u_seen[3], 0);
    cr_assert_eq(u_seen[4], 1);
    cr_assert_eq(u_seen[5], 1);
    for (size_t i = 0; i < UN; i++) {
        cr_assert_eq(u_calls[i], 1, "weakref %zu called %ld times", i,
                     u_calls[i]);
        int tracked = i == 2 || (i % 2 == 1 && i != 1);
        cr_assert_eq(gc_is_tracked(u_ref[i]), tracked, "weakref %zu", i);
        if (!tracked) {
            cr_assert_eq(u_ref[i]->flags & GC_OBJ_BITS, 0, "weakref %zu", i);
        }
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (size_t i = 0; i < UN; i++) {
        rc_decref(u_ref[i]);
    }
}

/* ---- finalizers, resurrection, legacy finalizers ------------------- */

enum { KN = 5000 };
static RcObject *k_node[KN]; /* unlinked nodes, held here alone */
static long k_killed;

/* Kill the node that is start h, if it is one of k_node. */
static void
k_kill_start(size_t h)
{
    size_t i = index_of(k_node, KN, impl_gc->hints[h]);
    if (i < KN) {
        rc_decref(k_node[i]);
        k_node[i] = NULL;
        k_killed++;
    }
}

/* A finalizer that kills, while the starts just noted among the
 * survivors stand, every other start's object and then the object that
 * took the place of the first: each leaves generation 2 by refcount in
 * the middle of the collection's handling of its garbage. */
static void
k_finalize(RcObject *op)
{
    (void)op;
    impl_finalized++;
    cr_assert_eq(gc_check(impl_gc), 0, "in the finalizer");
    for (size_t h = 0; h < impl_gc->nhints; h += 2) {
        k_kill_start(h);
    }
    if (impl_gc->nhints > 0) {
        k_kill_start(0);
    }
    cr_assert_eq(gc_check(impl_gc), 0, "after the finalizer's kills");
}

static const RcType k_fin_type = {
    TC_NODE_TYPE("impl_killer", RC_TYPE_GC, sizeof(ImplNode), 2),
    .finalize = k_finalize,
};

static RcObject *
k_cycle(const RcType *t)
{
    RcObject *x = impl_new(t);
    RcObject *y = impl_new(&impl_node_type);
    impl_link(x, 0, y);
    impl_link(y, 0, x);
    rc_decref(y);
    return x;
}

/* A full collection whose garbage has a finalizer that kills starts
 * (those the collection just noted), one that resurrects its cycle into
 * generation 2 and one with a legacy finalizer (set aside, to generation
 * 2): the starts stay within generation 2 throughout (gc_check in the
 * finalizer and after), the next full collections sort from them and
 * find what they should, freeze and unfreeze forget them. */
Test(impl_hints, starts_against_finalizers_resurrection_and_legacy)
{
    for (size_t i = 0; i < KN; i++) {
        k_node[i] = impl_new(&impl_node_type);
    }
    rc_decref(k_cycle(&impl_node_type));
    cr_assert_eq(gc_collect(impl_gc, 2), 2);
    cr_assert_eq(impl_gc->nhints, GC_HINTS_KEPT);
    k_killed = 0;
    for (int round = 0; round < 3; round++) {
        rc_decref(k_cycle(&k_fin_type));
        rc_decref(k_cycle(&impl_res_type));
        rc_decref(k_cycle(&impl_legacy_type));
        impl_finalized = 0;
        long before = k_killed;
        long found = gc_collect(impl_gc, 2);
        cr_assert_eq(gc_check(impl_gc), 0, "round %d", round);
        cr_assert_eq(impl_finalized, 2, "round %d", round);
        cr_assert_gt(k_killed, before, "round %d: no start killed", round);
        /* the killer's cycle freed, the resurrected one kept (not
         * counted), the legacy one set aside (counted), the last round's
         * resurrected cycle freed */
        cr_assert_eq(found, round == 0 ? 4 : 6, "round %d: %ld", round, found);
        cr_assert_eq(gc_garbage_count(impl_gc), (size_t)round + 1);
        cr_assert_not_null(impl_resurrect_slot);
        rc_decref(impl_resurrect_slot); /* its cycle, garbage again
                                           (finalized: freed next) */
        impl_resurrect_slot = NULL;
        cr_assert_eq(gc_check(impl_gc), 0);
        if (round == 1) {
            gc_freeze(impl_gc);
            cr_assert_eq(impl_gc->nhints, 0);
            gc_unfreeze(impl_gc);
            cr_assert_eq(gc_check(impl_gc), 0);
        }
    }
    cr_assert_eq(impl_legacy_calls, 0);
    /* the legacy cycles: broken, then freed by refcount */
    for (size_t i = 0; i < gc_garbage_count(impl_gc); i++) {
        impl_link(gc_garbage_get(impl_gc, i), 0, NULL);
        cr_assert_eq(gc_check(impl_gc), 0);
    }
    gc_garbage_clear(impl_gc);
    for (size_t i = 0; i < KN; i++) {
        if (k_node[i] != NULL) {
            rc_decref(k_node[i]);
            k_node[i] = NULL;
        }
    }
    cr_assert_eq(gc_check(impl_gc), 0);
}

/* ---- the pause-bounded pass, heap destroy -------------------------- */

/* A pass of the pause-bounded mode takes generation 2 whole (the starts
 * forgotten); batches promoted while it runs are noted again, and die
 * or are untracked between its increments; a full collection in the
 * middle of the pass gives it up; the next pass runs to its end.
 * gc_check after every step. */
Test(impl_hints, starts_across_pause_bounded_passes)
{
    static RcObject *kept[BASE + BATCHES * PER];
    size_t n = build(kept);
    gc_disable(impl_gc);
    gc_set_increment_work(impl_gc, 64);
    enum { MORE = 1000 };
    static RcObject *more[MORE];
    size_t nmore = 0;
    GcIncStats st;
    int with_starts = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* the running pass (if any) to its end, a new one begun */
        gc_get_incremental_stats(impl_gc, &st);
        for (int i = 0; i < 1000000 && st.phase != 0; i++) {
            cr_assert_geq(gc_collect_increment(impl_gc), 0);
            gc_get_incremental_stats(impl_gc, &st);
        }
        for (int i = 0; i < 1000 && st.phase == 0; i++) {
            cr_assert_geq(gc_collect_increment(impl_gc), 0);
            gc_get_incremental_stats(impl_gc, &st);
        }
        cr_assert_eq(gc_check(impl_gc), 0);
        cr_assert_neq(st.phase, 0, "no pass began");
        cr_assert_eq(impl_gc->nhints, 0, "a pass took generation 2");
        for (int step = 0; step < 40; step++) {
            /* a batch of 5 into generation 2 while the pass runs */
            for (int k = 0; k < 5 && nmore < MORE; k++) {
                more[nmore++] = impl_new(&impl_node_type);
            }
            gc_collect(impl_gc, 1);
            cr_assert_eq(gc_check(impl_gc), 0, "pass %d step %d", pass, step);
            /* (the first batch of a pass lands in an empty generation 2:
             * its first object is a start anyway, and not noted) */
            with_starts += impl_gc->nhints > 0;
            /* the newest start dies (our reference to it goes), the one
             * before it is untracked */
            size_t h = impl_gc->nhints;
            for (int k = 0; k < 2 && h > 0; k++) {
                RcGcHead *g = impl_gc->hints[--h];
                size_t i = index_of(more, nmore, g);
                RcObject **arr = more;
                if (i == nmore) {
                    i = index_of(kept, n, g);
                    cr_assert_lt(i, n, "a start of none of the objects");
                    arr = kept;
                }
                if (k == 0) {
                    rc_decref(arr[i]);
                    arr[i] = NULL;
                }
                else if (step % 2 == 0) {
                    cr_assert_eq(gc_untrack(arr[i]), 0);
                }
                cr_assert_eq(gc_check(impl_gc), 0);
            }
            cr_assert_geq(gc_collect_increment(impl_gc), 0);
            cr_assert_eq(gc_check(impl_gc), 0);
            if (pass == 0 && step == 20) {
                /* gives the pass up: its lists back into generation 2
                 * after the batches (and their starts) */
                RcObject *a = impl_new(&impl_node_type);
                impl_link(a, 0, a);
                rc_decref(a); /* garbage: partition runs, notes starts */
                cr_assert_eq(gc_collect(impl_gc, 2), 1);
                cr_assert_eq(gc_check(impl_gc), 0);
                cr_assert_eq(impl_gc->nhints, GC_HINTS_KEPT);
            }
        }
    }
    cr_assert_gt(with_starts, 60, "%d steps of 80 with starts", with_starts);
    /* the running pass to its end, then a full collection */
    uint64_t passes = st.passes;
    for (int i = 0; i < 1000000 && st.passes == passes; i++) {
        cr_assert_geq(gc_collect_increment(impl_gc), 0);
        gc_get_incremental_stats(impl_gc, &st);
    }
    cr_assert_gt(st.passes, passes);
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_set_increment_work(impl_gc, 0);
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (size_t i = 0; i < nmore; i++) {
        if (more[i] != NULL) {
            rc_decref(more[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (kept[i] != NULL) {
            rc_decref(kept[i]);
        }
    }
    gc_enable(impl_gc);
}

/* A collector destroyed over a live heap with chain starts: every object
 * is left untracked without the flag (the bit would read as
 * GC_OBJ_WR_UNTRACKED), and dies by refcount afterwards. */
Test(impl_hints, heap_destroy_with_starts)
{
    OaHeap *oa = oa_heap_new();
    cr_assert_not_null(oa);
    RcHeap *rc = rc_heap_new(oa);
    cr_assert_not_null(rc);
    GcHeap *gc = gc_heap_new(rc);
    cr_assert_not_null(gc);
    enum { DN = 3000 };
    static RcObject *d[DN];
    for (size_t i = 0; i < DN; i++) {
        d[i] = tc_new(rc, &impl_node_type);
        if (i > 0) {
            impl_link(d[i], 0, d[i - 1]);
        }
        if (i == DN / 2) {
            RcObject *a = tc_new(rc, &impl_node_type);
            impl_link(a, 0, a);
            rc_decref(a);
            cr_assert_eq(gc_collect(gc, 2), 1);
        }
        else if (i > DN / 2 && i % 50 == 0) {
            gc_collect(gc, 1);
        }
    }
    cr_assert_eq(gc_check(gc), 0);
    cr_assert_gt(gc->nhints, GC_HINTS_KEPT);
    gc_heap_destroy(gc);
    for (size_t i = 0; i < DN; i++) {
        cr_assert_eq(d[i]->flags & GC_OBJ_WR_UNTRACKED, 0, "object %zu", i);
        cr_assert(!gc_is_tracked(d[i]));
    }
    for (size_t i = DN; i-- > 0;) {
        rc_decref(d[i]);
    }
    cr_assert_eq(rc_live_total(rc), 0);
    rc_heap_destroy(rc);
    oa_heap_destroy(oa);
}

/* ---- out of memory ------------------------------------------------- */

/* Full and generation-1 collections with the k-th system request
 * failing (and every later one), for k = 1, 2, ... until a collection
 * needs fewer: garbage with weakref callbacks (more than the inline
 * array holds) and finalizers each time; the starts hold (gc_check)
 * after each, every callback runs, and the heap is whole afterwards.
 * (Here a collection makes one request, the array of weakrefs to call
 * back: with it refused they wait on a list, starts among them.) */
Test(impl_hints, starts_through_collections_out_of_memory)
{
    static RcObject *kept[BASE + BATCHES * PER];
    size_t n = build(kept);
    RcHeap *rc = gc_heap_rc(impl_gc);
    OaHeap *oa = rc_heap_oa(rc);
    enum { NW = 40 };
    RcObject *w[NW];
    int done = 0;
    long collections = 0;
    w_calls = 0;
    for (uint64_t k = 1; k < 200 && !done; k++) {
        for (int gen = 1; gen <= 2; gen++) {
            RcObject *t = impl_new(&impl_fin_type);
            impl_link(t, 0, t);
            for (int i = 0; i < NW; i++) {
                w[i] = rc_weakref_new(rc, t, NULL, NULL, NULL);
                cr_assert_not_null(w[i]);
                impl_link(kept[(k * 131 + (uint64_t)i) % n], 1, w[i]);
                rc_decref(w[i]);
            }
            /* callbacks: weakrefs with one, held by kept nodes */
            for (int i = 0; i < NW; i++) {
                RcObject *c = rc_weakref_new(
                    rc, t, w_callback, (void *)(uintptr_t)(WN - 1), NULL);
                cr_assert_not_null(c);
                impl_link(kept[(k * 977 + (uint64_t)i * 7) % n], 1, c);
                rc_decref(c);
            }
            rc_decref(t);
            w_node[WN - 1] = NULL;
            oa_heap_fail_nth(oa, OA_FAIL_ALL, k, 1);
            long found = gc_collect(impl_gc, gen);
            uint64_t used = oa_heap_sys_requests(oa);
            oa_heap_fail_nth(oa, 0, 0, 0);
            cr_assert_geq(found, 1);
            collections++;
            cr_assert_eq(gc_check(impl_gc), 0, "k %lu gen %d",
                         (unsigned long)k, gen);
            if (gen == 2 && used < k) {
                done = 1;
            }
        }
    }
    cr_assert(done, "the sweep did not reach a collection's needs");
    cr_assert_eq(w_calls, NW * collections);
    for (size_t i = 0; i < n; i++) {
        rc_decref(kept[i]);
    }
    gc_collect(impl_gc, 2);
    cr_assert_eq(gc_check(impl_gc), 0);
}
