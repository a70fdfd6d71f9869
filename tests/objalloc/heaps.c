/* SPDX-License-Identifier: MIT */
/* heaps.c - many heaps side by side, heaps in threads, statistics. */
#include "oa_test.h"

#include <criterion/redirect.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define NHEAPS 40

Test(heaps, blocks_find_their_own_heap_among_many)
{
    OaHeap *h[NHEAPS];
    void *p[NHEAPS][50];
    for (int i = 0; i < NHEAPS; i++) {
        h[i] = oa_heap_new();
        cr_assert_not_null(h[i]);
    }
    for (int j = 0; j < 50; j++) {
        for (int i = 0; i < NHEAPS; i++) {
            size_t n = (size_t)(i * 13 + j * 29) % 700;
            p[i][j] = oa_malloc(h[i], n);
            cr_assert_not_null(p[i][j]);
            memset(p[i][j], i, n);
        }
    }
    for (int i = 0; i < NHEAPS; i++) {
        CHECK_HEAP(h[i]);
        for (int j = 0; j < 50; j++) {
            cr_assert_eq(oa_owner(p[i][j]), h[i]);
            cr_assert_eq(oa_block_heap(p[i][j]), h[i]);
        }
    }
    /* Free in a scrambled order through the heap-less calls. */
    for (int j = 49; j >= 0; j--) {
        for (int i = 0; i < NHEAPS; i++) {
            oa_free(p[(i * 7) % NHEAPS][j]);
        }
    }
    for (int i = 0; i < NHEAPS; i++) {
        assert_all_back(h[i]);
        oa_heap_destroy(h[i]);
    }
}

Test(heaps, destroying_one_heap_leaves_the_others_intact)
{
    OaHeap *a = oa_heap_new();
    OaHeap *b = oa_heap_new();
    void *pa[1000];
    void *pb[1000];
    for (int i = 0; i < 1000; i++) {
        pa[i] = oa_malloc(a, (size_t)(i % 600));
        pb[i] = oa_malloc(b, (size_t)(i % 600));
        memset(pb[i], 7, (size_t)(i % 600));
    }
    oa_heap_destroy(a); /* with every block live */
    (void)pa;
    CHECK_HEAP(b);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(oa_owner(pb[i]), b);
        oa_free(pb[i]);
    }
    assert_all_back(b);
    oa_heap_destroy(b);
}

static void *
worker(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    OaHeap *h = oa_heap_new();
    void *slot[256] = {0};
    size_t steps = tc_scaled(200000);
    for (size_t i = 0; i < steps; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t k = (seed >> 33) % 256;
        if (slot[k] != NULL) {
            if (oa_owner(slot[k]) != h) {
                return (void *)1;
            }
            oa_free(slot[k]);
            slot[k] = NULL;
        }
        else {
            slot[k] = oa_malloc(h, (seed >> 40) % 1100);
        }
    }
    int bad = oa_heap_check(h) != 0;
    for (size_t k = 0; k < 256; k++) {
        oa_free(slot[k]);
    }
    OaStats st;
    oa_heap_stats(h, &st);
    bad |= st.blocks_used != 0 || st.large_blocks != 0;
    oa_heap_destroy(h);
    return (void *)(uintptr_t)bad;
}

Test(heaps, threads_with_a_heap_each_run_in_parallel)
{
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, worker, (void *)(i + 1)), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_assert_null(r, "worker %d failed", i);
    }
}

Test(heaps, statistics_count_classes_pools_and_calls)
{
    OaHeap *h = oa_heap_new();
    void *a = oa_malloc(h, 10);
    void *b = oa_malloc(h, 20);
    void *c = oa_calloc(h, 3, 7);
    void *d = oa_malloc(h, 40000);
    c = oa_realloc(h, c, 24); /* same class: in place */
    OaStats st;
    oa_heap_stats(h, &st);
    cr_assert_eq(st.classes[0].used, 1);
    cr_assert_eq(st.classes[1].used, 2);
    cr_assert_eq(st.classes[1].nmalloc, 2);
    cr_assert_eq(st.classes[1].requested, 20 + 21);
    cr_assert_eq(st.classes[0].pools, 1);
    cr_assert_eq(st.pools_used, 2);
    cr_assert_eq(st.pools_full, 0);
    cr_assert_eq(st.pools_empty, 62);
    cr_assert_eq(st.blocks_used, 3);
    cr_assert_eq(st.bytes_used, 16 + 32 + 32);
    cr_assert_eq(st.bytes_requested, 10 + 20 + 21);
    cr_assert_eq(st.bytes_handed, 16 + 32 + 32);
    cr_assert_eq(st.large_blocks, 1);
    cr_assert_eq(st.large_bytes, 40000);
    cr_assert_eq(st.nmalloc, 4);
    cr_assert_eq(st.ncalloc, 1);
    cr_assert_eq(st.nrealloc, 1);
    cr_assert_eq(st.nfree, 0);
    cr_assert_eq(st.classes[0].free + st.classes[0].used,
                 st.classes[0].pools * (st.classes[0].free + 1));
    cr_assert_eq(st.bytes_stranded,
                 st.classes[0].free * 16 + st.classes[1].free * 32);
    oa_free(a);
    oa_free(b);
    oa_free(c);
    oa_free(d);
    oa_heap_stats(h, &st);
    cr_assert_eq(st.nfree, 4);
    assert_all_back(h);
    oa_heap_destroy(h);
}

Test(heaps, stats_print_writes_a_readable_dump)
{
    OaHeap *h = oa_heap_new();
    void *a = oa_malloc(h, 100);
    void *b = oa_malloc(h, 50000);
    void *c = oa_malloc(h, 5000);
    OaStats st;
    oa_heap_stats(h, &st);
    FILE *f = tmpfile();
    oa_stats_print(&st, f);
    rewind(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    cr_assert_not_null(strstr(buf, "objalloc statistics"));
    cr_assert_not_null(
        strstr(buf, "arenas: 2 mapped (1 of medium spans; 2097152 bytes)"),
        "%s", buf);
    cr_assert_not_null(strstr(buf, "large blocks: 1 live, 50000 bytes"));
    cr_assert_not_null(strstr(buf, "      6   112      1       1"), "%s", buf);
    cr_assert_not_null(strstr(buf, "     57  5120      1       1"), "%s", buf);
    cr_assert_not_null(strstr(buf, "1 of the used ones are spans"), "%s", buf);
    /* two arenas' bookkeeping share one slab */
    cr_assert_eq(st.arena_meta_bytes, 65536);
    cr_assert_not_null(strstr(buf, "arena bookkeeping and pool metadata: "
                                   "65536 bytes"),
                       "%s", buf);
    oa_free(a);
    oa_free(b);
    oa_free(c);
    oa_heap_destroy(h);
}
