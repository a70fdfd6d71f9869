/* SPDX-License-Identifier: MIT */
/* finalizers.c - PEP 442 finalizers during a collection.
 *
 * Restates CPython's test_gc on finalizers and resurrection: each
 * unreachable object is finalized exactly once, all finalizers of the
 * garbage run before any of it is cleared, an object a finalizer
 * resurrects survives with everything it reaches intact and is not
 * finalized again, resurrection does not keep other garbage alive nor
 * count as collected, and a collection requested by a finalizer does
 * nothing and returns 0.  The test types themselves check the PEP 442
 * promises on every call (gcutil.c: gt_count.corrupt). */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(finalizers, .init = gt_setup, .fini = gt_teardown);

Test(finalizers, each_object_of_a_cycle_is_finalized_once)
{
    RcObject *r = gt_ring(&gt_fin_type, 7);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 7);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 7);
    for (uint64_t id = 0; id < gt_next_id; id++) {
        cr_expect_eq(gt_finals[id], 1, "id %llu", (unsigned long long)id);
        cr_expect_eq(gt_dead[id], 1, "id %llu", (unsigned long long)id);
    }
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(gt_count.finalizes, 7);
}

static long slots_seen_set;

static void
count_slot_set(RcObject *op)
{
    if (gt_node(op)->slot[0] != NULL) {
        slots_seen_set++;
    }
}

Test(finalizers, all_finalizers_run_before_any_clear)
{
    gt_fin_hook = count_slot_set;
    RcObject *r = gt_ring(&gt_fin_type, 5);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 5);
    cr_expect_eq(slots_seen_set, 5, "a finalizer saw a cleared slot");
}

Test(finalizers, finalizer_of_object_dying_by_count_runs_once)
{
    RcObject *a = gt_new(&gt_fin_type);
    rc_decref(a);
    cr_expect_eq(gt_count.finalizes, 1);
    cr_expect_eq(gt_count.deallocs, 1);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(gt_count.finalizes, 1);
    gt_check();
}

Test(finalizers, live_object_is_not_finalized)
{
    RcObject *a = gt_ring(&gt_fin_type, 3);
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gc_collect(gt_gc, g), 0);
    }
    cr_expect_eq(gt_count.finalizes, 0);
    cr_expect_not(gc_is_finalized(a));
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    cr_expect_eq(gt_count.finalizes, 3);
    gt_check();
}

Test(finalizers, resurrected_object_is_not_counted_and_survives)
{
    gc_disable(gt_gc);
    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    rc_decref(z);
    GcGenStats before = gt_stats(2);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    GcGenStats after = gt_stats(2);
    gt_check();
    cr_expect_eq(after.collected, before.collected);
    cr_expect_eq(after.uncollectable, before.uncollectable);
    cr_expect_eq(gt_count.resurrections, 1);
    cr_expect_eq(gt_nsaved, 1);
    cr_expect_eq(gt_saved[0], z);
    cr_expect(gt_intact(z));
    cr_expect_eq(gt_node(z)->slot[0], z);
    cr_expect_eq(rc_refcnt(z), 2);
    cr_expect(gc_is_tracked(z));
    cr_expect(gc_is_finalized(z));
    cr_expect_eq(gt_count.deallocs, 0);
}

Test(finalizers, resurrection_happens_only_once_per_object)
{
    gc_disable(gt_gc);
    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    rc_decref(z);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(gt_count.resurrections, 1);
    gt_saved_clear();
    /* finalized already: the second time it is plain garbage */
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
    cr_expect_eq(gt_count.resurrections, 1);
    cr_expect_eq(gt_nsaved, 0);
    cr_expect_eq(gt_count.deallocs, 1);
}

Test(finalizers, resurrected_object_dying_by_count_is_not_finalized_again)
{
    gc_disable(gt_gc);
    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    rc_decref(z);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(gt_nsaved, 1);
    gt_link(z, 0, NULL); /* no cycle any more */
    gt_saved_clear();    /* count reaches zero */
    cr_expect_eq(gt_count.resurrections, 1);
    cr_expect_eq(gt_count.deallocs, 1);
    gt_check();
}

Test(finalizers, resurrection_is_transitive)
{
    gc_disable(gt_gc);
    RcObject *laz = gt_new(&gt_lazarus_type);
    RcObject *cargo = gt_new(&gt_node_type);
    RcObject *deep = gt_ring(&gt_fin_type, 3);
    RcObject *leaf = gt_new(&gt_leaf_type);
    gt_link(laz, 0, cargo);
    gt_link(cargo, 0, laz);
    gt_link(cargo, 1, deep);
    gt_link(deep, 1, leaf);
    uint64_t cargo_id = gt_node(cargo)->id;
    rc_decref(deep);
    rc_decref(leaf);
    rc_decref(cargo);
    rc_decref(laz);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(gt_nsaved, 1);
    cr_expect_eq(gt_saved[0], laz);
    cr_expect_eq(gt_count.deallocs, 0);
    /* everything the resurrected object reaches is intact */
    RcObject *c = gt_node(laz)->slot[0];
    cr_assert_eq(c, cargo);
    cr_expect(gt_intact(c));
    cr_expect_eq(gt_node(c)->id, cargo_id);
    cr_expect_eq(gt_node(c)->slot[0], laz);
    RcObject *d = gt_node(c)->slot[1];
    cr_assert_eq(d, deep);
    for (int i = 0; i < 3; i++) {
        cr_expect(gt_intact(d));
        d = gt_node(d)->slot[0];
        cr_assert_not_null(d);
    }
    cr_expect_eq(d, deep);
    cr_expect_eq(gt_node(deep)->slot[1], leaf);
    cr_expect(gt_intact(leaf));
    cr_expect_eq(rc_refcnt(laz), 2);
    cr_expect_eq(rc_refcnt(cargo), 1);
    cr_expect_eq(rc_refcnt(deep), 2);
    cr_expect_eq(rc_refcnt(leaf), 1);
    /* all of it still alive on the next collection, and dies after */
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    gt_check();
    cr_expect_eq(gt_count.resurrections, 1);
    cr_expect_eq(gt_count.deallocs, 6);
}

Test(finalizers, hundred_cycles_and_one_resurrector_collect_hundred)
{
    gc_disable(gt_gc);
    enum { N = 100 };
    for (int i = 0; i < N; i++) {
        RcObject *a = gt_new(&gt_node_type);
        gt_link(a, 0, a);
        rc_decref(a);
    }
    GcGenStats s0 = gt_stats(2);
    cr_expect_eq(gc_collect(gt_gc, 2), N);
    GcGenStats s1 = gt_stats(2);
    cr_expect_eq(s1.collected - s0.collected, N);
    cr_expect_eq(s1.uncollectable - s0.uncollectable, 0);

    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    rc_decref(z);
    cr_expect_eq(gc_collect(gt_gc, 2), 0); /* merely resurrected */
    GcGenStats s2 = gt_stats(2);
    cr_expect_eq(s2.collected, s1.collected);

    for (int i = 0; i < N; i++) {
        RcObject *a = gt_new(&gt_node_type);
        gt_link(a, 0, a);
        rc_decref(a);
    }
    z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    rc_decref(z);
    cr_expect_eq(gc_collect(gt_gc, 2), N);
    GcGenStats s3 = gt_stats(2);
    cr_expect_eq(s3.collected - s2.collected, N);
    cr_expect_eq(s3.uncollectable - s2.uncollectable, 0);
    cr_expect_eq(gt_nsaved, 2);
    gt_check();

    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    GcGenStats s4 = gt_stats(2);
    cr_expect_eq(s4.collected - s3.collected, 2);
    cr_expect_eq(gt_count.resurrections, 2);
    gt_check();
}

static uint64_t resurrect_id;

static void
resurrect_one(RcObject *op)
{
    if (gt_node(op)->id == resurrect_id) {
        gt_save(op);
    }
}

Test(finalizers, one_resurrection_keeps_its_whole_cycle)
{
    gc_disable(gt_gc);
    RcObject *r = gt_ring(&gt_fin_type, 4);
    RcObject *other = gt_ring(&gt_fin_type, 3);
    resurrect_id = gt_node(gt_node(r)->slot[0])->id;
    gt_fin_hook = resurrect_one;
    rc_decref(r);
    rc_decref(other);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 7);
    cr_expect_eq(gt_count.deallocs, 3);
    cr_expect_eq(gt_nsaved, 1);
    RcObject *p = gt_saved[0];
    for (int i = 0; i < 4; i++) {
        cr_expect(gt_intact(p));
        cr_expect(gc_is_finalized(p));
        p = gt_node(p)->slot[0];
    }
    cr_expect_eq(p, gt_saved[0]);
    gt_fin_hook = NULL;
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 4);
    cr_expect_eq(gt_count.finalizes, 7);
    gt_check();
}

static void
break_own_slots(RcObject *op)
{
    for (int k = 0; k < GT_SLOTS; k++) {
        gt_link(op, k, NULL);
    }
}

Test(finalizers, finalizer_breaking_its_cycle_frees_safely)
{
    gc_disable(gt_gc);
    gt_fin_hook = break_own_slots;
    RcObject *r = gt_ring(&gt_fin_type, 10);
    RcObject *pair = gt_ring(&gt_fin_type, 2);
    rc_decref(r);
    rc_decref(pair);
    long n = gc_collect(gt_gc, 2);
    cr_expect(n >= 0 && n <= 12, "collect returned %ld", n);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 12);
    cr_expect_eq(gt_count.deallocs, 12);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

static long inner_results[4];
static int inner_calls;

static void
collect_inside(RcObject *op)
{
    (void)op;
    if (inner_calls < 2) {
        inner_results[2 * inner_calls] = gc_collect(gt_gc, 0);
        inner_results[2 * inner_calls + 1] = gc_collect(gt_gc, 2);
    }
    inner_calls++;
}

Test(finalizers, collect_from_inside_a_finalizer_returns_zero)
{
    gc_disable(gt_gc);
    RcObject *other = gt_ring(&gt_node_type, 3);
    rc_decref(other);
    gt_fin_hook = collect_inside;
    RcObject *r = gt_ring(&gt_fin_type, 2);
    rc_decref(r);
    GcGenStats s0 = gt_stats(2);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    GcGenStats s1 = gt_stats(2);
    cr_expect_eq(inner_calls, 2);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(inner_results[i], 0, "inner collect %d returned %ld", i,
                     inner_results[i]);
    }
    cr_expect_eq(s1.collections - s0.collections, 1);
    cr_expect_eq(gt_stats(0).collections, 0);
    gt_check();
}

static void
allocate_inside(RcObject *op)
{
    (void)op;
    for (int i = 0; i < 5; i++) {
        RcObject *a = gt_ring(&gt_node_type, 2);
        rc_decref(a);
    }
    RcObject *keep = gt_new(&gt_node_type);
    gt_save(keep);
    rc_decref(keep);
}

Test(finalizers, finalizer_may_allocate_with_tiny_thresholds)
{
    cr_expect_eq(gc_set_threshold(gt_gc, 1, 1, 1), 0);
    gt_fin_hook = allocate_inside;
    RcObject *r = gt_ring(&gt_fin_type, 3);
    rc_decref(r);
    long n = gc_collect(gt_gc, 2);
    cr_expect_eq(n, 3);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 3);
    cr_expect_eq(gt_nsaved, 3);
    for (size_t i = 0; i < gt_nsaved; i++) {
        cr_expect(gt_intact(gt_saved[i]));
        cr_expect(gc_is_tracked(gt_saved[i]));
    }
    gt_fin_hook = NULL;
    gt_saved_clear();
    cr_expect_geq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(finalizers, finalizers_run_in_young_collections_too)
{
    gc_disable(gt_gc);
    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    RcObject *r = gt_ring(&gt_fin_type, 2);
    rc_decref(z);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    gt_check();
    cr_expect_eq(gt_count.finalizes, 3);
    cr_expect_eq(gt_nsaved, 1);
    cr_expect_not(gt_in_generation(0, z), "resurrected z stayed young");
    gt_saved_clear();
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
}
