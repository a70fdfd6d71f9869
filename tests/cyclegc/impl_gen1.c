/* SPDX-License-Identifier: MIT */
/* impl_gen1.c - a second look at generation 1's marks (issue 17v): the
 * paths by which objects enter or leave generations 0 and 1 other than
 * through a collection of them, each followed by collections of
 * generations 0 and 1 whose outcome (objects found, counts, gc_check) is
 * asserted.  Taking an object outside generations 0 and 1 for a member
 * packs its prev link (gc_check) or changes its count. */
#include "impl_helpers.h"

TestSuite(impl_gen1, .init = impl_setup, .fini = impl_teardown);

static long gen1_calls; /* weakref callbacks called */

static void
count_call(RcObject *wr, void *ctx)
{
    (void)ctx;
    cr_assert_null(rc_weakref_get(wr));
    gen1_calls++;
}

/* Runs increments until no pass is under way. */
static void
pass_to_end(void)
{
    GcIncStats st;
    int rounds = 0;
    do {
        (void)gc_collect_increment(impl_gc);
        gc_get_incremental_stats(impl_gc, &st);
        rounds++;
    } while (st.pass_running && rounds < 10000);
    cr_assert(!st.pass_running, "the pass did not end");
}

/* Weakrefs of generation 2, in a pass of the pause-bounded mode (flagged
 * with its bits), whose targets become garbage of a collection of
 * generation `gen` (0 or 1); no memory for the array of held weakrefs:
 * they are held on a list through their heads (garbage.c) and end in the
 * collection's older generation.  They must leave the pass as any object
 * that leaves its list does (gc_inc_forget): no pass bit (bit 20 is
 * GC_OBJ_GEN1's too) follows them into generations 1 or 2. */
static void
held_weakrefs_leave_the_pass(int gen)
{
    enum { N = 40 }; /* more than garbage.c's WR_INLINE */
    RcObject *t[N], *wr[N];
    for (int i = 0; i < N; i++) {
        t[i] = impl_new(&impl_node_type);
        impl_link(t[i], 0, t[i]);
        wr[i] =
            rc_weakref_new(gc_heap_rc(impl_gc), t[i], count_call, NULL, NULL);
        cr_assert_not_null(wr[i]);
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 0); /* all in generation 2 */
    for (int i = 0; i < N; i++) {            /* targets back to gen 0 */
        cr_assert_eq(gc_untrack(t[i]), 0);
        cr_assert_eq(gc_track(t[i]), 0);
    }
    if (gen == 1) {
        cr_assert_eq(gc_collect(impl_gc, 0), 0); /* targets -> gen 1 */
    }
    gc_set_increment_work(impl_gc, 8);
    impl_pass_to_phase(3);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (int i = 0; i < N; i++) {
        rc_decref(t[i]);
    }
    gen1_calls = 0;
    OaHeap *oa = rc_heap_oa(gc_heap_rc(impl_gc));
    oa_heap_fail_nth(oa, OA_FAIL_META, 1, 0); /* the held array */
    cr_assert_eq(gc_collect(impl_gc, gen), N);
    cr_assert_geq(oa_heap_sys_requests(oa), 1);
    oa_heap_fail_nth(oa, OA_FAIL_ALL, 0, 0);
    cr_assert_eq(gen1_calls, N);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_get_objects(impl_gc, gen + 1, NULL, 0), N);
    /* the next collections of generations 0 and 1, the pass's end */
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    impl_link(a, 1, wr[0]);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    cr_assert_eq(gc_collect(impl_gc, 1), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    pass_to_end();
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_set_increment_work(impl_gc, 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(rc_refcnt(wr[i]), 1);
        rc_decref(wr[i]);
    }
}

Test(impl_gen1, held_weakrefs_leave_the_pass_gen0)
{
    held_weakrefs_leave_the_pass(0);
}

Test(impl_gen1, held_weakrefs_leave_the_pass_gen1)
{
    held_weakrefs_leave_the_pass(1);
}

/* ---- user code inside the collection that promotes into generation 1 */

/* What a finalizer of impl_hook_type does (set by each test). */
static void (*hook_action)(RcObject *op);

static void
hook_finalize(RcObject *op)
{
    impl_finalized++;
    if (hook_action != NULL) {
        hook_action(op);
    }
}

static const RcType impl_hook_type = {
    TC_NODE_TYPE("impl_hook", RC_TYPE_GC, sizeof(ImplNode), 2),
    .finalize = hook_finalize,
};

static RcObject *hook_objs[4]; /* what the actions act on */

/* Freezes the heap and resurrects op (it moves into generation 1 without
 * its marks, after the freeze emptied it). */
static void
freeze_and_resurrect(RcObject *op)
{
    gc_freeze(impl_gc);
    impl_resurrect_slot = rc_newref(op);
}

/* A collection of generation 0 promotes a survivor, then its garbage's
 * finalizer freezes the heap and resurrects itself: the frozen objects
 * (generations 0 and 1's among them) are no members of later collections
 * of generations 0 and 1, the resurrected one is. */
Test(impl_gen1, freeze_from_a_finalizer_of_the_promoting_collection)
{
    RcObject *p = impl_new(&impl_node_type); /* gen 1, then frozen */
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    RcObject *s = impl_new(&impl_node_type); /* promoted, then frozen */
    RcObject *h = impl_new(&impl_hook_type);
    impl_link(h, 0, h);
    impl_link(h, 1, p);
    rc_decref(h);
    hook_action = freeze_and_resurrect;
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    hook_action = NULL;
    cr_assert_eq(impl_finalized, 1);
    cr_assert_eq(impl_resurrect_slot, h);
    cr_assert_eq(gc_get_freeze_count(impl_gc), 2);
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 1); /* h */
    cr_assert_eq(gc_check(impl_gc), 0);
    /* garbage of generations 0 and 1 that refers to the frozen ones and
     * to h */
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    impl_link(a, 1, s);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    RcObject *b = impl_new(&impl_node_type);
    RcObject *c = impl_new(&impl_node_type);
    impl_link(b, 0, c);
    impl_link(c, 0, b);
    impl_link(b, 1, p);
    impl_link(c, 1, h);
    rc_decref(c);
    cr_assert_eq(gc_collect(impl_gc, 0), 0); /* b, c -> generation 1 */
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(rc_refcnt(p), 2); /* ours and h's */
    cr_assert_eq(rc_refcnt(s), 1);
    cr_assert_eq(rc_refcnt(h), 2); /* the slot's and its own */
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_unfreeze(impl_gc);
    cr_assert_eq(gc_check(impl_gc), 0);
    impl_resurrect_slot = NULL;
    rc_decref(h);
    cr_assert_eq(gc_collect(impl_gc, 2), 1);
    cr_assert_eq(rc_refcnt(p), 1);
    rc_decref(p);
    rc_decref(s);
}

/* Untracks hook_objs[0] (promoted into generation 1 by this collection)
 * and untracks and tracks hook_objs[1] (into generation 0 again). */
static void
untrack_and_track(RcObject *op)
{
    (void)op;
    cr_assert_eq(gc_untrack(hook_objs[0]), 0);
    cr_assert_eq(gc_untrack(hook_objs[1]), 0);
    cr_assert_eq(gc_track(hook_objs[1]), 0);
}

/* The finalizer of a collection of generation 0 untracks a survivor it
 * just promoted, and moves another back to generation 0: the marks
 * follow (the first is no member of anything, the second is of
 * generation 0 alone), and the next collections count both right. */
Test(impl_gen1, untrack_and_track_from_a_finalizer_of_the_promoting_collection)
{
    RcObject *x = impl_new(&impl_node_type);
    RcObject *y = impl_new(&impl_node_type);
    RcObject *h = impl_new(&impl_hook_type);
    impl_link(h, 0, h);
    rc_decref(h);
    hook_objs[0] = x;
    hook_objs[1] = y;
    hook_action = untrack_and_track;
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    hook_action = NULL;
    cr_assert_eq(impl_finalized, 1);
    cr_assert_not(gc_is_tracked(x));
    cr_assert_eq(gc_get_objects(impl_gc, 0, NULL, 0), 1); /* y */
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    /* y: garbage of generation 1 with a pair that refers to x */
    impl_link(y, 0, y);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    impl_link(a, 1, x);
    impl_link(b, 1, y);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 0), 0); /* y, a, b -> generation 1 */
    rc_decref(a);
    rc_decref(y);
    cr_assert_eq(gc_collect(impl_gc, 1), 3);
    cr_assert_eq(rc_refcnt(x), 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_track(x), 0);
    rc_decref(x);
}

/* A weakref callback of a collection of generation 0 asks for
 * collections of generations 0 and 1: refused (0 and a message), and
 * the collection's promotion stands. */
static long nested_result = -2;

static void
collect_in_callback(RcObject *wr, void *ctx)
{
    (void)wr;
    nested_result = gc_collect(impl_gc, (int)(intptr_t)ctx);
    cr_assert_not_null(gc_error(impl_gc));
}

Test(impl_gen1, collections_asked_from_a_callback_are_refused)
{
    for (int gen = 0; gen < 2; gen++) {
        RcObject *t = impl_new(&impl_node_type);
        impl_link(t, 0, t);
        RcObject *wr =
            rc_weakref_new(gc_heap_rc(impl_gc), t, collect_in_callback,
                           (void *)(intptr_t)gen, NULL);
        cr_assert_not_null(wr);
        RcObject *s = impl_new(&impl_node_type); /* a survivor */
        rc_decref(t);
        nested_result = -2;
        cr_assert_eq(gc_collect(impl_gc, 0), 1);
        cr_assert_eq(nested_result, 0);
        cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 2); /* wr, s */
        cr_assert_eq(gc_check(impl_gc), 0);
        RcObject *a = impl_new(&impl_node_type);
        impl_link(a, 0, a);
        impl_link(a, 1, s);
        impl_link(s, 0, wr);
        rc_decref(a);
        cr_assert_eq(gc_collect(impl_gc, 1), 1);
        cr_assert_eq(rc_refcnt(s), 1);
        cr_assert_eq(rc_refcnt(wr), 2);
        cr_assert_eq(gc_check(impl_gc), 0);
        rc_decref(s);
        rc_decref(wr);
    }
}

/* DEBUG_SAVEALL: a collection of generation 0 sets its garbage aside into
 * generation 1 (no marks); a legacy finalizer's owner the same.  The next
 * collection of generation 1 keeps them (listed) and finds its own
 * garbage. */
Test(impl_gen1, saveall_and_legacy_garbage_in_generation_one)
{
    RcObject *l = impl_new(&impl_legacy_type);
    impl_link(l, 0, l);
    rc_decref(l);
    gc_set_debug(impl_gc, GC_DEBUG_SAVEALL, NULL);
    RcObject *g = impl_new(&impl_node_type);
    impl_link(g, 0, g);
    rc_decref(g);
    cr_assert_eq(gc_collect(impl_gc, 0), 2);
    gc_set_debug(impl_gc, 0, NULL);
    cr_assert_eq(gc_garbage_count(impl_gc), 2);
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    impl_link(a, 1, l);
    impl_link(b, 1, g);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(rc_refcnt(l), 2); /* the list's and its own */
    cr_assert_eq(rc_refcnt(g), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_get_objects(impl_gc, 2, NULL, 0), 2);
    gc_garbage_clear(impl_gc);
    cr_assert_eq(gc_collect(impl_gc, 2), 2); /* g, and l listed again */
    cr_assert_eq(gc_garbage_count(impl_gc), 1);
    cr_assert_eq(impl_legacy_calls, 0);
    impl_link(l, 0, NULL); /* its cycle broken by hand */
    gc_garbage_clear(impl_gc);
    cr_assert_eq(impl_legacy_calls, 1);
}

/* ---- the pause-bounded mode switched off and on, pacing skips ------- */

/* A pass at its reach phase leaves generation 2's objects PASSED (bit 20,
 * GC_OBJ_GEN1's); the mode is switched off with the pass under way and
 * collections of generations 0 and 1 run (their garbage refers to the
 * pass's objects, some of them PASSED), then the mode on again, the pass
 * ends, and a full collection: each finds exactly its garbage. */
Test(impl_gen1, pause_bounded_mode_off_and_on_mid_pass)
{
    enum { N = 200 };
    RcObject *old[N];
    impl_chain_in_a_pass(old, N);
    gc_set_increment_work(impl_gc, 0); /* off, the pass under way */
    for (int k = 0; k < 4; k++) {
        RcObject *a = impl_new(&impl_node_type);
        RcObject *b = impl_new(&impl_node_type);
        impl_link(a, 0, b);
        impl_link(b, 0, a);
        impl_link(a, 1, old[k * 40 + 10]);
        impl_link(b, 1, old[k * 40 + 30]);
        rc_decref(b);
        cr_assert_eq(gc_collect(impl_gc, 0), 0); /* a, b -> gen 1 */
        RcObject *c = impl_new(&impl_node_type);
        impl_link(c, 0, c);
        impl_link(c, 1, a);
        rc_decref(c);
        rc_decref(a);
        cr_assert_eq(gc_collect(impl_gc, k % 2), k % 2 ? 3 : 1);
        cr_assert_eq(gc_check(impl_gc), 0);
        if (k % 2 == 0) {
            cr_assert_eq(gc_collect(impl_gc, 1), 2);
        }
    }
    GcIncStats ist;
    gc_get_incremental_stats(impl_gc, &ist);
    cr_assert(ist.pass_running, "the pass was given up");
    gc_set_increment_work(impl_gc, 40);
    pass_to_end();
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_set_increment_work(impl_gc, 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(rc_refcnt(old[i]), i == N - 1 ? 1 : 2, "old[%d]", i);
    }
    for (int i = N - 1; i >= 0; i--) {
        rc_decref(old[i]);
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
}

/* Adaptive pacing moves generation 0 into generation 1 unexamined (its
 * objects keep GC_OBJ_YOUNG without GC_OBJ_GEN1); a collection of
 * generation 0 then promotes marked objects beside them; the thresholds
 * change; the pacing goes back to fixed: each collection of generations
 * 0 and 1 finds exactly its garbage. */
Test(impl_gen1, pacing_skips_threshold_changes_and_a_switch_back)
{
    enum { N = 64 };
    cr_assert_eq(gc_set_pacing(impl_gc, GC_PACING_ADAPTIVE), 0);
    cr_assert_eq(gc_set_threshold(impl_gc, N, 100, 100), 0);
    RcObject *keep[4 * N];
    int nkeep = 0;
    /* a collection of generation 0 with no garbage: the yield is low,
     * the next times generation 0 is due are skips */
    for (int i = 0; i < N; i++) {
        keep[nkeep++] = impl_new(&impl_node_type);
    }
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    GcGenStats st[GC_NGENERATIONS];
    gc_get_stats(impl_gc, st);
    long before = st[0].collections;
    for (int i = 0; i < 2 * N + 2; i++) { /* due: skipped */
        keep[nkeep++] = impl_new(&impl_node_type);
    }
    gc_get_stats(impl_gc, st);
    cr_assert_eq(st[0].collections, before, "generation 0 was collected");
    cr_assert_geq(gc_get_objects(impl_gc, 1, NULL, 0), (size_t)(2 * N + 1));
    cr_assert_eq(gc_get_objects(impl_gc, 0, NULL, 0) +
                     gc_get_objects(impl_gc, 1, NULL, 0),
                 (size_t)nkeep);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_set_threshold(impl_gc, 5, 100, 100), 0);
    cr_assert_eq(gc_set_pacing(impl_gc, GC_PACING_FIXED), 0);
    /* garbage of generation 0 that refers into generation 1 (skipped and
     * promoted objects alike) */
    RcObject *c = impl_new(&impl_node_type);
    impl_link(c, 0, c);
    impl_link(c, 1, keep[3]);
    rc_decref(c);
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    impl_link(a, 1, keep[N + 1]);
    impl_link(b, 1, keep[1]);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (int i = 0; i < nkeep; i++) {
        cr_assert_eq(rc_refcnt(keep[i]), 1, "keep[%d]", i);
        rc_decref(keep[i]);
    }
}
