/* SPDX-License-Identifier: MIT */
/* locality.c - blocks allocated one after another lie in address order,
 * on a fresh heap and on a heap whose pools were used and emptied before
 * (in any order): an emptied pool's free list is relinked in address
 * order, and an arena hands out its lowest empty pool first.  Without
 * these a reused heap handed out 20000 blocks with thousands of descents
 * (the order the blocks were freed in). */
#include "oa_test.h"

#include <stdint.h>
#include <string.h>

OA_HEAP_SUITE(locality);

enum { N = 20000 };
static char *b[N];

/* How many times a block lies below the one allocated before it (a
 * descent), each at least `size` bytes from it.  Blocks in address order
 * descend only where the sequence moves to another arena (arenas are
 * mapped top-down) or leaves the pool its class kept when it last
 * emptied (used first, wherever it lies). */
static size_t
descents(char **p, size_t n, size_t size)
{
    size_t down = 0;
    for (size_t i = 1; i < n; i++) {
        uintptr_t a = (uintptr_t)p[i - 1], c = (uintptr_t)p[i];
        cr_assert_geq(c > a ? c - a : a - c, size);
        down += c < a;
    }
    return down;
}

/* Descents allowed: one per arena change, one for the kept pool. */
static size_t
allowed(int medium)
{
    OaStats st;
    oa_heap_stats(heap, &st);
    return (medium ? st.arenas_medium : st.arenas - st.arenas_medium) + 1;
}

static void
alloc_all(size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = oa_malloc(heap, size);
        cr_assert_not_null(b[i]);
        memset(b[i], 0x5a, size);
    }
}

/* Free b[0..n) in a random order (a seeded shuffle). */
static void
free_shuffled(size_t n, uint64_t seed)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = tc_below(&seed, i + 1);
        char *t = b[i];
        b[i] = b[j];
        b[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        oa_free(b[i]);
    }
}

Test(locality, fresh_heap_hands_out_blocks_in_address_order)
{
    alloc_all(N, 48);
    cr_assert_leq(descents(b, N, 48), allowed(0));
    CHECK_HEAP(heap);
    for (size_t i = 0; i < N; i++) {
        oa_free(b[i]);
    }
}

Test(locality, reused_heap_hands_out_blocks_in_address_order)
{
    for (uint64_t round = 1; round <= 3; round++) {
        alloc_all(N, 48);
        free_shuffled(N, round);
        CHECK_HEAP(heap);
    }
    alloc_all(N, 48);
    cr_assert_leq(descents(b, N, 48), allowed(0));
    CHECK_HEAP(heap);
    free_shuffled(N, 9);
}

Test(locality, reused_heap_after_another_class_used_it)
{
    alloc_all(N, 100);
    free_shuffled(N, 4);
    alloc_all(N, 48); /* the same pools, carved for another class */
    cr_assert_leq(descents(b, N, 48), allowed(0));
    free_shuffled(N, 5);
    alloc_all(N, 48);
    cr_assert_leq(descents(b, N, 48), allowed(0));
    CHECK_HEAP(heap);
    free_shuffled(N, 6);
}

Test(locality, reused_medium_spans_hand_out_blocks_in_address_order)
{
    enum { M = 600 }; /* 1000-byte blocks: 1024 each, 63 per span */
    alloc_all(M, 1000);
    free_shuffled(M, 7);
    alloc_all(M, 1000);
    cr_assert_leq(descents(b, M, 1000), allowed(1));
    CHECK_HEAP(heap);
    free_shuffled(M, 8);
}

Test(locality, emptied_kept_pool_starts_again_at_its_first_block)
{
    char *p[40];
    for (int i = 0; i < 40; i++) {
        p[i] = oa_malloc(heap, 64);
    }
    char *lowest = p[0];
    for (int i = 0; i < 40; i += 2) { /* not the reverse order */
        oa_free(p[i]);
    }
    for (int i = 39; i > 0; i -= 2) {
        oa_free(p[i]);
    }
    CHECK_HEAP(heap); /* the kept pool's list starts at its first block */
    for (int i = 0; i < 40; i++) {
        p[i] = oa_malloc(heap, 64);
    }
    cr_assert_eq(p[0], lowest);
    cr_assert_eq(descents(p, 40, 64), 0);
    for (int i = 0; i < 40; i++) {
        oa_free(p[i]);
    }
}
