/* SPDX-License-Identifier: MIT */
/* impl_collect.c - the collector engineer's tests of the collection
 * itself: cycles found, live objects intact, finalizers once,
 * resurrection, legacy finalizers, weakrefs, SAVEALL, re-entrancy. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "impl_helpers.h"

#include <string.h>

TestSuite(impl_collect, .init = impl_setup, .fini = impl_teardown);

Test(impl_collect, self_cycle_is_collected)
{
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    cr_assert_eq(rc_live_total(gc_heap_rc(impl_gc)), 0);
}

Test(impl_collect, ring_is_collected_and_live_ring_kept_intact)
{
    enum { N = 1000 };
    RcObject *dead[N], *live[N];
    for (int i = 0; i < N; i++) {
        dead[i] = impl_new(&impl_node_type);
        live[i] = impl_new(&impl_node_type);
        impl_node(live[i])->tag = i;
    }
    for (int i = 0; i < N; i++) {
        impl_link(dead[i], 0, dead[(i + 1) % N]);
        impl_link(live[i], 0, live[(i + 1) % N]);
        impl_link(live[i], 1, live[(i * 7) % N]);
    }
    for (int i = 0; i < N; i++) {
        rc_decref(dead[i]);
        if (i != 0) {
            rc_decref(live[i]);
        }
    }
    cr_assert_eq(gc_collect(impl_gc, 2), N);
    cr_assert_eq(gc_check(impl_gc), 0);
    RcObject *p = live[0];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(impl_node(p)->tag, i);
        cr_assert(gc_is_tracked(p));
        p = impl_node(p)->slot[0];
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
    rc_decref(live[0]);
    cr_assert_eq(gc_collect(impl_gc, 2), N);
}

Test(impl_collect, survivors_are_promoted_one_generation)
{
    RcObject *a = impl_new(&impl_node_type);
    RcObject *buf[4];
    cr_assert_eq(gc_get_objects(impl_gc, 0, buf, 4), 1);
    gc_collect(impl_gc, 0);
    cr_assert_eq(gc_get_objects(impl_gc, 0, buf, 4), 0);
    cr_assert_eq(gc_get_objects(impl_gc, 1, buf, 4), 1);
    gc_collect(impl_gc, 1);
    cr_assert_eq(gc_get_objects(impl_gc, 2, buf, 4), 1);
    cr_assert_eq(buf[0], a);
    gc_collect(impl_gc, 2);
    cr_assert_eq(gc_get_objects(impl_gc, 2, buf, 4), 1);
    rc_decref(a);
}

Test(impl_collect, cycle_through_untracked_object_survives_but_is_not_seen)
{
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    cr_assert_eq(gc_untrack(b), 0);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    /* b is untracked: its reference to a counts as external. */
    cr_assert_eq(gc_collect(impl_gc, 2), 0);
    cr_assert_eq(gc_track(b), 0);
    cr_assert_eq(gc_collect(impl_gc, 2), 2);
}

Test(impl_collect, finalizer_runs_once_and_resurrection_keeps_what_it_reaches)
{
    RcObject *r = impl_new(&impl_res_type);
    RcObject *x = impl_new(&impl_node_type);
    RcObject *y = impl_new(&impl_node_type);
    impl_node(y)->tag = 42;
    impl_link(r, 0, x);
    impl_link(x, 0, r);
    impl_link(x, 1, y);
    rc_decref(r);
    rc_decref(x);
    rc_decref(y);
    for (int i = 0; i < 100; i++) {
        RcObject *c = impl_new(&impl_node_type);
        impl_link(c, 0, c);
        rc_decref(c);
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 100);
    cr_assert_eq(impl_finalized, 1);
    cr_assert_eq(impl_resurrect_slot, r);
    cr_assert(gc_is_finalized(r));
    RcObject *xx = impl_node(r)->slot[0];
    cr_assert_eq(xx, x);
    cr_assert_eq(impl_node(impl_node(xx)->slot[1])->tag, 42);
    GcGenStats st[GC_NGENERATIONS];
    gc_get_stats(impl_gc, st);
    cr_assert_eq(st[2].collected, 100);
    /* Drop it again: finalize does not rerun; the cycle goes. */
    RcObject *slot = impl_resurrect_slot;
    impl_resurrect_slot = (RcObject *)1; /* no second resurrection */
    rc_decref(slot);
    cr_assert_eq(gc_collect(impl_gc, 2), 3);
    cr_assert_eq(impl_finalized, 1);
    impl_resurrect_slot = NULL;
}

Test(impl_collect, legacy_finalizer_cycle_is_uncollectable_with_all_it_reaches)
{
    RcObject *l = impl_new(&impl_legacy_type);
    RcObject *x = impl_new(&impl_node_type);
    RcObject *y = impl_new(&impl_node_type);
    impl_link(l, 0, x);
    impl_link(x, 0, l);
    impl_link(x, 1, y);
    rc_decref(l);
    rc_decref(x);
    rc_decref(y);
    cr_assert_eq(gc_collect(impl_gc, 2), 3);
    GcGenStats st[GC_NGENERATIONS];
    gc_get_stats(impl_gc, st);
    cr_assert_eq(st[2].uncollectable, 3);
    cr_assert_eq(st[2].collected, 0);
    /* Listed is only the owner of the legacy finalizer (CPython's
     * handle_legacy_finalizers); it holds x and y. */
    cr_assert_eq(gc_garbage_count(impl_gc), 1);
    cr_assert_eq(gc_garbage_get(impl_gc, 0), l);
    cr_assert_eq(impl_legacy_calls, 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    /* Break the cycle by hand, as a Python user would. */
    impl_link(x, 0, NULL);
    gc_garbage_clear(impl_gc);
    cr_assert_eq(impl_legacy_calls, 1);
}

static long impl_wr_calls;
static RcObject *impl_wr_seen_target;

static void
impl_wr_cb(RcObject *wr, void *ctx)
{
    (void)ctx;
    impl_wr_calls++;
    impl_wr_seen_target = rc_weakref_get(wr);
}

Test(impl_collect,
     reachable_weakref_calls_back_with_cleared_ref_garbage_one_never)
{
    impl_wr_calls = 0;
    impl_wr_seen_target = (RcObject *)1;
    RcHeap *rc = gc_heap_rc(impl_gc);
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    RcObject *live_wr = rc_weakref_new(rc, a, impl_wr_cb, NULL, NULL);
    cr_assert_not_null(live_wr);
    /* A weakref held by the cycle itself: garbage, never calls back. */
    RcObject *b = impl_new(&impl_node_type);
    RcObject *dead_wr = rc_weakref_new(rc, a, impl_wr_cb, NULL, NULL);
    impl_node(b)->slot[0] = dead_wr; /* steal */
    impl_link(b, 1, b);
    impl_link(a, 1, b);
    rc_decref(b);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 2), 3);
    cr_assert_eq(impl_wr_calls, 1);
    cr_assert_null(impl_wr_seen_target);
    cr_assert_null(rc_weakref_get(live_wr));
    rc_decref(live_wr);
}

Test(impl_collect, saveall_keeps_everything_in_garbage)
{
    gc_set_debug(impl_gc, GC_DEBUG_SAVEALL, NULL);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 2), 2);
    cr_assert_eq(gc_garbage_count(impl_gc), 2);
    cr_assert_eq(rc_live_total(gc_heap_rc(impl_gc)), 2);
    gc_set_debug(impl_gc, 0, NULL);
    gc_garbage_clear(impl_gc);
    cr_assert_eq(gc_collect(impl_gc, 2), 2);
}

static long impl_inner_result = -7;

static void
impl_finalize_collects(RcObject *op)
{
    (void)op;
    impl_inner_result = gc_collect(impl_gc, 2);
}

static const RcType impl_collecting_type = {
    TC_NODE_TYPE("impl_collecting", RC_TYPE_GC, sizeof(ImplNode), 2),
    .finalize = impl_finalize_collects,
};

Test(impl_collect, collect_inside_finalizer_returns_zero)
{
    RcObject *a = impl_new(&impl_collecting_type);
    impl_link(a, 0, a);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 2), 1);
    cr_assert_eq(impl_inner_result, 0);
}

Test(impl_collect, debug_stats_lines_go_to_the_chosen_stream)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    gc_set_debug(impl_gc, GC_DEBUG_STATS | GC_DEBUG_COLLECTABLE, f);
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    rc_decref(a);
    gc_collect(impl_gc, 1);
    gc_set_debug(impl_gc, 0, NULL);
    fclose(f);
    cr_assert_not_null(strstr(text, "gc: collecting generation 1...\n"));
    cr_assert_not_null(strstr(text, "gc: collectable <impl_node 0x"));
    cr_assert_not_null(strstr(text, "gc: done, 1 unreachable, 0 "
                                    "uncollectable, "));
    free(text);
}

Test(impl_collect, frozen_objects_referenced_by_a_new_cycle_stay_intact)
{
    RcObject *f = impl_new(&impl_node_type);
    gc_freeze(impl_gc);
    cr_assert_eq(gc_get_freeze_count(impl_gc), 1);
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    impl_link(a, 1, f);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 2), 1);
    cr_assert_eq(rc_refcnt(f), 1);
    gc_unfreeze(impl_gc);
    cr_assert_eq(gc_get_freeze_count(impl_gc), 0);
    rc_decref(f);
}

Test(impl_collect, automatic_collection_follows_threshold_and_stops_at_zero)
{
    RcHeap *rc = gc_heap_rc(impl_gc);
    gc_set_threshold(impl_gc, 100, 10, 10);
    for (int i = 0; i < 1000; i++) {
        RcObject *a = impl_new(&impl_node_type);
        impl_link(a, 0, a);
        rc_decref(a);
    }
    cr_assert_lt(rc_live_total(rc), 101);
    GcEvent ev[4];
    size_t n = gc_events(impl_gc, ev, 4);
    cr_assert_geq(n, 9);
    gc_set_threshold(impl_gc, 0, 10, 10);
    gc_collect(impl_gc, 2);
    for (int i = 0; i < 5000; i++) {
        RcObject *a = impl_new(&impl_node_type);
        impl_link(a, 0, a);
        rc_decref(a);
    }
    cr_assert_eq(rc_live_total(rc), 5000);
    cr_assert_eq(gc_collect(impl_gc, 2), 5000);
}

Test(impl_collect, bad_input_is_refused_with_a_message)
{
    cr_assert_eq(gc_collect(impl_gc, 3), -1);
    cr_assert_not_null(strstr(gc_error(impl_gc), "invalid generation"));
    cr_assert_eq(gc_collect(impl_gc, -1), -1);
    cr_assert_eq(gc_set_threshold(impl_gc, -1, 0, 0), -1);
    RcObject *buf[1];
    cr_assert_eq(gc_get_objects(impl_gc, 5, buf, 1), (size_t)-1);
    RcObject *a = impl_new(&impl_node_type);
    cr_assert_eq(gc_track(a), -1);
    cr_assert_not_null(strstr(gc_error(impl_gc), "already tracked"));
    cr_assert_eq(gc_untrack(a), 0);
    cr_assert_eq(gc_untrack(a), -1);
    cr_assert_not_null(strstr(gc_error(impl_gc), "not tracked"));
    cr_assert_eq(gc_track(a), 0);
    RcObject *leaf = impl_new(&impl_leaf_type);
    cr_assert_eq(gc_track(leaf), -1);
    cr_assert_not_null(strstr(gc_error(impl_gc), "not of a GC type"));
    cr_assert_eq(gc_untrack(leaf), -1);
    cr_assert_not(gc_is_tracked(leaf));
    cr_assert_eq(gc_why_alive(impl_gc, leaf, buf, 1), (size_t)-1);
    rc_decref(leaf);
    rc_decref(a);
}

Test(impl_collect, many_weakref_callbacks_all_run_after_all_are_cleared)
{
    enum { N = 100 };
    impl_wr_calls = 0;
    RcHeap *rc = gc_heap_rc(impl_gc);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    RcObject *wr[N];
    for (int i = 0; i < N; i++) {
        wr[i] = rc_weakref_new(rc, i % 2 ? a : b, impl_wr_cb, NULL, NULL);
        cr_assert_not_null(wr[i]);
    }
    rc_decref(a);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 2), 2);
    cr_assert_eq(impl_wr_calls, N);
    for (int i = 0; i < N; i++) {
        cr_assert_null(rc_weakref_get(wr[i]));
        rc_decref(wr[i]);
    }
}

Test(impl_collect,
     uncollectable_without_memory_for_the_garbage_list_stays_alive)
{
    RcObject *l = impl_new(&impl_legacy_type);
    impl_link(l, 0, l);
    rc_decref(l);
    OaHeap *oa = rc_heap_oa(gc_heap_rc(impl_gc));
    oa_heap_fail_nth(oa, OA_FAIL_META, 1, 1);
    cr_assert_eq(gc_collect(impl_gc, 2), 1);
    oa_heap_fail_nth(oa, OA_FAIL_ALL, 0, 0);
    cr_assert_eq(gc_garbage_count(impl_gc), 0);
    cr_assert_not_null(strstr(gc_error(impl_gc), "out of memory"));
    cr_assert_eq(gc_check(impl_gc), 0);
    /* Found again by the next collection, with memory this time. */
    cr_assert_eq(gc_collect(impl_gc, 2), 1);
    cr_assert_eq(gc_garbage_count(impl_gc), 1);
    impl_link(l, 0, NULL);
    gc_garbage_clear(impl_gc);
    cr_assert_eq(impl_legacy_calls, 1);
}

/* A collection of generation 0 tells its members by their mark
 * (GC_OBJ_YOUNG): an older object that refers to young ones, and one
 * that young garbage refers to, keep their counts; the young object the
 * older one holds survives; the marks are right afterwards (gc_check). */
Test(impl_collect, generation_zero_tells_its_objects_from_older_ones)
{
    RcObject *old = impl_new(&impl_node_type);
    cr_assert_eq(gc_collect(impl_gc, 0), 0); /* old -> generation 1 */
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 1);
    RcObject *held = impl_new(&impl_node_type);
    impl_link(old, 0, held);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    impl_link(a, 1, old);
    impl_link(b, 1, held);
    rc_decref(a);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 0), 2);
    cr_assert_eq(rc_refcnt(old), 1);
    cr_assert_eq(rc_refcnt(held), 2); /* ours and old's */
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    /* Promoted, held is no longer young: a new cycle that refers to it
     * is collected, and held keeps its count. */
    RcObject *c = impl_new(&impl_node_type);
    impl_link(c, 0, c);
    impl_link(c, 1, held);
    rc_decref(c);
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    cr_assert_eq(rc_refcnt(held), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(held);
    rc_decref(old);
}

/* Objects frozen straight from generation 0 lose its mark: a later
 * collection of generation 0 does not take them for members. */
Test(impl_collect, frozen_young_objects_are_not_taken_for_young_ones)
{
    RcObject *f = impl_new(&impl_node_type);
    gc_freeze(impl_gc);
    cr_assert_eq(gc_check(impl_gc), 0);
    RcObject *a = impl_new(&impl_node_type);
    impl_link(a, 0, a);
    impl_link(a, 1, f);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 0), 1);
    cr_assert_eq(rc_refcnt(f), 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    gc_unfreeze(impl_gc);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(f);
}

/* Adaptive pacing moves generation 0 on unexamined, marks and all: the
 * next collections of generation 0 still find exactly their garbage,
 * and one of generation 1 clears the marks it moved. */
Test(impl_collect, young_objects_moved_on_unexamined_are_not_members)
{
    cr_assert_eq(gc_set_threshold(impl_gc, 50, 1000, 1000), 0);
    cr_assert_eq(gc_set_pacing(impl_gc, GC_PACING_ADAPTIVE), 0);
    enum { N = 400 };
    RcObject *keep[N];
    for (int i = 0; i < N; i++) {
        keep[i] = impl_new(&impl_node_type); /* survivors: skips */
    }
    GcGenStats st[GC_NGENERATIONS];
    gc_get_stats(impl_gc, st);
    cr_assert_gt(st[0].skipped, 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_set_pacing(impl_gc, GC_PACING_FIXED), 0);
    for (int i = 0; i < N; i++) {
        RcObject *a = impl_new(&impl_node_type);
        impl_link(a, 0, a);
        impl_link(a, 1, keep[i]);
        rc_decref(a);
    }
    cr_assert_geq(gc_collect(impl_gc, 0), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(rc_refcnt(keep[i]), 1, "keep[%d]", i);
    }
    cr_assert_geq(gc_collect(impl_gc, 1), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (int i = 0; i < N; i++) {
        rc_decref(keep[i]);
    }
}

/* ---- a collection of generation 1 tells its members by their marks ----
 * (GC_OBJ_YOUNG on generations 0 and 1, GC_OBJ_GEN1 on generation 1:
 * internal.h).  Each test below builds a generation-1 collection whose
 * garbage refers to objects outside generations 0 and 1 (held by the
 * test with a known count); taking one of them for a member would change
 * its count or leave its list packed (gc_check). */

/* Moves the objects of generation 0 into generation 1 (none is garbage). */
static void
promote_young(void)
{
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    cr_assert_eq(gc_get_objects(impl_gc, 0, NULL, 0), 0);
}

/* A 2-cycle in generation 1 that refers to `out` (may be NULL): returns
 * one of its objects, whose reference the caller drops. */
static RcObject *
gen1_pair(RcObject *out)
{
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    impl_link(a, 0, b);
    impl_link(b, 0, a);
    impl_link(a, 1, out);
    rc_decref(b);
    promote_young();
    return a;
}

Test(impl_collect, generation_one_tells_its_objects_from_generation_two)
{
    RcObject *old = impl_new(&impl_node_type);
    promote_young();
    cr_assert_eq(gc_collect(impl_gc, 1), 0); /* old -> generation 2 */
    cr_assert_eq(gc_get_objects(impl_gc, 2, NULL, 0), 1);
    RcObject *held = impl_new(&impl_node_type);
    RcObject *a = gen1_pair(old);
    impl_link(impl_node(a)->slot[0], 1, held);
    /* generation-0 garbage that refers into generation 1's garbage */
    RcObject *c = impl_new(&impl_node_type);
    impl_link(c, 0, c);
    impl_link(c, 1, a);
    rc_decref(a);
    rc_decref(c);
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 3);
    cr_assert_eq(gc_collect(impl_gc, 1), 3);
    cr_assert_eq(rc_refcnt(old), 1);
    cr_assert_eq(rc_refcnt(held), 1);
    cr_assert_eq(gc_get_objects(impl_gc, 2, NULL, 0), 2);
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(held);
    rc_decref(old);
}

/* A generation-1 object untracked (no member) and one untracked and
 * tracked again (a member of generation 0 now). */
Test(impl_collect, generation_one_after_untrack_and_track)
{
    RcObject *x = impl_new(&impl_node_type);
    RcObject *y = impl_new(&impl_node_type);
    promote_young();
    cr_assert_eq(gc_untrack(x), 0);
    cr_assert_eq(gc_untrack(y), 0);
    cr_assert_eq(gc_track(y), 0);
    cr_assert_eq(gc_get_objects(impl_gc, 0, NULL, 0), 1);
    impl_link(y, 0, y);
    impl_link(y, 1, x);
    RcObject *a = gen1_pair(x); /* y promoted with it */
    impl_link(a, 1, y);         /* a's slot 1 was x: now y */
    rc_decref(a);
    rc_decref(y);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_collect(impl_gc, 1), 3);
    cr_assert_eq(rc_refcnt(x), 1);
    cr_assert_not(gc_is_tracked(x));
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_track(x), 0);
    rc_decref(x);
}

/* Objects frozen from generation 1 lose its marks: unfrozen into
 * generation 2, they are no members of a later collection of
 * generation 1. */
Test(impl_collect, generation_one_after_freeze_and_unfreeze)
{
    RcObject *f = impl_new(&impl_node_type);
    promote_young();
    RcObject *g = impl_new(&impl_node_type); /* frozen from generation 0 */
    gc_freeze(impl_gc);
    cr_assert_eq(gc_check(impl_gc), 0);
    RcObject *a = gen1_pair(f);
    impl_link(impl_node(a)->slot[0], 1, g);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(rc_refcnt(f), 1);
    cr_assert_eq(rc_refcnt(g), 1);
    gc_unfreeze(impl_gc);
    cr_assert_eq(gc_check(impl_gc), 0);
    a = gen1_pair(f);
    impl_link(impl_node(a)->slot[0], 1, g);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(rc_refcnt(f), 1);
    cr_assert_eq(rc_refcnt(g), 1);
    cr_assert_eq(gc_get_objects(impl_gc, 2, NULL, 0), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(f);
    rc_decref(g);
}

/* A pass of the pause-bounded mode flags generation 2's objects with
 * bits of its own (GC_OBJ_PASSED is GC_OBJ_GEN1's bit): collections of
 * generations 0 and 1 in the middle of it take none for a member. */
Test(impl_collect, generation_one_during_a_pause_bounded_pass)
{
    enum { N = 300 };
    RcObject *old[N];
    impl_chain_in_a_pass(old, N);
    for (int k = 0; k < 3; k++) {
        RcObject *a = gen1_pair(old[k * 100 + 50]);
        RcObject *c = impl_new(&impl_node_type);
        impl_link(c, 0, c);
        impl_link(c, 1, old[k * 100 + 99]);
        rc_decref(c);
        cr_assert_eq(gc_collect(impl_gc, 0), 1);
        rc_decref(a);
        cr_assert_eq(gc_collect(impl_gc, 1), 2);
        cr_assert_eq(gc_check(impl_gc), 0);
    }
    for (int i = 0; i < N; i++) {
        cr_assert_eq(rc_refcnt(old[i]), i == N - 1 ? 1 : 2, "old[%d]", i);
    }
    gc_set_increment_work(impl_gc, 0);
    for (int i = 0; i < N; i++) {
        rc_decref(old[i]);
    }
}

/* Thresholds changed between the collections, generation 0 past its
 * filter's room, generation 1 past its own (8192 objects): the
 * collections of generation 1 still find exactly their garbage. */
Test(impl_collect, generation_one_after_threshold_changes_and_full_filters)
{
    gc_disable(impl_gc);
    cr_assert_eq(gc_set_threshold(impl_gc, 5, 10, 10), 0);
    cr_assert_eq(gc_collect(impl_gc, 2), 0); /* a filter for 5 objects */
    RcObject *out = impl_new(&impl_node_type);
    promote_young();
    cr_assert_eq(gc_collect(impl_gc, 1), 0); /* out -> generation 2 */
    enum { N = 10000 };
    RcObject **keep = malloc(N * sizeof(*keep));
    cr_assert_not_null(keep);
    RcObject *a = gen1_pair(out);
    cr_assert_eq(gc_set_threshold(impl_gc, 3000, 10, 10), 0);
    for (int i = 0; i < 300; i++) { /* past generation 0's filter */
        RcObject *c = impl_new(&impl_node_type);
        impl_link(c, 0, c);
        impl_link(c, 1, i % 2 ? out : a);
        rc_decref(c);
    }
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 302);
    cr_assert_eq(rc_refcnt(out), 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    /* generation 1 past its filter's room */
    for (int i = 0; i < N; i++) {
        keep[i] = impl_new(&impl_node_type);
        impl_link(keep[i], 0, out);
    }
    a = gen1_pair(out);
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), N + 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(rc_refcnt(out), N + 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (int i = 0; i < N; i++) {
        rc_decref(keep[i]);
    }
    free(keep);
    cr_assert_eq(rc_refcnt(out), 1);
    /* and again with the filters restarted by that collection */
    a = gen1_pair(out);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(out);
    gc_enable(impl_gc);
}

/* After a full collection generation 1 starts empty; the objects it
 * moved to generation 2 are no members of the next one. */
Test(impl_collect, generation_one_after_a_full_collection)
{
    RcObject *o = impl_new(&impl_node_type);
    promote_young();
    RcObject *a = gen1_pair(o);
    cr_assert_eq(gc_collect(impl_gc, 2), 0); /* a's pair, o -> gen 2 */
    RcObject *b = gen1_pair(a);
    rc_decref(b);
    cr_assert_eq(gc_collect(impl_gc, 1), 2);
    cr_assert_eq(rc_refcnt(a), 2); /* ours and its partner's */
    cr_assert_eq(rc_refcnt(o), 2); /* ours and a's */
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 2), 2);
    rc_decref(o);
}

/* An object that a collection of generation 0 resurrects moves into
 * generation 1 without its marks: the next collection of generation 1
 * still finds exactly its garbage (it counts its objects first). */
Test(impl_collect, generation_one_after_a_resurrection_in_generation_zero)
{
    RcObject *r = impl_new(&impl_res_type);
    impl_link(r, 0, r);
    rc_decref(r);
    cr_assert_eq(gc_collect(impl_gc, 0), 0);
    cr_assert_eq(impl_resurrect_slot, r);
    cr_assert_eq(gc_get_objects(impl_gc, 1, NULL, 0), 1);
    cr_assert_eq(gc_check(impl_gc), 0);
    RcObject *a = gen1_pair(r);
    RcObject *c = impl_new(&impl_node_type);
    impl_link(c, 0, c);
    impl_link(c, 1, r);
    rc_decref(c);
    rc_decref(a);
    cr_assert_eq(gc_collect(impl_gc, 1), 3);
    cr_assert_eq(rc_refcnt(r), 2); /* the slot's and its own */
    cr_assert_eq(gc_check(impl_gc), 0);
    impl_resurrect_slot = NULL;
    rc_decref(r);
}

/* The filters let through the objects on lines that hash to a bit of a
 * member (1 in 8 or so when full): with generation 0's filter at its
 * smallest (threshold 5: 1024 bits) and thousands of objects in
 * generation 1, many references from the garbage to older objects pass
 * them, and only the marks keep those out.  A collection of generation 0
 * then of generation 1, each with garbage that refers to every
 * generation. */
Test(impl_collect, members_behind_crowded_filters)
{
    enum { OLD = 1000, MID = 6000, PAIRS = 500, YOUNG = 100 };
    gc_disable(impl_gc);
    cr_assert_eq(gc_set_threshold(impl_gc, 5, 10, 10), 0);
    RcObject **old = malloc(OLD * sizeof(*old));
    RcObject **mid = malloc(MID * sizeof(*mid));
    RcObject **held = malloc(PAIRS * sizeof(*held));
    long *refs = calloc(OLD, sizeof(*refs));
    cr_assert(old != NULL && mid != NULL && held != NULL && refs != NULL);
    for (int i = 0; i < OLD; i++) {
        old[i] = impl_new(&impl_node_type);
    }
    cr_assert_eq(gc_collect(impl_gc, 2), 0); /* -> generation 2 */
    unsigned seed = 12345;
    for (int i = 0; i < MID; i++) {
        mid[i] = impl_new(&impl_node_type);
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % OLD);
        impl_link(mid[i], 0, old[k]);
        refs[k]++;
    }
    /* pairs that refer to both; generation 0's filter is off (past 128
     * objects), so its collection tells its members by the marks alone */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < PAIRS; i++) {
            RcObject *a = impl_new(&impl_node_type);
            RcObject *b = impl_new(&impl_node_type);
            impl_link(a, 0, b);
            impl_link(b, 0, a);
            impl_link(a, 1, old[(i * 13 + round) % OLD]);
            impl_link(b, 1, mid[(i * 17 + round) % MID]);
            rc_decref(b);
            if (round == 1) {
                held[i] = a; /* garbage of generation 1 later */
            }
            else {
                rc_decref(a);
            }
        }
        /* round 0: mid -> generation 1; round 1: the held pairs too */
        cr_assert_eq(gc_collect(impl_gc, 0), round == 1 ? 0 : 2 * PAIRS);
        cr_assert_eq(gc_check(impl_gc), 0);
    }
    /* generation 0: YOUNG self-cycles, its filter on (1024 bits) */
    for (int i = 0; i < YOUNG; i++) {
        RcObject *c = impl_new(&impl_node_type);
        impl_link(c, 0, c);
        impl_link(c, 1, i % 2 ? old[(i * 31) % OLD] : mid[(i * 37) % MID]);
        rc_decref(c);
    }
    for (int i = 0; i < PAIRS; i++) {
        rc_decref(held[i]);
    }
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_collect(impl_gc, 1), 2 * PAIRS + YOUNG);
    cr_assert_eq(gc_check(impl_gc), 0);
    for (int i = 0; i < OLD; i++) {
        cr_assert_eq(rc_refcnt(old[i]), 1 + refs[i], "old[%d]", i);
    }
    for (int i = 0; i < MID; i++) {
        cr_assert_eq(rc_refcnt(mid[i]), 1, "mid[%d]", i);
        rc_decref(mid[i]);
    }
    for (int i = 0; i < OLD; i++) {
        rc_decref(old[i]);
    }
    free(old);
    free(mid);
    free(held);
    free(refs);
    gc_enable(impl_gc);
}
