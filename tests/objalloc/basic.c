/* SPDX-License-Identifier: MIT */
/* basic.c - size classes, alignment, malloc/calloc/free basics, owners. */
#include "oa_test.h"

#include <stdint.h>
#include <string.h>

OA_HEAP_SUITE(basic);

Test(basic, size_class_boundaries_follow_16_byte_steps_then_4_per_doubling)
{
    cr_assert_eq(oa_size_class(0), 0);
    cr_assert_eq(oa_size_class(1), 0);
    cr_assert_eq(oa_size_class(15), 0);
    cr_assert_eq(oa_size_class(16), 0);
    cr_assert_eq(oa_size_class(17), 1);
    cr_assert_eq(oa_size_class(32), 1);
    cr_assert_eq(oa_size_class(33), 2);
    cr_assert_eq(oa_size_class(511), 31);
    cr_assert_eq(oa_size_class(512), 31);
    cr_assert_eq(oa_size_class(513), 32); /* 576 */
    cr_assert_eq(oa_size_class(576), 32);
    cr_assert_eq(oa_size_class(577), 33); /* 640 */
    cr_assert_eq(oa_size_class(1024), 39);
    cr_assert_eq(oa_size_class(1025), 40); /* 1152 */
    cr_assert_eq(oa_size_class(8224), 64); /* 9216 */
    cr_assert_eq(oa_size_class(32767), 79);
    cr_assert_eq(oa_size_class(32768), 79);
    cr_assert_eq(oa_size_class(32769), -1);
    cr_assert_eq(oa_size_class(SIZE_MAX), -1);
}

Test(basic, every_boundary_size_is_aligned_owned_and_usable)
{
    static const size_t sizes[] = {0,   1,   15,  16,   17,    31,    32,
                                   33,  100, 255, 256,  257,   496,   511,
                                   512, 513, 600, 4096, 32768, 32769, 100000};
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = oa_malloc(heap, sizes[i]);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t)p[i] % OA_ALIGNMENT, 0, "size %zu", sizes[i]);
        cr_assert_eq(oa_owner(p[i]), heap);
        cr_assert_eq(oa_block_heap(p[i]), heap);
        size_t us = oa_usable_size(p[i]);
        cr_assert_geq(us, sizes[i]);
        if (!OA_TEST_DEBUG && sizes[i] <= OA_MEDIUM_MAX) {
            OaStats st;
            oa_heap_stats(heap, &st);
            size_t cls = (size_t)oa_size_class(sizes[i]);
            cr_assert_eq(us, st.classes[cls].block_size, "size %zu", sizes[i]);
        }
        memset(p[i], 0x5A, sizes[i]);
        CHECK_HEAP(heap);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        oa_free(p[i]);
        CHECK_HEAP(heap);
    }
}

Test(basic, small_medium_and_large_are_counted_where_they_belong)
{
    void *a = oa_malloc(heap, 512);
    void *b = oa_malloc(heap, 513);
    void *c = oa_malloc(heap, 32769);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.blocks_used, 2);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.large_bytes, 32769);
    cr_assert_eq(st.classes[31].used, 1);
    cr_assert_eq(st.classes[32].used, 1);
    cr_assert_eq(st.arenas, 2);
    cr_assert_eq(st.arenas_medium, 1);
    cr_assert_eq(st.spans, 1);
    oa_free(a);
    oa_free(b);
    oa_free(c);
}

Test(basic, zero_byte_requests_get_unique_blocks)
{
    void *a = oa_malloc(heap, 0);
    void *b = oa_malloc(heap, 0);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_neq(a, b);
    cr_assert_eq(oa_owner(a), heap);
    oa_free(a);
    oa_free_sized(b, 0);
}

Test(basic, free_null_does_nothing)
{
    oa_free(NULL);
    oa_free_sized(NULL, 16);
    oa_free_sized(NULL, 0);
    oa_free_sized(NULL, 4000);            /* a medium size */
    oa_free_sized(NULL, (size_t)1 << 20); /* a large one */
    cr_assert_eq(oa_usable_size(NULL), 0);
    cr_assert_null(oa_owner(NULL));
}

Test(basic, freed_block_is_reused_first)
{
    void *a = oa_malloc(heap, 24);
    void *b = oa_malloc(heap, 24);
    oa_free(a);
    void *c = oa_malloc(heap, 30);
    cr_assert_eq(c, a);
    oa_free(b);
    oa_free(c);
}

/* The 16 KiB pool a block lies in. */
static uintptr_t
pool_of(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)(OA_POOL_SIZE - 1);
}

Test(basic, a_full_pool_given_a_block_back_waits_behind_the_other_pools)
{
    enum { MAX = 256 };
    void *b[MAX];
    size_t n = 0;
    /* fill pool A; the first block outside it opens pool B */
    do {
        cr_assert_lt(n, MAX);
        b[n] = oa_malloc(heap, 512);
        cr_assert_not_null(b[n]);
        n++;
    } while (n < 2 || pool_of(b[n - 1]) == pool_of(b[0]));
    void *x = b[0];
    oa_free(x); /* A is usable again: it joins the list behind B */
    CHECK_HEAP(heap);
    size_t k = 0;
    void *p;
    while ((p = oa_malloc(heap, 512)) != x) {
        cr_assert_eq(pool_of(p), pool_of(b[n - 1]),
                     "a block neither from B nor A's freed one");
        cr_assert_lt(n, MAX);
        b[n++] = p;
        k++;
    }
    cr_assert_gt(k, 0, "A's freed block came before B's free blocks");
    CHECK_HEAP(heap);
    for (size_t i = 1; i < n; i++) {
        oa_free(b[i]);
    }
    oa_free(x);
}

Test(basic, sized_free_returns_small_and_large_blocks)
{
    for (size_t n = 0; n <= 2048; n += 7) {
        void *p = oa_malloc(heap, n);
        cr_assert_not_null(p);
        oa_free_sized(p, n);
        CHECK_HEAP(heap);
    }
}

Test(basic, foreign_pointers_go_to_the_system_allocator)
{
    void *p = malloc(100);
    cr_assert_not_null(p);
    cr_assert_null(oa_owner(p));
    cr_assert_eq(oa_usable_size(p), 0);
    p = oa_realloc(heap, p, 200);
    cr_assert_not_null(p);
    cr_assert_null(oa_owner(p));
    oa_free(p);
}

Test(basic, calloc_zeroes_every_byte)
{
    for (size_t n = 1; n < 40; n++) {
        unsigned char *p = oa_malloc(heap, n * 16);
        memset(p, 0xAB, n * 16);
        oa_free(p);
        p = oa_calloc(heap, n, 16);
        cr_assert_not_null(p);
        for (size_t i = 0; i < n * 16; i++) {
            cr_assert_eq(p[i], 0);
        }
        oa_free(p);
    }
}

Test(basic, calloc_of_any_size_zeroes_its_bytes_and_no_neighbour)
{
    for (size_t n = 0; n <= 600; n++) {
        unsigned char *a = oa_malloc(heap, n);
        unsigned char *b = oa_malloc(heap, n); /* a's neighbour */
        memset(a, 0xAB, n);
        memset(b, 0xCD, n);
        oa_free(a);
        unsigned char *c = oa_calloc(heap, 1, n); /* a's block again */
        cr_assert_not_null(c);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(c[i], 0, "size %zu byte %zu", n, i);
            cr_assert_eq(b[i], 0xCD, "neighbour of a calloc of %zu", n);
        }
        oa_free(b);
        oa_free(c);
    }
    CHECK_HEAP(heap);
}

Test(basic, calloc_overflow_returns_null)
{
    cr_assert_null(oa_calloc(heap, SIZE_MAX / 2, 3));
    cr_assert_null(oa_calloc(heap, SIZE_MAX, SIZE_MAX));
    void *p = oa_calloc(heap, 0, SIZE_MAX);
    cr_assert_not_null(p);
    oa_free(p);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.nfail, 2);
}

Test(basic, huge_malloc_returns_null)
{
    cr_assert_null(oa_malloc(heap, SIZE_MAX - 8));
}

Test(basic, user_word_round_trips)
{
    int x;
    cr_assert_null(oa_heap_user(heap));
    oa_heap_set_user(heap, &x);
    cr_assert_eq(oa_heap_user(heap), &x);
}

Test(basic, block_heap_works_for_interior_pointers)
{
    char *p = oa_malloc(heap, 200);
    cr_assert_eq(oa_block_heap(p + 1), heap);
    cr_assert_eq(oa_block_heap(p + 199), heap);
    cr_assert_eq(oa_owner(p + 100), heap);
    oa_free(p);
}

Test(basic, meta_memory_is_accounted)
{
    char *m = oa_meta_malloc(heap, 1000);
    cr_assert_not_null(m);
    memset(m, 1, 1000);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.meta_bytes, 1000);
    m = oa_meta_realloc(heap, m, 1000, 5000);
    cr_assert_not_null(m);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.meta_bytes, 5000);
    oa_meta_free(heap, m, 5000);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.meta_bytes, 0);
}

Test(basic, destroying_a_heap_with_live_blocks_releases_them)
{
    OaHeap *h = oa_heap_new();
    for (int i = 0; i < 10000; i++) {
        cr_assert_not_null(oa_malloc(h, (size_t)(i % 700)));
    }
    CHECK_HEAP(h);
    oa_heap_destroy(h);
    oa_heap_destroy(NULL);
}
