/* SPDX-License-Identifier: MIT */
/* collect.c - collections and gc_why_alive under failed system requests,
 * and the emergency collection that a memory limit triggers.
 *
 * The collector may allocate while it works (the garbage list, why_alive's
 * arrays: oa_meta_malloc, so injection reaches them).  At each k a
 * collection either completes exactly (every garbage object dead, the
 * count returned, live objects intact) or reports -1 with a message;
 * gc_why_alive answers exactly or reports (size_t)-1 with a message. */
#include "world.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define RING 5

typedef struct CollectCtx {
    World *w;
    RcObject *target;   /* end of the live chain, for why_alive */
    size_t chain;       /* its length from the held root */
    long garbage;       /* objects in garbage rings */
    long deaths_before; /* oom_deaths after setup */
} CollectCtx;

/* A held root with a chain of `chain` nodes under it, plus `rings`
 * garbage rings of RING nodes, automatic collection off. */
static CollectCtx *
build(size_t chain, size_t rings)
{
    CollectCtx *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    World *w = world_new(4, 0);
    c->w = w;
    gc_disable(w->gc);
    RcObject *root = oom_new(w->rc, &oom_node_type, w->next_id++);
    cr_assert_not_null(root);
    world_hold(w, root);
    RcObject *prev = root;
    for (size_t i = 0; i < chain; i++) {
        RcObject *n = oom_new(w->rc, &oom_node_type, w->next_id++);
        cr_assert_not_null(n);
        oom_node(prev)->slot[1] = n; /* the chain owns n */
        prev = n;
    }
    c->target = prev;
    c->chain = chain + 1;
    for (size_t r = 0; r < rings; r++) {
        RcObject *first = oom_new(w->rc, &oom_node_type, w->next_id++);
        cr_assert_not_null(first);
        RcObject *p = first;
        for (size_t i = 1; i < RING; i++) {
            RcObject *n = oom_new(w->rc, &oom_node_type, w->next_id++);
            cr_assert_not_null(n);
            oom_node(p)->slot[0] = n;
            p = n;
        }
        oom_node(p)->slot[0] = first; /* the ring owns first now */
    }
    c->garbage = (long)(rings * RING);
    c->deaths_before = oom_deaths;
    return c;
}

static void *
setup_collect(void)
{
    return build(tc_scaled(2000), tc_scaled(2000));
}

static OaHeap *
ctx_oa(void *ctx)
{
    return ((CollectCtx *)ctx)->w->oa;
}

static GcHeap *
ctx_gc(void *ctx)
{
    return ((CollectCtx *)ctx)->w->gc;
}

static void
ctx_cleanup(void *ctx)
{
    CollectCtx *c = ctx;
    world_free(c->w);
    free(c);
}

static void
assert_chain_intact(CollectCtx *c)
{
    RcObject *op = c->w->held[0];
    for (size_t i = 0; i < c->chain; i++) {
        cr_assert_not_null(op);
        oom_assert_intact(op);
        op = oom_node(op)->slot[1];
    }
}

static int
run_collect(void *ctx)
{
    CollectCtx *c = ctx;
    long r = gc_collect(c->w->gc, 2);
    if (r < 0) {
        cr_assert_eq(r, -1);
        cr_assert_not_null(gc_error(c->w->gc), "gc_collect: -1, no message");
        assert_chain_intact(c);
        return 0;
    }
    long died = oom_deaths - c->deaths_before;
    c->deaths_before = oom_deaths;
    cr_assert_eq(died, c->garbage, "collected %ld of %ld garbage objects",
                 died, c->garbage);
    cr_assert_eq(r, c->garbage, "gc_collect returned %ld, %ld unreachable", r,
                 c->garbage);
    c->garbage = 0;
    assert_chain_intact(c);
    return 1;
}

static void *
setup_why(void)
{
    return build(tc_scaled(3000), tc_scaled(200));
}

static int
run_why(void *ctx)
{
    CollectCtx *c = ctx;
    RcObject *path[4];
    size_t n = gc_why_alive(c->w->gc, c->target, path, 4);
    if (n == (size_t)-1) {
        cr_assert_not_null(gc_error(c->w->gc), "why_alive: no message");
        assert_chain_intact(c);
        return 0;
    }
    cr_assert_eq(n, c->chain, "path of %zu, want %zu", n, c->chain);
    cr_assert_eq(path[0], c->w->held[0]);
    cr_assert_eq(path[1], oom_node(c->w->held[0])->slot[1]);
    assert_chain_intact(c);
    /* (a failed request may have run an emergency collection that freed
     * the garbage rings: allowed) */
    return 1;
}

static const OomScenario collect = {
    "full collection", setup_collect, ctx_oa, ctx_gc,
    run_collect,       ctx_cleanup};
static const OomScenario why = {"gc_why_alive", setup_why, ctx_oa,
                                ctx_gc,         run_why,   ctx_cleanup};

Test(oom_collect, collection_is_exact_or_reports_an_error_at_every_request)
{
    oom_sweep(&collect, 1);
}

Test(oom_collect, collection_recovers_from_a_single_failure)
{
    oom_sweep(&collect, 0);
}

Test(oom_collect, why_alive_is_exact_or_reports_an_error_at_every_request)
{
    cr_assert_gt(oom_sweep(&why, 1), 0);
}

Test(oom_collect, why_alive_recovers_from_a_single_failure)
{
    oom_sweep(&why, 0);
}

/* With a memory limit reached, an allocation first collects the garbage
 * (GC_REASON_PRESSURE in the event log), then succeeds. */
Test(oom_collect, limit_reached_collects_garbage_then_allocates)
{
    CollectCtx *c = build(10, 0);
    World *w = c->w;
    size_t nbig = tc_scaled(200);
    for (size_t i = 0; i < nbig; i += 2) {
        RcObject *a = oom_new(w->rc, &oom_big_type, w->next_id++);
        RcObject *b = oom_new(w->rc, &oom_big_type, w->next_id++);
        cr_assert(a != NULL && b != NULL);
        oom_node(a)->slot[0] = rc_newref(b);
        oom_node(b)->slot[0] =
            rc_newref(a); /* a 2-cycle of large blocks, garbage */
        rc_decref(b);
        rc_decref(a);
    }
    OaStats st;
    oa_heap_stats(w->oa, &st);
    oa_heap_set_limit(w->oa, st.bytes_mapped + st.large_bytes + st.meta_bytes);
    long deaths = oom_deaths;
    RcObject *more = oom_new(w->rc, &oom_big_type, w->next_id++);
    cr_assert_not_null(more, "allocation failed although garbage could go");
    world_hold(w, more);
    cr_assert_geq(oom_deaths - deaths, 2, "no emergency collection");
    GcEvent ev[GC_EVENT_LOG];
    size_t n = gc_events(w->gc, ev, GC_EVENT_LOG);
    int pressure = 0;
    for (size_t i = 0; i < n && i < GC_EVENT_LOG; i++) {
        pressure |= ev[i].reason == GC_REASON_PRESSURE;
    }
    cr_assert(pressure, "no collection with reason GC_REASON_PRESSURE");
    oa_heap_set_limit(w->oa, 0);
    assert_chain_intact(c);
    ctx_cleanup(c);
}
