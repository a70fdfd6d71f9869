/* SPDX-License-Identifier: MIT */
/* faults.c - the collector when memory runs out.
 *
 * SQLite-style sweeps: fail the k-th request objalloc makes to the system
 * (arenas, large blocks, bookkeeping memory) for k = 1, 2, ... while the
 * collector does one operation, until the operation needs no more than k
 * requests.  At each k: no crash, every invariant holds, and once the
 * injection is off a full collection reclaims everything (the teardown
 * and Valgrind check that nothing leaked). */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(faults, .init = gt_setup, .fini = gt_teardown);

static RcObject *log_wr;
static int wr_calls;

static void
count_cb(RcObject *wr, void *ctx)
{
    (void)wr;
    (void)ctx;
    wr_calls++;
}

/* Garbage of every kind the collector handles specially. */
static void
make_mixed_garbage(void)
{
    RcObject *a = gt_ring(&gt_fin_type, 3);
    RcObject *l = gt_ring(&gt_legacy_type, 2);
    RcObject *z = gt_new(&gt_lazarus_type);
    gt_link(z, 0, z);
    RcObject *w = rc_weakref_new(gt_rc, a, count_cb, NULL, NULL);
    cr_assert_not_null(w);
    if (log_wr == NULL) {
        log_wr = w; /* one surviving weakref */
    }
    else {
        gt_link(a, 1, w); /* a weakref inside the garbage */
        rc_decref(w);
    }
    for (int i = 0; i < 200; i++) {
        RcObject *p = gt_ring(&gt_node_type, 2);
        rc_decref(p);
    }
    rc_decref(a);
    rc_decref(l);
    rc_decref(z);
}

static void
release_everything(void)
{
    for (int round = 0; round < 4; round++) {
        while (gc_garbage_count(gt_gc) > 0) {
            RcObject *g = gc_garbage_get(gt_gc, 0);
            for (int k = 0; k < GT_SLOTS; k++) {
                gt_link(g, k, NULL);
            }
            gc_garbage_clear(gt_gc);
        }
        gt_saved_clear();
        cr_expect_geq(gc_collect(gt_gc, 2), 0);
    }
}

Test(faults, collection_survives_each_failed_system_request)
{
    gc_disable(gt_gc);
    OaHeap *oa = rc_heap_oa(gt_rc);
    int completed_clean = 0;
    for (uint64_t k = 1; k <= 64 && !completed_clean; k++) {
        make_mixed_garbage();
        oa_heap_fail_nth(oa, OA_FAIL_ALL, k, 1);
        long n = gc_collect(gt_gc, 2);
        uint64_t used = oa_heap_sys_requests(oa);
        oa_heap_fail_nth(oa, 0, 0, 0);
        cr_expect(n >= -1, "k=%llu: collect returned %ld",
                  (unsigned long long)k, n);
        cr_assert_eq(gc_check(gt_gc), 0, "k=%llu", (unsigned long long)k);
        cr_assert_eq(rc_heap_check(gt_rc), 0, "k=%llu", (unsigned long long)k);
        cr_assert_eq(gt_count.corrupt, 0, "k=%llu", (unsigned long long)k);
        release_everything();
        gt_check();
        completed_clean = used < k;
    }
    cr_expect(completed_clean, "a collection kept asking for memory");
    if (log_wr != NULL) {
        cr_expect_null(rc_weakref_get(log_wr));
        rc_decref(log_wr);
        log_wr = NULL;
    }
}

Test(faults, collector_creation_fails_cleanly)
{
    OaHeap *oa = oa_heap_new();
    cr_assert_not_null(oa);
    RcHeap *rc = rc_heap_new(oa);
    cr_assert_not_null(rc);
    GcHeap *gc = NULL;
    uint64_t k;
    for (k = 1; k <= 64 && gc == NULL; k++) {
        oa_heap_fail_nth(oa, OA_FAIL_ALL, k, 1);
        gc = gc_heap_new(rc);
        oa_heap_fail_nth(oa, 0, 0, 0);
        cr_expect_eq(rc_heap_check(rc), 0, "k=%llu", (unsigned long long)k);
    }
    cr_assert_not_null(gc, "gc_heap_new never succeeded");
    RcObject *o = rc_new(rc, &gt_link_type);
    cr_assert_not_null(o);
    cr_expect(gc_is_tracked(o));
    ((GtLink *)rc_payload(o))->next = rc_newref(o);
    rc_decref(o);
    cr_expect_eq(gc_collect(gc, 2), 1);
    cr_expect_eq(gc_check(gc), 0);
    gc_heap_destroy(gc);
    rc_heap_destroy(rc);
    oa_heap_destroy(oa);
}

static int fin_failures;
static RcObject *hoard; /* a chain of GtLinks the finalizers made */

static void
allocate_until_failure(RcObject *op)
{
    (void)op;
    for (int i = 0; i < 1000000; i++) {
        RcObject *x = rc_new(gt_rc, &gt_link_type);
        if (x == NULL) {
            fin_failures++;
            return;
        }
        ((GtLink *)rc_payload(x))->next = hoard;
        hoard = x;
    }
}

Test(faults, allocation_failing_inside_a_finalizer_is_survivable)
{
    gc_disable(gt_gc);
    OaHeap *oa = rc_heap_oa(gt_rc);
    RcObject *r = gt_ring(&gt_fin_type, 2);
    rc_decref(r);
    gt_fin_hook = allocate_until_failure;
    oa_heap_fail_nth(oa, OA_FAIL_ALL, 2, 1);
    long n = gc_collect(gt_gc, 2);
    oa_heap_fail_nth(oa, 0, 0, 0);
    gt_fin_hook = NULL;
    cr_expect_eq(fin_failures, 2);
    cr_expect(n >= 0 && n <= 2, "collect returned %ld", n);
    gt_check();
    cr_expect_eq(gt_count.deallocs, 2);
    rc_xdecref(hoard);
    hoard = NULL;
    gt_check();
}

static int calls;

static void
counting_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)phase;
    (void)info;
    (void)ctx;
    calls++;
}

Test(faults, callback_registration_fails_cleanly)
{
    OaHeap *oa = rc_heap_oa(gt_rc);
    int r = -1;
    for (uint64_t k = 1; k <= 16 && r != 0; k++) {
        oa_heap_fail_nth(oa, OA_FAIL_ALL, k, 1);
        r = gc_callback_add(gt_gc, counting_callback, NULL);
        oa_heap_fail_nth(oa, 0, 0, 0);
        if (r != 0) {
            cr_expect_eq(r, -1);
            cr_expect_not_null(gc_error(gt_gc));
            gc_collect(gt_gc, 0);
            cr_expect_eq(calls, 0, "a refused callback was called");
        }
    }
    cr_assert_eq(r, 0);
    gc_collect(gt_gc, 0);
    cr_expect_eq(calls, 2);
    cr_expect_eq(gc_callback_remove(gt_gc, counting_callback, NULL), 0);
    gt_check();
}
