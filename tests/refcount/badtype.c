/* SPDX-License-Identifier: MIT */
/* badtype.c - bad type descriptors and sizes are refused by rc_new with a
 * message (every build), and the heap stays usable. */
#include "refcount/helpers.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

TestSuite(badtype, .init = rc_test_setup, .fini = rc_test_teardown);

static int
some_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    (void)op;
    (void)visit;
    (void)arg;
    return 0;
}

static void
some_clear(RcObject *op)
{
    (void)op;
}

/* rc_new refuses t with "refcount: rc_new: type 'NAME' (ADDR): WHY". */
static void
expect_refused(const RcType *t, const char *name, const char *why)
{
    char want[256];
    snprintf(want, sizeof(want), "refcount: rc_new: type '%s' (%p): %s", name,
             (const void *)t, why);
    cr_expect_null(rc_new(heap, t));
    cr_expect_str_eq(rc_heap_error(heap), want);
    const char *got = NULL;
    cr_expect_eq(rc_type_check(t, &got), -1);
    cr_expect_str_eq(got, why);
    cr_expect_eq(rc_live_total(heap), 0);
    cr_expect_eq(rc_heap_check(heap), 0);
}

Test(badtype, size_zero_is_refused)
{
    static const RcType t = {RC_TYPE_HEAD("empty", 0), .size = 0};
    expect_refused(&t, "empty", "size is 0 (must be > 0)");
}

Test(badtype, size_larger_than_the_allocator_can_give_is_refused)
{
    static const RcType t = {RC_TYPE_HEAD("huge", 0), .size = SIZE_MAX};
    expect_refused(&t, "huge", "size is larger than the allocator can give");
    static const RcType t2 = {RC_TYPE_HEAD("huge2", RC_TYPE_GC),
                              .size = RC_BLOCK_MAX - 16,
                              .traverse = some_traverse, .clear = some_clear};
    expect_refused(&t2, "huge2", "size is larger than the allocator can give");
}

Test(badtype, bad_magic_is_refused)
{
    static const RcType t = {.magic = 0x12345678, .name = "fake", .size = 8};
    expect_refused(&t, "?",
                   "bad magic: not a type descriptor (use "
                   "RC_TYPE_HEAD)");
}

Test(badtype, null_type_is_refused)
{
    cr_expect_null(rc_new(heap, NULL));
    cr_expect_str_eq(rc_heap_error(heap),
                     "refcount: rc_new: type '?' ((nil)): type is NULL");
}

Test(badtype, nameless_type_is_refused)
{
    static const RcType t = {.magic = RC_TYPE_MAGIC, .size = 8};
    expect_refused(&t, "?", "type has no name");
}

Test(badtype, unknown_flags_are_refused)
{
    static const RcType t = {RC_TYPE_HEAD("odd", 1u << 7), .size = 8};
    expect_refused(&t, "odd", "unknown type flags");
}

Test(badtype, gc_type_without_traverse_or_clear_is_refused)
{
    static const RcType t = {RC_TYPE_HEAD("no traverse", RC_TYPE_GC),
                             .size = 8, .clear = some_clear};
    expect_refused(&t, "no traverse", "GC type needs traverse and clear");
    static const RcType t2 = {RC_TYPE_HEAD("no clear", RC_TYPE_GC), .size = 8,
                              .traverse = some_traverse};
    expect_refused(&t2, "no clear", "GC type needs traverse and clear");
}

Test(badtype, traverse_without_gc_flag_is_refused)
{
    static const RcType t = {RC_TYPE_HEAD("hidden refs", 0), .size = 8,
                             .traverse = some_traverse};
    expect_refused(&t, "hidden refs",
                   "type with traverse must set RC_TYPE_GC");
}

Test(badtype, untracked_flag_without_gc_is_refused)
{
    static const RcType t = {RC_TYPE_HEAD("untracked", RC_TYPE_UNTRACKED),
                             .size = 8};
    expect_refused(&t, "untracked", "RC_TYPE_UNTRACKED without RC_TYPE_GC");
}

Test(badtype, variable_type_needs_room_for_its_length)
{
    static const RcType t = {RC_TYPE_HEAD("short var", 0), .size = 4,
                             .itemsize = 1};
    expect_refused(&t, "short var",
                   "variable type needs size >= sizeof(size_t) for nitems");
    static const RcType t2 = {RC_TYPE_HEAD("wide items", 0), .size = 8,
                              .itemsize = SIZE_MAX};
    expect_refused(&t2, "wide items",
                   "itemsize is larger than the allocator can give");
}

static const RcType bytes_type = {
    RC_TYPE_HEAD("bytes", 0),
    .size = sizeof(size_t),
    .itemsize = 1,
};

Test(badtype, item_count_overflow_is_refused)
{
    cr_expect_null(rc_new_var(heap, &bytes_type, SIZE_MAX));
    char want[200];
    snprintf(want, sizeof(want),
             "refcount: rc_new_var: type 'bytes': %zu items of 1 bytes are "
             "larger than the allocator can give",
             (size_t)SIZE_MAX);
    cr_expect_str_eq(rc_heap_error(heap), want);
    cr_expect_null(rc_new_var(heap, &vec_type, SIZE_MAX / 4));
    cr_expect_eq(rc_live_total(heap), 0);
    /* The biggest count that fits the limit is refused only by memory. */
    RcObject *ok = rc_new_var(heap, &bytes_type, 1000);
    cr_assert_not_null(ok);
    cr_expect_eq(rc_var_len(ok), 1000);
    rc_decref(ok);
}

Test(badtype, new_var_of_a_fixed_type_is_refused)
{
    cr_expect_null(rc_new_var(heap, &leaf_type, 3));
    cr_expect_str_eq(rc_heap_error(heap),
                     "refcount: rc_new_var: type 'leaf': not a variable "
                     "type (itemsize is 0)");
}

Test(badtype, good_types_pass_the_check)
{
    const char *why = "unset";
    cr_expect_eq(rc_type_check(&pair_type, &why), 0);
    cr_expect_null(why);
    cr_expect_eq(rc_type_check(&leaf_type, NULL), 0);
    cr_expect_eq(rc_type_check(&vec_type, NULL), 0);
    cr_expect_eq(rc_type_check(&rc_weakref_type, NULL), 0);
    cr_expect_null(rc_heap_error(heap), "no failure yet");
}

Test(badtype, out_of_memory_returns_null_and_keeps_the_heap)
{
    /* A large variable object comes from the system malloc: fail it. */
    RcObject *first = rc_new(heap, &leaf_type); /* maps the first arena */
    oa_heap_fail_nth(rc_heap_oa(heap), OA_FAIL_ALL, 1, 1);
    cr_expect_null(rc_new_var(heap, &bytes_type, 4096));
    cr_expect_not_null(strstr(rc_heap_error(heap), "out of memory"));
    oa_heap_fail_nth(rc_heap_oa(heap), 0, 0, 0);
    cr_expect_eq(rc_live_total(heap), 1);
    cr_expect_eq(rc_heap_check(heap), 0);
    RcObject *again = rc_new_var(heap, &bytes_type, 4096);
    cr_expect_not_null(again);
    rc_xdecref(again);
    rc_decref(first);
}

Test(badtype, weakref_creation_survives_every_allocation_failure)
{
    RcObject *op = rc_new(heap, &leaf_type);
    int failures = 0;
    for (uint64_t k = 1; k < 20; k++) {
        oa_heap_fail_nth(rc_heap_oa(heap), OA_FAIL_ALL, k, 1);
        RcObject *wr = rc_weakref_new(heap, op, NULL, NULL, NULL);
        oa_heap_fail_nth(rc_heap_oa(heap), 0, 0, 0);
        cr_expect_eq(rc_heap_check(heap), 0, "k = %llu",
                     (unsigned long long)k);
        if (wr != NULL) {
            cr_expect_eq(rc_weakref_count(op), 1);
            rc_decref(wr);
            break;
        }
        cr_expect_eq(rc_weakref_count(op), 0);
        cr_expect_not_null(strstr(rc_heap_error(heap), "out of memory"));
        failures++;
    }
    cr_expect_gt(failures, 0, "the sweep reached a failure");
    rc_decref(op);
}

/* Fail the k-th system request (and every later one) for k = 1, 2, ...
 * while a fresh heap makes its first objects and a weak reference: at
 * each k, a NULL with a message or success, never a leak or a crash. */
Test(badtype, first_objects_survive_every_allocation_failure)
{
    int done = 0;
    for (uint64_t k = 1; k < 50 && !done; k++) {
        RcHeap *h = rc_heap_new(NULL);
        cr_assert_not_null(h);
        oa_heap_fail_nth(rc_heap_oa(h), OA_FAIL_ALL, k, 1);
        RcObject *p = rc_new(h, &pair_type);
        RcObject *v = p ? rc_new_var(h, &vec_type, 100) : NULL;
        RcObject *w = v ? rc_weakref_new(h, p, NULL, NULL, NULL) : NULL;
        oa_heap_fail_nth(rc_heap_oa(h), 0, 0, 0);
        if (w == NULL) {
            cr_expect_not_null(strstr(rc_heap_error(h), "out of memory"),
                               "k = %llu: %s", (unsigned long long)k,
                               rc_heap_error(h));
        }
        done = w != NULL;
        cr_expect_eq(rc_heap_check(h), 0);
        rc_xdecref(w);
        rc_xdecref(v);
        rc_xdecref(p);
        cr_expect_eq(rc_live_total(h), 0);
        cr_expect_eq(rc_heap_check(h), 0);
        OaStats os;
        oa_heap_stats(rc_heap_oa(h), &os);
        cr_expect_eq(os.blocks_used + os.large_blocks, 0);
        rc_heap_destroy(h);
    }
    cr_expect(done, "succeeds once enough requests are allowed");
}
