/* SPDX-License-Identifier: MIT */
/* heaps.c - several collectors in one process: a second heap changes
 * neither the work nor the outcome of the first one's collections.
 *
 * The work of a collection is its event's `visits` (objects visited by the
 * reachability passes' list walks), a count, not a time.  Before this was
 * per heap, a second GcHeap anywhere in the process made every full
 * collection of the first one walk its heap once more (the update_refs
 * pass a lone heap skips). */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <signal.h>

TestSuite(heaps, .init = gt_setup, .fini = gt_teardown);

typedef struct Pair {
    RcObject *slot[2];
} Pair;

static const RcType pair_type = {
    TC_NODE_TYPE("pair", RC_TYPE_GC, sizeof(Pair), 2),
};

/* A binary tree of n GtNodes under root (slots 0 and 1), plus a 3-ring
 * of garbage, so that every pass of a collection has work. */
static RcObject *
live_tree(int n)
{
    RcObject **nodes = malloc((size_t)n * sizeof *nodes);
    cr_assert_not_null(nodes);
    for (int i = 0; i < n; i++) {
        nodes[i] = gt_new(&gt_node_type);
        if (i > 0) {
            gt_link(nodes[(i - 1) / 2], (i - 1) % 2, nodes[i]);
            rc_decref(nodes[i]);
        }
    }
    RcObject *root = nodes[0];
    free(nodes);
    rc_decref(gt_ring(&gt_node_type, 3));
    return root;
}

static GcEvent
last_event(GcHeap *gc)
{
    static GcEvent ev[GC_EVENT_LOG];
    size_t n = gc_events(gc, ev, GC_EVENT_LOG);
    cr_assert_gt(n, 0);
    return ev[n - 1];
}

/* The visits of a full collection of gt_gc over a fresh live tree. */
static uint64_t
full_collection_visits(void)
{
    RcObject *root = live_tree(1000);
    cr_assert_eq(gc_collect(gt_gc, 2), 3);
    GcEvent e = last_event(gt_gc);
    cr_expect_eq(e.examined, 1003);
    rc_decref(root);
    cr_assert_eq(gc_collect(gt_gc, 2), 0);
    return e.visits;
}

Test(heaps, second_heap_does_not_change_the_work_of_full_collections)
{
    uint64_t alone = full_collection_visits();
    cr_expect_eq(alone, 3 * 1003, "a lone heap: subtract, mark, partition");
    GcHeap *other = gc_heap_new(NULL);
    cr_assert_not_null(other);
    RcObject *a = tc_new(gc_heap_rc(other), &pair_type);
    tc_link(a, 0, a); /* a tracked cycle in the other heap */
    uint64_t beside = full_collection_visits();
    cr_expect_eq(beside, alone, "visits with a second heap: %llu, alone %llu",
                 (unsigned long long)beside, (unsigned long long)alone);
    rc_decref(a);
    cr_expect_eq(gc_collect(other, 2), 1);
    cr_expect_eq(gc_check(other), 0);
    gc_heap_destroy(other);
    gt_check();
}

#ifdef RCGC_DEBUG
/* A reference into another heap breaks refcount.h's rule; a full
 * collection, which counts every tracked referent as its own, names it in
 * debug builds instead of packing the other heap's list. */
static void
collect_with_a_reference_into_another_heap(void)
{
    gt_setup();
    GcHeap *other = gc_heap_new(NULL);
    RcObject *foreign = tc_new(gc_heap_rc(other), &pair_type);
    RcObject *root = gt_new(&gt_node_type);
    gt_link(root, 0, foreign);
    gc_collect(gt_gc, 2);
}

Test(heaps_death, a_reference_into_another_heap_is_named, .signal = SIGABRT)
{
    collect_with_a_reference_into_another_heap();
}

Test(heaps_death, a_reference_into_another_heap_names_both_heaps)
{
    tc_expect_abort(collect_with_a_reference_into_another_heap,
                    "cyclegc: gc_collect: object 0x",
                    "(type 'pair') of heap 0x");
}
#endif
