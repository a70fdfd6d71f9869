/* SPDX-License-Identifier: MIT */
/* finalize.c - PEP 442 finalizers (once, may resurrect) and legacy
 * finalizers (each time), from deallocation. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>

TestSuite(finalize, .init = rc_test_setup, .fini = rc_test_teardown);

static int finalized, legacy_runs, deallocs;
static RcObject *saved;     /* where a finalizer resurrects to */
static int resurrect;       /* finalizers store their object in saved */
static uint32_t count_seen; /* the count a finalizer observed */

static void
fin(RcObject *op)
{
    finalized++;
    count_seen = rc_refcnt(op);
    cr_expect(op->flags & RC_OBJ_FINALIZED, "flag set before the call");
    if (resurrect) {
        saved = rc_newref(op);
    }
}

static void
legacy(RcObject *op)
{
    legacy_runs++;
    if (resurrect) {
        saved = rc_newref(op);
    }
}

static void
counted_dealloc(RcObject *op)
{
    (void)op;
    deallocs++;
}

static const RcType fin_type = {
    RC_TYPE_HEAD("finalized", 0),
    .size = 16,
    .finalize = fin,
    .dealloc = counted_dealloc,
};

static const RcType legacy_type = {
    RC_TYPE_HEAD("legacy", 0),
    .size = 16,
    .legacy_del = legacy,
    .dealloc = counted_dealloc,
};

static void
reset(void)
{
    finalized = legacy_runs = deallocs = resurrect = 0;
    saved = NULL;
}

Test(finalize, finalizer_runs_once_with_the_object_intact)
{
    reset();
    RcObject *op = rc_new(heap, &fin_type);
    rc_decref(op);
    cr_expect_eq(finalized, 1);
    cr_expect_eq(count_seen, 1, "a temporary reference during finalize");
    cr_expect_eq(deallocs, 1);
}

Test(finalize, resurrected_object_stays_alive_and_is_not_finalized_again)
{
    reset();
    resurrect = 1;
    RcObject *op = rc_new(heap, &fin_type);
    rc_decref(op);
    cr_expect_eq(finalized, 1);
    cr_expect_eq(deallocs, 0, "resurrected: not freed");
    cr_expect_eq(saved, op);
    cr_expect_eq(rc_refcnt(op), 1);
    cr_expect_eq(rc_live_count(heap, &fin_type), 1);
#ifdef RCGC_DEBUG
    cr_expect_eq(rc_total_refs(heap), 1);
#endif
    rc_decref(saved);
    cr_expect_eq(finalized, 1, "finalize never reruns");
    cr_expect_eq(deallocs, 1);
}

Test(finalize, legacy_finalizer_runs_each_time)
{
    reset();
    resurrect = 1;
    RcObject *op = rc_new(heap, &legacy_type);
    rc_decref(op);
    cr_expect_eq(legacy_runs, 1);
    cr_expect_eq(deallocs, 0);
    resurrect = 0;
    rc_decref(saved);
    cr_expect_eq(legacy_runs, 2);
    cr_expect_eq(deallocs, 1);
}

/* A GC type with a finalizer, to resurrect from a deep deallocation
 * (the object was queued and untracked first). */
static int
gcfin_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    return pair_type.traverse(op, visit, arg);
}

static void
gcfin_clear(RcObject *op)
{
    pair_type.clear(op);
}

static const RcType gcfin_type = {
    RC_TYPE_HEAD("gc finalized", RC_TYPE_GC),
    .size = sizeof(Pair),
    .traverse = gcfin_traverse,
    .clear = gcfin_clear,
    .finalize = fin,
};

Test(finalize, queued_object_resurrected_is_tracked_again)
{
    reset();
    attach_fake_gc();
    RcObject *child = rc_new(heap, &gcfin_type);
    RcObject *parent = new_pair(child, NULL);
    resurrect = 1;
    rc_decref(parent); /* child dies inside parent's dealloc: queued */
    cr_expect_eq(finalized, 1);
    cr_assert_eq(saved, child);
    cr_expect(fake_is_tracked(child), "tracked again after resurrection");
    cr_expect_eq(fake_gc.tracked, 1);
    cr_expect_eq(child->flags & RC_OBJ_DEFERRED, 0);
    cr_expect_eq(rc_live_total(heap), 1);
    resurrect = 0;
    rc_decref(saved);
    cr_expect_eq(finalized, 1);
    cr_expect_eq(rc_live_total(heap), 0);
}

/* One rule for a resurrection, however the object died (issue 20): it
 * is tracked again through the track hook (the collector's generation 0),
 * here after an untrack from wherever it was. */
Test(finalize, direct_resurrection_tracks_again_as_young)
{
    reset();
    attach_fake_gc();
    RcObject *op = rc_new(heap, &gcfin_type);
    resurrect = 1;
    rc_decref(op);
    cr_expect(fake_is_tracked(op));
    cr_expect_eq(fake_gc.untracked, 1);
    cr_expect_eq(fake_gc.tracked, 1);
    rc_decref(saved);
    cr_expect_eq(fake_gc.untracked, 2);
}

/* A finalizer that drops references to other objects: they die through
 * the same loop. */
static void
fin_drop_children(RcObject *op)
{
    finalized++;
    pair_type.clear(op);
}

static const RcType dropper_type = {
    RC_TYPE_HEAD("dropper", RC_TYPE_GC), .size = sizeof(Pair),
    .traverse = gcfin_traverse,          .clear = gcfin_clear,
    .finalize = fin_drop_children,
};

Test(finalize, finalizer_may_release_what_the_object_owns)
{
    reset();
    RcObject *chain = NULL;
    for (int i = 0; i < 100; i++) {
        chain = new_pair(chain, NULL);
    }
    RcObject *op = rc_new(heap, &dropper_type);
    pair(op)->a = chain;
    pair(op)->b = rc_new(heap, &leaf_type);
    rc_decref(op);
    cr_expect_eq(finalized, 1);
    cr_expect_eq(rc_live_total(heap), 0);
}

/* Finalizers that create new objects while the heap deallocates. */
static void
fin_allocates(RcObject *op)
{
    (void)op;
    finalized++;
    RcObject *tmp = new_pair(rc_new(heap, &leaf_type), NULL);
    rc_decref(tmp);
}

static const RcType alloc_fin_type = {
    RC_TYPE_HEAD("allocating finalizer", RC_TYPE_GC),
    .size = sizeof(Pair),
    .traverse = gcfin_traverse,
    .clear = gcfin_clear,
    .finalize = fin_allocates,
};

Test(finalize, finalizers_in_a_deep_chain_may_allocate)
{
    reset();
    RcObject *chain = NULL;
    for (int i = 0; i < 1000; i++) {
        RcObject *p = rc_new(heap, &alloc_fin_type);
        pair(p)->a = chain;
        chain = p;
    }
    rc_decref(chain);
    cr_expect_eq(finalized, 1000);
    cr_expect_eq(rc_live_total(heap), 0);
}
