/* SPDX-License-Identifier: MIT */
/* cpython_audit.c - CPython 3.14 test cases whose expected values no
 * other rcgc test checked, restated one by one (Lib/test/test_gc.py,
 * test_weakref.py).  Each test names its source.  They pin down the
 * phase order of garbage.c from the outside: weakrefs to what stays
 * garbage are cleared before any clear, so code that runs during the
 * clears (a callback or finalizer of an older object dying by count, a
 * weakref whose target the collector cannot see) never sees garbage. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>

TestSuite(cpython_audit, .init = gt_setup, .fini = gt_teardown);

static RcObject *
weak(RcObject *target, RcWeakCallback cb, void *ctx)
{
    RcObject *wr = rc_weakref_new(gt_rc, target, cb, ctx, NULL);
    cr_assert_not_null(wr);
    return wr;
}

/* ---- test_gc GCTogglingTests.test_bug1055820c / d ------------------- */

/* c0 is old and held only by c1; c1 and c2 are young self-cycles; c2wr
 * is a weakref without callback to c2.  When generation 0 is collected,
 * clearing c1 frees c0, whose weakref callback (c) or finalizer (d) reads
 * c2wr(): it must be None, not a c2 that was (or is about to be) cleared:
 * "self.assertEqual(x, None)". */
static RcObject *c2wr;
static int ouch_calls;
static RcObject *ouch;

static void
read_c2wr(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    ouch_calls++;
    ouch = rc_weakref_get(c2wr);
}

static void
read_c2wr_fin(RcObject *op)
{
    (void)op;
    read_c2wr(NULL, NULL);
}

/* Returns c0 (one reference, the caller's) after moving it to gen 2. */
static RcObject *
setup_1055820(const RcType *c0_type, RcObject **c1_out)
{
    gc_disable(gt_gc);
    RcObject *c0 = gt_new(c0_type);
    cr_expect_eq(gc_collect(gt_gc, 2), 0); /* move c0 into generation 2 */
    RcObject *c1 = gt_new(&gt_node_type);
    gt_link(c1, 0, c1);
    gt_link(c1, 1, c0); /* c1.keep_c0_alive = c0 */
    RcObject *c2 = gt_new(&gt_node_type);
    gt_link(c2, 0, c2);
    c2wr = weak(c2, NULL, NULL);
    rc_decref(c2);
    *c1_out = c1;
    return c0;
}

Test(cpython_audit, bug1055820c_callback_of_old_object_sees_c2wr_cleared)
{
    RcObject *c1;
    RcObject *c0 = setup_1055820(&gt_node_type, &c1);
    RcObject *c0wr = weak(c0, read_c2wr, NULL);
    rc_decref(c0);
    rc_decref(c1); /* c0, c1, c2 are all trash now */
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    gt_check();
    cr_expect_eq(ouch_calls, 1, "the callback wasn't invoked");
    cr_expect_null(ouch);
    cr_expect_null(rc_weakref_get(c2wr));
    rc_decref(c0wr);
    rc_decref(c2wr);
}

Test(cpython_audit, bug1055820d_finalizer_of_old_object_sees_c2wr_cleared)
{
    gt_fin_hook = read_c2wr_fin;
    RcObject *c1;
    RcObject *d0 = setup_1055820(&gt_fin_type, &c1);
    rc_decref(d0);
    rc_decref(c1);
    cr_expect_eq(gc_collect(gt_gc, 0), 2);
    gt_check();
    cr_expect_eq(ouch_calls, 1, "__del__ wasn't invoked");
    cr_expect_null(ouch);
    rc_decref(c2wr);
}

/* ---- test_gc test_trash_weakref_clear (bpo-38006) ------------------- */

/*   Z <- Y <- A--+--> WZ -> C       (WZ also held by a second cycle)
 *             ^  |
 *             +--+
 * Y is a container the collector does not see (untracked), so Z looks
 * referenced from outside and is not garbage.  Clearing A frees Y and
 * then Z; WZ, itself garbage, must have been cleared before: "callback.
 * assert_not_called()". */
static int c_calls;

static void
callback_c(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    c_calls++;
}

Test(cpython_audit, trash_weakref_is_cleared_before_the_clears)
{
    gc_disable(gt_gc);
    RcObject *a = gt_new(&gt_node_type);
    gt_link(a, 0, a);
    RcObject *y = gt_new(&gt_untracked_type);
    RcObject *z = gt_new(&gt_node_type);
    gt_link(y, 0, z);
    rc_decref(z);
    gt_link(a, 1, y);
    rc_decref(y);
    RcObject *wz = weak(z, callback_c, NULL);
    gt_link(a, 2, wz);
    RcObject *wr_cycle = gt_new(&gt_node_type);
    gt_link(wr_cycle, 0, wz);
    gt_link(wr_cycle, 1, wr_cycle);
    rc_decref(wz);
    rc_decref(a);
    rc_decref(wr_cycle);
    cr_expect_geq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_expect_eq(c_calls, 0, "a trash weakref called back");
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

/* ---- test_gc test_get_objects_during_gc (gh-125859) ----------------- */

static int objects_ok, referrers_ok, got_called;

static void
inspect_during_gc(RcObject *op)
{
    got_called = 1;
    size_t n = gc_get_objects(gt_gc, -1, NULL, 0);
    RcObject **buf = calloc(n + 1, sizeof *buf);
    cr_assert_not_null(buf);
    n = gc_get_objects(gt_gc, -1, buf, n + 1);
    objects_ok = !gt_in(buf, n, op);
    referrers_ok = gc_get_referrers(gt_gc, &op, 1, NULL, 0) == 0;
    free(buf);
}

Test(cpython_audit, get_objects_and_referrers_during_a_collection)
{
    gc_disable(gt_gc);
    gt_fin_hook = inspect_during_gc;
    RcObject *keep = gt_ring(&gt_node_type, 3);
    RcObject *obj = gt_new(&gt_fin_type);
    gt_link(obj, 0, obj); /* obj.cycle = obj */
    rc_decref(obj);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
    cr_expect(got_called);
    cr_expect(objects_ok, "get_objects() listed the object being finalized");
    cr_expect(referrers_ok, "get_referrers(self) != []");
    rc_decref(keep);
}

/* ---- test_gc GCCallbackTests.test_collect_garbage ------------------- */

/* Two Uncollectable() pairs (each object has tp_del) and one C1055820
 * self-cycle: the stop callbacks see collected 1, uncollectable 4, and
 * gc.garbage holds the 4 Uncollectable objects.  Then the test's loop
 * variable `e` still holds the last of them; with the list emptied, the
 * next collection finds the other pair only: collected 0, uncollectable
 * 2, and the callback's cleanup (e.partner = None, off the list) leaves
 * gc.garbage empty. */
static GcInfo last_stop;
static int cleanup;

static void
on_phase(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)ctx;
    if (phase != GC_PHASE_STOP) {
        return;
    }
    last_stop = *info;
    if (cleanup) {
        for (size_t i = 0; i < gc_garbage_count(gc); i++) {
            gt_link(gc_garbage_get(gc, i), 0, NULL);
        }
        gc_garbage_clear(gc);
    }
}

Test(cpython_audit, collect_garbage_counts_in_the_stop_callback)
{
    gc_disable(gt_gc);
    cr_assert_eq(gc_callback_add(gt_gc, on_phase, NULL), 0);
    for (int i = 0; i < 2; i++) {
        RcObject *u = gt_ring(&gt_legacy_type, 2); /* self.partner */
        rc_decref(u);
    }
    RcObject *c = gt_new(&gt_node_type);
    gt_link(c, 0, c);
    rc_decref(c);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    cr_expect_eq(last_stop.collected, 1);
    cr_expect_eq(last_stop.uncollectable, 4);
    size_t n = gc_garbage_count(gt_gc);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(gc_garbage_get(gt_gc, i)->type, &gt_legacy_type);
    }
    RcObject *e = rc_newref(gc_garbage_get(gt_gc, n - 1));
    cleanup = 1;
    gc_garbage_clear(gt_gc); /* gc.garbage[:] = [] */
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(last_stop.collected, 0);
    cr_expect_eq(last_stop.uncollectable, 2);
    cr_expect_eq(gc_garbage_count(gt_gc), 0, "Uncollectables should be gone");
    cr_expect_eq(gt_count.legacy_dels, 2);
    cleanup = 0;
    gt_link(e, 0, NULL); /* the tearDown's obj.partner = None */
    rc_decref(e);
    cr_expect_eq(gt_count.legacy_dels, 4);
    cr_expect_eq(gc_callback_remove(gt_gc, on_phase, NULL), 0);
}

/* ---- test_weakref test_clearing_weakrefs_in_gc ---------------------- */

/* "when finalizers are called: 1. weakrefs with callbacks have been
 * cleared 2. weakrefs without callbacks have not been cleared" - both
 * weakrefs live in the garbage instance and point at its (garbage)
 * class. */
static RcObject *klass, *wr1_seen, *wr2_seen;
static int fin_ran;

static void
check_own_weakrefs(RcObject *op)
{
    fin_ran = 1;
    wr1_seen = rc_weakref_get(gt_node(op)->slot[1]);
    wr2_seen = rc_weakref_get(gt_node(op)->slot[2]);
}

Test(cpython_audit, clearing_weakrefs_in_gc)
{
    gc_disable(gt_gc);
    gt_fin_hook = check_own_weakrefs;
    klass = gt_new(&gt_node_type);
    gt_link(klass, 0, klass); /* a class is in a cycle (its __mro__) */
    RcObject *inst = gt_new(&gt_fin_type);
    gt_link(inst, 0, inst); /* self._self = self */
    gt_link(inst, 3, klass);
    RcObject *wr1 = weak(klass, callback_c, NULL);
    RcObject *wr2 = weak(klass, NULL, NULL);
    gt_link(inst, 1, wr1);
    gt_link(inst, 2, wr2);
    rc_decref(wr1);
    rc_decref(wr2);
    rc_decref(klass);
    rc_decref(inst);
    cr_expect_eq(gc_collect(gt_gc, 2), 4);
    gt_check();
    cr_expect(fin_ran);
    cr_expect_null(wr1_seen, "weakref with callback not cleared");
    cr_expect_eq(wr2_seen, klass, "weakref without callback was cleared");
    cr_expect_eq(c_calls, 0, "a garbage weakref called back");
}

/* ---- test_weakref test_callback_gcs --------------------------------- */

/* An object with a finalizer dies by count; its weakref's callback runs a
 * full collection while the object is being destroyed (count 0, still
 * tracked): nothing breaks, the object is freed once. */
static long inner;

static void
collect_in_callback(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    inner = gc_collect(gt_gc, 2);
}

Test(cpython_audit, callback_that_collects_during_a_death_by_count)
{
    RcObject *x = gt_new(&gt_fin_type);
    RcObject *ref1 = weak(x, collect_in_callback, NULL);
    RcObject *junk = gt_ring(&gt_node_type, 2);
    rc_decref(junk);
    rc_decref(x);
    cr_expect_eq(inner, 2);
    cr_expect_eq(gt_count.finalizes, 1);
    cr_expect_eq(gt_count.deallocs, 3);
    gt_check();
    rc_decref(ref1);
}
