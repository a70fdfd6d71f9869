/* SPDX-License-Identifier: MIT */
/* medium.c - the medium classes (513 B .. 32 KiB): their sizes and waste
 * bound, their spans, frees of every kind, realloc across kinds, trim,
 * and the memory limit. */
#include "oa_test.h"

#include <stdint.h>
#include <string.h>

OA_HEAP_SUITE(medium);

#define SPAN_OF(p) ((uintptr_t)(p) & ~((uintptr_t)OA_SPAN_SIZE - 1))

static size_t
class_size(const OaHeap *h, size_t c)
{
    OaStats st;
    oa_heap_stats(h, &st);
    return st.classes[c].block_size;
}

Test(medium, classes_go_eight_per_doubling_with_under_12_5_percent_waste)
{
    size_t prev = class_size(heap, OA_NSMALL - 1);
    cr_assert_eq(prev, 512);
    for (size_t c = OA_NSMALL; c < OA_NCLASSES; c++) {
        size_t s = class_size(heap, c);
        cr_assert_eq(s % OA_ALIGNMENT, 0, "class %zu", c);
        cr_assert_gt(s, prev, "class %zu", c);
        cr_assert_leq(8 * s, 9 * prev, "class %zu: %zu after %zu", c, s, prev);
        prev = s;
    }
    cr_assert_eq(prev, OA_MEDIUM_MAX);
    /* Every request gets the smallest class that holds it: less than
     * 1.125 times its size. */
    for (size_t n = OA_SMALL_MAX + 1; n <= OA_MEDIUM_MAX; n++) {
        int c = oa_size_class(n);
        cr_assert_geq(c, OA_NSMALL, "size %zu", n);
        size_t s = class_size(heap, (size_t)c);
        cr_assert(s >= n && 8 * s < 9 * n, "size %zu in %zu", n, s);
        cr_assert(c == OA_NSMALL || class_size(heap, (size_t)c - 1) < n,
                  "size %zu", n);
    }
}

Test(medium, blocks_come_from_spans_not_the_system)
{
    static const size_t sizes[] = {513,  700,   1024,  1025,  4096,
                                   5000, 16384, 20000, 28672, 32768};
    enum { N = sizeof sizes / sizeof sizes[0] };
    char *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = oa_malloc(heap, sizes[i]);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t)p[i] % OA_ALIGNMENT, 0);
        cr_assert_eq(oa_owner(p[i]), heap);
        cr_assert_eq(oa_block_heap(p[i]), heap);
        cr_assert_geq(oa_usable_size(p[i]), sizes[i]);
        memset(p[i], (int)i, sizes[i]);
        CHECK_HEAP(heap);
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 0);
    cr_assert_eq(st.blocks_used, N);
    cr_assert_eq(st.arenas, 1);
    cr_assert_eq(st.arenas_medium, 1);
    cr_assert_eq(st.spans, N); /* each size has a class of its own */
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; k < sizes[i]; k++) {
            cr_assert_eq((unsigned char)p[i][k], i, "block %zu byte %zu", i,
                         k);
        }
        oa_free(p[i]);
        CHECK_HEAP(heap);
    }
}

Test(medium, a_span_of_one_block_empties_and_is_taken_again_by_its_class)
{
    /* 32 KiB blocks: one per span, so a free turns a full span empty. */
    void *a = oa_malloc(heap, 32768);
    void *b = oa_malloc(heap, 32768);
    cr_assert_neq(SPAN_OF(a), SPAN_OF(b));
    oa_free(a);
    CHECK_HEAP(heap);
    oa_free(b);
    CHECK_HEAP(heap);
    for (int i = 0; i < 100; i++) {
        void *c = oa_malloc(heap, 32000);
        cr_assert_eq(SPAN_OF(c), SPAN_OF(b), "round %d", i);
        oa_free(c);
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas_released, 0);
    assert_trims_to_nothing(heap);
}

Test(medium, many_blocks_fill_spans_and_free_in_any_order)
{
    enum { N = 3000 };
    static void *p[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = 513 + (i * 7919) % (OA_MEDIUM_MAX - 512);
        p[i] = oa_malloc(heap, n);
        cr_assert_not_null(p[i]);
        memset(p[i], 0x3C, n);
    }
    CHECK_HEAP(heap);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.blocks_used, N);
    cr_assert_gt(st.arenas_medium, 1);
    for (size_t i = 0; i < N; i += 2) {
        oa_free(p[i]);
    }
    CHECK_HEAP(heap);
    for (size_t i = 1; i < N; i += 2) {
        size_t n = 513 + (i * 7919) % (OA_MEDIUM_MAX - 512);
        if (i % 4 == 1) {
            oa_free_sized(p[i], n);
        }
        else {
            cr_assert_eq(oa_free_if_owned(heap, p[i]), 1);
        }
    }
    assert_trims_to_nothing(heap);
}

Test(medium, realloc_moves_between_small_medium_and_large)
{
    char *p = oa_malloc(heap, 100);
    memset(p, 7, 100);
    p = oa_realloc(heap, p, 3000); /* small -> medium */
    cr_assert_not_null(p);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(p[i], 7);
    }
    memset(p, 8, 3000);
    char *q = oa_realloc(heap, p, 3050); /* same class: in place */
    cr_assert_eq(q, p);
    q = oa_realloc(heap, q, 40000); /* medium -> large */
    cr_assert_not_null(q);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.blocks_used, 0);
    for (int i = 0; i < 3000; i++) {
        cr_assert_eq(q[i], 8);
    }
    q = oa_realloc(heap, q, 20000); /* large -> medium */
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.large_blocks, 0);
    cr_assert_eq(st.blocks_used, 1);
    cr_assert_eq(q[2999], 8);
    int owned;
    q = oa_realloc_if_owned(heap, q, 200, &owned); /* medium -> small */
    cr_assert_eq(owned, 1);
    cr_assert_eq(q[199], 8);
    CHECK_HEAP(heap);
    oa_free(q);
}

Test(medium, a_resize_never_keeps_a_block_across_the_small_medium_line)
{
    /* 500 is over 3/4 of 576, but a sized free of 500 bytes looks in a
     * small pool: the block must move there. */
    char *p = oa_malloc(heap, 600);
    memset(p, 3, 600);
    char *q = oa_realloc(heap, p, 500);
    cr_assert_neq(q, p);
    cr_assert_eq(q[499], 3);
    oa_free_sized(q, 500);
    p = oa_malloc(heap, 512);
    q = oa_realloc(heap, p, 513);
    cr_assert_neq(q, p);
    oa_free_sized(q, 513);
    CHECK_HEAP(heap);
}

Test(medium, spans_count_against_the_memory_limit)
{
    oa_heap_set_limit(heap, 2 * OA_ARENA_SIZE);
    static void *p[1000];
    size_t n = 0;
    while (n < 1000 && (p[n] = oa_malloc(heap, 16384)) != NULL) {
        n++;
    }
    /* 3 blocks of 16 KiB a span, 16 spans an arena, 2 arenas. */
    cr_assert_eq(n, 2 * 16 * 3);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas_medium, 2);
    cr_assert_null(oa_malloc(heap, 600));
    cr_assert_not_null(p[0]);
    CHECK_HEAP(heap);
    while (n > 0) {
        oa_free(p[--n]);
    }
    /* The class keeps its last span (pinning its arena), and one empty
     * arena is kept as a spare: nothing else was unmapped. */
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 2);
    cr_assert_eq(st.pools_used, 1);
    oa_heap_set_limit(heap, 0);
    assert_trims_to_nothing(heap);
}

Test(medium, small_and_medium_arenas_never_share)
{
    void *s = oa_malloc(heap, 500);
    void *m = oa_malloc(heap, 600);
    uintptr_t amask = ~((uintptr_t)OA_ARENA_SIZE - 1);
    cr_assert_neq((uintptr_t)s & amask, (uintptr_t)m & amask);
    oa_free(s);
    oa_free(m);
    oa_heap_trim(heap);
    /* A medium class does not take a small class's kept pool. */
    s = oa_malloc(heap, 500);
    oa_free(s); /* kept by class 31 */
    m = oa_malloc(heap, 600);
    cr_assert_neq((uintptr_t)s & amask, (uintptr_t)m & amask);
    oa_free(m);
    CHECK_HEAP(heap);
}

Test(medium, a_medium_class_takes_a_kept_span_before_a_fresh_one)
{
    /* Each class keeps its empty span; the next class to need a span
     * takes that one (its pages are resident) rather than touch a span
     * never used. */
    void *a = oa_malloc(heap, 3000);
    uintptr_t span = SPAN_OF(a);
    oa_free(a); /* kept by its class */
    void *b = oa_malloc(heap, 9000);
    cr_assert_eq(SPAN_OF(b), span);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.spans, 1);
    oa_free(b);
    CHECK_HEAP(heap);
}
