/* SPDX-License-Identifier: MIT */
/* mem_bench.c - memory per node and peak RSS, rcgc vs CPython.
 *
 * Each measurement runs in a fresh process (`mem-child <backend> <n>`),
 * so that one runtime's memory does not count against the other.  The
 * child makes the live random graph of n nodes (graph.c) and its own
 * arrays first, then:
 *   1. base = RSS;
 *   2. builds the graph in the runtime; built = RSS;
 *   3. runs a full collection (its own memory needs count too);
 *   4. prints the allocator block per node, RSS growth per node while
 *      building, and the peak RSS (VmHWM) over base and in absolute terms
 *      (CPython's includes its interpreter, about 10 MB).
 * One run per backend and size: the workload is deterministic.
 */
#include "bench/backend.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mem_child(int argc, char **argv)
{
    Backend b;
    Graph g;
    if (argc < 2) {
        return 2;
    }
    int id = atoi(argv[0]);
    size_t n = (size_t)atol(argv[1]);
    if (id == B_CPYTHON) {
        py_backend_init(&b);
    }
    else {
        rc_backend_init(&b);
    }
    if (!b.has_collector) {
        return 3;
    }
    graph_make(&g, SHAPE_RANDOM, n, 4242);
    void **nodes = calloc(n, sizeof(void *));
    void *root;
    if (nodes == NULL) {
        return 1;
    }
    memset(nodes, 1, n * sizeof(void *)); /* touch before the base */
    b.setup();
    size_t base = bench_rss();
    graph_build(&b, &g, nodes, &root);
    size_t built = bench_rss();
    double block = b.node_bytes();
    b.collect(2);
    size_t peak = bench_peak_rss();
    printf("block=%.1f rss_per_node=%.2f peak_delta=%.2f peak=%.2f\n", block,
           ((double)built - (double)base) / (double)n,
           ((double)peak - (double)base) / 1048576.0,
           (double)peak / 1048576.0);
    return 0;
}

enum { MM_BLOCK, MM_RSS, MM_PEAK_DELTA, MM_PEAK, MM_COUNT };

int
bench_mem(void)
{
    backends_init();
    Table *t = table_new("mem", "Memory: live random graph of 2-slot nodes",
                         backend_names, B_COUNT, B_CPYTHON);
    table_set_rounds(t, 1);
    for (int k = 0; k < bench_opts.nsizes; k++) {
        size_t n = bench_opts.sizes[k];
        Series s[MM_COUNT][B_COUNT];
        char nbuf[32], out[512], name[96], sz[16];
        memset(s, 0, sizeof s);
        snprintf(nbuf, sizeof nbuf, "%zu", n);
        snprintf(sz, sizeof sz, n >= 1000000 ? "%.3gM" : "%.3gk",
                 n >= 1000000 ? (double)n / 1e6 : (double)n / 1e3);
        fprintf(stderr, "bench mem: %zu nodes\n", n);
        for (int id = 0; id < B_COUNT; id++) {
            char idbuf[8];
            double v[MM_COUNT];
            if (!backends[id].has_collector) {
                continue;
            }
            snprintf(idbuf, sizeof idbuf, "%d", id);
            const char *args[] = {"mem-child", idbuf, nbuf, NULL};
            int rc = bench_run_child(args, out, sizeof out);
            if (rc != 0 || bench_field(out, "block", &v[MM_BLOCK]) < 0 ||
                bench_field(out, "rss_per_node", &v[MM_RSS]) < 0 ||
                bench_field(out, "peak_delta", &v[MM_PEAK_DELTA]) < 0 ||
                bench_field(out, "peak", &v[MM_PEAK]) < 0) {
                table_note(t, "%s: memory child for %zu nodes failed (%d)",
                           backend_names[id], n, rc);
                continue;
            }
            for (int m = 0; m < MM_COUNT; m++) {
                series_add(&s[m][id], v[m]);
            }
        }
        Target block = {TARGET_RATIO, B_RCGC, 1.0};
        Target none = {TARGET_NONE, 0, 0};
        snprintf(name, sizeof name, "%s nodes: allocator block per node", sz);
        table_add(t, name, "bytes", s[MM_BLOCK], &block, 1);
        snprintf(name, sizeof name, "%s nodes: RSS growth per node", sz);
        table_add(t, name, "bytes", s[MM_RSS], &none, 1);
        snprintf(name, sizeof name,
                 "%s nodes: peak RSS over base (build + full collection)", sz);
        table_add(t, name, "MiB", s[MM_PEAK_DELTA], &none, 1);
        snprintf(name, sizeof name, "%s nodes: peak RSS of the process", sz);
        table_add(t, name, "MiB", s[MM_PEAK], &none, 1);
    }
    if (!backends[B_RCGC].has_collector) {
        table_note(t, "rcgc skipped: %s", backends[B_RCGC].why);
    }
    table_note(t, "one fresh process per runtime and size; CPython's "
                  "process peak includes its interpreter.");
    table_finish(t);
    return 0;
}
