/* SPDX-License-Identifier: MIT */
/* arenas.c - arenas returned to the OS after a mass free, fullest-first
 * reuse of arenas, empty pools reused by any class, fresh pages made
 * resident no sooner than blocks are carved on them. */
#define _DEFAULT_SOURCE /* msync */
#include "oa_test.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA(p) ((uintptr_t)(p) & ~((uintptr_t)OA_ARENA_SIZE - 1))
#define POOL(p)  ((uintptr_t)(p) & ~((uintptr_t)OA_POOL_SIZE - 1))

/* Is the page at address a mapped?  (msync fails with ENOMEM if not.) */
static int
is_mapped(uintptr_t a)
{
    return msync((void *)a, 4096, MS_ASYNC) == 0 || errno != ENOMEM;
}

Test(arenas, mass_free_returns_arenas_to_the_os)
{
    OaHeap *heap = oa_heap_new();
    size_t n = tc_scaled(300000); /* ~20 MiB of 64-byte blocks */
    void **p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i] = oa_malloc(heap, 64);
        cr_assert_not_null(p[i]);
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    size_t peak = st.arenas;
    cr_assert_geq(peak, n * 64 / OA_ARENA_SIZE);
    cr_assert_eq(st.bytes_mapped, peak * OA_ARENA_SIZE);
    CHECK_HEAP(heap);
    uintptr_t first = ARENA(p[0]);
    uintptr_t last = ARENA(p[n - 1]);
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    /* Kept: the spare arena, and the arena of the pool the class keeps. */
    oa_heap_stats(heap, &st);
    cr_assert_leq(st.arenas, 2, "%zu arenas kept", st.arenas);
    cr_assert_eq(st.arenas_released, peak - st.arenas);
    cr_assert_eq(st.arenas_highwater, peak);
    cr_assert_eq(st.bytes_mapped, st.arenas * OA_ARENA_SIZE);
    cr_assert_eq(st.blocks_used, 0);
    CHECK_HEAP(heap);
    /* Trimming gives the rest back, and the OS agrees. */
    oa_heap_trim(heap);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 0);
    cr_assert_eq(st.bytes_mapped, 0);
    cr_assert_eq(st.arenas_released, peak);
    cr_assert_not(is_mapped(first));
    cr_assert_not(is_mapped(last));
    assert_all_back(heap);
    free(p);
    oa_heap_destroy(heap);
}

Test(arenas, new_pools_come_from_the_fullest_arena)
{
    OaHeap *heap = oa_heap_new();
    /* Fill three arenas exactly with 512-byte blocks. */
    /* Fill three arenas exactly with 512-byte blocks: allocate until a
     * fourth arena appears, and give that block back. */
    size_t n = 0;
    void **p = malloc(3 * 64 * (OA_POOL_SIZE / 512) * sizeof *p);
    uintptr_t seen[4];
    size_t nseen = 0;
    for (;;) {
        void *b = oa_malloc(heap, 512);
        if (nseen == 0 || ARENA(b) != seen[nseen - 1]) {
            seen[nseen++] = ARENA(b);
        }
        if (nseen == 4) {
            oa_free(b);
            oa_heap_trim(heap);
            break;
        }
        p[n++] = b;
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 3);
    cr_assert_eq(st.pools_full, 3 * 64);
    uintptr_t ar[3];
    size_t na = 0;
    for (size_t i = 0; i < n && na < 3; i++) {
        if (na == 0 || ARENA(p[i]) != ar[na - 1]) {
            ar[na++] = ARENA(p[i]);
        }
    }
    cr_assert_eq(na, 3);
    /* Empty 40 pools of arena 0, 10 of arena 1, 25 of arena 2. */
    size_t want[3] = {40, 10, 25};
    size_t emptied[3] = {0, 0, 0};
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && POOL(p[j]) == POOL(p[i])) {
            j++;
        }
        int k = ARENA(p[i]) == ar[0] ? 0 : ARENA(p[i]) == ar[1] ? 1 : 2;
        if (emptied[k] < want[k]) {
            emptied[k]++;
            for (size_t m = i; m < j; m++) {
                oa_free(p[m]);
                p[m] = NULL;
            }
        }
        i = j;
    }
    CHECK_HEAP(heap);
    oa_heap_trim(heap); /* class 31 keeps its last emptied pool otherwise */
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.pools_empty, 75);
    /* New pools, of another class: 10 from arena 1, then 25 from arena 2,
     * then from arena 0. */
    int order[3] = {1, 2, 0};
    size_t counts[3] = {10, 25, 40};
    size_t per_pool = OA_POOL_SIZE / 16;
    void **q = malloc(75 * per_pool * sizeof *q);
    size_t nq = 0;
    for (int step = 0; step < 3; step++) {
        for (size_t j = 0; j < counts[step]; j++) {
            void *first = oa_malloc(heap, 16);
            q[nq++] = first;
            cr_assert_eq(ARENA(first), ar[order[step]], "pool %zu of step %d",
                         j, step);
            /* Fill the pool so that the next request needs a new one. */
            OaStats s2;
            oa_heap_stats(heap, &s2);
            for (size_t k = 0; k < s2.classes[0].free; k++) {
                q[nq] = oa_malloc(heap, 16);
                cr_assert_eq(POOL(q[nq]), POOL(first));
                nq++;
            }
        }
    }
    CHECK_HEAP(heap);
    for (size_t i = 0; i < nq; i++) {
        oa_free(q[i]);
    }
    free(q);
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    assert_trims_to_nothing(heap);
    free(p);
    oa_heap_destroy(heap);
}

Test(arenas, an_empty_pool_serves_another_class)
{
    OaHeap *heap = oa_heap_new();
    /* Two pools of class 6: the first full, one block in the second. */
    void *p[2000];
    size_t n = 0;
    do {
        p[n] = oa_malloc(heap, 100);
    } while (POOL(p[n++]) == POOL(p[0]));
    uintptr_t pool = POOL(p[0]);
    for (size_t i = 0; i + 1 < n; i++) {
        oa_free(p[i]);
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.classes[6].pools, 1);
    /* The emptied pool went back to its arena and serves another class. */
    void *b = oa_malloc(heap, 40);
    cr_assert_eq(POOL(b), pool);
    CHECK_HEAP(heap);
    oa_free(b);
    oa_free(p[n - 1]);
    assert_all_back(heap);
    oa_heap_destroy(heap);
}

Test(arenas, a_class_keeps_its_last_pool_until_trimmed)
{
    OaHeap *heap = oa_heap_new();
    void *live = oa_malloc(heap, 64); /* the arena holds a live block */
    void *p = oa_malloc(heap, 16);
    uintptr_t pool = POOL(p);
    oa_free(p);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 1);
    cr_assert_eq(st.classes[0].pools, 1);
    cr_assert_eq(st.pools_empty, 62);
    CHECK_HEAP(heap);
    p = oa_malloc(heap, 16);
    cr_assert_eq(POOL(p), pool);
    oa_free(p);
    oa_heap_trim(heap);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 1);
    cr_assert_eq(st.classes[0].pools, 0);
    oa_free(live);
    assert_trims_to_nothing(heap);
    oa_heap_destroy(heap);
}

Test(arenas, a_class_breathing_at_a_pool_edge_keeps_its_pool)
{
    OaHeap *heap = oa_heap_new();
    OaStats st;
    /* Take a batch of every class and give it back, again and again (the
     * LIFO benchmark).  While the heap grows (the first rounds), a class
     * that was idle since the last fresh pool lends its kept pool to a
     * class that would carve one, at most every other time; once enough
     * pools are carved (after WARM rounds), each class keeps its pool
     * between breaths, so no pool is released and re-carved, and nothing
     * is unmapped. */
    enum { WARM = 4 };
    void *batch[64];
    uintptr_t pool[OA_NSMALL];
    for (int round = 0; round < 8; round++) {
        for (int c = 0; c < OA_NSMALL; c++) {
            size_t size = 16 * (size_t)(c + 1);
            for (int i = 0; i < 64; i++) {
                batch[i] = oa_malloc(heap, size);
                cr_assert_not_null(batch[i]);
            }
            if (round == WARM) {
                pool[c] = POOL(batch[0]);
            }
            cr_assert(round < WARM || POOL(batch[0]) == pool[c],
                      "class %d, round %d", c, round);
            for (int i = 63; i >= 0; i--) {
                oa_free(batch[i]);
            }
        }
        oa_heap_stats(heap, &st);
        cr_assert_eq(st.blocks_used, 0);
        for (int c = 0; c < OA_NSMALL && round >= WARM; c++) {
            cr_assert_geq(st.classes[c].pools, 1, "class %d, round %d", c,
                          round);
        }
        cr_assert_eq(st.arenas_released, 0);
        CHECK_HEAP(heap);
    }
    assert_trims_to_nothing(heap);
    oa_heap_destroy(heap);
}

Test(arenas, a_class_idle_while_the_heap_grows_lends_its_kept_pool)
{
    OaHeap *heap = oa_heap_new();
    OaStats st;
    /* Class 0 and class 1 each keep an empty pool. */
    void *p = oa_malloc(heap, 16);
    uintptr_t pool0 = POOL(p);
    oa_free(p);
    p = oa_malloc(heap, 32);
    uintptr_t pool1 = POOL(p);
    oa_free(p);
    /* Class 6 grows by several pools; class 1 keeps allocating meanwhile,
     * class 0 does not. */
    void *q[1000];
    size_t n = 0;
    uintptr_t seen = 0;
    bool lent = false;
    while (n < 3 * 163) { /* 163 blocks of 112 bytes fill a pool */
        q[n] = oa_malloc(heap, 100);
        cr_assert_not_null(q[n]);
        lent |= POOL(q[n]) == pool0;
        if (POOL(q[n]) != seen) {
            seen = POOL(q[n]);
            void *t = oa_malloc(heap, 32); /* class 1 is busy */
            cr_assert_eq(POOL(t), pool1);
            oa_free(t);
        }
        n++;
    }
    /* Class 0's pool, resident already, served class 6 before a
     * never-used pool was touched; class 1 kept its own. */
    cr_assert(lent);
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.classes[0].pools, 0);
    cr_assert_eq(st.classes[1].pools, 1);
    CHECK_HEAP(heap);
    p = oa_malloc(heap, 16); /* class 0 gets a pool again */
    cr_assert_not_null(p);
    oa_free(p);
    for (size_t i = 0; i < n; i++) {
        oa_free(q[i]);
    }
    assert_trims_to_nothing(heap);
    oa_heap_destroy(heap);
}

Test(arenas, one_spare_arena_is_kept)
{
    OaHeap *heap = oa_heap_new();
    /* Two arenas of 16-byte blocks, then a block of another class. */
    size_t n = 2 * OA_ARENA_SIZE / 16;
    void **p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i] = oa_malloc(heap, 16);
    }
    void *other = oa_malloc(heap, 64);
    OaStats st;
    oa_heap_stats(heap, &st);
    size_t peak = st.arenas;
    cr_assert_geq(peak, 3);
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    /* Empty arenas went back except one spare (and the arena of the
     * pool that class 0 keeps, and the one holding `other`). */
    oa_heap_stats(heap, &st);
    cr_assert_leq(st.arenas, 3);
    cr_assert_geq(st.arenas_released, peak - 3);
    CHECK_HEAP(heap);
    oa_free(other);
    assert_trims_to_nothing(heap);
    free(p);
    oa_heap_destroy(heap);
}

/* Fresh pages are faulted in (populated) as the carving reaches them, not
 * a whole pool at a time: a pool that serves one small block has its
 * first page resident and no other (peak RSS as without the populate). */
Test(arenas, a_fresh_pool_is_resident_only_where_blocks_were_carved)
{
    OaHeap *heap = oa_heap_new();
    char *p = oa_malloc(heap, 16);
    cr_assert_not_null(p);
    unsigned char vec[OA_POOL_SIZE / 4096];
    void *pool = (void *)POOL(p);
    cr_assert_eq(mincore(pool, OA_POOL_SIZE, vec), 0);
    cr_assert(vec[0] & 1, "the page of the header and first blocks");
    for (size_t i = 1; i < sizeof vec; i++) {
        cr_assert_not(vec[i] & 1,
                      "page %zu of a fresh pool is resident before any "
                      "block was carved on it",
                      i);
    }
    /* Filling the pool makes every page resident, and nothing breaks. */
    size_t n = (OA_POOL_SIZE - 48) / 16;
    char **b = malloc(n * sizeof *b);
    size_t k = 0;
    for (; k < n; k++) {
        b[k] = oa_malloc(heap, 16);
        cr_assert_not_null(b[k]);
        if (POOL(b[k]) != (uintptr_t)pool) {
            break;
        }
        memset(b[k], 0x5A, 16);
    }
    cr_assert_eq(mincore(pool, OA_POOL_SIZE, vec), 0);
    for (size_t i = 0; i < sizeof vec; i++) {
        cr_assert(vec[i] & 1, "page %zu of a full pool", i);
    }
    CHECK_HEAP(heap);
    for (size_t i = 0; i <= k && i < n; i++) {
        oa_free(b[i]);
    }
    free(b);
    oa_free(p);
    assert_trims_to_nothing(heap);
    oa_heap_destroy(heap);
}
