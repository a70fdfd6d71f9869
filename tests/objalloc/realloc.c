/* SPDX-License-Identifier: MIT */
/* realloc.c - realloc in place, across classes, to and from large,
 * shrinking, and failure leaving the block untouched. */
#include "oa_test.h"

#include <string.h>

OA_HEAP_SUITE(realloc);

static void
fill(void *p, size_t n, unsigned char seed)
{
    unsigned char *q = p;
    for (size_t i = 0; i < n; i++) {
        q[i] = (unsigned char)(seed + i);
    }
}

static void
expect(const void *p, size_t n, unsigned char seed)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(q[i], (unsigned char)(seed + i), "byte %zu", i);
    }
}

Test(realloc, null_pointer_acts_as_malloc)
{
    void *p = oa_realloc(heap, NULL, 40);
    cr_assert_not_null(p);
    cr_assert_eq(oa_owner(p), heap);
    oa_free(p);
}

Test(realloc, stays_in_place_while_the_class_fits)
{
    char *p = oa_malloc(heap, 20);
    fill(p, 20, 3);
    char *q = oa_realloc(heap, p, 32);
    cr_assert_eq(q, p);
    expect(q, 20, 3);
    cr_assert_geq(oa_usable_size(q), 32);
    q = oa_realloc(heap, q, 17);
    cr_assert_eq(q, p);
    CHECK_HEAP(heap);
    oa_free(q);
}

Test(realloc, moves_across_classes_keeping_the_bytes)
{
    char *p = oa_malloc(heap, 20);
    fill(p, 20, 7);
    char *q = oa_realloc(heap, p, 300);
    cr_assert_neq(q, p);
    expect(q, 20, 7);
    cr_assert_eq(oa_size_class(oa_usable_size(q)), oa_size_class(300));
    CHECK_HEAP(heap);
    oa_free(q);
}

Test(realloc, goes_to_large_and_back)
{
    char *p = oa_malloc(heap, 100);
    fill(p, 100, 11);
    char *q = oa_realloc(heap, p, 50000);
    cr_assert_not_null(q);
    expect(q, 100, 11);
    cr_assert_eq(oa_usable_size(q), 50000);
    fill(q, 50000, 13);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.blocks_used, 0);
    q = oa_realloc(heap, q, 90000);
    expect(q, 50000, 13);
    char *r = oa_realloc(heap, q, 64);
    cr_assert_not_null(r);
    expect(r, 64, 13);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 0);
    cr_assert_eq(st.blocks_used, 1);
    CHECK_HEAP(heap);
    oa_free(r);
}

Test(realloc, shrinking_far_moves_to_a_smaller_class)
{
    char *p = oa_malloc(heap, 500);
    fill(p, 500, 17);
    char *q = oa_realloc(heap, p, 400); /* a small shrink: stays */
    cr_assert_eq(q, p);
    char *r = oa_realloc(heap, q, 10); /* a big one: moves */
    cr_assert_neq(r, q);
    expect(r, 10, 17);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.classes[0].used, 1);
    cr_assert_eq(st.classes[31].used, 0);
    oa_free(r);
}

Test(realloc, failure_returns_null_and_keeps_the_block)
{
    char *p = oa_malloc(heap, 100);
    fill(p, 100, 23);
    oa_heap_fail_nth(heap, OA_FAIL_LARGE, 1, 0);
    cr_assert_null(oa_realloc(heap, p, 100000));
    expect(p, 100, 23);
    cr_assert_eq(oa_owner(p), heap);
    CHECK_HEAP(heap);
    oa_heap_fail_nth(heap, OA_FAIL_ALL, 0, 0);
    char *q = oa_realloc(heap, p, 100000);
    cr_assert_not_null(q);
    expect(q, 100, 23);
    oa_free(q);
}

Test(realloc, zero_bytes_keeps_a_unique_block)
{
    char *p = oa_malloc(heap, 8);
    char *q = oa_realloc(heap, p, 0);
    cr_assert_not_null(q);
    cr_assert_eq(oa_owner(q), heap);
    oa_free(q);
}

Test(realloc, large_blocks_grow_and_shrink_keeping_the_bytes)
{
    char *p = oa_malloc(heap, 40000);
    fill(p, 1000, 29);
    for (size_t n = 40000; n < 200000; n = n * 3 / 2) {
        char *q = oa_realloc(heap, p, n);
        cr_assert_not_null(q);
        expect(q, 1000, 29);
        cr_assert_eq(oa_usable_size(q), n);
        cr_assert_eq(oa_owner(q), heap);
        p = q;
        CHECK_HEAP(heap);
    }
    p = oa_realloc(heap, p, 33000);
    expect(p, 1000, 29);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.large_bytes, 33000);
    /* The growth above passed OA_LARGE_MAP_MIN: the mapping left behind is
     * kept for reuse, and the failed attempt below would free it (making
     * room) and succeed at the second try.  Nothing kept: it fails. */
    oa_heap_trim(heap);
    oa_heap_fail_nth(heap, OA_FAIL_LARGE, 1, 0);
    cr_assert_null(oa_realloc(heap, p, 100000));
    expect(p, 1000, 29);
    cr_assert_eq(oa_usable_size(p), 33000);
    CHECK_HEAP(heap);
    oa_free(p);
}
