/* SPDX-License-Identifier: MIT */
/* death_order.c - what runs, in which order, when a count reaches zero.
 *
 * Restates CPython 3.14's Lib/test/test_finalization.py cases that die by
 * count (no cycle), whose order is CPython's subtype_dealloc: finalize
 * once (PEP 442; it may resurrect, and then the weakrefs stay), clear the
 * weak references and run their callbacks, then the legacy finalizer
 * (tp_del; each time, it may resurrect).  The test type has both
 * finalizers, as test_finalization's LegacyBase (__del__ and __tp_del__).
 *
 * One deliberate difference (docs/cpython-differences.md): CPython reruns
 * __del__ of a resurrected object that is not a GC object (its "finalized"
 * mark lives in the GC header), rcgc keeps RC_OBJ_FINALIZED in every
 * object and never reruns finalize (test_non_gc_resurrect below). */
#include "refcount/helpers.h"

#include <criterion/criterion.h>

TestSuite(death_order, .init = rc_test_setup, .fini = rc_test_teardown);

/* What the finalizers and the weakref callback saw, in order. */
enum { EV_DEL = 1, EV_WEAKREF = 2, EV_TP_DEL = 3 };
static int events[16], nevents;
static int del_resurrects, tp_del_resurrects;
static RcObject *survivor;       /* CPython's SimpleBase.survivors */
static RcObject *seen_by_tp_del; /* rc_weakref_get(wr) inside legacy_del */
static RcObject *plain_wr;       /* a weakref without callback to watch */

static void
note(int ev)
{
    cr_assert_lt(nevents, 16);
    events[nevents++] = ev;
}

static void
on_del(RcObject *op)
{
    note(EV_DEL);
    if (del_resurrects) {
        survivor = rc_newref(op);
    }
}

static void
on_tp_del(RcObject *op)
{
    note(EV_TP_DEL);
    seen_by_tp_del = plain_wr != NULL ? rc_weakref_get(plain_wr) : NULL;
    if (tp_del_resurrects) {
        survivor = rc_newref(op);
    }
}

static void
on_weakref(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    note(EV_WEAKREF);
}

/* test_finalization's Legacy: __del__ (finalize) and __tp_del__. */
static const RcType legacy_type = {
    RC_TYPE_HEAD("Legacy", 0),
    .size = 16,
    .finalize = on_del,
    .legacy_del = on_tp_del,
};

/* SimpleResurrector / NonGCResurrector: __del__ only. */
static const RcType simple_type = {
    RC_TYPE_HEAD("Simple", 0),
    .size = 16,
    .finalize = on_del,
};

static void
reset(void)
{
    nevents = 0;
    del_resurrects = tp_del_resurrects = 0;
    survivor = seen_by_tp_del = plain_wr = NULL;
}

static int
count_of(int ev)
{
    int n = 0;
    for (int i = 0; i < nevents; i++) {
        n += events[i] == ev;
    }
    return n;
}

/* Restates test_finalization LegacyFinalizationTest.test_legacy: one
 * __del__ call, one __tp_del__ call, wr() is None afterwards; in that
 * order, with the weakref's callback between them. */
Test(death_order, legacy_runs_after_finalize_and_weakref_callbacks)
{
    reset();
    RcObject *s = rc_new(heap, &legacy_type);
    plain_wr = rc_weakref_new(heap, s, NULL, NULL, NULL);
    RcObject *wrc = rc_weakref_new(heap, s, on_weakref, NULL, NULL);
    rc_decref(s);
    cr_expect_eq(nevents, 3);
    cr_expect_eq(events[0], EV_DEL);
    cr_expect_eq(events[1], EV_WEAKREF);
    cr_expect_eq(events[2], EV_TP_DEL);
    cr_expect_null(seen_by_tp_del, "weakrefs are cleared before tp_del");
    cr_expect_null(rc_weakref_get(plain_wr));
    cr_expect_null(rc_weakref_get(wrc));
    rc_decref(plain_wr);
    rc_decref(wrc);
}

/* Restates test_finalization LegacyFinalizationTest.test_legacy_resurrect:
 * __tp_del__ resurrects; "weakrefs are cleared before tp_del is called",
 * so wr() is None although the object lives; the callback has run.  The
 * second death runs __tp_del__ again (tp_del_calls == ids * 2) but not
 * __del__ (del_calls == ids), and it resurrects again. */
Test(death_order, resurrecting_legacy_finds_its_weakrefs_cleared)
{
    reset();
    tp_del_resurrects = 1;
    RcObject *s = rc_new(heap, &legacy_type);
    plain_wr = rc_weakref_new(heap, s, NULL, NULL, NULL);
    RcObject *wrc = rc_weakref_new(heap, s, on_weakref, NULL, NULL);
    rc_decref(s);
    cr_assert_eq(survivor, s, "legacy_del resurrected it");
    cr_expect_eq(count_of(EV_DEL), 1);
    cr_expect_eq(count_of(EV_TP_DEL), 1);
    cr_expect_eq(count_of(EV_WEAKREF), 1, "the callback ran");
    cr_expect_null(rc_weakref_get(plain_wr));
    cr_expect_null(rc_weakref_get(wrc));
    cr_expect_eq(rc_weakref_count(s), 0);
    RcObject *again = survivor;
    survivor = NULL;
    rc_decref(again); /* clear_survivors(): dies again, resurrects again */
    cr_expect_eq(count_of(EV_DEL), 1, "__del__ runs once");
    cr_expect_eq(count_of(EV_TP_DEL), 2, "__tp_del__ runs each time");
    cr_assert_eq(survivor, s);
    tp_del_resurrects = 0;
    rc_decref(survivor);
    cr_expect_eq(count_of(EV_TP_DEL), 3);
    cr_expect_eq(rc_live_count(heap, &legacy_type), 0);
    rc_decref(plain_wr);
    rc_decref(wrc);
}

/* Restates test_finalization SimpleFinalizationTest.test_simple_resurrect:
 * __del__ resurrects, so the weakref is not cleared (wr() is not None);
 * once the survivor goes, __del__ does not run again and wr() is None. */
Test(death_order, finalize_that_resurrects_keeps_the_weakref)
{
    reset();
    del_resurrects = 1;
    RcObject *s = rc_new(heap, &simple_type);
    plain_wr = rc_weakref_new(heap, s, NULL, NULL, NULL);
    rc_decref(s);
    cr_assert_eq(survivor, s);
    cr_expect_eq(rc_weakref_get(plain_wr), s);
    del_resurrects = 0;
    survivor = NULL;
    rc_decref(s);
    cr_expect_eq(count_of(EV_DEL), 1);
    cr_expect_null(rc_weakref_get(plain_wr));
    rc_decref(plain_wr);
}

/* Restates test_finalization SimpleFinalizationTest.test_non_gc_resurrect
 * with rcgc's documented difference: CPython expects del_calls == ids * 2
 * (a non-GC object's __del__ reruns after a resurrection); rcgc runs
 * finalize at most once for every object, GC type or not. */
Test(death_order, non_gc_finalize_never_reruns_after_resurrection)
{
    reset();
    del_resurrects = 1;
    RcObject *s = rc_new(heap, &simple_type);
    cr_expect_not(rc_is_gc(s));
    rc_decref(s);
    cr_assert_eq(survivor, s);
    cr_expect_eq(count_of(EV_DEL), 1);
    survivor = NULL;
    rc_decref(s); /* CPython: __del__ again, and it resurrects again */
    cr_expect_eq(count_of(EV_DEL), 1, "finalize ran twice");
    cr_expect_null(survivor);
    cr_expect_eq(rc_live_count(heap, &simple_type), 0);
}

/* Restates test_weakref test_ref_created_during_del (bug #1377858): a
 * weakref that __del__ makes to its dying object is cleared when the
 * object goes on dying (no dangling target). */
static RcObject *ref_from_del;

static void
weak_to_self(RcObject *op)
{
    ref_from_del = rc_weakref_new(heap, op, NULL, NULL, NULL);
}

static const RcType target_type = {
    RC_TYPE_HEAD("Target", 0),
    .size = 16,
    .finalize = weak_to_self,
};

Test(death_order, weakref_made_by_finalize_is_cleared_at_death)
{
    reset();
    RcObject *w = rc_new(heap, &target_type);
    rc_decref(w);
    cr_assert_not_null(ref_from_del);
    cr_expect_null(rc_weakref_get(ref_from_del));
    cr_expect_eq(rc_live_count(heap, &target_type), 0);
    rc_decref(ref_from_del);
}
