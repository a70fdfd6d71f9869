/* SPDX-License-Identifier: MIT */
/* construct.c - building the stack on a borrowed objalloc heap under
 * failed system requests: rc_heap_new, gc_heap_new and gc_callback_add
 * return NULL / -1 and leave nothing behind; once requests succeed the
 * same construction works, and destroying it gives every byte back. */
#include "oom.h"

#include <criterion/criterion.h>

static void
nop_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)phase;
    (void)info;
    (void)ctx;
}

static void *
setup(void)
{
    OaHeap *oa = oa_heap_new();
    cr_assert_not_null(oa);
    return oa;
}

static OaHeap *
heap_of(void *ctx)
{
    return ctx;
}

static GcHeap *
no_gc(void *ctx)
{
    (void)ctx;
    return NULL;
}

static int
run(void *ctx)
{
    OaHeap *oa = ctx;
    RcHeap *rc = rc_heap_new(oa);
    if (rc == NULL) {
        return 0;
    }
    cr_assert_eq(rc_heap_oa(rc), oa);
    GcHeap *gc = gc_heap_new(rc);
    if (gc == NULL) {
        rc_heap_destroy(rc);
        return 0;
    }
    int ok = gc_callback_add(gc, nop_callback, NULL) == 0;
    if (!ok) {
        cr_assert_not_null(gc_error(gc), "gc_callback_add: no message");
    }
    RcObject *op = oom_new(rc, &oom_node_type, 7);
    ok = ok && op != NULL;
    if (op != NULL) {
        rc_decref(op);
    }
    gc_heap_destroy(gc);
    rc_heap_destroy(rc);
    return ok;
}

static void
cleanup(void *ctx)
{
    OaHeap *oa = ctx;
    OaStats st;
    oom_assert_all_back(oa);
    oa_heap_stats(oa, &st);
    cr_assert_eq(st.meta_bytes, 0, "%zu bookkeeping bytes left",
                 st.meta_bytes);
    oa_heap_destroy(oa);
}

static const OomScenario construct = {"construction", setup, heap_of,
                                      no_gc,          run,   cleanup};

Test(oom_construct, heaps_fail_cleanly_at_every_request)
{
    cr_assert_gt(oom_sweep(&construct, 1), 0);
}

Test(oom_construct, heaps_recover_from_a_single_failure)
{
    oom_sweep(&construct, 0);
}
