/* SPDX-License-Identifier: MIT */
/* generations.c - generations, counts, thresholds, automatic collection.
 *
 * Restates test_gc's test_get_count, test_collect_generations,
 * test_get_objects_generations and the threshold/enable tests: a new
 * tracked object counts in generation 0 and is listed there; each
 * collection of generation g moves survivors to g + 1 (2 stays 2) and
 * counts one collection of g + 1's younger generation; threshold 0 and
 * gc_disable stop automatic collection; with thresholds set, creating
 * tracked objects collects by itself; the long-lived brake holds a full
 * collection back until the objects promoted into generation 2 since the
 * last full collection pass a quarter of those that survived it. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>

TestSuite(generations, .init = gt_setup, .fini = gt_teardown);

static void
self_cycle_garbage(void)
{
    RcObject *a = gt_new(&gt_node_type);
    gt_link(a, 0, a);
    rc_decref(a);
}

static long
threshold_events(void)
{
    static GcEvent ev[GC_EVENT_LOG];
    size_t n = gc_events(gt_gc, ev, GC_EVENT_LOG);
    long k = 0;
    for (size_t i = 0; i < n && i < GC_EVENT_LOG; i++) {
        k += ev[i].reason == GC_REASON_THRESHOLD;
    }
    return k;
}

Test(generations, default_thresholds_are_2000_10_10)
{
    long t[GC_NGENERATIONS];
    gc_get_threshold(gt_gc, t);
    cr_expect_eq(t[0], 2000);
    cr_expect_eq(t[1], 10);
    cr_expect_eq(t[2], 10);
    cr_expect(gc_isenabled(gt_gc));
    cr_expect_eq(gc_set_threshold(gt_gc, 700, 5, 3), 0);
    gc_get_threshold(gt_gc, t);
    cr_expect(t[0] == 700 && t[1] == 5 && t[2] == 3);
}

Test(generations, new_tracked_object_counts_in_generation_0)
{
    gc_collect(gt_gc, 2);
    long c0 = gt_count_of(0);
    cr_expect_eq(gt_count_of(1), 0);
    cr_expect_eq(gt_count_of(2), 0);
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    cr_expect_eq(gt_count_of(0), c0 + 2);
    RcObject *leaf = gt_new(&gt_leaf_type); /* not tracked: not counted */
    RcObject *u = gt_new(&gt_untracked_type);
    cr_expect_eq(gt_count_of(0), c0 + 2);
    rc_decref(b);
    cr_expect_eq(gt_count_of(0), c0 + 1, "a deallocation counts back");
    cr_expect_eq(gt_count_of(1), 0);
    cr_expect_eq(gt_count_of(2), 0);
    rc_decref(a);
    rc_decref(leaf);
    rc_decref(u);
    gt_check();
}

Test(generations, collections_trickle_an_object_into_older_generations)
{
    gc_disable(gt_gc);
    gc_collect(gt_gc, 2);
    RcObject *x = gt_new(&gt_node_type);
    cr_expect(gt_in_generation(0, x));
    cr_expect_not(gt_in_generation(1, x));
    cr_expect_not(gt_in_generation(2, x));
    gc_collect(gt_gc, 0);
    cr_expect_eq(gt_count_of(0), 0);
    cr_expect_eq(gt_count_of(1), 1);
    cr_expect_eq(gt_count_of(2), 0);
    cr_expect_not(gt_in_generation(0, x));
    cr_expect(gt_in_generation(1, x));
    cr_expect_not(gt_in_generation(2, x));
    gc_collect(gt_gc, 1);
    cr_expect_eq(gt_count_of(1), 0);
    cr_expect_eq(gt_count_of(2), 1);
    cr_expect_not(gt_in_generation(1, x));
    cr_expect(gt_in_generation(2, x));
    gc_collect(gt_gc, 2);
    cr_expect_eq(gt_count_of(0), 0);
    cr_expect_eq(gt_count_of(1), 0);
    cr_expect_eq(gt_count_of(2), 0);
    cr_expect(gt_in_generation(2, x));
    cr_expect(gt_in_generation(-1, x));
    gt_check();
    rc_decref(x);
}

Test(generations, new_cycle_is_in_generation_0_and_gone_after_collect)
{
    gc_disable(gt_gc);
    RcObject *a = gt_ring(&gt_node_type, 3);
    RcObject *b = gt_node(a)->slot[0];
    cr_expect(gt_in_generation(0, a));
    cr_expect(gt_in_generation(0, b));
    cr_expect_eq(gc_get_objects(gt_gc, 0, NULL, 0), 3);
    cr_expect_eq(gc_get_objects(gt_gc, -1, NULL, 0), 3);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 0), 3);
    cr_expect_eq(gc_get_objects(gt_gc, 0, NULL, 0), 0);
    cr_expect_eq(gc_get_objects(gt_gc, -1, NULL, 0), 0);
    gt_check();
}

Test(generations, get_objects_reports_the_total_beyond_cap)
{
    gc_disable(gt_gc);
    RcObject *a = gt_ring(&gt_node_type, 10);
    RcObject *buf[4] = {0};
    cr_expect_eq(gc_get_objects(gt_gc, 0, buf, 4), 10);
    for (int i = 0; i < 4; i++) {
        cr_expect_not_null(buf[i]);
        cr_expect(gt_intact(buf[i]));
    }
    cr_expect_eq(gc_get_objects(gt_gc, 1, buf, 4), 0);
    rc_decref(a);
    gt_check();
}

Test(generations, get_objects_of_all_generations)
{
    gc_disable(gt_gc);
    RcObject *old = gt_new(&gt_node_type);
    gc_collect(gt_gc, 2);
    RcObject *mid = gt_new(&gt_node_type);
    gc_collect(gt_gc, 0);
    RcObject *young = gt_new(&gt_node_type);
    RcObject **all;
    size_t n = gt_objects(-1, &all);
    cr_expect_eq(n, 3);
    cr_expect(gt_in(all, n, old) && gt_in(all, n, mid) &&
              gt_in(all, n, young));
    free(all);
    cr_expect(gt_in_generation(2, old));
    cr_expect(gt_in_generation(1, mid));
    cr_expect(gt_in_generation(0, young));
    rc_decref(old);
    rc_decref(mid);
    rc_decref(young);
    gt_check();
}

/* A ring of n objects made garbage and collected by gc_collect(gt_gc,
 * generation): the statistics count one more collection and n more
 * collected objects under that generation, no change under the others,
 * and nothing uncollectable. */
static void
expect_stats_of_one_collection(int generation, uint64_t n)
{
    gc_disable(gt_gc);
    GcGenStats before[GC_NGENERATIONS], after[GC_NGENERATIONS];
    gc_get_stats(gt_gc, before);
    RcObject *a = gt_ring(&gt_node_type, (int)n);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, generation), (long)n);
    gc_get_stats(gt_gc, after);
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        uint64_t here = g == generation;
        cr_expect_eq(after[g].collections, before[g].collections + here,
                     "generation %d", g);
        cr_expect_eq(after[g].collected, before[g].collected + here * n,
                     "generation %d", g);
        cr_expect_eq(after[g].uncollectable, before[g].uncollectable,
                     "generation %d", g);
    }
    gt_check();
}

Test(generations, get_stats_counts_collect_0_under_generation_0_only)
{
    expect_stats_of_one_collection(0, 2);
}

Test(generations, get_stats_counts_collect_2_under_generation_2_only)
{
    expect_stats_of_one_collection(2, 3);
}

Test(generations, get_stats_counts_collect_1_under_generation_1_only)
{
    expect_stats_of_one_collection(1, 4);
}

static void
check_no_automatic_collection(void)
{
    enum { N = 50000 };
    for (int i = 0; i < N; i++) {
        self_cycle_garbage();
    }
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gt_stats(g).collections, 0, "generation %d", g);
    }
    cr_expect_eq(gc_events(gt_gc, NULL, 0), 0);
    cr_expect_eq(rc_live_total(gt_rc), N);
    cr_expect_eq(gt_count_of(0), N);
    gt_check();
    cr_expect_eq(gc_collect(gt_gc, 2), N);
    gt_check();
}

Test(generations, disable_stops_automatic_collection_of_50000_objects)
{
    gc_disable(gt_gc);
    check_no_automatic_collection();
}

Test(generations, threshold_0_stops_automatic_collection_of_50000_objects)
{
    cr_expect_eq(gc_set_threshold(gt_gc, 0, 10, 10), 0);
    cr_expect(gc_isenabled(gt_gc));
    check_no_automatic_collection();
}

Test(generations, default_thresholds_collect_automatically)
{
    enum { N = 50000 };
    for (int i = 0; i < N; i++) {
        self_cycle_garbage();
    }
    cr_expect_gt(gt_stats(0).collections, 0);
    cr_expect_gt(gt_stats(1).collections, 0);
    cr_expect_gt(threshold_events(), 0);
    cr_expect_lt(rc_live_total(gt_rc), 5000, "%zu objects still live",
                 rc_live_total(gt_rc));
    gt_check();
}

Test(generations, enabling_again_collects_on_the_next_allocation)
{
    enum { N = 5000 };
    gc_disable(gt_gc);
    for (int i = 0; i < N; i++) {
        self_cycle_garbage();
    }
    cr_expect_eq(rc_live_total(gt_rc), N);
    gc_enable(gt_gc);
    RcObject *a = gt_new(&gt_node_type);
    cr_expect_eq(gt_stats(0).collections, 1);
    cr_expect_eq(rc_live_total(gt_rc), 1);
    cr_expect_eq(threshold_events(), 1);
    rc_decref(a);
    gt_check();
}

Test(generations, count_0_stays_within_its_threshold)
{
    enum { N = 3000 };
    RcObject **keep = calloc(N, sizeof(*keep));
    cr_assert_not_null(keep);
    cr_expect_eq(gc_set_threshold(gt_gc, 100, 3, 3), 0);
    long max0 = 0;
    for (int i = 0; i < N; i++) {
        keep[i] = gt_new(&gt_node_type);
        if (i % 2 == 1) {
            gt_link(keep[i], 0, keep[i - 1]);
            gt_link(keep[i - 1], 0, keep[i]);
        }
        long c0 = gt_count_of(0);
        max0 = c0 > max0 ? c0 : max0;
        cr_expect_geq(c0, 0);
    }
    cr_expect_leq(max0, 101, "count 0 reached %ld over threshold 100", max0);
    cr_expect_gt(gt_stats(0).collections, 20);
    cr_expect_gt(gt_stats(1).collections, 0);
    gt_check();
    for (int i = 0; i < N; i++) {
        cr_expect(gt_intact(keep[i]));
        rc_decref(keep[i]);
    }
    free(keep);
    cr_expect_eq(gc_collect(gt_gc, 2), N);
    gt_check();
}

Test(generations, long_lived_brake_holds_back_full_collection)
{
    enum { LONG_LIVED = 2000, PROMOTED = 1200 };
    RcObject **keep = calloc(LONG_LIVED + PROMOTED, sizeof(*keep));
    cr_assert_not_null(keep);
    gc_disable(gt_gc);
    for (int i = 0; i < LONG_LIVED; i++) {
        keep[i] = gt_new(&gt_node_type);
    }
    cr_expect_eq(gc_collect(gt_gc, 2), 0); /* long-lived total: 2000 */
    uint64_t full = gt_stats(2).collections;
    cr_expect_eq(gc_set_threshold(gt_gc, 10, 1, 1), 0);
    gc_enable(gt_gc);

    /* garbage only: young collections run, generation 2's count passes
     * its threshold, but almost nothing is promoted: no full collection */
    for (int i = 0; i < 300; i++) {
        self_cycle_garbage();
    }
    cr_expect_gt(gt_stats(1).collections, 5);
    cr_expect_gt(gt_count_of(2), 1, "generation 2 never passed threshold");
    cr_expect_eq(gt_stats(2).collections, full,
                 "full collection ran with few long-lived pending");
    gt_check();

    /* survivors promoted into generation 2 pass a quarter of 2000 */
    for (int i = 0; i < PROMOTED; i++) {
        keep[LONG_LIVED + i] = gt_new(&gt_node_type);
        self_cycle_garbage();
    }
    for (int i = 0; i < 100; i++) {
        self_cycle_garbage();
    }
    cr_expect_gt(gt_stats(2).collections, full,
                 "no full collection after %d promotions", PROMOTED);
    GcEvent ev[GC_EVENT_LOG];
    size_t n = gc_events(gt_gc, ev, GC_EVENT_LOG);
    int found = 0;
    for (size_t i = 0; i < n && i < GC_EVENT_LOG; i++) {
        if (ev[i].generation == 2 && ev[i].reason == GC_REASON_THRESHOLD) {
            found = 1;
        }
    }
    cr_expect(found, "no threshold-triggered full collection in the log");
    gt_check();
    for (int i = 0; i < LONG_LIVED + PROMOTED; i++) {
        cr_expect(gt_intact(keep[i]));
        rc_decref(keep[i]);
    }
    free(keep);
}

Test(generations, explicit_full_collection_ignores_the_brake)
{
    gc_disable(gt_gc);
    RcObject *keep = gt_ring(&gt_node_type, 1000);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(gt_stats(2).collections, 2);
    rc_decref(keep);
    gt_check();
}

/* A young set in which every way an object can be decided happens: per
 * group, a held node h refers to e (made before it, so the scan of
 * young passes e with no outside reference before it reaches h, and
 * must take it back) and to l (made after it: flagged before the scan
 * gets there); e -> l -> h closes a cycle through what is held; a
 * 2-cycle of garbage g1 <-> g2 refers to h.  Collected as generation 0
 * alone and with generation 1, at sizes below and above the array in
 * which reach.c records a walk's order (GC_ORDER_MAX, 8192): the same
 * objects are found either way. */
static void
young_groups_collect(int generation, int groups)
{
    gc_disable(gt_gc);
    gc_collect(gt_gc, 2);
    RcObject **held = malloc((size_t)groups * sizeof *held);
    uint64_t(*ids)[5] = malloc((size_t)groups * sizeof *ids);
    cr_assert(held != NULL && ids != NULL);
    for (int i = 0; i < groups; i++) {
        RcObject *e = gt_new(&gt_node_type);
        RcObject *h = gt_new(&gt_node_type);
        RcObject *l = gt_new(&gt_node_type);
        RcObject *g1 = gt_new(&gt_node_type);
        RcObject *g2 = gt_new(&gt_node_type);
        gt_link(h, 0, e);
        gt_link(h, 1, l);
        gt_link(e, 0, l);
        gt_link(l, 0, h);
        gt_link(g1, 0, g2);
        gt_link(g2, 0, g1);
        gt_link(g1, 1, h);
        RcObject *objs[5] = {e, h, l, g1, g2};
        for (int k = 0; k < 5; k++) {
            ids[i][k] = gt_node(objs[k])->id;
        }
        held[i] = h;
        rc_decref(e);
        rc_decref(l);
        rc_decref(g1);
        rc_decref(g2);
    }
    cr_expect_eq(gc_collect(gt_gc, generation), 2L * groups,
                 "generation %d, %d groups", generation, groups);
    for (int i = 0; i < groups; i++) {
        for (int k = 0; k < 5; k++) {
            cr_expect_eq(gt_dead[ids[i][k]], k >= 3,
                         "group %d object %d: dead %d", i, k,
                         gt_dead[ids[i][k]]);
        }
        cr_expect(gt_in_generation(generation + 1, held[i]));
    }
    gt_check();
    for (int i = 0; i < groups; i++) {
        rc_decref(held[i]);
    }
    cr_expect_eq(gc_collect(gt_gc, 2), 3L * groups);
    gt_check();
    free(held);
    free(ids);
}

Test(generations,
     young_collection_decides_alike_below_and_above_the_walk_order)
{
    young_groups_collect(0, 100);
    young_groups_collect(0, 3000); /* 15000 objects */
    young_groups_collect(1, 100);
    young_groups_collect(1, 3000);
}
