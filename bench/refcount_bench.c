/* SPDX-License-Identifier: MIT */
/* refcount_bench.c - dropping the head of a long chain, rcgc vs CPython.
 *
 * The chain (graph.c, shape `chain`): n nodes of two slots, node i ->
 * node i+1 in slot 0 and -> the last node in slot 1, the head held from
 * outside.  Dropping the head frees all n nodes through reference
 * counting alone (rcgc: its deferred-deallocation queue; CPython: the
 * trashcan of the node type's tp_dealloc), each dealloc decrefing two
 * references and returning its block.  Timed: the one decref of the
 * head; reported per node.  Automatic collection is off in both, and the
 * nodes are GC types tracked by each runtime's collector (when rcgc's
 * collector layer is built).
 * Also reported: the allocator block of one node (rcgc: the objalloc size
 * class of GC head + header + two slots; CPython: PyGC_Head + basicsize
 * = 48 bytes).  Targets (issue 3): time <= 0.8x CPython, block <= 48 B.
 */
#include "bench/backend.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>

static double
drop_chain(const Backend *b, const Graph *g, void **nodes, double *bytes,
           long *left)
{
    void *root;
    b->setup();
    graph_build(b, g, nodes, &root);
    *bytes = b->node_bytes();
    uint64_t t0 = bench_now();
    b->decref(root);
    double ns = (double)(bench_now() - t0);
    *left = b->live();
    b->teardown();
    return ns / (double)g->n;
}

int
bench_refcount(void)
{
    static const size_t sizes[] = {1000000, 4000000};
    Series bytes[B_COUNT] = {{{0}, 0}};
    char name[96];
    backends_init();
    Table *t = table_new("refcount", "Reference counting: chain drop",
                         backend_names, B_COUNT, B_CPYTHON);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = (size_t)bench_scale((long)sizes[k]);
        Series s[B_COUNT] = {{{0}, 0}};
        Graph g;
        void **nodes = malloc(n * sizeof(void *));
        if (nodes == NULL) {
            perror("bench");
            return 1;
        }
        graph_make(&g, SHAPE_CHAIN, n, 1);
        for (int r = 0; r < bench_opts.rounds; r++) {
            fprintf(stderr, "bench refcount: chain %zu, round %d/%d\n", n,
                    r + 1, bench_opts.rounds);
            for (int j = 0; j < B_COUNT; j++) {
                int id = (j + r) % B_COUNT;
                double by;
                long left;
                if (!backends[id].available) {
                    continue;
                }
                series_add(&s[id],
                           drop_chain(&backends[id], &g, nodes, &by, &left));
                if (k == 0 && r == 0) {
                    series_add(&bytes[id], by);
                }
                if (left != 0) {
                    table_note(t,
                               "%s: %ld nodes still alive after dropping "
                               "the %zu chain",
                               backend_names[id], left, n);
                }
            }
        }
        Target tg = {TARGET_RATIO, B_RCGC, 0.8};
        snprintf(name, sizeof name, "drop the head of a %.2gM chain",
                 (double)n / 1e6);
        table_add(t, name, "ns/node", s, &tg, 1);
        graph_free(&g);
        free(nodes);
    }
    Target tb = {TARGET_RATIO, B_RCGC, 1.0};
    table_add(t, "allocator block of a 2-slot node", "bytes", bytes, &tb, 1);
    if (!backends[B_RCGC].available) {
        table_note(t, "rcgc skipped: %s", backends[B_RCGC].why);
    }
    else if (!backends[B_RCGC].has_collector) {
        table_note(t,
                   "rcgc without its collector layer (%s): nodes are "
                   "not tracked",
                   backends[B_RCGC].why);
    }
    table_note(t, "nodes: 2 slots, slot 0 -> next, slot 1 -> the shared "
                  "last node; automatic collection off in both.");
    table_finish(t);
    return 0;
}
