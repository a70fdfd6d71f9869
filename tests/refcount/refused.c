/* SPDX-License-Identifier: MIT */
/* refused.c - misuse of refcount that used to crash without a word:
 *
 *   NULL heap          rc_new, rc_new_var, rc_weakref_new, rc_heap_check
 *                      and rc_heap_error refuse it with a message;
 *   non-objects        rc_weakref_new on a pointer that no heap holds (a
 *                      stack or malloc'd struct) returns NULL with
 *                      rc_heap_error, as refcount.h promises; on a freed
 *                      object debug builds abort with a message
 *                      (weakref_death);
 *   destroy too early  rc_heap_destroy from a finalizer that rc_decref
 *                      runs is refused with a message: the heap stays and
 *                      works. */
#include "refcount/helpers.h"
#include "common/errors.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

TestSuite(refused, .init = rc_test_setup, .fini = rc_test_teardown);

Test(refused, null_heap_is_refused_with_a_message)
{
    tc_record_errors();
    cr_expect_null(rc_new(NULL, &pair_type));
    cr_expect_str_eq(tc_err.text, "refcount: rc_new: heap is NULL");
    cr_expect_eq(tc_err.kind, RCGC_ERROR_MISUSE);
    cr_expect_null(rc_new_var(NULL, &vec_type, 3));
    cr_expect_str_eq(tc_err.text, "refcount: rc_new_var: heap is NULL");
    RcObject *op = rc_new(heap, &leaf_type);
    cr_expect_null(rc_weakref_new(NULL, op, NULL, NULL, NULL));
    cr_expect_str_eq(tc_err.text, "refcount: rc_weakref_new: heap is NULL");
    cr_expect_eq(rc_heap_check(NULL), -1);
    cr_expect_str_eq(tc_err.text, "refcount: rc_heap_check: heap is NULL");
    cr_expect_str_eq(rc_heap_error(NULL),
                     "refcount: rc_heap_error: heap is NULL");
    int n = tc_err.n;
    cr_expect_null(rc_heap_oa(NULL));
    cr_expect_str_eq(tc_err.text, "refcount: rc_heap_oa: heap is NULL");
    rc_heap_set_gc_hooks(NULL, NULL);
    cr_expect_str_eq(tc_err.text,
                     "refcount: rc_heap_set_gc_hooks: heap is NULL");
    cr_expect_null(rc_heap_gc_ctx(NULL));
    cr_expect_str_eq(tc_err.text, "refcount: rc_heap_gc_ctx: heap is NULL");
    cr_expect_eq(rc_live_count(NULL, &pair_type), 0);
    cr_expect_str_eq(tc_err.text, "refcount: rc_live_count: heap is NULL");
    cr_expect_eq(rc_live_total(NULL), 0);
    cr_expect_str_eq(tc_err.text, "refcount: rc_live_total: heap is NULL");
    cr_expect_eq(rc_type_stats(NULL, NULL, 0), 0);
    cr_expect_str_eq(tc_err.text, "refcount: rc_type_stats: heap is NULL");
    cr_expect_eq(rc_total_refs(NULL), -1);
    cr_expect_str_eq(tc_err.text, "refcount: rc_total_refs: heap is NULL");
    cr_expect_eq(tc_err.n, n + 7, "one message each");
    rc_decref(op);
    rcgc_register_error(NULL, NULL);
}

Test(refused, weakref_to_a_non_object_is_null_with_a_message)
{
    RcObject on_stack = {.refcnt = 1, .type = &leaf_type};
    cr_expect_null(rc_weakref_new(heap, &on_stack, NULL, NULL, NULL));
    cr_expect_not_null(strstr(rc_heap_error(heap), "is not an object"), "%s",
                       rc_heap_error(heap));
    RcObject *outside = calloc(1, 64);
    cr_assert_not_null(outside);
    cr_expect_null(rc_weakref_new(heap, outside, NULL, NULL, NULL));
    cr_expect_not_null(
        strstr(rc_heap_error(heap), "rc_weakref_new: target 0x"), "%s",
        rc_heap_error(heap));
    free(outside);
}

Test(refused, weakref_to_an_object_of_another_heap_is_refused)
{
    RcHeap *other = rc_heap_new(NULL);
    RcObject *op = rc_new(other, &leaf_type);
    cr_expect_null(rc_weakref_new(heap, op, NULL, NULL, NULL));
    cr_expect_str_eq(rc_heap_error(heap),
                     "refcount: rc_weakref_new: target lives in another "
                     "heap");
    rc_decref(op);
    rc_heap_destroy(other);
}

/* A finalizer that tries to destroy the heap its object lives in. */
static int destroy_refused;

static void
destroy_own_heap(RcObject *op)
{
    RcHeap *h = rc_heap_of(op);
    rc_heap_destroy(h);
    destroy_refused = rc_heap_busy(h) && rc_heap_error(h) != NULL;
}

static const RcType destroying_type = {
    RC_TYPE_HEAD("destroying", 0),
    .size = 16,
    .finalize = destroy_own_heap,
};

Test(refused, destroy_from_a_finalizer_is_refused)
{
    tc_record_errors();
    RcObject *op = rc_new(heap, &destroying_type);
    cr_expect_eq(rc_heap_busy(heap), 0);
    rc_decref(op);
    cr_expect(destroy_refused, "the heap survived its finalizer's destroy");
    cr_expect_eq(tc_err.kind, RCGC_ERROR_MISUSE);
    cr_expect_not_null(
        strstr(tc_err.text, "refcount: rc_heap_destroy: heap 0x"), "%s",
        tc_err.text);
    cr_expect_not_null(
        strstr(tc_err.text, "refused: rc_decref is deallocating"), "%s",
        tc_err.text);
    cr_expect_eq(rc_heap_busy(heap), 0);
    RcObject *after = rc_new(heap, &leaf_type); /* the heap still works */
    cr_expect_not_null(after);
    rc_decref(after);
    rcgc_register_error(NULL, NULL);
}

/* A heap check's findings take the same path (RCGC_ERROR_CHECK): here
 * rc_heap_check called from a finalizer, while a deallocation runs. */
static int check_result;

static void
check_from_finalizer(RcObject *op)
{
    check_result = rc_heap_check(rc_heap_of(op));
}

static const RcType checking_type = {
    RC_TYPE_HEAD("checking", 0),
    .size = 16,
    .finalize = check_from_finalizer,
};

Test(refused, check_findings_go_to_the_handler)
{
    tc_record_errors();
    tc_err.text[0] = 0;
    rc_decref(rc_new(heap, &checking_type));
    cr_expect_eq(check_result, -1);
    cr_expect_eq(tc_err.kind, RCGC_ERROR_CHECK);
    cr_expect_str_eq(tc_err.text, "refcount: rc_heap_check: called during "
                                  "deallocation (pending objects)");
    rcgc_register_error(NULL, NULL);
}

#if defined(RCGC_DEBUG) && !defined(RCGC_ASAN)
/* A real use after free: ASan stops it first, with its own report. */

static void
weakref_to_freed(void)
{
    RcObject *op = rc_new(heap, &leaf_type);
    rc_decref(op);
    (void)rc_weakref_new(heap, op, NULL, NULL, NULL);
}

Test(weakref_death, weakref_to_a_freed_object_aborts, .init = rc_test_setup,
     .signal = SIGABRT)
{
    weakref_to_freed();
}

Test(weakref_death, weakref_to_a_freed_object_names_it, .init = rc_test_setup)
{
    tc_expect_abort(weakref_to_freed, "refcount: rc_weakref_new: object 0x",
                    "use of a freed object");
}

#endif
