/* SPDX-License-Identifier: MIT */
/* region.c - heaps whose arenas come from the caller: a memory region
 * or an arena source callback; exhaustion, errors, the memory limit and
 * failure injection. */
#include "oa_test.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>

#define MIB ((size_t)OA_ARENA_SIZE)

/* A region of n arenas starting `skew` bytes past a 1 MiB boundary. */
static char *
region_new(size_t n, size_t skew)
{
    char *r = aligned_alloc(MIB, (n + 1) * MIB);
    cr_assert_not_null(r);
    return r + skew;
}

static void
region_del(char *r, size_t skew)
{
    free(r - skew);
}

static int
in_region(const void *p, const char *r, size_t len)
{
    return (const char *)p >= r && (const char *)p < r + len;
}

Test(region, a_heap_fills_its_region_then_says_it_is_exhausted)
{
    /* 3 arenas + 1 MiB - 16: at 16 bytes past a boundary, 3 whole ones. */
    size_t len = 4 * MIB - 16;
    char *r = region_new(3, 16);
    OaHeap *h = oa_heap_new_in_region(r, len);
    cr_assert_not_null(h, "%s", oa_heap_error(NULL));
    cr_assert_null(oa_heap_error(h));
    static void *p[200000];
    size_t n = 0;
    while ((p[n] = oa_malloc(h, 48)) != NULL) {
        cr_assert(in_region(p[n], r, len), "block %p outside", p[n]);
        n++;
    }
    OaStats st;
    oa_heap_stats(h, &st);
    cr_assert_eq(st.arenas, 3);
    const char *err = oa_heap_error(h);
    cr_assert_not_null(err);
    cr_assert_not_null(strstr(err, "arena source exhausted: its region of 3 "
                                   "arenas"),
                       "%s", err);
    /* Medium blocks need an arena of their own kind: none left either. */
    cr_assert_null(oa_malloc(h, 4000));
    /* Large blocks come from the system malloc, never mapped. */
    void *big = oa_malloc(h, 3 * MIB);
    cr_assert_not_null(big);
    oa_heap_stats(h, &st);
    cr_assert_eq(st.large_mapped, 0);
    oa_free(big);
    CHECK_HEAP(h);
    /* Freeing makes room again. */
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    void *m = oa_malloc(h, 4000);
    cr_assert_not_null(m);
    cr_assert(in_region(m, r, len));
    oa_free(m);
    assert_trims_to_nothing(h);
    oa_heap_destroy(h);
    region_del(r, 16);
}

Test(region, a_region_without_a_whole_arena_is_refused_with_the_reason)
{
    char *r = region_new(1, 16);
    cr_assert_null(oa_heap_new_in_region(r, MIB)); /* 16 B short */
    const char *err = oa_heap_error(NULL);
    cr_assert_not_null(err);
    cr_assert_not_null(strstr(err, "holds no whole"), "%s", err);
    cr_assert_null(oa_heap_new_in_region(NULL, 8 * MIB));
    OaHeap *h = oa_heap_new_in_region(r, 2 * MIB - 16);
    cr_assert_not_null(h);
    oa_heap_destroy(h);
    region_del(r, 16);
}

/* A callback source over a few static arenas, counting its calls. */
typedef struct Src {
    char *base;
    int used[4];
    int gets, puts, fails;
} Src;

static void *
src_get(void *ctx)
{
    Src *s = ctx;
    for (int i = 0; i < 4; i++) {
        if (!s->used[i]) {
            s->used[i] = 1;
            s->gets++;
            return s->base + (size_t)i * MIB;
        }
    }
    s->fails++;
    return NULL;
}

static void
src_put(void *ctx, void *arena)
{
    Src *s = ctx;
    size_t i = (size_t)((char *)arena - s->base) / MIB;
    cr_assert(i < 4 && s->used[i]);
    s->used[i] = 0;
    s->puts++;
}

Test(region, a_callback_source_gets_every_arena_back)
{
    Src s = {.base = region_new(4, 0)};
    OaArenaSource src = {src_get, src_put, &s};
    OaHeap *h = oa_heap_new_with_source(&src);
    cr_assert_not_null(h);
    static void *p[100000];
    size_t n = 0;
    for (; n < 100000; n++) {
        p[n] = oa_malloc(h, n % 3 ? 64 : 1500);
        if (p[n] == NULL) {
            break;
        }
    }
    cr_assert_lt(n, 100000);
    cr_assert_eq(s.gets, 4);
    cr_assert_geq(s.fails, 1);
    cr_assert_not_null(strstr(oa_heap_error(h), "get() returned NULL"));
    CHECK_HEAP(h);
    for (size_t i = 0; i < n; i++) {
        oa_free(p[i]);
    }
    oa_heap_destroy(h);
    cr_assert_eq(s.puts, s.gets);
    region_del(s.base, 0);
}

Test(region, a_source_without_get_is_refused)
{
    OaArenaSource src = {NULL, NULL, NULL};
    cr_assert_null(oa_heap_new_with_source(&src));
    cr_assert_not_null(strstr(oa_heap_error(NULL), "no get function"));
    cr_assert_null(oa_heap_new_with_source(NULL));
}

Test(region, the_memory_limit_holds_inside_a_region)
{
    char *r = region_new(4, 0);
    OaHeap *h = oa_heap_new_in_region(r, 4 * MIB);
    oa_heap_set_limit(h, 2 * MIB);
    static void *p[100000];
    size_t n = 0;
    while ((p[n] = oa_malloc(h, 256)) != NULL) {
        n++;
    }
    OaStats st;
    oa_heap_stats(h, &st);
    cr_assert_eq(st.arenas, 2);
    cr_assert_not_null(strstr(oa_heap_error(h), "memory limit of 2097152"),
                       "%s", oa_heap_error(h));
    CHECK_HEAP(h);
    while (n > 0) {
        oa_free(p[--n]);
    }
    assert_trims_to_nothing(h);
    oa_heap_destroy(h);
    region_del(r, 0);
}

/* Small, medium and large blocks until the first failure; 1 when all
 * were allocated.  Frees everything either way. */
static int
scenario(OaHeap *h)
{
    static void *p[3000];
    size_t got = 0;
    int ok = 1;
    for (size_t i = 0; i < 3000; i++) {
        size_t n = i % 101 == 0 ? 40000
                   : i % 7 == 0 ? 513 + i * 11 % 9000
                                : i * 37 % 500;
        if ((p[got] = oa_malloc(h, n)) == NULL) {
            ok = 0;
            break;
        }
        memset(p[got++], 0x22, n);
    }
    cr_assert_eq(oa_heap_check(h), 0);
    while (got > 0) {
        oa_free(p[--got]);
    }
    return ok;
}

Test(region, every_failing_request_leaves_a_region_heap_consistent)
{
    char *r = region_new(8, 0);
    OaHeap *h0 = oa_heap_new_in_region(r, 8 * MIB);
    oa_heap_fail_nth(h0, OA_FAIL_ALL, 0, 0);
    cr_assert(scenario(h0));
    uint64_t total = oa_heap_sys_requests(h0);
    oa_heap_destroy(h0);
    cr_assert_gt(total, 3);
    for (uint64_t k = 1; k <= total; k++) {
        OaHeap *h = oa_heap_new_in_region(r, 8 * MIB);
        oa_heap_fail_nth(h, OA_FAIL_ALL, k, 1);
        cr_assert_eq(scenario(h), 0, "k=%llu", (unsigned long long)k);
        cr_assert_not_null(strstr(oa_heap_error(h), "failure injected"));
        assert_all_back(h);
        oa_heap_fail_nth(h, OA_FAIL_ALL, 0, 0);
        cr_assert(scenario(h), "k=%llu", (unsigned long long)k);
        assert_trims_to_nothing(h);
        oa_heap_destroy(h);
    }
    region_del(r, 0);
}

static void *
bad_get(void *ctx)
{
    return (char *)ctx + 4096;
}

Test(region_death, a_misaligned_arena_from_a_source_aborts, .signal = SIGABRT)
{
    static char buf[8192];
    OaArenaSource src = {bad_get, NULL, buf};
    OaHeap *h = oa_heap_new_with_source(&src);
    oa_malloc(h, 16);
}
