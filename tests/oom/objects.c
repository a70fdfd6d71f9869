/* SPDX-License-Identifier: MIT */
/* objects.c - object creation under failed system requests: heap growth
 * (many small objects over several arenas), large objects (payloads
 * over OA_MEDIUM_MAX, one system malloc each), rings of them so that the
 * automatic collections that creation triggers have garbage to collect
 * while requests fail.  Each failed rc_new returns NULL with a message
 * (oom_new asserts it); see oom.h for what the sweep checks at each k. */
#include "world.h"

#include <criterion/criterion.h>

#define RING 8

/* Create w->param objects in rings of RING; every other ring is dropped
 * at once (cyclic garbage).  0 at the first failed creation. */
static int
create_rings(World *w, const RcType *big_every_type, size_t big_every)
{
    size_t n = w->param;
    for (size_t i = 0; i < n; i += RING) {
        RcObject *ring[RING];
        size_t got = 0;
        for (; got < RING; got++) {
            size_t j = i + got;
            const RcType *t = big_every && j % big_every == 0 ? big_every_type
                                                              : &oom_node_type;
            ring[got] = oom_new(w->rc, t, w->next_id++);
            if (ring[got] == NULL) {
                break;
            }
            if (got > 0) {
                oom_node(ring[got - 1])->slot[0] = rc_newref(ring[got]);
            }
        }
        if (got > 0) {
            oom_node(ring[got - 1])->slot[0] = rc_newref(ring[0]);
        }
        for (size_t k = 0; k < got; k++) {
            if ((i / RING) % 2) {
                rc_decref(ring[k]); /* garbage ring */
            }
            else {
                world_hold(w, ring[k]);
            }
        }
        if (got < RING) {
            return 0;
        }
    }
    return 1;
}

static void *
setup_growth(void)
{
    size_t n = tc_scaled(40000);
    World *w = world_new(2 * n + 2 * RING, n); /* two runs */
    gc_set_threshold(w->gc, 500, 10, 10);
    return w;
}

static int
run_growth(void *ctx)
{
    return create_rings(ctx, NULL, 0);
}

static void *
setup_large(void)
{
    size_t n = tc_scaled(2000);
    World *w = world_new(2 * n + 2 * RING, n); /* two runs */
    gc_set_threshold(w->gc, 50, 5, 5);
    return w;
}

static int
run_large(void *ctx)
{
    return create_rings(ctx, &oom_big_type, 3);
}

static const OomScenario growth = {"heap growth", setup_growth, world_oa,
                                   world_gc,      run_growth,   world_cleanup};
static const OomScenario large = {"large objects", setup_large, world_oa,
                                  world_gc,        run_large,   world_cleanup};

Test(oom_objects, heap_growth_fails_cleanly_at_every_request)
{
    cr_assert_gt(oom_sweep(&growth, 1), 0);
}

Test(oom_objects, heap_growth_recovers_from_a_single_failure)
{
    oom_sweep(&growth, 0);
}

Test(oom_objects, large_objects_fail_cleanly_at_every_request)
{
    cr_assert_gt(oom_sweep(&large, 1), 0);
}

Test(oom_objects, large_objects_recover_from_a_single_failure)
{
    oom_sweep(&large, 0);
}

/* A request no system can serve fails at once, with a message. */
Test(oom_objects, impossible_sizes_are_refused_with_a_message)
{
    World *w = world_new(4, 0);
    static const RcType huge_var = {
        RC_TYPE_HEAD("oom_huge", 0),
        .size = sizeof(size_t),
        .itemsize = 1u << 20,
    };
    cr_assert_null(rc_new_var(w->rc, &huge_var, SIZE_MAX / 4));
    cr_assert_not_null(rc_heap_error(w->rc));
    cr_assert_null(oa_malloc(w->oa, SIZE_MAX - 8));
    cr_assert_null(oa_calloc(w->oa, SIZE_MAX / 2, 3));
    RcObject *op = oom_new(w->rc, &oom_node_type, 1);
    cr_assert_not_null(op);
    world_hold(w, op);
    world_free(w);
}
