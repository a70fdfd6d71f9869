/* SPDX-License-Identifier: MIT */
/* lifecycle.c - creation, counting, deallocation exactly once at zero,
 * block reuse, default dealloc, variable objects, counters, hooks. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(lifecycle, .init = rc_test_setup, .fini = rc_test_teardown);

static int deallocs;
static RcObject *last_dealloc;

static void
counted_dealloc(RcObject *op)
{
    deallocs++;
    last_dealloc = op;
}

static const RcType counted_type = {
    RC_TYPE_HEAD("counted", 0),
    .size = 24,
    .dealloc = counted_dealloc,
};

Test(lifecycle, new_object_has_count_one_and_zeroed_payload)
{
    RcObject *op = rc_new(heap, &leaf_type);
    cr_assert_not_null(op);
    cr_expect_eq(rc_refcnt(op), 1);
    cr_expect_eq(op->type, &leaf_type);
    cr_expect_eq(op->flags, 0);
    cr_expect_eq((uintptr_t)rc_payload(op) % 16, 0);
    static const char zero[16];
    cr_expect_eq(memcmp(rc_payload(op), zero, 16), 0);
    cr_expect_eq(rc_heap_of(op), heap);
    cr_expect_eq(rc_live_count(heap, &leaf_type), 1);
    cr_expect_eq(rc_live_total(heap), 1);
#ifdef RCGC_DEBUG
    cr_expect_eq(rc_total_refs(heap), 1);
#endif
    rc_decref(op);
}

Test(lifecycle, gc_object_has_zeroed_untracked_head_without_collector)
{
    RcObject *op = rc_new(heap, &pair_type);
    cr_assert_not_null(op);
    cr_expect_eq(rc_gc_head(op)->next, 0);
    cr_expect_eq(rc_gc_head(op)->prev, 0);
    cr_expect(rc_is_gc(op));
    cr_expect_null(pair(op)->a);
    cr_expect_null(pair(op)->b);
    rc_decref(op);
}

Test(lifecycle, incref_and_decref_change_the_count)
{
    RcObject *op = rc_new(heap, &leaf_type);
    rc_incref(op);
    cr_expect_eq(rc_refcnt(op), 2);
    cr_expect_eq(rc_newref(op), op);
    cr_expect_eq(rc_refcnt(op), 3);
#ifdef RCGC_DEBUG
    cr_expect_eq(rc_total_refs(heap), 3);
#endif
    rc_decref(op);
    rc_decref(op);
    cr_expect_eq(rc_refcnt(op), 1);
    cr_expect_null(rc_xnewref(NULL));
    rc_xincref(NULL);
    rc_xdecref(NULL);
    rc_decref(op);
}

Test(lifecycle, dealloc_runs_exactly_once_at_zero)
{
    deallocs = 0;
    RcObject *op = rc_new(heap, &counted_type);
    rc_incref(op);
    rc_decref(op);
    cr_expect_eq(deallocs, 0);
    rc_decref(op);
    cr_expect_eq(deallocs, 1);
    cr_expect_eq(last_dealloc, op);
    cr_expect_eq(rc_live_count(heap, &counted_type), 0);
    RcTypeStats st[8];
    size_t n = rc_type_stats(heap, st, 8);
    cr_assert_eq(n, 1);
    cr_expect_eq(st[0].type, &counted_type);
    cr_expect_eq(st[0].created, 1);
    cr_expect_eq(st[0].freed, 1);
}

Test(lifecycle, freed_block_is_reused)
{
    RcObject *a = rc_new(heap, &leaf_type);
    rc_decref(a);
    RcObject *b = rc_new(heap, &leaf_type);
    cr_expect_eq(a, b, "the freed block should serve the next object");
    rc_decref(b);
    RcObject *p = rc_new(heap, &pair_type);
    rc_decref(p);
    RcObject *q = rc_new(heap, &pair_type);
    cr_expect_eq(p, q);
    rc_decref(q);
}

Test(lifecycle, default_dealloc_releases_children)
{
    RcObject *leaf = rc_new(heap, &leaf_type);
    RcObject *shared = rc_new(heap, &leaf_type);
    RcObject *inner = new_pair(leaf, rc_newref(shared));
    RcObject *outer = new_pair(inner, NULL);
    cr_expect_eq(rc_refcnt(shared), 2);
    cr_expect_eq(rc_live_total(heap), 4);
    rc_decref(outer);
    cr_expect_eq(rc_live_total(heap), 1);
    cr_expect_eq(rc_refcnt(shared), 1);
    cr_expect_eq(rc_live_count(heap, &pair_type), 0);
    rc_decref(shared);
}

Test(lifecycle, setref_releases_the_old_value_after_the_store)
{
    RcObject *p = new_pair(rc_new(heap, &leaf_type), NULL);
    RcObject *other = rc_new(heap, &leaf_type);
    rc_setref(&pair(p)->a, other);
    cr_expect_eq(pair(p)->a, other);
    cr_expect_eq(rc_live_count(heap, &leaf_type), 1);
    rc_decref(p);
}

Test(lifecycle, variable_object_holds_its_length_and_items)
{
    RcObject *v = rc_new_var(heap, &vec_type, 5);
    cr_assert_not_null(v, "%s", rc_heap_error(heap));
    cr_expect_eq(rc_var_len(v), 5);
    Vec *vec = rc_payload(v);
    for (size_t i = 0; i < 5; i++) {
        cr_expect_null(vec->items[i]);
        vec->items[i] = rc_new(heap, &leaf_type);
    }
    cr_expect_eq(oa_usable_size(rc_gc_head(v)) >= 16 + 16 + 8 + 5 * 8, 1);
    RcObject *big = rc_new_var(heap, &vec_type, 100);
    cr_assert_not_null(big);
    cr_expect_eq(rc_var_len(big), 100);
    ((Vec *)rc_payload(big))->items[99] = v;
    rc_decref(big);
    cr_expect_eq(rc_live_total(heap), 0);
    RcObject *empty = rc_new(heap, &vec_type);
    cr_assert_not_null(empty);
    cr_expect_eq(rc_var_len(empty), 0);
    rc_decref(empty);
}

Test(lifecycle, gc_objects_are_announced_and_untracked_at_death)
{
    attach_fake_gc();
    cr_expect_eq(rc_heap_gc_ctx(heap), &fake_gc);
    RcObject *p = new_pair(rc_new(heap, &leaf_type), NULL);
    cr_expect_eq(fake_gc.created, 1);
    cr_expect(fake_is_tracked(p));
    rc_decref(p);
    cr_expect_eq(fake_gc.untracked, 1);
    cr_expect_eq(fake_gc.live_tracked, 0);
    rc_heap_set_gc_hooks(heap, NULL);
    cr_expect_null(rc_heap_gc_ctx(heap));
}

Test(lifecycle, untracked_type_is_not_announced)
{
    static RcType t;
    t = pair_type;
    t.name = "quiet pair";
    t.flags |= RC_TYPE_UNTRACKED;
    attach_fake_gc();
    RcObject *p = rc_new(heap, &t);
    cr_assert_not_null(p, "%s", rc_heap_error(heap));
    cr_expect_eq(fake_gc.created, 0);
    cr_expect_eq(rc_gc_head(p)->next, 0);
    rc_decref(p);
    cr_expect_eq(fake_gc.untracked, 0);
}

Test(lifecycle, deep_deallocation_untracks_queued_objects)
{
    attach_fake_gc();
    RcObject *head = NULL;
    for (int i = 0; i < 1000; i++) {
        head = new_pair(head, NULL);
    }
    cr_expect_eq(fake_gc.live_tracked, 1000);
    rc_decref(head);
    cr_expect_eq(fake_gc.untracked, 1000);
    cr_expect_eq(fake_gc.live_tracked, 0);
}

Test(lifecycle, heap_of_a_borrowed_objalloc_heap)
{
    OaHeap *oa = oa_heap_new();
    cr_assert_not_null(oa);
    RcHeap *h = rc_heap_new(oa);
    cr_assert_not_null(h);
    cr_expect_eq(rc_heap_oa(h), oa);
    cr_expect_null(rc_heap_new(oa), "one RcHeap per objalloc heap");
    RcObject *op = rc_new(h, &leaf_type);
    cr_expect_eq(rc_heap_of(op), h);
    rc_decref(op);
    cr_expect_eq(rc_heap_check(h), 0);
    rc_heap_destroy(h);
    cr_expect_null(oa_heap_user(oa));
    h = rc_heap_new(oa);
    cr_expect_not_null(h, "the objalloc heap is free again");
    rc_heap_destroy(h);
    oa_heap_destroy(oa);
}

Test(lifecycle, counters_follow_many_types)
{
    RcObject *objs[3];
    objs[0] = rc_new(heap, &leaf_type);
    objs[1] = rc_new(heap, &pair_type);
    objs[2] = rc_new(heap, &leaf_type);
    cr_expect_eq(rc_live_count(heap, &leaf_type), 2);
    cr_expect_eq(rc_live_count(heap, &pair_type), 1);
    cr_expect_eq(rc_live_count(heap, &vec_type), 0);
    cr_expect_eq(rc_live_total(heap), 3);
    RcTypeStats st[1];
    cr_expect_eq(rc_type_stats(heap, st, 1), 2, "returns the type count");
    for (int i = 0; i < 3; i++) {
        rc_decref(objs[i]);
    }
}
