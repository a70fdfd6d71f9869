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

/* n heads 48 bytes apart, as 2-slot nodes, in heads[]; the block to
 * free. */
static RcGcHead *
spaced_heads(RcGcHead **heads, size_t n)
{
    RcGcHead *block = aligned_alloc(16, n * 3 * sizeof(RcGcHead));
    cr_assert_not_null(block);
    for (size_t i = 0; i < n; i++) {
        heads[i] = &block[3 * i];
    }
    return block;
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
    RcGcHead *heads[N];
    size_t order[N];
    RcGcHead *block = spaced_heads(heads, N);
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

/* The first walk takes objects from both ends of the list until they
 * meet: lists of odd and even lengths, down to one object, each lose
 * none and take none twice. */
Test(impl_sort, every_length_from_both_ends_comes_out_whole)
{
    enum { MAXN = 1001 };
    static const size_t lengths[] = {1, 2, 3, 4, 5, 16, 17, 18, 1000, 1001};
    RcGcHead *heads[MAXN];
    size_t order[MAXN];
    RcGcHead *block = spaced_heads(heads, MAXN);
    for (size_t t = 0; t < sizeof(lengths) / sizeof(lengths[0]); t++) {
        size_t n = lengths[t];
        shuffle(order, n, (unsigned)(7 + n));
        GcList l;
        fill(&l, heads, order, n);
        gc_list_sort(gc, &l);
        assert_sorted(&l, n);
        cr_assert_eq(l.lo, (uintptr_t)heads[0], "length %zu", n);
        cr_assert_eq(l.hi, (uintptr_t)heads[n - 1], "length %zu", n);
    }
    free(block);
}

/* The sort for the reachability passes: the next links run through every
 * object once in address order, the sentinel links both ends, the
 * bounds are reset, and each prev word is left as it was (a real link
 * to the old neighbour, which the passes overwrite). */
Test(impl_sort, sort_next_orders_the_next_links_and_leaves_prev_alone)
{
    enum { N = 3000 };
    RcGcHead *heads[N];
    uintptr_t before[N];
    size_t order[N];
    RcGcHead *block = spaced_heads(heads, N);
    shuffle(order, N, 5);
    GcList l;
    fill(&l, heads, order, N);
    for (size_t i = 0; i < N; i++) {
        before[i] = heads[i]->prev;
    }
    gc_list_sort_next(gc, &l);
    size_t k = 0;
    for (RcGcHead *g = gc_list_first(&l); g != &l.head; g = gc_next(g)) {
        cr_assert_lt(k, N, "the next links run past the objects");
        cr_assert_eq(g, heads[k], "object %zu in address order", k);
        cr_assert_eq(g->prev, before[k], "prev word of object %zu", k);
        k++;
    }
    cr_assert_eq(k, N);
    cr_assert_eq(gc_prev(&l.head), heads[N - 1]);
    cr_assert_eq(l.descents, 0);
    cr_assert_eq(l.backsteps, 0);
    cr_assert_geq(l.size_ub, N);
    cr_assert_eq(l.lo, (uintptr_t)heads[0]);
    cr_assert_eq(l.hi, (uintptr_t)heads[N - 1]);
    free(block);
}

/* A sparse cluster of 40 heads, 4 KiB apart (160 KiB: too wide for a
 * bucket's bitmap), with lone heads 2^24, 2^28 and 2^32 bytes away:
 * each bucket table splits off one lone head and keeps the cluster
 * whole, so after the last table the cluster is sorted by the merge
 * sort.  Only the pages holding heads are touched. */
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
        heads[i] = (RcGcHead *)(void *)(base + 4096 * i);
    }
    heads[CLUSTER] = (RcGcHead *)(void *)(base + ((size_t)1 << 24));
    heads[CLUSTER + 1] = (RcGcHead *)(void *)(base + ((size_t)1 << 28));
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

/* ---- gc_list_sort_windows ------------------------------------------- */

enum { WIN_HEADS = GC_NEAR / (3 * sizeof(RcGcHead)) }; /* 48-byte nodes */

/* heads[w * WIN_HEADS + i]: the i-th 48-byte node of window w of block. */
static RcGcHead *
window_head(char *block, size_t w, size_t i)
{
    return (RcGcHead *)(void *)(block + w * GC_NEAR +
                                i * 3 * sizeof(RcGcHead));
}

/* Append the heads of window w of block to l in a shuffled order. */
static void
append_shuffled_window(GcList *l, char *block, size_t w, unsigned seed)
{
    size_t order[WIN_HEADS];
    shuffle(order, WIN_HEADS, seed);
    for (size_t i = 0; i < WIN_HEADS; i++) {
        gc_list_append(l, window_head(block, w, order[i]));
    }
}

Test(impl_sort, windows_in_order_shuffled_inside_come_out_sorted)
{
    enum { WINDOWS = 6 };
    char *block = aligned_alloc(GC_NEAR, WINDOWS * GC_NEAR);
    cr_assert_not_null(block);
    GcList l;
    gc_list_init(&l);
    for (size_t w = 0; w < WINDOWS; w++) {
        append_shuffled_window(&l, block, w, (unsigned)w + 1);
    }
    cr_assert_eq(l.descents, 0);
    cr_assert_gt(l.backsteps, WINDOWS * WIN_HEADS / 4);
    gc_list_sort_windows(&l);
    assert_sorted(&l, WINDOWS * WIN_HEADS);
    cr_assert_eq(l.backsteps, 0);
    free(block);
}

/* Windows 2, 0, 1: each stretch is sorted, the order of the windows (and
 * so the descent between window 2 and window 0) stays; a stretch that is
 * sorted already keeps its links. */
Test(impl_sort, windows_keep_their_order_and_sorted_stretches_stay)
{
    char *block = aligned_alloc(GC_NEAR, 3 * GC_NEAR);
    cr_assert_not_null(block);
    GcList l;
    gc_list_init(&l);
    append_shuffled_window(&l, block, 2, 7);
    append_shuffled_window(&l, block, 0, 8);
    for (size_t i = 0; i < WIN_HEADS; i++) {
        gc_list_append(&l, window_head(block, 1, i));
    }
    cr_assert_eq(l.descents, 1);
    gc_list_sort_windows(&l);
    cr_assert_eq(l.descents, 1);
    cr_assert_eq(l.backsteps, 1);
    RcGcHead *g = gc_list_first(&l);
    RcGcHead *prev = &l.head;
    size_t windows[3] = {2, 0, 1};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < WIN_HEADS; i++) {
            cr_assert_eq(g, window_head(block, windows[k], i),
                         "window %zu, head %zu", windows[k], i);
            cr_assert_eq(gc_prev(g), prev);
            prev = g;
            g = gc_next(g);
        }
    }
    cr_assert_eq(g, &l.head);
    cr_assert_eq(gc_prev(&l.head), prev);
    free(block);
}

/* backsteps counts every step to a lower address (descents among them),
 * on append and across a merge. */
Test(impl_sort, backsteps_count_steps_down_on_append_and_merge)
{
    RcGcHead *block = aligned_alloc(GC_NEAR, 2 * GC_NEAR);
    cr_assert_not_null(block);
    size_t far = GC_NEAR / sizeof(RcGcHead); /* next window */
    GcList a, b;
    gc_list_init(&a);
    gc_list_init(&b);
    gc_list_append(&a, &block[4]);
    gc_list_append(&a, &block[2]);       /* back, same window */
    gc_list_append(&a, &block[far + 1]); /* up */
    gc_list_append(&a, &block[6]);       /* back, a descent */
    cr_assert_eq(a.backsteps, 2);
    cr_assert_eq(a.descents, 1);
    gc_list_append(&b, &block[0]);
    gc_list_append(&b, &block[8]);
    gc_list_merge(&b, &a); /* 6 -> 0: back, same window */
    cr_assert_eq(a.backsteps, 3);
    cr_assert_eq(a.descents, 1);
    cr_assert_eq(a.size_ub, 6);
    free(block);
}

/* The first walk from several chain starts at once (a full collection's
 * sort: gc_list_sort_next_from): starts at the first object, equal
 * neighbours, the last object, and as many as allowed, spread evenly;
 * each time every object comes out once, in address order. */
Test(impl_sort, sort_from_chain_starts_comes_out_whole)
{
    enum { N = 3000 };
    RcGcHead *heads[N];
    size_t order[N];
    RcGcHead *block = spaced_heads(heads, N);
    /* positions in list order of the starts of each case */
    static const size_t c0[] = {0, 1, 1, 500, 1500, N - 1};
    static const size_t c1[] = {N - 1};
    static const size_t c2[] = {2, 2, 2};
    size_t c3[GC_SORT_CHAINS - 1];
    for (size_t i = 0; i < GC_SORT_CHAINS - 1; i++) {
        c3[i] = (i + 1) * (N / GC_SORT_CHAINS);
    }
    const size_t *cases[] = {c0, c1, c2, c3};
    const size_t ncases[] = {6, 1, 3, GC_SORT_CHAINS - 1};
    for (size_t t = 0; t < 4; t++) {
        shuffle(order, N, (unsigned)(11 + t));
        GcList l;
        fill(&l, heads, order, N);
        RcGcHead *starts[GC_SORT_CHAINS - 1];
        for (size_t i = 0; i < ncases[t]; i++) {
            starts[i] = heads[order[cases[t][i]]];
        }
        gc_list_sort_next_from(gc, &l, starts, ncases[t]);
        size_t k = 0;
        for (RcGcHead *g = gc_list_first(&l); g != &l.head; g = gc_next(g)) {
            cr_assert_lt(k, N, "case %zu: the next links run past", t);
            cr_assert_eq(g, heads[k], "case %zu: object %zu", t, k);
            k++;
        }
        cr_assert_eq(k, N, "case %zu", t);
        cr_assert_eq(gc_prev(&l.head), heads[N - 1]);
    }
    free(block);
}
