/* SPDX-License-Identifier: MIT */
/* world.c - the fixture of the tests/oom scenarios: a GcHeap with heaps
 * of its own and an array of external references, released and checked
 * at the end (every object dead, every block back). */
#include "world.h"

#include <criterion/criterion.h>
#include <stdlib.h>

World *
world_new(size_t cap, size_t param)
{
    World *w = calloc(1, sizeof *w);
    cr_assert_not_null(w);
    w->gc = gc_heap_new(NULL);
    cr_assert_not_null(w->gc);
    w->rc = gc_heap_rc(w->gc);
    w->oa = rc_heap_oa(w->rc);
    w->cap = cap;
    w->held = calloc(cap ? cap : 1, sizeof *w->held);
    cr_assert_not_null(w->held);
    w->param = param;
    return w;
}

void
world_hold(World *w, RcObject *op)
{
    cr_assert_lt(w->nheld, w->cap, "world full");
    w->held[w->nheld++] = op;
}

void
world_drop(World *w, size_t i)
{
    RcObject *op = w->held[i];
    w->held[i] = w->held[--w->nheld];
    rc_decref(op);
}

void
world_free(World *w)
{
    while (w->nheld > 0) {
        world_drop(w, w->nheld - 1);
    }
    gc_garbage_clear(w->gc);
    cr_assert_geq(gc_collect(w->gc, 2), 0);
    cr_assert_eq(gc_check(w->gc), 0);
    cr_assert_eq(oa_heap_check(w->oa), 0);
    cr_assert_eq(rc_live_total(w->rc), 0, "%zu objects still alive",
                 rc_live_total(w->rc));
    oom_assert_all_back(w->oa);
    gc_heap_destroy(w->gc);
    free(w->held);
    free(w);
}

OaHeap *
world_oa(void *ctx)
{
    return ((World *)ctx)->oa;
}

GcHeap *
world_gc(void *ctx)
{
    return ((World *)ctx)->gc;
}

void
world_cleanup(void *ctx)
{
    world_free(ctx);
}
