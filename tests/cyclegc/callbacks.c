/* SPDX-License-Identifier: MIT */
/* callbacks.c - the start/stop callbacks around each collection.
 *
 * As Python's gc.callbacks: every registered callback is called once with
 * GC_PHASE_START and once with GC_PHASE_STOP per collection, with the
 * generation, and at stop the collected and uncollectable counts; a
 * removed callback is no longer called; a collection requested from a
 * callback does nothing and returns 0. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(callbacks, .init = gt_setup, .fini = gt_teardown);

typedef struct Call {
    GcPhase phase;
    GcInfo info;
} Call;

typedef struct CbLog {
    int n;
    Call calls[64];
    long inner;
    int collect_inside;
    GcHeap *other; /* collected from inside, if set */
    long other_result;
} CbLog;

static void
record(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    CbLog *log = ctx;
    cr_assert_eq(gc, gt_gc);
    if (log->n < 64) {
        log->calls[log->n].phase = phase;
        log->calls[log->n].info = *info;
    }
    log->n++;
    if (log->collect_inside) {
        log->inner = gc_collect(gc, 2);
    }
    if (log->other != NULL) {
        log->other_result = gc_collect(log->other, 2);
    }
}

Test(callbacks, called_once_at_start_and_once_at_stop)
{
    CbLog log;
    memset(&log, 0, sizeof(log));
    gc_disable(gt_gc);
    cr_expect_eq(gc_callback_add(gt_gc, record, &log), 0);
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 1), 2);
    cr_assert_eq(log.n, 2);
    cr_expect_eq(log.calls[0].phase, GC_PHASE_START);
    cr_expect_eq(log.calls[0].info.generation, 1);
    cr_expect_eq(log.calls[1].phase, GC_PHASE_STOP);
    cr_expect_eq(log.calls[1].info.generation, 1);
    cr_expect_eq(log.calls[1].info.collected, 2);
    cr_expect_eq(log.calls[1].info.uncollectable, 0);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), 0);
    gt_check();
}

Test(callbacks, stop_reports_uncollectable)
{
    CbLog log;
    memset(&log, 0, sizeof(log));
    gc_disable(gt_gc);
    cr_expect_eq(gc_callback_add(gt_gc, record, &log), 0);
    RcObject *l = gt_new(&gt_legacy_type);
    gt_link(l, 0, l);
    RcObject *a = gt_ring(&gt_node_type, 3);
    rc_decref(a);
    rc_decref(l);
    cr_expect_eq(gc_collect(gt_gc, 2), 4);
    cr_assert_eq(log.n, 2);
    cr_expect_eq(log.calls[1].phase, GC_PHASE_STOP);
    cr_expect_eq(log.calls[1].info.generation, 2);
    cr_expect_eq(log.calls[1].info.collected, 3);
    cr_expect_eq(log.calls[1].info.uncollectable, 1);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), 0);
    gt_link(l, 0, NULL);
    gc_garbage_clear(gt_gc);
    gt_check();
}

Test(callbacks, removed_callback_is_not_called)
{
    CbLog log;
    memset(&log, 0, sizeof(log));
    cr_expect_eq(gc_callback_add(gt_gc, record, &log), 0);
    gc_collect(gt_gc, 0);
    cr_expect_eq(log.n, 2);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), 0);
    gc_collect(gt_gc, 0);
    cr_expect_eq(log.n, 2);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), -1);
    cr_expect_not_null(gc_error(gt_gc));
}

Test(callbacks, every_registered_callback_is_called)
{
    CbLog log1, log2;
    memset(&log1, 0, sizeof(log1));
    memset(&log2, 0, sizeof(log2));
    cr_expect_eq(gc_callback_add(gt_gc, record, &log1), 0);
    cr_expect_eq(gc_callback_add(gt_gc, record, &log2), 0);
    gc_collect(gt_gc, 2);
    cr_expect_eq(log1.n, 2);
    cr_expect_eq(log2.n, 2);
    /* removal is by (callback, ctx) */
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log1), 0);
    gc_collect(gt_gc, 2);
    cr_expect_eq(log1.n, 2);
    cr_expect_eq(log2.n, 4);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log2), 0);
}

Test(callbacks, automatic_collections_call_back_too)
{
    CbLog log;
    memset(&log, 0, sizeof(log));
    cr_expect_eq(gc_set_threshold(gt_gc, 10, 10, 10), 0);
    cr_expect_eq(gc_callback_add(gt_gc, record, &log), 0);
    for (int i = 0; i < 15; i++) {
        RcObject *a = gt_new(&gt_node_type);
        gt_link(a, 0, a);
        rc_decref(a);
    }
    cr_expect_geq(log.n, 2);
    cr_expect_eq(log.n % 2, 0);
    if (log.n >= 2) {
        cr_expect_eq(log.calls[0].phase, GC_PHASE_START);
        cr_expect_eq(log.calls[0].info.generation, 0);
        cr_expect_eq(log.calls[1].phase, GC_PHASE_STOP);
        cr_expect_geq(log.calls[1].info.collected, 10);
    }
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), 0);
    gt_check();
}

Test(callbacks, collect_from_a_callback_returns_zero)
{
    CbLog log;
    memset(&log, 0, sizeof(log));
    log.collect_inside = 1;
    log.inner = -7;
    cr_expect_eq(gc_callback_add(gt_gc, record, &log), 0);
    RcObject *a = gt_ring(&gt_node_type, 2);
    rc_decref(a);
    cr_expect_eq(gc_collect(gt_gc, 2), 2);
    cr_expect_eq(log.n, 2, "a nested collection called back");
    cr_expect_eq(log.inner, 0);
    cr_expect_eq(gt_stats(2).collections, 1);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), 0);
    gt_check();
}

Test(callbacks, collecting_another_heap_from_a_callback_is_safe)
{
    CbLog log;
    memset(&log, 0, sizeof(log));
    GcHeap *other = gc_heap_new(NULL);
    cr_assert_not_null(other);
    RcHeap *orc = gc_heap_rc(other);
    RcObject *o = rc_new(orc, &gt_link_type);
    cr_assert_not_null(o);
    ((GtLink *)rc_payload(o))->next = rc_newref(o);
    rc_decref(o);
    log.other = other;
    log.other_result = -7;
    cr_expect_eq(gc_callback_add(gt_gc, record, &log), 0);
    gc_collect(gt_gc, 2);
    cr_expect(log.other_result >= 0 ||
                  (log.other_result == -1 && gc_error(other) != NULL),
              "collect of another heap returned %ld", log.other_result);
    cr_expect_eq(gc_callback_remove(gt_gc, record, &log), 0);
    cr_expect_eq(gc_check(other), 0);
    gc_collect(other, 2);
    cr_expect_eq(rc_live_total(orc), 0);
    cr_expect_eq(gc_check(other), 0);
    gc_heap_destroy(other);
    gt_check();
}
