/* SPDX-License-Identifier: MIT */
/* inject.c - failure injection (k = 1, 2, ... until the scenario
 * succeeds), the memory limit, and the pressure callback. */
#include "oa_test.h"

#include <string.h>

#define NBLOCKS_MAX 6000
static size_t nblocks; /* NBLOCKS_MAX, less under Valgrind */

/* Allocate a mixed set that needs several arenas, large blocks and
 * bookkeeping memory; on the first failure free what was taken and
 * return 0.  Returns 1 when everything was allocated (and freed). */
static int
scenario(OaHeap *heap, void **p)
{
    size_t got = 0;
    int ok = 1;
    void *meta = oa_meta_malloc(heap, 4096);
    if (meta == NULL) {
        return 0;
    }
    for (size_t i = 0; i < nblocks; i++) {
        size_t n = i % 97 == 0   ? 40000 + i % 3000
                   : i % 13 == 0 ? 513 + (i * 7) % 32256
                                 : (i * 37) % 513;
        p[i] = oa_malloc(heap, n);
        if (p[i] == NULL) {
            ok = 0;
            break;
        }
        memset(p[i], 0x11, n);
        got++;
    }
    cr_assert_eq(oa_heap_check(heap), 0);
    void *m2 = ok ? oa_meta_realloc(heap, meta, 4096, 100000) : NULL;
    if (m2 != NULL) {
        meta = m2;
    }
    else {
        ok = 0;
    }
    for (size_t i = 0; i < got; i++) {
        oa_free(p[i]);
    }
    oa_meta_free(heap, meta, m2 != NULL ? 100000 : 4096);
    return ok;
}

static void
sweep(int sticky)
{
    nblocks = tc_scaled(NBLOCKS_MAX);
    void **p = malloc(NBLOCKS_MAX * sizeof *p);
    /* The number of system requests of a clean run bounds the sweep. */
    OaHeap *h0 = oa_heap_new();
    oa_heap_fail_nth(h0, OA_FAIL_ALL, 0, 0);
    cr_assert(scenario(h0, p));
    uint64_t total = oa_heap_sys_requests(h0);
    oa_heap_destroy(h0);
    cr_assert_gt(total, 5);

    uint64_t k;
    for (k = 1;; k++) {
        OaHeap *heap = oa_heap_new();
        oa_heap_fail_nth(heap, OA_FAIL_ALL, k, sticky);
        int ok = scenario(heap, p);
        assert_all_back(heap);
        OaStats st;
        oa_heap_stats(heap, &st);
        cr_assert_eq(ok, st.nfail == 0, "k=%llu", (unsigned long long)k);
        /* Still usable once the system gives memory again. */
        oa_heap_fail_nth(heap, OA_FAIL_ALL, 0, 0);
        void *q = oa_malloc(heap, 48);
        void *r = oa_malloc(heap, 5000);
        cr_assert_not_null(q);
        cr_assert_not_null(r);
        oa_free(q);
        oa_free(r);
        assert_all_back(heap);
        oa_heap_destroy(heap);
        if (ok) {
            break;
        }
    }
    cr_assert_eq(k, total + 1, "succeeded at k=%llu of %llu requests",
                 (unsigned long long)k, (unsigned long long)total);
    free(p);
}

Test(inject, every_failing_request_leaves_the_heap_consistent)
{
    sweep(1);
}

Test(inject, a_single_failure_is_reported_and_recovered)
{
    sweep(0);
}

Test(inject, arena_failure_returns_null)
{
    OaHeap *heap = oa_heap_new();
    oa_heap_fail_nth(heap, OA_FAIL_ARENA, 1, 0);
    cr_assert_null(oa_malloc(heap, 16));
    cr_assert_eq(oa_heap_sys_requests(heap), 1);
    void *big = oa_malloc(heap, 1000); /* large blocks are not selected */
    cr_assert_not_null(big);
    void *p = oa_malloc(heap, 16); /* the second mapping works */
    cr_assert_not_null(p);
    oa_free(p);
    oa_free(big);
    assert_all_back(heap);
    oa_heap_destroy(heap);
}

typedef struct {
    int calls;
    void **reserve;
    size_t n;
} Pressure;

static int
on_pressure(OaHeap *heap, size_t nbytes, void *ctx)
{
    Pressure *pr = ctx;
    (void)nbytes;
    pr->calls++;
    cr_assert_eq(oa_heap_check(heap), 0);
    if (pr->n == 0) {
        return 0;
    }
    while (pr->n > 0) {
        oa_free(pr->reserve[--pr->n]);
    }
    return 1;
}

Test(inject, the_limit_caps_what_the_heap_takes)
{
    OaHeap *heap = oa_heap_new();
    oa_heap_set_limit(heap, 2 * OA_ARENA_SIZE);
    cr_assert_eq(oa_heap_limit(heap), 2 * OA_ARENA_SIZE);
    size_t n = 0;
    static void *p[200000];
    while ((p[n] = oa_malloc(heap, 256)) != NULL) {
        n++;
    }
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 2);
    cr_assert_eq(st.limit, 2 * OA_ARENA_SIZE);
    cr_assert_null(oa_malloc(heap, 100000));  /* large too */
    cr_assert_null(oa_meta_malloc(heap, 16)); /* and bookkeeping */
    CHECK_HEAP(heap);
    oa_heap_set_limit(heap, 0);
    void *q = oa_malloc(heap, 256);
    cr_assert_not_null(q);
    oa_free(q);
    while (n > 0) {
        oa_free(p[--n]);
    }
    assert_all_back(heap);
    oa_heap_destroy(heap);
}

Test(inject, pressure_callback_runs_once_before_failing)
{
    OaHeap *heap = oa_heap_new();
    static void *keep[100000];
    Pressure pr = {0, keep, 0};
    oa_heap_set_limit(heap, OA_ARENA_SIZE);
    oa_heap_set_pressure(heap, on_pressure, &pr);
    size_t n = 0;
    /* Fill the arena: the first refusal calls back (nothing to free). */
    while ((keep[n] = oa_malloc(heap, 128)) != NULL) {
        n++;
    }
    cr_assert_eq(pr.calls, 1);
    /* With a reserve to give back, the callback frees it and the same
     * allocation succeeds. */
    pr.n = n;
    void *p = oa_malloc(heap, 50000); /* large: over the limit */
    cr_assert_eq(pr.calls, 2);
    cr_assert_eq(pr.n, 0);
    /* Every block came back, the emptied arena went back: it fits. */
    cr_assert_not_null(p);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.arenas, 0);
    oa_free(p);
    /* Nothing left to free: the callback runs once more, then NULL. */
    cr_assert_null(oa_malloc(heap, 2 * OA_ARENA_SIZE));
    cr_assert_eq(pr.calls, 3);
    assert_all_back(heap);
    oa_heap_destroy(heap);
}

Test(inject, pressure_that_frees_lets_the_allocation_succeed)
{
    OaHeap *heap = oa_heap_new();
    static void *keep[100000];
    Pressure pr = {0, keep, 0};
    oa_heap_set_limit(heap, 2 * OA_ARENA_SIZE);
    size_t n = 0;
    while ((keep[n] = oa_malloc(heap, 128)) != NULL) {
        n++;
    }
    /* Free the whole first arena's worth through the callback: the arenas
     * empty, one is unmapped, and the retried mapping fits. */
    oa_heap_set_pressure(heap, on_pressure, &pr);
    pr.n = n;
    void *big = oa_malloc(heap, 200000);
    cr_assert_eq(pr.calls, 1);
    cr_assert_not_null(big);
    oa_free(big);
    assert_all_back(heap);
    oa_heap_destroy(heap);
}
