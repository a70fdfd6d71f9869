/* SPDX-License-Identifier: MIT */
/* freeze.c - the permanent generation.
 *
 * gc_freeze moves every tracked object into the permanent generation,
 * which collections ignore (garbage there stays); gc_unfreeze moves them
 * back into the oldest generation.  Frozen objects still take part in
 * reference counting: young garbage referencing them is collected without
 * disturbing their counts (no negative counts, gc_check passes), a young
 * object referenced from a frozen one survives, and a frozen object whose
 * count reaches zero leaves the permanent generation. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(freeze, .init = gt_setup, .fini = gt_teardown);

Test(freeze, freeze_and_unfreeze_count_every_tracked_object)
{
    cr_expect_eq(gc_get_freeze_count(gt_gc), 0);
    RcObject *a = gt_ring(&gt_node_type, 5);
    RcObject *leaf = gt_new(&gt_leaf_type);
    gc_freeze(gt_gc);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 5);
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gc_get_objects(gt_gc, g, NULL, 0), 0, "generation %d", g);
    }
    cr_expect(gc_is_tracked(a));
    gt_check();
    gc_unfreeze(gt_gc);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 0);
    cr_expect(gt_in_generation(2, a));
    cr_expect_eq(gc_get_objects(gt_gc, 2, NULL, 0), 5);
    gt_check();
    rc_decref(a);
    rc_decref(leaf);
}

Test(freeze, frozen_garbage_is_ignored_until_unfrozen)
{
    RcObject *a = gt_ring(&gt_fin_type, 2);
    rc_decref(a);
    gc_freeze(gt_gc);
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gc_collect(gt_gc, g), 0);
    }
    cr_expect_eq(rc_live_total(gt_rc), 2);
    cr_expect_eq(gt_count.finalizes, 0);
    gt_check();
    gc_unfreeze(gt_gc);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(gt_count.finalizes, 2);
    gt_check();
}

Test(freeze, freeze_twice_keeps_earlier_frozen_objects)
{
    RcObject *a = gt_ring(&gt_node_type, 2);
    gc_freeze(gt_gc);
    RcObject *b = gt_ring(&gt_node_type, 3);
    gc_freeze(gt_gc);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 5);
    gc_unfreeze(gt_gc);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 0);
    cr_expect_eq(gc_get_objects(gt_gc, 2, NULL, 0), 5);
    rc_decref(a);
    rc_decref(b);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    gt_check();
}

Test(freeze, new_cycle_referencing_frozen_objects_is_collected_cleanly)
{
    gc_disable(gt_gc);
    RcObject *f = gt_ring(&gt_node_type, 3);
    gc_freeze(gt_gc);
    uint32_t fcount = rc_refcnt(f);
    RcObject *c = gt_ring(&gt_node_type, 2);
    gt_link(c, 1, f);
    gt_link(gt_node(c)->slot[0], 1, f);
    gt_link(gt_node(c)->slot[0], 2, gt_node(f)->slot[0]);
    rc_decref(c);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    gt_check();
    cr_expect_eq(rc_refcnt(f), fcount);
    cr_expect_eq(rc_refcnt(gt_node(f)->slot[0]), 1);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 3);
    /* again with a full collection */
    c = gt_ring(&gt_node_type, 4);
    gt_link(c, 1, f);
    rc_decref(c);
    cr_expect_eq(gc_collect(gt_gc, 2), 4);
    gt_check();
    cr_expect_eq(rc_refcnt(f), fcount);
    RcObject *p = f;
    for (int i = 0; i < 3; i++) {
        cr_expect(gt_intact(p));
        p = gt_node(p)->slot[0];
    }
    cr_expect_eq(p, f);
    gc_unfreeze(gt_gc);
    rc_decref(f);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(freeze, young_object_referenced_from_frozen_one_survives)
{
    gc_disable(gt_gc);
    RcObject *f = gt_new(&gt_node_type);
    gc_freeze(gt_gc);
    RcObject *y = gt_ring(&gt_node_type, 2);
    gt_link(f, 0, y);
    rc_decref(y);
    cr_expect_eq(gc_collect(gt_gc, 0), 0);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect(gt_intact(gt_node(f)->slot[0]));
    cr_expect_eq(rc_refcnt(gt_node(f)->slot[0]), 2);
    gt_link(f, 0, NULL);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    rc_decref(f);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 0);
    gt_check();
}

Test(freeze, frozen_object_dying_by_count_leaves_the_permanent_generation)
{
    RcObject *f = gt_new(&gt_node_type);
    RcObject *g = gt_new(&gt_node_type);
    gc_freeze(gt_gc);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 2);
    rc_decref(f);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 1);
    gt_check();
    rc_decref(g);
    cr_expect_eq(gc_get_freeze_count(gt_gc), 0);
    gt_check();
}

Test(freeze, frozen_object_held_only_by_young_garbage_dies_with_it)
{
    gc_disable(gt_gc);
    RcObject *f = gt_new(&gt_fin_type);
    gc_freeze(gt_gc);
    RcObject *c = gt_ring(&gt_node_type, 2);
    gt_link(c, 1, f);
    rc_decref(f);
    rc_decref(c);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    gt_check();
    cr_expect_eq(gc_get_freeze_count(gt_gc), 0);
    cr_expect_eq(gt_count.finalizes, 1);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(freeze, unfrozen_objects_count_towards_the_long_lived)
{
    RcObject *a = gt_ring(&gt_node_type, 50);
    gc_freeze(gt_gc);
    gc_unfreeze(gt_gc);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 1), 0, "unfrozen objects are old");
    cr_expect_eq(gc_collect(gt_gc, 2), 50);
    gt_check();
}
