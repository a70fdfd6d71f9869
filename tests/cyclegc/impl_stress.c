/* SPDX-License-Identifier: MIT */
/* impl_stress.c - the collector engineer's stress tests: huge cycles and
 * deep structures on a small stack, random graphs against an oracle (in
 * sorted and shuffled list orders), why_alive paths, and the emergency
 * collection when the heap's limit is reached. */
#include "impl_helpers.h"

#include <string.h>

TestSuite(impl_stress, .init = impl_setup, .fini = impl_teardown);

/* ---- 10M objects on a 256 KiB stack --------------------------------- */

typedef struct ImplBig {
    size_t n;
    int ring;       /* 1: a ring (garbage); 0: a chain held by a root */
    long collected; /* result */
} ImplBig;

static void *
impl_big_body(void *arg)
{
    ImplBig *big = arg;
    gc_disable(impl_gc);
    RcObject *first = impl_new(&impl_node_type);
    RcObject *p = first;
    for (size_t i = 1; i < big->n; i++) {
        RcObject *q = impl_new(&impl_node_type);
        impl_node(p)->slot[0] = q; /* steal */
        p = q;
    }
    if (big->ring) {
        impl_link(p, 0, first);
        rc_decref(first);
        big->collected = gc_collect(impl_gc, 2);
    }
    else {
        /* Alive: a 10M-deep chain, marked through the mark stack. */
        long n = gc_collect(impl_gc, 2);
        cr_assert_eq(n, 0);
        cr_assert_eq(gc_collect(impl_gc, 2), 0);
        /* Now garbage: the root points into a cycle at the far end. */
        impl_link(p, 0, first);
        rc_decref(first);
        big->collected = gc_collect(impl_gc, 2);
    }
    gc_enable(impl_gc);
    return NULL;
}

Test(impl_stress, ten_million_ring_collected_on_256k_stack, .timeout = 600)
{
    ImplBig big = {tc_scaled(10000000), 1, 0};
    tc_run_with_stack(256 << 10, impl_big_body, &big);
    cr_assert_eq(big.collected, (long)big.n);
}

Test(impl_stress, ten_million_deep_chain_marked_and_collected_on_256k_stack,
     .timeout = 600)
{
    ImplBig big = {tc_scaled(10000000), 0, 0};
    tc_run_with_stack(256 << 10, impl_big_body, &big);
    cr_assert_eq(big.collected, (long)big.n);
}

/* ---- random graphs against an oracle -------------------------------- */

static uint64_t impl_rng;

static uint64_t
impl_rand(void)
{
    impl_rng ^= impl_rng << 13;
    impl_rng ^= impl_rng >> 7;
    impl_rng ^= impl_rng << 17;
    return impl_rng;
}

enum { G_MAX = 3000 };

typedef struct ImplGraph {
    RcObject *obj[G_MAX]; /* NULL once collected */
    int ext[G_MAX];       /* external references we hold */
    int edge[G_MAX][2];   /* -1: none */
    unsigned char seen[G_MAX];
    int n;
} ImplGraph;

static void
impl_graph_reach(ImplGraph *g)
{
    int *stack = malloc(sizeof(int) * G_MAX * 3);
    int sp = 0;
    memset(g->seen, 0, sizeof(g->seen));
    for (int i = 0; i < g->n; i++) {
        if (g->obj[i] != NULL && g->ext[i] > 0) {
            g->seen[i] = 1;
            stack[sp++] = i;
        }
    }
    while (sp > 0) {
        int i = stack[--sp];
        for (int k = 0; k < 2; k++) {
            int j = g->edge[i][k];
            if (j >= 0 && !g->seen[j]) {
                g->seen[j] = 1;
                stack[sp++] = j;
            }
        }
    }
    free(stack);
}

static void
impl_graph_round(ImplGraph *g, int shuffle_freeze)
{
    RcHeap *rc = gc_heap_rc(impl_gc);
    /* Mutate: new nodes, new edges, drop and take external refs. */
    int add = 1 + (int)(impl_rand() % 200);
    for (int k = 0; k < add && g->n < G_MAX; k++) {
        int i = g->n++;
        g->obj[i] = impl_new(&impl_node_type);
        impl_node(g->obj[i])->tag = i;
        g->ext[i] = 1;
        g->edge[i][0] = g->edge[i][1] = -1;
    }
    /* Hold every node while mutating, so that nothing dies under us. */
    for (int i = 0; i < g->n; i++) {
        rc_xincref(g->obj[i]);
    }
    for (int k = 0; k < 300; k++) {
        int i = (int)(impl_rand() % (uint64_t)g->n);
        int j = (int)(impl_rand() % (uint64_t)g->n);
        if (g->obj[i] == NULL) {
            continue;
        }
        int s = (int)(impl_rand() & 1);
        /* A live node can only point at a node still alive. */
        if (g->obj[j] == NULL || impl_rand() % 8 == 0) {
            j = -1;
        }
        impl_link(g->obj[i], s, j >= 0 ? g->obj[j] : NULL);
        g->edge[i][s] = j;
    }
    for (int k = 0; k < 100; k++) {
        int i = (int)(impl_rand() % (uint64_t)g->n);
        if (g->obj[i] == NULL) {
            continue;
        }
        if (g->ext[i] > 0 && impl_rand() % 3 != 0) {
            g->ext[i]--;
            rc_decref(g->obj[i]);
        }
        else if (g->ext[i] < 3) {
            g->ext[i]++;
            rc_incref(g->obj[i]);
        }
    }
    if (shuffle_freeze) {
        /* Scramble list order: untrack and retrack at random. */
        for (int i = 0; i < g->n; i++) {
            if (g->obj[i] != NULL && gc_is_tracked(g->obj[i]) &&
                impl_rand() % 2) {
                gc_untrack(g->obj[i]);
                gc_track(g->obj[i]);
            }
        }
    }
    for (int i = 0; i < g->n; i++) {
        rc_xdecref(g->obj[i]);
    }
    /* Refcounting alone may have freed some nodes: forget them. */
    impl_graph_reach(g);
    OaHeap *oa = rc_heap_oa(rc);
    if (shuffle_freeze && impl_rand() % 2) {
        /* No bookkeeping memory: the collection sorts in place and
         * needs none. */
        oa_heap_fail_nth(oa, OA_FAIL_META, 1, 1);
    }
    gc_collect(impl_gc, 2);
    oa_heap_fail_nth(oa, OA_FAIL_ALL, 0, 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    size_t alive = 0;
    for (int i = 0; i < g->n; i++) {
        if (g->obj[i] == NULL) {
            continue;
        }
        if (!g->seen[i]) {
            g->obj[i] = NULL; /* must be gone */
            g->edge[i][0] = g->edge[i][1] = -1;
            continue;
        }
        alive++;
        RcObject *op = g->obj[i];
        cr_assert_eq(impl_node(op)->tag, i);
        for (int k = 0; k < 2; k++) {
            RcObject *t = impl_node(op)->slot[k];
            int j = g->edge[i][k];
            cr_assert_eq(t, j >= 0 ? g->obj[j] : NULL, "node %d slot %d", i,
                         k);
        }
    }
    cr_assert_eq(rc_live_total(rc), alive);
    /* Edges into dead nodes no longer exist (their sources are dead). */
    for (int i = 0; i < g->n; i++) {
        for (int k = 0; k < 2; k++) {
            if (g->obj[i] == NULL) {
                g->edge[i][k] = -1;
            }
        }
    }
}

static void
impl_graph_run(uint64_t seed, int rounds, int shuffle)
{
    ImplGraph *g = calloc(1, sizeof(ImplGraph));
    impl_rng = seed;
    for (int r = 0; r < rounds; r++) {
        impl_graph_round(g, shuffle);
    }
    for (int i = 0; i < g->n; i++) {
        while (g->obj[i] != NULL && g->ext[i] > 0) {
            g->ext[i]--;
            rc_decref(g->obj[i]);
        }
    }
    free(g);
}

Test(impl_stress, random_graphs_match_the_oracle_in_address_order)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        impl_graph_run(seed * 0x9E3779B97F4A7C15u, 15, 0);
        gc_collect(impl_gc, 2);
    }
}

Test(impl_stress, random_graphs_match_the_oracle_in_shuffled_order)
{
    for (uint64_t seed = 11; seed <= 14; seed++) {
        impl_graph_run(seed * 0x9E3779B97F4A7C15u, 15, 1);
        gc_collect(impl_gc, 2);
    }
}

/* ---- why_alive ------------------------------------------------------ */

Test(impl_stress, why_alive_gives_a_shortest_path_from_an_external_root)
{
    /* root -> a -> b -> c, and a cycle c -> a; plus root -> c? no. */
    RcObject *root = impl_new(&impl_node_type);
    RcObject *a = impl_new(&impl_node_type);
    RcObject *b = impl_new(&impl_node_type);
    RcObject *c = impl_new(&impl_node_type);
    impl_link(root, 0, a);
    impl_link(a, 0, b);
    impl_link(b, 0, c);
    impl_link(c, 0, a);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    gc_collect(impl_gc, 1); /* spread over generations */
    RcObject *path[8];
    cr_assert_eq(gc_why_alive(impl_gc, c, path, 8), 4);
    cr_assert_eq(path[0], root);
    cr_assert_eq(path[1], a);
    cr_assert_eq(path[2], b);
    cr_assert_eq(path[3], c);
    cr_assert_eq(gc_why_alive(impl_gc, root, path, 8), 1);
    cr_assert_eq(path[0], root);
    cr_assert_eq(gc_why_alive(impl_gc, c, path, 2), 4);
    cr_assert_eq(path[1], a);
    cr_assert_eq(gc_check(impl_gc), 0);
    rc_decref(root);
    /* Cyclic garbage now: no path. */
    cr_assert_eq(gc_why_alive(impl_gc, b, path, 8), 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_collect(impl_gc, 2), 3); /* root died by refcount */
}

Test(impl_stress, why_alive_reports_out_of_memory)
{
    RcObject *a = impl_new(&impl_node_type);
    RcObject *path[2];
    oa_heap_fail_nth(rc_heap_oa(gc_heap_rc(impl_gc)), OA_FAIL_META, 1, 1);
    cr_assert_eq(gc_why_alive(impl_gc, a, path, 2), (size_t)-1);
    oa_heap_fail_nth(rc_heap_oa(gc_heap_rc(impl_gc)), OA_FAIL_ALL, 0, 0);
    cr_assert_not_null(strstr(gc_error(impl_gc), "out of memory"));
    cr_assert_eq(gc_check(impl_gc), 0);
    cr_assert_eq(gc_why_alive(impl_gc, a, path, 2), 1);
    rc_decref(a);
}

/* ---- emergency collection ------------------------------------------- */

Test(impl_stress, allocation_at_the_limit_collects_cyclic_garbage_first)
{
    RcHeap *rc = gc_heap_rc(impl_gc);
    OaHeap *oa = rc_heap_oa(rc);
    gc_disable(impl_gc);
    OaStats st;
    oa_heap_stats(oa, &st);
    oa_heap_set_limit(oa, st.bytes_mapped + st.large_bytes + st.meta_bytes +
                              4 * OA_ARENA_SIZE);
    size_t made = 0;
    for (; made < 400000; made++) {
        RcObject *a = rc_new(rc, &impl_node_type);
        cr_assert_not_null(a, "allocation %zu failed: %s", made,
                           rc_heap_error(rc));
        impl_link(a, 0, a);
        rc_decref(a);
    }
    GcEvent ev[GC_EVENT_LOG];
    size_t n = gc_events(impl_gc, ev, GC_EVENT_LOG);
    cr_assert_gt(n, 0);
    cr_assert_eq(ev[0].reason, GC_REASON_PRESSURE);
    cr_assert_eq(ev[0].generation, 2);
    oa_heap_set_limit(oa, 0);
    gc_enable(impl_gc);
}

/* ---- a big list far from address order gets sorted, in place -------- */

/* Drop the references v[1..n) (v[0], the chain's head, stays held),
 * collect with every bookkeeping allocation
 * failing and none counted (the sort works in place: no memory in
 * proportion to the heap), then check that the n / 2 survivors are in
 * address order and still chained by tag.  Returns the chain's head
 * (the caller's reference). */
static RcObject *
collect_in_place_and_check_chain(RcObject **v, int n)
{
    for (int i = 1; i < n; i++) {
        rc_decref(v[i]);
    }
    OaHeap *oa = rc_heap_oa(gc_heap_rc(impl_gc));
    oa_heap_fail_nth(oa, OA_FAIL_META, 1, 1);
    cr_assert_eq(gc_collect(impl_gc, 2), n / 2);
    cr_assert_eq(oa_heap_sys_requests(oa), 0);
    oa_heap_fail_nth(oa, OA_FAIL_ALL, 0, 0);
    cr_assert_eq(gc_check(impl_gc), 0);
    size_t kept = gc_get_objects(impl_gc, 2, v, (size_t)n);
    cr_assert_eq(kept, (size_t)n / 2);
    for (size_t i = 1; i < kept; i++) {
        cr_assert_lt((uintptr_t)v[i - 1], (uintptr_t)v[i],
                     "survivors not in address order at %zu", i);
    }
    /* The chain is intact: walk it from its head (tag 0). */
    RcObject *head = NULL;
    for (size_t i = 0; i < kept; i++) {
        if (impl_node(v[i])->tag == 0) {
            head = v[i];
        }
    }
    cr_assert_not_null(head);
    long expect = 0;
    for (RcObject *q = head; q != NULL; q = impl_node(q)->slot[0]) {
        cr_assert_eq(impl_node(q)->tag, expect);
        expect += 2;
    }
    cr_assert_eq(expect, n);
    return head;
}

Test(impl_stress,
     big_shuffled_generation_is_collected_and_left_in_address_order)
{
    enum { N = 40000 };
    RcObject **v = malloc(N * sizeof(RcObject *));
    gc_disable(impl_gc);
    impl_rng = 77;
    for (int i = 0; i < N; i++) {
        v[i] = impl_new(&impl_node_type);
        impl_node(v[i])->tag = i;
    }
    /* Even nodes: a chain from v[0]; odd nodes: 2-cycles (garbage). */
    for (int i = 0; i + 2 < N; i += 2) {
        impl_link(v[i], 0, v[i + 2]);
    }
    for (int i = 1; i + 2 < N; i += 4) {
        impl_link(v[i], 0, v[i + 2]);
        impl_link(v[i + 2], 0, v[i]);
    }
    /* Scramble the list: retrack in a random order. */
    for (int k = 0; k < N; k++) {
        int j = (int)(impl_rand() % N);
        gc_untrack(v[j]);
        gc_track(v[j]);
    }
    RcObject *head = collect_in_place_and_check_chain(v, N);
    free(v);
    rc_decref(head);
    gc_enable(impl_gc);
}

/* ---- a big list shuffled inside its address windows ----------------- */

static int
cmp_addr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (RcObject *const *)a;
    uintptr_t y = (uintptr_t) * (RcObject *const *)b;
    return (x > y) - (x < y);
}

/* The 16 KiB address window of op's GC header (cyclegc's GC_NEAR). */
static uintptr_t
window_of(RcObject *op)
{
    return (uintptr_t)rc_gc_head(op) >> 14;
}

/* The order of a heap that freed and reused its blocks: windows in
 * address order, objects shuffled inside each.  The collection sorts the
 * windows in place (collect.c's maybe_sort), finds the same garbage and
 * leaves the survivors in address order. */
Test(impl_stress, generation_shuffled_inside_windows_is_left_in_order)
{
    enum { N = 40000 };
    RcObject **v = malloc(N * sizeof(RcObject *));
    RcObject **by_addr = malloc(N * sizeof(RcObject *));
    gc_disable(impl_gc);
    impl_rng = 78;
    for (int i = 0; i < N; i++) {
        v[i] = impl_new(&impl_node_type);
        impl_node(v[i])->tag = i;
    }
    for (int i = 0; i + 2 < N; i += 2) {
        impl_link(v[i], 0, v[i + 2]); /* even: a chain from v[0] */
    }
    for (int i = 1; i + 2 < N; i += 4) {
        impl_link(v[i], 0, v[i + 2]); /* odd: 2-cycles, garbage */
        impl_link(v[i + 2], 0, v[i]);
    }
    memcpy(by_addr, v, N * sizeof(RcObject *));
    qsort(by_addr, N, sizeof(RcObject *), cmp_addr);
    /* Retrack window by window, each window's objects shuffled. */
    for (size_t lo = 0; lo < N;) {
        uintptr_t win = window_of(by_addr[lo]);
        size_t hi = lo;
        while (hi < N && window_of(by_addr[hi]) == win) {
            hi++;
        }
        for (size_t k = hi - 1; k > lo; k--) {
            size_t j = lo + impl_rand() % (k - lo + 1);
            RcObject *t = by_addr[k];
            by_addr[k] = by_addr[j];
            by_addr[j] = t;
        }
        for (size_t k = lo; k < hi; k++) {
            gc_untrack(by_addr[k]);
            gc_track(by_addr[k]);
        }
        lo = hi;
    }
    RcObject *head = collect_in_place_and_check_chain(v, N);
    free(by_addr);
    free(v);
    rc_decref(head);
    gc_enable(impl_gc);
}
