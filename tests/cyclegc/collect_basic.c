/* SPDX-License-Identifier: MIT */
/* collect_basic.c - what a collection frees and what it leaves alone.
 *
 * CPython's test_gc basics restated with GtNode objects: a self-referencing
 * container is one unreachable object, a 2-cycle two; garbage hanging off
 * a cycle goes with it; whatever is referenced from outside survives
 * intact with every slot; a cycle through an untracked object is
 * invisible to the collector until the object is tracked; non-GC and
 * untracked referents are left to reference counting. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(collect_basic, .init = gt_setup, .fini = gt_teardown);

Test(collect_basic, empty_heap_collects_nothing)
{
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gc_collect(gt_gc, g), 0);
        gt_check();
    }
}

Test(collect_basic, self_referencing_container_is_one_unreachable)
{
    RcObject *a = gt_new(&gt_node_type);
    gt_link(a, 0, a);
    rc_decref(a);
    cr_expect_eq(rc_live_total(gt_rc), 1);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 0);
    cr_expect_eq(gt_count.deallocs, 1);
}

Test(collect_basic, two_cycle_is_two_unreachable)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    gt_link(a, 0, b);
    gt_link(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    cr_expect_eq(gt_count.deallocs, 2);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(collect_basic, ring_of_many_is_collected_whole)
{
    RcObject *r = gt_ring(&gt_node_type, 1000);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 1000);
    gt_check();
    cr_expect_eq(gt_count.deallocs, 1000);
}

Test(collect_basic, collect_of_generation_zero_finds_new_cycles)
{
    gc_disable(gt_gc);
    RcObject *a = gt_ring(&gt_node_type, 2);
    RcObject *b = gt_ring(&gt_node_type, 3);
    rc_decref(a);
    rc_decref(b);
    cr_expect_eq(gc_collect(gt_gc, 0), 5);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(collect_basic, acyclic_garbage_hanging_off_a_cycle_goes_with_it)
{
    RcObject *a = gt_ring(&gt_node_type, 2);
    RcObject *t = gt_new(&gt_node_type);
    RcObject *u = gt_new(&gt_node_type);
    RcObject *leaf = gt_new(&gt_leaf_type);
    gt_link(a, 1, t);
    gt_link(t, 0, u);
    gt_link(u, 0, leaf);
    rc_decref(t);
    rc_decref(u);
    rc_decref(leaf);
    rc_decref(a);
    cr_expect_eq(rc_live_total(gt_rc), 5);
    long n = gc_collect(gt_gc, 2);
    /* the two ring nodes and the two tracked nodes they reach; the leaf
     * is not tracked, reference counting frees it */
    cr_expect_eq(n, 4);
    gt_check();
    cr_expect_eq(gt_count.deallocs, 5);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(collect_basic, externally_referenced_cycle_survives_intact)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *b = gt_new(&gt_node_type);
    RcObject *c = gt_new(&gt_node_type);
    gt_link(a, 0, b);
    gt_link(b, 0, c);
    gt_link(c, 0, a);
    gt_link(b, 1, b);
    gt_link(c, 3, b);
    rc_decref(b);
    rc_decref(c);
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        cr_expect_eq(gc_collect(gt_gc, g), 0, "generation %d", g);
        gt_check();
    }
    cr_expect(gt_intact(a) && gt_intact(b) && gt_intact(c));
    cr_expect_eq(gt_node(a)->slot[0], b);
    cr_expect_eq(gt_node(b)->slot[0], c);
    cr_expect_eq(gt_node(b)->slot[1], b);
    cr_expect_eq(gt_node(c)->slot[0], a);
    cr_expect_eq(gt_node(c)->slot[3], b);
    cr_expect_eq(rc_refcnt(a), 2);
    cr_expect_eq(rc_refcnt(b), 3);
    cr_expect_eq(rc_refcnt(c), 1);
    cr_expect_eq(gt_count.deallocs, 0);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(collect_basic, object_reached_only_from_a_live_one_survives)
{
    RcObject *root = gt_new(&gt_node_type);
    RcObject *cyc = gt_ring(&gt_node_type, 4);
    gt_link(root, 2, cyc);
    rc_decref(cyc);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    RcObject *p = gt_node(root)->slot[2];
    for (int i = 0; i < 4; i++) {
        cr_expect(gt_intact(p));
        p = gt_node(p)->slot[0];
    }
    cr_expect_eq(p, cyc);
    gt_link(root, 2, NULL);
    cr_expect_eq(gc_collect(gt_gc, 2), 4);
    rc_decref(root);
    gt_check();
}

Test(collect_basic, garbage_older_than_the_generation_is_left)
{
    gc_disable(gt_gc);
    RcObject *a = gt_ring(&gt_node_type, 2);
    cr_expect_eq(gc_collect(gt_gc, 0), 0); /* a moves to generation 1 */
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 0), 0);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 2);
    cr_expect_eq(gc_collect(gt_gc, 1), 2);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(collect_basic, young_cycle_referencing_old_object_frees_it_by_count)
{
    gc_disable(gt_gc);
    RcObject *old = gt_new(&gt_node_type);
    cr_expect_eq(gc_collect(gt_gc, 2), 0); /* old is in generation 2 */
    RcObject *young = gt_ring(&gt_node_type, 2);
    gt_link(young, 1, old);
    rc_decref(old);
    rc_decref(young);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    gt_check();
    cr_expect_eq(gt_count.deallocs, 3);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(collect_basic, old_object_keeps_young_cycle_alive)
{
    gc_disable(gt_gc);
    RcObject *old = gt_new(&gt_node_type);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    RcObject *young = gt_ring(&gt_node_type, 3);
    gt_link(old, 0, young);
    rc_decref(young);
    cr_expect_eq(gc_collect(gt_gc, 0), 0);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 4);
    cr_expect(gt_intact(gt_node(old)->slot[0]));
    rc_decref(old);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(collect_basic, cycle_through_untracked_object_is_not_collected)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *u = gt_new(&gt_untracked_type);
    cr_expect_not(gc_is_tracked(u));
    gt_link(a, 0, u);
    gt_link(u, 0, a);
    rc_decref(u);
    rc_decref(a);
    /* the collector cannot see u's reference to a: a looks referenced
     * from outside and keeps u alive */
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 2);
    cr_expect(gt_intact(a) && gt_intact(u));
    cr_expect_eq(gt_node(a)->slot[0], u);
    cr_expect_eq(gt_node(u)->slot[0], a);
    cr_expect_eq(gc_track(u), 0);
    cr_expect(gc_is_tracked(u));
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(collect_basic, untracked_object_gets_tracked_by_gc_track_only)
{
    RcObject *u = gt_new(&gt_untracked_type);
    gt_link(u, 0, u);
    rc_decref(u);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(rc_live_total(gt_rc), 1);
    cr_expect_eq(gc_track(u), 0);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
}

Test(collect_basic, untracked_and_non_gc_referents_are_left_to_counting)
{
    RcObject *a = gt_new(&gt_node_type);
    RcObject *u = gt_new(&gt_untracked_type);
    RcObject *leaf = gt_new(&gt_leaf_type);
    RcObject *keep = gt_new(&gt_untracked_type);
    gt_link(a, 0, a);
    gt_link(a, 1, u);
    gt_link(a, 2, leaf);
    gt_link(a, 3, keep);
    gt_link(u, 0, leaf);
    rc_decref(u);
    rc_decref(leaf);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
    /* u and leaf died by count when a was cleared; keep we still hold */
    cr_expect_eq(rc_live_total(gt_rc), 1);
    cr_expect_eq(rc_refcnt(keep), 1);
    cr_expect(gt_intact(keep));
    rc_decref(keep);
}

Test(collect_basic, untracking_a_cycle_member_hides_the_cycle)
{
    RcObject *a = gt_ring(&gt_node_type, 3);
    RcObject *b = gt_node(a)->slot[0];
    cr_expect_eq(gc_untrack(b), 0);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 3);
    cr_expect_eq(gc_track(b), 0);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
}

Test(collect_basic, repeated_collections_find_nothing_more)
{
    RcObject *keep = gt_ring(&gt_node_type, 10);
    RcObject *drop = gt_ring(&gt_node_type, 10);
    rc_decref(drop);
    cr_expect_eq(gc_collect(gt_gc, 2), 10);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(gc_collect(gt_gc, i % 3), 0);
        gt_check();
    }
    cr_expect_eq(rc_live_total(gt_rc), 10);
    rc_decref(keep);
}

Test(collect_basic, blocks_of_collected_objects_are_reused)
{
    OaStats before, after;
    RcObject *r = gt_ring(&gt_node_type, 5000);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 5000);
    oa_heap_stats(rc_heap_oa(gt_rc), &before);
    cr_expect_eq(before.blocks_used, 0);
    r = gt_ring(&gt_node_type, 5000);
    oa_heap_stats(rc_heap_oa(gt_rc), &after);
    cr_expect_leq(after.arenas_highwater, before.arenas_highwater,
                  "a second ring of the same size needed more arenas");
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 5000);
    gt_check();
}

Test(collect_basic, collect_works_while_disabled)
{
    gc_disable(gt_gc);
    cr_expect_not(gc_isenabled(gt_gc));
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gc_enable(gt_gc);
    cr_expect(gc_isenabled(gt_gc));
    gt_check();
}
