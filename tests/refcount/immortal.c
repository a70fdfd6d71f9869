/* SPDX-License-Identifier: MIT */
/* immortal.c - immortal objects and count saturation. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>

TestSuite(immortal, .init = rc_test_setup, .fini = rc_test_teardown);

/* Immortal objects never die; tests kill them behind the API's back
 * (count 0, then what rc_decref would call) so that the heap ends empty.
 * The debug total of counts does not include immortal objects, so it
 * needs no correction. */
static void
kill_immortal(RcObject *op)
{
    op->refcnt = 0;
    rc_zero(op);
}

Test(immortal, immortal_object_ignores_incref_and_decref)
{
    RcObject *op = rc_new(heap, &leaf_type);
    rc_set_immortal(op);
    cr_expect(rc_is_immortal(op));
    for (int i = 0; i < 10; i++) {
        rc_decref(op);
    }
    rc_incref(op);
    cr_expect_eq(rc_refcnt(op), RC_IMMORTAL);
    cr_expect_eq(rc_live_count(heap, &leaf_type), 1, "never freed");
#ifdef RCGC_DEBUG
    cr_expect_eq(rc_total_refs(heap), 0, "immortal counts are not summed");
#endif
    kill_immortal(op);
}

Test(immortal, immortal_child_survives_its_parent)
{
    RcObject *shared = rc_new(heap, &leaf_type);
    rc_set_immortal(shared);
    RcObject *p = new_pair(shared, shared);
    rc_decref(p);
    cr_expect_eq(rc_live_count(heap, &leaf_type), 1);
    cr_expect(rc_is_immortal(shared));
    kill_immortal(shared);
}

Test(immortal, count_that_would_overflow_saturates)
{
    RcObject *op = rc_new(heap, &leaf_type);
    /* Pretend RC_IMMORTAL - 2 references exist (the debug total of counts
     * does not see this store: it still counts 1). */
    op->refcnt = RC_IMMORTAL - 2;
    rc_incref(op);
    cr_expect_eq(rc_refcnt(op), RC_IMMORTAL - 1);
    rc_incref(op);
    cr_expect_eq(rc_refcnt(op), RC_IMMORTAL, "saturated, not wrapped");
    cr_expect(rc_is_immortal(op));
    rc_incref(op);
    cr_expect_eq(rc_refcnt(op), RC_IMMORTAL);
    rc_decref(op);
    cr_expect_eq(rc_refcnt(op), RC_IMMORTAL, "saturated counts stay");
#ifdef RCGC_DEBUG
    /* 1 + 1 (first incref), then the object's RC_IMMORTAL - 1 counted
     * references leave the total when it saturates. */
    int64_t expect = 2 - (int64_t)(RC_IMMORTAL - 1);
    cr_expect_eq(rc_total_refs(heap), expect);
    rc_test_total_offset = expect;
#endif
    kill_immortal(op);
}

Test(immortal, weakref_to_an_immortal_is_refused)
{
    RcObject *op = rc_new(heap, &leaf_type);
    rc_set_immortal(op);
    cr_expect_null(rc_weakref_new(heap, op, NULL, NULL, NULL));
    cr_expect_str_eq(rc_heap_error(heap),
                     "refcount: rc_weakref_new: target is immortal");
    kill_immortal(op);
}
