/* SPDX-License-Identifier: MIT */
/* owned.c - oa_free_if_owned, oa_free_or and oa_realloc_if_owned: one
 * heap's blocks are handled, everything else (NULL aside) is left alone
 * and reported (or handed to the caller's fallback). */
#include "oa_test.h"

#include <string.h>

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)(seed + i);
    }
}

static int
holds(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(seed + i)) {
            return 0;
        }
    }
    return 1;
}

Test(owned, free_if_owned_frees_the_heaps_blocks_and_null)
{
    OaHeap *h = oa_heap_new();
    size_t sizes[] = {0, 1, 16, 100, 512, 513, 4000, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = oa_malloc(h, sizes[i]);
        cr_assert_not_null(p);
        cr_assert_eq(oa_free_if_owned(h, p), 1, "size %zu", sizes[i]);
    }
    cr_assert_eq(oa_free_if_owned(h, NULL), 1);
    assert_all_back(h);
    oa_heap_destroy(h);
}

Test(owned, free_if_owned_leaves_other_pointers_alone)
{
    OaHeap *h = oa_heap_new();
    OaHeap *other = oa_heap_new();
    void *mine = oa_malloc(h, 64); /* h has a pool and a large block */
    void *mine_large = oa_malloc(h, 3000);
    unsigned char *small = oa_malloc(other, 64);
    unsigned char *large = oa_malloc(other, 3000);
    unsigned char *sys = malloc(64);
    fill(small, 64, 1);
    fill(large, 3000, 2);
    fill(sys, 64, 3);
    cr_assert_eq(oa_free_if_owned(h, small), 0);
    cr_assert_eq(oa_free_if_owned(h, large), 0);
    cr_assert_eq(oa_free_if_owned(h, sys), 0);
    cr_assert(holds(small, 64, 1) && holds(large, 3000, 2) &&
              holds(sys, 64, 3));
    CHECK_HEAP(h);
    CHECK_HEAP(other);
    /* Each still belongs to its allocator. */
    cr_assert_eq(oa_owner(small), other);
    cr_assert_eq(oa_owner(large), other);
    cr_assert_eq(oa_free_if_owned(other, small), 1);
    cr_assert_eq(oa_free_if_owned(other, large), 1);
    free(sys);
    cr_assert_eq(oa_free_if_owned(h, mine), 1);
    cr_assert_eq(oa_free_if_owned(h, mine_large), 1);
    assert_all_back(h);
    assert_all_back(other);
    oa_heap_destroy(h);
    oa_heap_destroy(other);
}

Test(owned, a_heap_without_large_blocks_forwards_foreign_pointers)
{
    OaHeap *h = oa_heap_new();
    void *small = oa_malloc(h, 10);
    OaHeap *other = oa_heap_new();
    void *theirs = oa_malloc(other, 5000); /* the large set is not empty */
    void *sys = malloc(5000);
    cr_assert_eq(oa_free_if_owned(h, sys), 0);
    cr_assert_eq(oa_free_if_owned(h, theirs), 0);
    free(sys);
    oa_free(theirs);
    oa_free(small);
    assert_all_back(h);
    oa_heap_destroy(h);
    oa_heap_destroy(other);
}

Test(owned, realloc_if_owned_resizes_the_heaps_blocks)
{
    OaHeap *h = oa_heap_new();
    int owned = -1;
    unsigned char *p = oa_realloc_if_owned(h, NULL, 24, &owned);
    cr_assert_eq(owned, 1);
    cr_assert_eq(oa_owner(p), h);
    fill(p, 24, 5);
    /* small -> same class (in place), -> other class, -> large, -> small */
    size_t sizes[] = {30, 200, 2000, 100000, 300, 8, 0};
    size_t keep = 24;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        owned = -1;
        unsigned char *q = oa_realloc_if_owned(h, p, sizes[i], &owned);
        cr_assert_eq(owned, 1, "to %zu", sizes[i]);
        cr_assert_not_null(q, "to %zu", sizes[i]);
        keep = keep < sizes[i] ? keep : sizes[i];
        cr_assert(holds(q, keep, 5), "contents lost at %zu", sizes[i]);
        cr_assert_eq(oa_owner(q), h);
        if (sizes[i] == 30) {
            cr_assert_eq(q, p, "32-byte class: stays in place");
        }
        p = q;
        CHECK_HEAP(h);
    }
    oa_free(p);
    assert_all_back(h);
    oa_heap_destroy(h);
}

Test(owned, realloc_if_owned_leaves_other_pointers_alone)
{
    OaHeap *h = oa_heap_new();
    OaHeap *other = oa_heap_new();
    void *mine = oa_malloc(h, 2000);
    unsigned char *small = oa_malloc(other, 64);
    unsigned char *large = oa_malloc(other, 3000);
    unsigned char *sys = malloc(64);
    fill(small, 64, 1);
    fill(large, 3000, 2);
    fill(sys, 64, 3);
    void *ptrs[] = {small, large, sys};
    for (int i = 0; i < 3; i++) {
        int owned = -1;
        cr_assert_null(oa_realloc_if_owned(h, ptrs[i], 10, &owned));
        cr_assert_eq(owned, 0);
        owned = -1;
        cr_assert_null(oa_realloc_if_owned(h, ptrs[i], 9000, &owned));
        cr_assert_eq(owned, 0);
    }
    cr_assert(holds(small, 64, 1) && holds(large, 3000, 2) &&
              holds(sys, 64, 3));
    CHECK_HEAP(h);
    CHECK_HEAP(other);
    oa_free(small);
    oa_free(large);
    free(sys);
    oa_free(mine);
    assert_all_back(h);
    assert_all_back(other);
    oa_heap_destroy(h);
    oa_heap_destroy(other);
}

Test(owned, realloc_if_owned_failure_keeps_the_block)
{
    OaHeap *h = oa_heap_new();
    unsigned char *p = oa_malloc(h, 100);
    fill(p, 100, 7);
    oa_heap_set_limit(h, 1); /* below what the heap holds: no growth */
    int owned = -1;
    cr_assert_null(oa_realloc_if_owned(h, p, 50000, &owned));
    cr_assert_eq(owned, 1);
    cr_assert(holds(p, 100, 7));
    cr_assert_eq(oa_owner(p), h);
    oa_heap_set_limit(h, 0);
    cr_assert_eq(oa_free_if_owned(h, p), 1);
    assert_all_back(h);
    oa_heap_destroy(h);
}

/* oa_free_or's fallback: records what it was given. */
typedef struct Calls {
    void *ctx_seen;
    void *last;
    int n;
} Calls;

static void
other_free(void *ctx, void *p)
{
    Calls *c = ctx;
    c->ctx_seen = ctx;
    c->last = p;
    c->n++;
}

Test(owned, free_or_frees_the_heaps_blocks_and_hands_on_the_rest)
{
    OaHeap *h = oa_heap_new();
    OaHeap *other = oa_heap_new();
    Calls calls = {0};
    void *mine = oa_malloc(h, 64);
    void *theirs = oa_malloc(other, 64);
    void *sys = malloc(64);
    oa_free_or(h, mine, other_free, &calls);
    oa_free_or(h, NULL, other_free, &calls);
    cr_assert_eq(calls.n, 0, "own blocks and NULL stay with the heap");
    oa_free_or(h, sys, other_free, &calls); /* h has no large block */
    cr_assert_eq(calls.n, 1);
    cr_assert_eq(calls.last, sys);
    cr_assert_eq(calls.ctx_seen, &calls);
    oa_free_or(h, theirs, other_free, &calls);
    cr_assert_eq(calls.n, 2);
    cr_assert_eq(calls.last, theirs);
    void *large = oa_malloc(h, 5000); /* now through the large set */
    oa_free_or(h, sys, other_free, &calls);
    cr_assert_eq(calls.n, 3);
    oa_free_or(h, large, other_free, &calls);
    cr_assert_eq(calls.n, 3);
    free(sys);
    oa_free(theirs);
    assert_all_back(h);
    assert_all_back(other);
    oa_heap_destroy(h);
    oa_heap_destroy(other);
}
