/* SPDX-License-Identifier: MIT */
/* weakrefs.c - weak references to cyclic garbage.
 *
 * CPython 3.14's rules (gc.c handle_weakref_callbacks, clear_weakrefs;
 * test_gc's weakref tests): weak references with a callback to
 * unreachable objects are cleared before any finalizer runs, and the
 * callback of one that itself survives the collection is called once and
 * sees the reference already cleared; weak references without a callback
 * are cleared after the finalizers (cpython314.c shows that order); a
 * weak reference that is part of the garbage is cleared with it and never
 * calls back, whether its target is garbage or alive. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(weakrefs, .init = gt_setup, .fini = gt_teardown);

typedef struct WeakLog {
    int calls;
    int saw_cleared; /* calls where rc_weakref_get(wr) was NULL */
    int released;
    RcObject *last_wr;
    long inner_collect;
} WeakLog;

static void
log_callback(RcObject *wr, void *ctx)
{
    WeakLog *log = ctx;
    log->calls++;
    log->last_wr = wr;
    if (rc_weakref_get(wr) == NULL) {
        log->saw_cleared++;
    }
}

static void
log_release(void *ctx)
{
    ((WeakLog *)ctx)->released++;
}

static RcObject *
weak(RcObject *target, WeakLog *log)
{
    RcObject *wr = rc_weakref_new(gt_rc, target, log ? log_callback : NULL,
                                  log, log ? log_release : NULL);
    cr_assert_not_null(wr, "rc_weakref_new: %s",
                       rc_heap_error(gt_rc) ? rc_heap_error(gt_rc) : "?");
    return wr;
}

Test(weakrefs, callback_of_surviving_weakref_sees_a_cleared_reference)
{
    WeakLog log = {0};
    RcObject *x = gt_ring(&gt_node_type, 2);
    RcObject *wr = weak(x, &log);
    cr_expect_eq(rc_weakref_get(wr), x);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    cr_expect_eq(log.calls, 1);
    cr_expect_eq(log.saw_cleared, 1);
    cr_expect_eq(log.last_wr, wr);
    cr_expect_null(rc_weakref_get(wr));
    cr_expect_eq(gt_count.deallocs, 2);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(log.calls, 1);
    rc_decref(wr);
    cr_expect_eq(log.released, 1);
}

Test(weakrefs, weakref_without_callback_is_cleared)
{
    RcObject *x = gt_ring(&gt_node_type, 3);
    RcObject *wr = weak(gt_node(x)->slot[0], NULL);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_expect_null(rc_weakref_get(wr));
    rc_decref(wr);
}

Test(weakrefs, weakref_to_live_object_is_left_alone)
{
    WeakLog log = {0};
    RcObject *x = gt_ring(&gt_node_type, 2);
    RcObject *wr = weak(x, &log);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    cr_expect_eq(rc_weakref_get(wr), x);
    cr_expect_eq(rc_weakref_count(x), 1);
    cr_expect_eq(log.calls, 0);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(log.calls, 1);
    rc_decref(wr);
    gt_check();
}

Test(weakrefs, weakref_in_the_garbage_to_garbage_never_calls_back)
{
    WeakLog log = {0};
    RcObject *x = gt_new(&gt_node_type);
    RcObject *y = gt_new(&gt_node_type);
    gt_link(x, 0, y);
    gt_link(y, 0, x);
    RcObject *wr = weak(y, &log);
    gt_link(x, 1, wr); /* the weakref lives only inside the cycle */
    rc_decref(wr);
    rc_decref(x);
    rc_decref(y);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_expect_eq(log.calls, 0);
    cr_expect_eq(log.released, 1);
    cr_expect_eq(rc_live_total(gt_rc), 0);
}

Test(weakrefs, weakref_in_the_garbage_to_live_object_never_calls_back)
{
    WeakLog log = {0};
    RcObject *live = gt_new(&gt_node_type);
    RcObject *x = gt_new(&gt_node_type);
    gt_link(x, 0, x);
    RcObject *wr = weak(live, &log);
    gt_link(x, 1, wr);
    rc_decref(wr);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    cr_expect_eq(log.released, 1);
    cr_expect_eq(rc_weakref_count(live), 0);
    cr_expect(gt_intact(live));
    rc_decref(live);
    cr_expect_eq(log.calls, 0);
}

Test(weakrefs, every_surviving_weakref_calls_back_once)
{
    WeakLog log1 = {0}, log2 = {0}, log3 = {0};
    RcObject *x = gt_ring(&gt_node_type, 3);
    RcObject *w1 = weak(x, &log1);
    RcObject *w2 = weak(x, &log2);
    RcObject *w3 = weak(gt_node(x)->slot[0], &log3);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_expect_eq(log1.calls, 1);
    cr_expect_eq(log2.calls, 1);
    cr_expect_eq(log3.calls, 1);
    cr_expect_eq(log1.saw_cleared + log2.saw_cleared + log3.saw_cleared, 3);
    rc_decref(w1);
    rc_decref(w2);
    rc_decref(w3);
    cr_expect_eq(log1.released + log2.released + log3.released, 3);
}

Test(weakrefs, weakref_held_by_live_object_calls_back)
{
    WeakLog log = {0};
    RcObject *holder = gt_new(&gt_node_type);
    RcObject *x = gt_ring(&gt_node_type, 2);
    RcObject *wr = weak(x, &log);
    gt_link(holder, 0, wr);
    rc_decref(wr);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    cr_expect_eq(log.calls, 1);
    cr_expect_eq(log.saw_cleared, 1);
    cr_expect_null(rc_weakref_get(gt_node(holder)->slot[0]));
    rc_decref(holder);
    cr_expect_eq(log.released, 1);
}

Test(weakrefs, weakref_with_callback_to_resurrected_object_is_cleared)
{
    WeakLog log = {0};
    gc_disable(gt_gc);
    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    RcObject *wr = weak(z, &log);
    rc_decref(z);
    cr_expect_eq(gc_collect(gt_gc, 2), 0);
    gt_check();
    cr_expect_eq(gt_nsaved, 1);
    cr_expect_null(rc_weakref_get(wr));
    cr_expect_eq(log.calls, 1);
    cr_expect_eq(log.saw_cleared, 1);
    cr_expect_eq(rc_weakref_count(z), 0);
    rc_decref(wr);
}

static void
collecting_callback(RcObject *wr, void *ctx)
{
    WeakLog *log = ctx;
    log_callback(wr, ctx);
    log->inner_collect = gc_collect(gt_gc, 2);
    RcObject *a = gt_ring(&gt_node_type, 2); /* new garbage, collected later */
    rc_decref(a);
}

Test(weakrefs, callback_may_allocate_and_its_collect_returns_zero)
{
    WeakLog log = {0};
    RcObject *x = gt_ring(&gt_node_type, 2);
    RcObject *wr =
        rc_weakref_new(gt_rc, x, collecting_callback, &log, log_release);
    cr_assert_not_null(wr);
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    cr_expect_eq(log.calls, 1);
    cr_expect_eq(log.inner_collect, 0);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    gt_check();
    rc_decref(wr);
}

Test(weakrefs, weakref_to_old_garbage_waits_for_its_generation)
{
    WeakLog log = {0};
    gc_disable(gt_gc);
    RcObject *x = gt_ring(&gt_fin_type, 2);
    RcObject *wr = weak(x, &log);
    cr_expect_eq(gc_collect(gt_gc, 2), 0); /* wr now old, x too */
    rc_decref(x);
    cr_expect_eq(gc_collect(gt_gc, 0), 0);
    cr_expect_eq(log.calls, 0);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(log.calls, 1);
    cr_expect_eq(gt_count.finalizes, 2);
    gt_check();
    rc_decref(wr);
}
