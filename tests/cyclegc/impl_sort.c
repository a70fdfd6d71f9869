/* SPDX-License-Identifier: MIT */
/* impl_sort.c - the collector's in-place list sort (cyclegc/sort.c) on
 * lists of bare GC headers: address order, real links, bounds reset,
 * and the merge sort a bucket falls back to when it is still wide after
 * the last bucket table. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "cyclegc/internal.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/mman.h>

static GcHeap *gc;

static void
setup(void)
{
    gc = gc_heap_new(NULL);
    cr_assert_not_null(gc);
}

static void
teardown(void)
{
    gc_heap_destroy(gc);
}

TestSuite(impl_sort, .init = setup, .fini = teardown);

/* Append heads[order[i]] for each i to l. */
static void
fill(GcList *l, RcGcHead **heads, const size_t *order, size_t n)
{
    gc_list_init(l);
    for (size_t i = 0; i < n; i++) {
        gc_list_append(l, heads[order[i]]);
    }
}

static void
assert_sorted(GcList *l, size_t n)
{
    size_t k = 0;
    RcGcHead *prev = &l->head;
    for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
        cr_assert_eq(gc_prev(g), prev, "prev link of object %zu", k);
        if (prev != &l->head) {
            cr_assert_lt((uintptr_t)prev, (uintptr_t)g, "order at %zu", k);
        }
        prev = g;
        k++;
    }
    cr_assert_eq(gc_prev(&l->head), prev);
    cr_assert_eq(k, n);
    cr_assert_eq(l->descents, 0);
    cr_assert_eq(l->size_ub, n);
}

static void
shuffle(size_t *order, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

Test(impl_sort, shuffled_heads_come_out_in_address_order)
{
    enum { N = 5000 };
    RcGcHead *block = aligned_alloc(16, N * 3 * sizeof(RcGcHead));
    RcGcHead *heads[N];
    size_t order[N];
    for (size_t i = 0; i < N; i++) {
        heads[i] = &block[3 * i]; /* 48 bytes apart, as 2-slot nodes */
    }
    shuffle(order, N, 1);
    GcList l;
    fill(&l, heads, order, N);
    cr_assert_gt(l.descents, 0);
    gc_list_sort(gc, &l);
    assert_sorted(&l, N);
    cr_assert_eq(l.lo, (uintptr_t)heads[0]);
    cr_assert_eq(l.hi, (uintptr_t)heads[N - 1]);
    free(block);
}

/* A dense cluster of 40 heads with lone heads 2^16, 2^24 and 2^32 bytes
 * away: each bucket table splits off one lone head and keeps the
 * cluster whole, so after the last table the cluster is sorted by the
 * merge sort.  Only the pages holding heads are touched. */
Test(impl_sort, wide_bucket_after_the_last_table_is_merge_sorted)
{
    enum { CLUSTER = 40, N = CLUSTER + 3 };
    size_t len = ((size_t)1 << 32) + 4096;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert_neq(base, MAP_FAILED);
    RcGcHead *heads[N];
    size_t order[N];
    for (size_t i = 0; i < CLUSTER; i++) {
        heads[i] = (RcGcHead *)(void *)(base + 16 * i);
    }
    heads[CLUSTER] = (RcGcHead *)(void *)(base + ((size_t)1 << 16));
    heads[CLUSTER + 1] = (RcGcHead *)(void *)(base + ((size_t)1 << 24));
    heads[CLUSTER + 2] = (RcGcHead *)(void *)(base + ((size_t)1 << 32));
    for (unsigned seed = 1; seed <= 8; seed++) {
        shuffle(order, N, seed);
        GcList l;
        fill(&l, heads, order, N);
        gc_list_sort(gc, &l);
        assert_sorted(&l, N);
    }
    munmap(base, len);
}
