/* SPDX-License-Identifier: MIT */
/* release.c - the pages of empty pools inside partly used arenas go back
 * to the system on trim, under the memory limit and when the heap shrinks
 * for good, and such pools serve again like fresh ones. */
#define _DEFAULT_SOURCE /* mincore */
#include "oa_test.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define POOL(p) ((uintptr_t)(p) & ~((uintptr_t)OA_POOL_SIZE - 1))

OA_HEAP_SUITE(release);

/* Resident pages of the 16 KiB pool at pool (mincore). */
static int
resident_pages(uintptr_t pool, size_t len)
{
    unsigned char vec[OA_SPAN_SIZE / 4096];
    cr_assert_eq(mincore((void *)pool, len, vec), 0);
    int n = 0;
    for (size_t i = 0; i < len / 4096; i++) {
        n += vec[i] & 1;
    }
    return n;
}

enum { N = 4000 }; /* 64-byte blocks: about 16 pools */
static char *b[N];

/* Fill pools with 64-byte blocks, then empty all but the first pool. */
static uintptr_t
fill_then_empty_most(void)
{
    for (size_t i = 0; i < N; i++) {
        b[i] = oa_malloc(heap, 64);
        memset(b[i], 0x77, 64);
    }
    uintptr_t first = POOL(b[0]);
    for (size_t i = 0; i < N; i++) {
        if (POOL(b[i]) != first) {
            oa_free(b[i]);
            b[i] = NULL;
        }
    }
    return first;
}

Test(release, trim_gives_back_the_pages_of_empty_pools)
{
    uintptr_t first = fill_then_empty_most();
    uintptr_t other = POOL(b[0]) + OA_POOL_SIZE; /* emptied, same arena */
    cr_assert_eq(resident_pages(other, OA_POOL_SIZE), 4);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.bytes_released, 0);
    oa_heap_trim(heap);
    CHECK_HEAP(heap);
    cr_assert_eq(resident_pages(other, OA_POOL_SIZE), 0,
                 "no page: the pool's metadata is not in the pool");
    cr_assert_eq(resident_pages(first, OA_POOL_SIZE), 4, "live pool kept");
    oa_heap_stats(heap, &st);
    cr_assert_geq(st.bytes_released, 10 * OA_POOL_SIZE);
    cr_assert_eq(st.arenas, 1);
    /* The released pools serve again (another class: carved afresh). */
    for (size_t i = 0; i < N; i++) {
        if (b[i] == NULL) {
            b[i] = oa_malloc(heap, 200);
            memset(b[i], 0x55, 200);
        }
    }
    CHECK_HEAP(heap);
    oa_heap_stats(heap, &st);
    cr_assert_lt(st.bytes_released, 10 * OA_POOL_SIZE);
    for (size_t i = 0; i < N; i++) {
        oa_free(b[i]);
    }
    assert_trims_to_nothing(heap);
}

Test(release, a_released_pool_taken_by_its_old_class_is_carved_afresh)
{
    fill_then_empty_most();
    oa_heap_trim(heap);
    for (size_t i = 0; i < N; i++) {
        if (b[i] == NULL) {
            b[i] = oa_malloc(heap, 64);
            /* the old bytes are gone: fresh zero pages (or the debug
             * build's fill of new blocks; memcheck rightly calls a new
             * block's bytes undefined, so it is not asked); a release
             * build's carving wrote each block's free-list link into its
             * first word */
            int from = OA_TEST_DEBUG ? 0 : (int)sizeof(void *);
            for (int k = from; k < 64 && !tc_under_valgrind(); k++) {
                cr_assert_eq((unsigned char)b[i][k], OA_TEST_DEBUG ? 0xCD : 0,
                             "byte %d", k);
            }
        }
    }
    CHECK_HEAP(heap);
    for (size_t i = 0; i < N; i++) {
        oa_free(b[i]);
    }
}

Test(release, medium_spans_are_released_too)
{
    static void *m[100];
    for (int i = 0; i < 100; i++) {
        m[i] = oa_malloc(heap, 8000); /* 7 per span */
        memset(m[i], 1, 8000);
    }
    uintptr_t span = (uintptr_t)m[99] & ~((uintptr_t)OA_SPAN_SIZE - 1);
    for (int i = 0; i < 99; i++) {
        oa_free(m[i]);
    }
    oa_heap_trim(heap);
    CHECK_HEAP(heap);
    uintptr_t first = (uintptr_t)m[0] & ~((uintptr_t)OA_SPAN_SIZE - 1);
    cr_assert_neq(first, span);
    cr_assert_eq(resident_pages(first, OA_SPAN_SIZE), 0);
    oa_free(m[99]);
}

Test(release, reaching_the_memory_limit_releases_empty_pools_first)
{
    fill_then_empty_most();
    oa_heap_set_limit(heap, OA_ARENA_SIZE);
    uintptr_t other = POOL(b[0]) + OA_POOL_SIZE;
    /* A medium block needs an arena of its own: over the limit. */
    cr_assert_null(oa_malloc(heap, 3000));
    cr_assert_eq(resident_pages(other, OA_POOL_SIZE), 0);
    cr_assert_not_null(strstr(oa_heap_error(heap), "memory limit"));
    CHECK_HEAP(heap);
    oa_heap_set_limit(heap, 0);
    for (size_t i = 0; i < N; i++) {
        oa_free(b[i]);
    }
}

/* Blocks filling `narenas` arenas of 64-byte blocks, then all freed in
 * the order they were allocated; the stats after. */
static OaStats
grow_then_shrink(size_t narenas)
{
    size_t n = narenas * (OA_ARENA_SIZE / 64);
    char **p = malloc(n * sizeof *p);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = oa_malloc(heap, 64);
        cr_assert_not_null(p[i]);
        p[i][0] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    free(p);
    CHECK_HEAP(heap);
    OaStats st;
    oa_heap_stats(heap, &st);
    return st;
}

Test(release, a_heap_that_shrinks_for_good_gives_back_its_spare_arena)
{
    OaStats st = grow_then_shrink(24); /* 20 or more unmapped in a row */
    cr_assert_leq(st.arenas, 2, "the spare and the kept pool's arena");
    cr_assert_geq(st.bytes_released, OA_ARENA_SIZE - 2 * OA_POOL_SIZE,
                  "the spare's pages are given back");
    /* and it serves again like a fresh arena */
    assert_all_back(heap);
    grow_then_shrink(2);
}

Test(release, a_heap_that_breathes_keeps_its_spare_arena_resident)
{
    OaStats st = grow_then_shrink(4); /* a few unmapped: a breath */
    cr_assert_eq(st.bytes_released, 0);
}

#define ARENA(p) ((uintptr_t)(p) & ~((uintptr_t)OA_ARENA_SIZE - 1))

Test(release,
     a_heap_that_shrinks_for_good_gives_back_empty_pools_of_arenas_that_stay)
{
    /* arena A: 64-byte blocks until the first one outside it */
    size_t cap = OA_ARENA_SIZE / 64 + 1;
    char **a = malloc(cap * sizeof *a);
    cr_assert_not_null(a);
    size_t na = 0;
    do {
        cr_assert_lt(na, cap);
        a[na] = oa_malloc(heap, 64);
        cr_assert_not_null(a[na]);
        a[na][0] = 1;
        na++;
    } while (na < 2 || ARENA(a[na - 1]) == ARENA(a[0]));
    /* half of A's pools emptied (every other one): A stays, half used */
    uintptr_t emptied = 0;
    for (size_t i = 0; i + 1 < na; i++) {
        if ((POOL(a[i]) / OA_POOL_SIZE) % 2 == 1) {
            emptied = POOL(a[i]);
            oa_free(a[i]);
            a[i] = NULL;
        }
    }
    cr_assert_neq(emptied, 0);
    cr_assert_gt(resident_pages(emptied, OA_POOL_SIZE), 0);
    OaStats st = grow_then_shrink(24); /* 20 or more unmapped in a row */
    cr_assert_eq(resident_pages(emptied, OA_POOL_SIZE), 0,
                 "an empty pool of an arena that stays keeps its pages");
    cr_assert_geq(st.bytes_released, 16 * OA_POOL_SIZE);
    for (size_t i = 0; i < na; i++) {
        oa_free(a[i]);
    }
    free(a);
}
