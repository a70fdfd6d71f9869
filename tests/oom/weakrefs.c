/* SPDX-License-Identifier: MIT */
/* weakrefs.c - weak references under failed system requests: creating
 * them (refcount keeps a table of them in oa_meta_malloc memory), and a
 * collection whose weakref callbacks allocate.  Every creation that fails
 * returns NULL with a message; every callback of a reachable weakref to
 * garbage runs exactly once, OOM or not, and sees a cleared reference. */
#include "world.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static void *
setup_create(void)
{
    World *w = world_new(tc_scaled(3000) * 2, tc_scaled(3000));
    for (size_t i = 0; i < w->param; i++) {
        const RcType *t = i % 3 ? &oom_node_type : &oom_leaf_type;
        RcObject *op = oom_new(w->rc, t, w->next_id++);
        cr_assert_not_null(op);
        world_hold(w, op);
    }
    return w;
}

static int
run_create(void *ctx)
{
    World *w = ctx;
    size_t n = w->param; /* held[0..n) are the targets */
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        RcObject *wr = rc_weakref_new(w->rc, w->held[i], NULL, NULL, NULL);
        if (wr == NULL) {
            cr_assert_not_null(rc_heap_error(w->rc), "no message");
            ok = 0;
            break;
        }
        cr_assert_eq(rc_weakref_get(wr), w->held[i]);
        cr_assert_eq(rc_weakref_count(w->held[i]), 1);
        world_hold(w, wr);
    }
    /* drop what this run created, so that a second run starts alike */
    while (w->nheld > n) {
        world_drop(w, w->nheld - 1);
    }
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(rc_weakref_count(w->held[i]), 0);
    }
    return ok;
}

/* Callbacks that allocate: each creates a node and keeps it. */
typedef struct CbCtx {
    World *w;
    long calls, failed;
    long expected; /* weakrefs to garbage held by the world */
} CbCtx;

static CbCtx cb_state;

static void
allocating_callback(RcObject *wr, void *ctx)
{
    CbCtx *c = ctx;
    cr_assert_null(rc_weakref_get(wr), "callback before clearing");
    c->calls++;
    RcObject *op = rc_new(c->w->rc, &oom_node_type);
    if (op == NULL) {
        c->failed++;
        return;
    }
    oom_node(op)->id = 0;
    oom_node(op)->check = oom_check_of(0);
    world_hold(c->w, op);
}

static void *
setup_callbacks(void)
{
    size_t rings = 300; /* small enough for Valgrind as it is */
    World *w = world_new(rings * 4 + 16, rings);
    gc_disable(w->gc);
    cb_state = (CbCtx){.w = w};
    for (size_t r = 0; r < rings; r++) {
        RcObject *a = oom_new(w->rc, &oom_node_type, w->next_id++);
        RcObject *b = oom_new(w->rc, &oom_node_type, w->next_id++);
        cr_assert(a != NULL && b != NULL);
        oom_node(a)->slot[0] = rc_newref(b);
        oom_node(b)->slot[0] = rc_newref(a);
        RcObject *wr =
            rc_weakref_new(w->rc, a, allocating_callback, &cb_state, NULL);
        cr_assert_not_null(wr);
        world_hold(w, wr); /* reachable weakref to garbage: calls back */
        rc_decref(b);
        rc_decref(a);
    }
    cb_state.expected = (long)rings;
    return w;
}

static int
run_callbacks(void *ctx)
{
    World *w = ctx;
    long calls = cb_state.calls, failed = cb_state.failed;
    long r = gc_collect(w->gc, 2);
    if (r < 0) {
        cr_assert_not_null(gc_error(w->gc));
        return 0;
    }
    long expect = cb_state.expected;
    cb_state.expected = 0;
    cr_assert_eq(cb_state.calls - calls, expect,
                 "%ld callbacks, %ld weakrefs to garbage",
                 cb_state.calls - calls, expect);
    return cb_state.failed == failed; /* 0: a callback saw NULL */
}

static const OomScenario create = {"weakref creation", setup_create,
                                   world_oa,           world_gc,
                                   run_create,         world_cleanup};
static const OomScenario callbacks = {
    "weakref callbacks", setup_callbacks, world_oa, world_gc,
    run_callbacks,       world_cleanup};

Test(oom_weakref, creation_fails_cleanly_at_every_request)
{
    cr_assert_gt(oom_sweep(&create, 1), 0);
}

Test(oom_weakref, creation_recovers_from_a_single_failure)
{
    oom_sweep(&create, 0);
}

Test(oom_weakref, callbacks_run_once_each_at_every_failed_request)
{
    oom_sweep(&callbacks, 1);
}

Test(oom_weakref, callbacks_recover_from_a_single_failure)
{
    oom_sweep(&callbacks, 0);
}
