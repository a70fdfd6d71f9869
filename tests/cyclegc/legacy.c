/* SPDX-License-Identifier: MIT */
/* legacy.c - uncollectable garbage and the garbage list.
 *
 * CPython's rules (gc.c move_legacy_finalizers, handle_legacy_finalizers;
 * test_gc test_legacy_finalizer, test_saveall): an unreachable object with
 * a legacy finalizer (tp_del) cannot be collected; it and everything it
 * reaches are set aside, counted uncollectable, and the object (only it)
 * goes to the garbage list (a strong reference) with what it reaches
 * intact.  Other
 * garbage in the same collection is still collected.  With DEBUG_SAVEALL
 * every unreachable object goes to the garbage list instead of being
 * freed. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(legacy, .init = gt_setup, .fini = gt_teardown);

Test(legacy, legacy_finalizer_cycle_goes_to_garbage_uncollectable)
{
    gc_disable(gt_gc);
    RcObject *a = gt_new(&gt_legacy_type);
    gt_link(a, 0, a);
    RcObject *b = gt_new(&gt_node_type); /* plain cycle next to it */
    gt_link(b, 0, b);
    rc_decref(a);
    rc_decref(b);
    GcGenStats s0 = gt_stats(2);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    GcGenStats s1 = gt_stats(2);
    gt_check();
    cr_expect_eq(s1.uncollectable - s0.uncollectable, 1);
    cr_expect_eq(s1.collected - s0.collected, 1);
    cr_expect_eq(gc_garbage_count(gt_gc), 1);
    cr_expect(gt_in_garbage(a));
    cr_expect(gt_intact(a));
    cr_expect_eq(gt_node(a)->slot[0], a);
    cr_expect_eq(gt_count.legacy_dels, 0);
    cr_expect_eq(gt_count.deallocs, 1); /* b */
    /* still uncollectable on the next collection, not added twice */
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    cr_expect_eq(gc_garbage_count(gt_gc), 1);
    cr_expect(gt_in_garbage(a));
    /* break the cycle by hand, as a Python user would */
    gt_link(a, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gt_count.legacy_dels, 1);
    cr_expect_eq(gt_count.deallocs, 2);
    gt_check();
}

Test(legacy, everything_a_legacy_object_reaches_is_kept_intact)
{
    gc_disable(gt_gc);
    RcObject *a = gt_new(&gt_legacy_type);
    RcObject *b = gt_new(&gt_node_type);
    RcObject *c = gt_ring(&gt_fin_type, 3);
    RcObject *leaf = gt_new(&gt_leaf_type);
    gt_link(a, 0, b);
    gt_link(b, 0, a);
    gt_link(b, 1, c);
    gt_link(c, 2, leaf);
    rc_decref(leaf);
    rc_decref(c);
    rc_decref(b);
    rc_decref(a);
    GcGenStats s0 = gt_stats(2);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    GcGenStats s1 = gt_stats(2);
    gt_check();
    /* a, b and the ring: all set aside, none collected */
    cr_expect_eq(s1.uncollectable - s0.uncollectable, 5);
    cr_expect_eq(s1.collected - s0.collected, 0);
    cr_expect(gt_in_garbage(a));
    cr_expect_eq(gt_count.deallocs, 0);
    cr_expect_eq(gt_count.finalizes, 0, "uncollectable objects finalized");
    cr_expect_eq(gt_node(a)->slot[0], b);
    cr_expect_eq(gt_node(b)->slot[0], a);
    cr_expect_eq(gt_node(b)->slot[1], c);
    RcObject *p = c;
    for (int i = 0; i < 3; i++) {
        cr_expect(gt_intact(p));
        p = gt_node(p)->slot[0];
    }
    cr_expect_eq(p, c);
    cr_expect_eq(gt_node(c)->slot[2], leaf);
    cr_expect(gt_intact(leaf));
    cr_expect(gt_intact(a) && gt_intact(b));
    /* the garbage list holds a only, which holds what it reaches
     * (CPython's handle_legacy_finalizers) */
    cr_expect_eq(gc_garbage_count(gt_gc), 1);
    /* break the legacy cycle; the rest is plain garbage */
    gt_link(a, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_geq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(gt_count.legacy_dels, 1);
    cr_expect_eq(gt_count.finalizes, 3);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(legacy, legacy_object_hanging_off_a_garbage_cycle_is_uncollectable)
{
    gc_disable(gt_gc);
    RcObject *x = gt_new(&gt_node_type);
    RcObject *l = gt_new(&gt_legacy_type);
    gt_link(x, 0, x);
    gt_link(x, 1, l);
    rc_decref(l);
    rc_decref(x);
    GcGenStats s0 = gt_stats(2);
    long n = gc_collect(gt_gc, 2);
    cr_expect_eq(n, 2, "collect returned %ld", n);
    GcGenStats s1 = gt_stats(2);
    cr_expect_eq(s1.uncollectable - s0.uncollectable, 1);
    cr_expect_eq(s1.collected - s0.collected, 1);
    /* the garbage list must take its reference before x is cleared */
    cr_assert(gt_in_garbage(l),
              "legacy object freed instead of kept "
              "(legacy_del ran %ld times)",
              gt_count.legacy_dels);
    cr_expect_eq(rc_refcnt(l), 1, "only the garbage list holds it");
    cr_expect(gt_intact(l));
    cr_expect_eq(gt_count.legacy_dels, 0);
    gt_check();
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gt_count.legacy_dels, 1);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(legacy, legacy_object_not_in_a_cycle_dies_by_count)
{
    RcObject *l = gt_new(&gt_legacy_type);
    rc_decref(l);
    cr_expect_eq(gt_count.legacy_dels, 1);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(gc_garbage_count(gt_gc), 0);
    gt_check();
}

Test(legacy, legacy_cycle_in_young_collection_counts_under_generation_0)
{
    gc_disable(gt_gc);
    RcObject *a = gt_ring(&gt_legacy_type, 2);
    rc_decref(a);
    GcGenStats s0 = gt_stats(0);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    GcGenStats s1 = gt_stats(0);
    cr_expect_eq(s1.uncollectable - s0.uncollectable, 2);
    cr_expect_eq(gc_garbage_count(gt_gc), 2);
    RcObject *g = gc_garbage_get(gt_gc, 0);
    gt_link(g, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gt_count.legacy_dels, 2);
    gt_check();
}

Test(legacy, saveall_keeps_every_unreachable_object_in_garbage)
{
    gc_disable(gt_gc);
    gc_set_debug(gt_gc, GC_DEBUG_SAVEALL, NULL);
    cr_expect_eq(gc_get_debug(gt_gc), GC_DEBUG_SAVEALL);
    RcObject *a = gt_ring(&gt_node_type, 2);
    RcObject *b = gt_ring(&gt_fin_type, 3);
    RcObject *c = gt_new(&gt_node_type);
    gt_link(c, 0, c);
    RcObject *objs[6] = {a,
                         gt_node(a)->slot[0],
                         b,
                         gt_node(b)->slot[0],
                         gt_node(gt_node(b)->slot[0])->slot[0],
                         c};
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    cr_expect_eq(gc_collect(gt_gc, 2), 6);
    gt_check();
    cr_expect_eq(gc_garbage_count(gt_gc), 6);
    cr_expect_eq(gt_count.deallocs, 0);
    for (int i = 0; i < 6; i++) {
        cr_expect(gt_in_garbage(objs[i]), "object %d not in garbage", i);
        cr_expect(gt_intact(objs[i]));
        cr_expect_not_null(gt_node(objs[i])->slot[0], "object %d cleared", i);
    }
    gc_set_debug(gt_gc, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gc_garbage_count(gt_gc), 0);
    cr_expect_eq(gc_collect(gt_gc, 2), 6);
    gt_check();
    cr_expect_eq(gt_count.deallocs, 6);
    cr_expect_eq(gt_count.finalizes, 3, "finalized once in all");
}

Test(legacy, debug_leak_includes_saveall)
{
    gc_set_debug(gt_gc, GC_DEBUG_LEAK, NULL);
    cr_expect_eq(gc_get_debug(gt_gc), GC_DEBUG_LEAK);
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    FILE *devnull = fopen("/dev/null", "w");
    cr_assert_not_null(devnull);
    gc_set_debug(gt_gc, GC_DEBUG_LEAK, devnull);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(gc_garbage_count(gt_gc), 2);
    gc_set_debug(gt_gc, 0, NULL);
    fclose(devnull);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
}

Test(legacy, garbage_clear_on_empty_list_is_harmless)
{
    cr_expect_eq(gc_garbage_count(gt_gc), 0);
    gc_garbage_clear(gt_gc);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gc_garbage_count(gt_gc), 0);
    gt_check();
}
