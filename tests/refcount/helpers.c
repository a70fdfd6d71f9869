/* SPDX-License-Identifier: MIT */
/* helpers.c - fixtures and types shared by the refcount tests. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>
#include <string.h>

RcHeap *heap;
int64_t rc_test_total_offset;
FakeGc fake_gc;

void
rc_test_setup(void)
{
    heap = rc_heap_new(NULL);
    cr_assert_not_null(heap);
    memset(&fake_gc, 0, sizeof(fake_gc));
    rc_test_total_offset = 0;
}

void
rc_test_teardown(void)
{
    RcTypeStats st[16];
    size_t n = rc_type_stats(heap, st, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        cr_expect_eq(st[i].live, 0, "type '%s': %zu objects still live",
                     st[i].type->name, st[i].live);
        cr_expect_eq(st[i].created, st[i].freed, "type '%s'",
                     st[i].type->name);
    }
    cr_expect_eq(rc_live_total(heap), 0);
#ifdef RCGC_DEBUG
    cr_expect_eq(rc_total_refs(heap), rc_test_total_offset, "total refs %lld",
                 (long long)rc_total_refs(heap));
#else
    cr_expect_eq(rc_total_refs(heap), -1);
#endif
    cr_expect_eq(rc_heap_check(heap), 0);
    OaStats os;
    oa_heap_stats(rc_heap_oa(heap), &os);
    cr_expect_eq(os.blocks_used, 0, "%zu blocks not returned", os.blocks_used);
    cr_expect_eq(os.large_blocks, 0);
    cr_expect_eq(fake_gc.live_tracked, 0);
    rc_heap_destroy(heap);
    heap = NULL;
}

const RcType pair_type = {
    TC_NODE_TYPE("pair", RC_TYPE_GC, sizeof(Pair), 2),
};

RcObject *
new_pair(RcObject *a, RcObject *b)
{
    RcObject *op = tc_new(heap, &pair_type);
    pair(op)->a = a;
    pair(op)->b = b;
    return op;
}

const RcType leaf_type = {
    RC_TYPE_HEAD("leaf", 0),
    .size = 16,
};

static int
vec_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    Vec *v = rc_payload(op);
    return tc_slots_traverse(v->items, v->n, visit, arg);
}

static void
vec_clear(RcObject *op)
{
    Vec *v = rc_payload(op);
    tc_slots_clear(v->items, v->n);
}

const RcType vec_type = {
    RC_TYPE_HEAD("vec", RC_TYPE_GC),
    .size = sizeof(Vec),
    .itemsize = sizeof(RcObject *),
    .traverse = vec_traverse,
    .clear = vec_clear,
};

/* ---- fake collector -------------------------------------------------- */

#define MARK ((uintptr_t)0x7ac4ed)

static void
fake_created(void *ctx, RcObject *op)
{
    cr_assert_eq(ctx, &fake_gc);
    cr_assert_eq(rc_gc_head(op)->next, 0);
    rc_gc_head(op)->next = MARK;
    fake_gc.created++;
    fake_gc.live_tracked++;
}

static void
fake_untrack(void *ctx, RcObject *op)
{
    cr_assert_eq(ctx, &fake_gc);
    cr_assert_eq(rc_gc_head(op)->next, MARK);
    rc_gc_head(op)->next = 0;
    fake_gc.untracked++;
    fake_gc.live_tracked--;
}

static void
fake_track(void *ctx, RcObject *op)
{
    cr_assert_eq(ctx, &fake_gc);
    cr_assert_eq(rc_gc_head(op)->next, 0);
    rc_gc_head(op)->next = MARK;
    fake_gc.tracked++;
    fake_gc.live_tracked++;
}

void
attach_fake_gc(void)
{
    RcGcHooks hooks = {&fake_gc, fake_created, fake_untrack, fake_track, NULL};
    rc_heap_set_gc_hooks(heap, &hooks);
}

int
fake_is_tracked(RcObject *op)
{
    return rc_gc_head(op)->next == MARK;
}
