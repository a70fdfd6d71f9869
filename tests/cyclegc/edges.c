/* SPDX-License-Identifier: MIT */
/* edges.c - corner cases where user code runs inside a collection or the
 * collector meets unusual states: objects and weak references made by a
 * finalizer, an object a finalizer untracks, weak references to
 * uncollectable objects, allocation from a collection callback with tiny
 * thresholds, and why_alive along a long chain in a small stack. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>

TestSuite(edges, .init = gt_setup, .fini = gt_teardown);

typedef struct Log {
    int calls;
    int cleared;
    int released;
} Log;

static void
wr_callback(RcObject *wr, void *ctx)
{
    Log *log = ctx;
    log->calls++;
    log->cleared += rc_weakref_get(wr) == NULL;
}

static void
wr_release(void *ctx)
{
    ((Log *)ctx)->released++;
}

static Log weak_log;
static RcObject *made_weakref;

static void
weakref_to_self(RcObject *op)
{
    if (made_weakref == NULL) {
        made_weakref =
            rc_weakref_new(gt_rc, op, wr_callback, &weak_log, wr_release);
    }
}

/* CPython 3.14 (GH-136401, test_gc
 * test_function_tp_clear_leaves_consistent_state): a weakref that a
 * finalizer makes to an object that stays garbage is cleared with the
 * others before any clear, without calling back. */
Test(edges, weakref_made_by_a_finalizer_is_cleared_without_callback)
{
    gc_disable(gt_gc);
    gt_fin_hook = weakref_to_self;
    RcObject *r = gt_ring(&gt_fin_type, 3);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    gt_check();
    cr_assert_not_null(made_weakref);
    cr_expect_eq(gt_count.deallocs, 3);
    cr_expect_null(rc_weakref_get(made_weakref));
    cr_expect_eq(weak_log.calls, 0);
    rc_decref(made_weakref);
    cr_expect_eq(weak_log.released, 1);
}

static RcObject *holder_made;

static void
new_object_refers_to_me(RcObject *op)
{
    if (holder_made == NULL) {
        holder_made = gt_new(&gt_node_type);
        gt_link(holder_made, 0, op);
        gt_link(op, 3, holder_made); /* a new cycle through the garbage */
        rc_decref(holder_made);      /* only the cycle holds it */
    }
}

Test(edges, reference_from_an_object_made_by_a_finalizer_resurrects)
{
    gc_disable(gt_gc);
    gt_fin_hook = new_object_refers_to_me;
    RcObject *r = gt_ring(&gt_fin_type, 2);
    rc_decref(r);
    /* the new object is outside the collected set, so its reference
     * counts as external: the pair survives this collection */
    long n = gc_collect(gt_gc, 2);
    gt_check();
    cr_expect_eq(n, 0, "collect returned %ld", n);
    cr_expect_eq(gt_count.deallocs, 0);
    cr_expect_eq(gt_count.finalizes, 2);
    gt_fin_hook = NULL;
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    cr_expect_eq(gt_count.finalizes, 2);
    gt_check();
}

static void
untrack_me(RcObject *op)
{
    if (gc_is_tracked(op)) {
        cr_expect_eq(gc_untrack(op), 0);
    }
}

Test(edges, object_untracked_by_its_finalizer_is_left_alone)
{
    gc_disable(gt_gc);
    RcObject *u = gt_new(&gt_fin_type);
    gt_link(u, 0, u);
    gt_fin_hook = untrack_me;
    rc_decref(u);
    long n = gc_collect(gt_gc, 2);
    gt_check();
    cr_expect(n == 0 || n == 1, "collect returned %ld", n);
    if (gt_count.deallocs == 0) {
        /* not freed: an untracked cycle, which we break by hand */
        cr_expect(gt_intact(u));
        cr_expect_not(gc_is_tracked(u));
        cr_expect_eq(gc_track(u), 0);
        cr_expect_eq(gc_collect(gt_gc, 2), 1);
    }
    cr_expect_eq(gt_count.finalizes, 1);
    gt_check();
}

Test(edges, weakref_to_uncollectable_object_is_not_cleared)
{
    Log log = {0};
    gc_disable(gt_gc);
    RcObject *l = gt_new(&gt_legacy_type);
    gt_link(l, 0, l);
    RcObject *wr = rc_weakref_new(gt_rc, l, wr_callback, &log, wr_release);
    cr_assert_not_null(wr);
    rc_decref(l);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    gt_check();
    cr_expect_eq(gc_garbage_count(gt_gc), 1);
    cr_expect_eq(rc_weakref_get(wr), l);
    cr_expect_eq(log.calls, 0);
    gt_link(l, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(log.calls, 1);
    cr_expect_eq(log.cleared, 1);
    rc_decref(wr);
    gt_check();
}

typedef struct CbState {
    int calls;
} CbState;

static void
allocating_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)phase;
    (void)info;
    CbState *st = ctx;
    st->calls++;
    for (int i = 0; i < 5; i++) {
        RcObject *a = gt_ring(&gt_node_type, 2);
        rc_decref(a);
    }
}

Test(edges, allocation_in_a_callback_starts_no_nested_collection)
{
    CbState st = {0};
    cr_expect_eq(gc_set_threshold(gt_gc, 1, 1, 1), 0);
    cr_expect_eq(gc_callback_add(gt_gc, allocating_callback, &st), 0);
    /* what the start callback made is collected by this collection;
     * what the stop callback made waits for the next */
    long n = gc_collect(gt_gc, 2);
    cr_expect_eq(n, 10, "collect returned %ld", n);
    cr_expect_eq(st.calls, 2, "callbacks ran %d times", st.calls);
    cr_expect_eq(gc_callback_remove(gt_gc, allocating_callback, &st), 0);
    gc_disable(gt_gc);
    cr_expect_eq(gc_collect(gt_gc, 2), 10);
    gt_check();
}

Test(edges, saveall_with_legacy_and_plain_garbage)
{
    gc_disable(gt_gc);
    gc_set_debug(gt_gc, GC_DEBUG_SAVEALL, NULL);
    RcObject *l = gt_ring(&gt_legacy_type, 2);
    RcObject *p = gt_ring(&gt_node_type, 3);
    rc_decref(l);
    rc_decref(p);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    cr_expect_eq(gc_garbage_count(gt_gc), 5);
    GcGenStats s = gt_stats(2);
    cr_expect_eq(s.uncollectable, 2);
    cr_expect_eq(s.collected, 3);
    gt_check();
    gc_set_debug(gt_gc, 0, NULL);
    RcObject *g = l;
    gt_link(g, 0, NULL);
    gc_garbage_clear(gt_gc);
    cr_expect_eq(gc_collect(gt_gc, 2), 3);
    cr_expect_eq(gt_count.legacy_dels, 2);
    gt_check();
}

typedef struct WhyJob {
    size_t n;
    size_t len;
    RcObject *path[4];
    RcObject *head, *tail;
    int failed;
} WhyJob;

static void *
why_job(void *arg)
{
    WhyJob *job = arg;
    job->len = gc_why_alive(gt_gc, job->tail, job->path, 4);
    return NULL;
}

Test(edges, why_alive_along_a_long_chain_in_a_small_stack)
{
    gc_disable(gt_gc);
    WhyJob job = {.n = tc_scaled(1000000)};
    RcObject *tail = rc_new(gt_rc, &gt_link_type);
    cr_assert_not_null(tail);
    RcObject *head = tail;
    for (size_t i = 1; i < job.n; i++) {
        RcObject *op = rc_new(gt_rc, &gt_link_type);
        cr_assert_not_null(op);
        ((GtLink *)rc_payload(op))->next = head;
        head = op;
    }
    gc_collect(gt_gc, 1); /* the chain is old, the stack thread is new */
    job.head = head;
    job.tail = tail;
    tc_run_with_stack(256u << 10, why_job, &job);
    cr_expect_eq(job.len, job.n);
    cr_expect_eq(job.path[0], head);
    cr_expect_eq(job.path[1], ((GtLink *)rc_payload(head))->next);
    gt_check();
    rc_decref(head);
    cr_expect_eq(gt_count.link_deallocs, (long)job.n);
}

static void
clear_garbage_at_stop(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)info;
    (void)ctx;
    if (phase == GC_PHASE_STOP && gc_garbage_count(gc) > 0) {
        gt_link(gc_garbage_get(gc, 0), 0, NULL);
        gc_garbage_clear(gc);
    }
}

Test(edges, stop_callback_may_empty_the_garbage_list)
{
    gc_disable(gt_gc);
    cr_expect_eq(gc_callback_add(gt_gc, clear_garbage_at_stop, NULL), 0);
    RcObject *l = gt_new(&gt_legacy_type);
    gt_link(l, 0, l);
    rc_decref(l);
    cr_expect_eq(gc_collect(gt_gc, 2), 1);
    cr_expect_eq(gc_garbage_count(gt_gc), 0);
    cr_expect_eq(gt_count.legacy_dels, 1);
    cr_expect_eq(rc_live_total(gt_rc), 0);
    cr_expect_eq(gc_callback_remove(gt_gc, clear_garbage_at_stop, NULL), 0);
    gt_check();
}

static long inspected;

static void
inspect_inside(RcObject *op)
{
    RcObject *buf[64];
    size_t n = gc_get_objects(gt_gc, -1, buf, 64);
    inspected += n != (size_t)-1;
    n = gc_get_referrers(gt_gc, &op, 1, buf, 64);
    inspected += n != (size_t)-1;
    n = gc_get_referents(&op, 1, buf, 64);
    inspected += n != (size_t)-1;
    (void)gc_why_alive(gt_gc, op, buf, 64);
    long c[GC_NGENERATIONS];
    gc_get_count(gt_gc, c);
    GcGenStats st[GC_NGENERATIONS];
    gc_get_stats(gt_gc, st);
    (void)gc_events(gt_gc, NULL, 0);
}

Test(edges, introspection_from_a_finalizer_is_safe)
{
    gc_disable(gt_gc);
    RcObject *keep = gt_ring(&gt_node_type, 4);
    gt_fin_hook = inspect_inside;
    RcObject *r = gt_ring(&gt_fin_type, 5);
    gt_link(r, 1, keep);
    rc_decref(r);
    cr_expect_eq(gc_collect(gt_gc, 2), 5);
    cr_expect_eq(inspected, 15);
    gt_check();
    cr_expect_eq(rc_live_total(gt_rc), 4);
    rc_decref(keep);
}

static void
noop_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)phase;
    (void)info;
    (void)ctx;
}

Test(edges, destroying_a_heap_in_any_state_releases_everything)
{
    /* a heap of its own with garbage listed, frozen objects, callbacks,
     * weak references and events: gc_heap_destroy releases all of it
     * (Valgrind and ASan check that nothing leaks) */
    GcHeap *gc = gc_heap_new(NULL);
    cr_assert_not_null(gc);
    RcHeap *rc = gc_heap_rc(gc);
    cr_assert_eq(gc_callback_add(gc, noop_callback, NULL), 0);
    RcObject *frozen = rc_new(rc, &gt_link_type);
    cr_assert_not_null(frozen);
    gc_freeze(gc);
    RcObject *wr = rc_weakref_new(rc, frozen, NULL, NULL, NULL);
    cr_assert_not_null(wr);
    gc_set_debug(gc, GC_DEBUG_SAVEALL, NULL);
    for (int i = 0; i < 50; i++) {
        RcObject *o = rc_new(rc, &gt_link_type);
        cr_assert_not_null(o);
        ((GtLink *)rc_payload(o))->next = rc_newref(o);
        rc_decref(o);
    }
    cr_expect_eq(gc_collect(gc, 2), 50);
    cr_expect_eq(gc_garbage_count(gc), 50);
    cr_expect_eq(gc_check(gc), 0);
    gc_heap_destroy(gc);
}
