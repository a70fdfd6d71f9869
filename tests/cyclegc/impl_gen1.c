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

/* Runs increments until a pass of the pause-bounded mode is in phase
 * `phase` (3: reach). */
static void
pass_to_phase(int phase)
{
    GcIncStats st;
    int rounds = 0;
    do {
        cr_assert_eq(gc_collect_increment(impl_gc), 0);
        gc_get_incremental_stats(impl_gc, &st);
        rounds++;
    } while (!(st.pass_running && st.phase == phase) && rounds < 1000);
    cr_assert(st.pass_running && st.phase == phase, "no pass in phase %d",
              phase);
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
    pass_to_phase(3);
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
