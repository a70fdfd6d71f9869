/* SPDX-License-Identifier: MIT */
/* pause_bench.c - pauses and memory: stop-the-world vs pause-bounded vs
 * CPython.
 *
 *   rcgc-bench pause [--quick] [--sizes N]
 *
 * Each (workload, mode) runs in a fresh process (`pause-child <mode>
 * <workload> <n>`) so that its peak RSS is its own.  Modes: rcgc
 * stop-the-world ("stw"), rcgc with a 2 ms pause budget ("inc"), and
 * CPython 3.11's collector ("cpython").  Automatic collection is on, as
 * a program runs.  A pause is what the program sees: the wall time of an
 * allocation during which one or more collections ran (a young
 * collection followed by an increment is one pause); collector time is
 * the sum of the collections' own durations (start/stop callbacks).
 *
 * Workloads (n: the --sizes value, default 4M; --quick: 200k):
 *   graph     a live random graph of n two-slot nodes, each held by the
 *             program; 2n steps, each replacing a random node by a new
 *             one wired to random nodes, rewriting a random slot, and
 *             allocating a 3-node garbage ring.  Replaced nodes die by
 *             refcount or, in cycles, become old cyclic garbage.
 *   requests  100k requests (quick: 20k), each a 2-node cycle holding a
 *             64 KiB payload; the last 256 stay in flight.
 *   list      a doubly linked list of n/4 nodes, grown at its tail and
 *             trimmed a quarter at a time at the other end: each trimmed
 *             piece is an old doubly linked (cyclic) chain; 2n appends.
 *   growing   chunks of 64 nodes (a ring with chords); each new chunk
 *             is kept and, every other chunk, the oldest kept one of the
 *             first half is dropped: the heap grows while old parts turn
 *             to garbage; n nodes made in all.
 * Each step allocates; pauses are measured only in the mutation phase
 * (after building the graph and a full collection).
 */
#include "bench/backend.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUDGET_US 2000

static const char *const modes[] = {"stw", "inc", "cpython"};
static const char *const mode_names[] = {
    "rcgc stop-the-world", "rcgc pause-bounded (2 ms)", "CPython 3.11"};
#define NMODES 3
static const char *const workloads[] = {"graph", "requests", "list",
                                        "growing"};
#define NWORK 4

/* ---- the child ------------------------------------------------------- */

typedef struct Run {
    const Backend *b;
    PauseLog log;
    uint64_t *pause;
    size_t npause, cap;
    Rng rng;
} Run;

/* A new node, timed: a pause when a collection ran meanwhile. */
static void *
alloc(Run *r)
{
    size_t before = r->log.n;
    uint64_t t0 = bench_now();
    void *x = r->b->node_new();
    if (r->log.n != before) {
        uint64_t dt = bench_now() - t0;
        if (r->npause == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 4096;
            r->pause = realloc(r->pause, r->cap * sizeof(uint64_t));
            if (r->pause == NULL) {
                exit(1);
            }
        }
        r->pause[r->npause++] = dt;
    }
    return x;
}

static void
ring3(Run *r)
{
    void *a = alloc(r), *b = alloc(r), *c = alloc(r);
    r->b->set_slot(a, 0, b);
    r->b->set_slot(b, 0, c);
    r->b->set_slot(c, 0, a);
    r->b->decref(a);
    r->b->decref(b);
    r->b->decref(c);
}

static void
work_graph(Run *r, size_t n, int measure)
{
    const Backend *b = r->b;
    void **v = malloc(n * sizeof(void *));
    if (v == NULL) {
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = b->node_new();
        for (int k = 0; k < 2 && i > 0; k++) {
            b->set_slot(v[i], k, v[rng_below(&r->rng, i)]);
        }
    }
    b->collect(2);
    if (measure) {
        b->pauses_start(&r->log);
    }
    for (size_t s = 0; s < 2 * n; s++) {
        size_t i = rng_below(&r->rng, n);
        void *x = alloc(r);
        b->set_slot(x, 0, v[rng_below(&r->rng, n)]);
        b->set_slot(x, 1, v[rng_below(&r->rng, n)]);
        b->decref(v[i]);
        v[i] = x;
        b->set_slot(v[rng_below(&r->rng, n)], (int)(s & 1),
                    v[rng_below(&r->rng, n)]);
        ring3(r);
    }
    b->pauses_stop();
    for (size_t i = 0; i < n; i++) {
        b->decref(v[i]);
    }
    free(v);
}

static void
work_requests(Run *r, size_t nreq)
{
    const Backend *b = r->b;
    void *flight[256] = {0};
    b->pauses_start(&r->log);
    for (size_t q = 0; q < nreq; q++) {
        void *a = alloc(r), *c = alloc(r);
        b->set_slot(a, 0, c);
        b->set_slot(c, 0, a);
        void *blob = b->blob_new(65536);
        b->set_slot(a, 1, blob);
        b->decref(blob);
        b->decref(c);
        void **slot = &flight[q & 255];
        if (*slot != NULL) {
            b->decref(*slot);
        }
        *slot = a;
    }
    b->pauses_stop();
    for (int i = 0; i < 256; i++) {
        if (flight[i] != NULL) {
            b->decref(flight[i]);
        }
    }
}

static void
work_list(Run *r, size_t n)
{
    const Backend *b = r->b;
    size_t live = n / 4 > 16 ? n / 4 : 16, cut = live / 4;
    void *nil = b->node_new();
    void *holder = b->node_new(); /* slot 0: the head */
    void **order = malloc((live + cut + 1) * sizeof(void *)); /* borrowed */
    if (order == NULL) {
        exit(1);
    }
    size_t len = 0;
    void *tail = NULL;
    b->pauses_start(&r->log);
    for (size_t s = 0; s < 2 * n; s++) {
        void *x = alloc(r);
        b->set_slot(x, 0, nil);
        if (tail == NULL) {
            b->set_slot(holder, 0, x);
            b->set_slot(x, 1, nil);
        }
        else {
            b->set_slot(tail, 0, x); /* next */
            b->set_slot(x, 1, tail); /* prev */
        }
        b->decref(x);
        tail = x;
        order[len++] = x;
        if (len == live + cut) {
            /* trim: the first `cut` nodes become a garbage chain */
            void *head = order[cut];
            b->set_slot(holder, 0, head);
            b->set_slot(head, 1, nil);
            memmove(order, order + cut, live * sizeof(void *));
            len = live;
        }
    }
    b->pauses_stop();
    free(order);
    b->decref(holder);
    b->decref(nil);
}

static void
work_growing(Run *r, size_t n)
{
    const Backend *b = r->b;
    size_t nchunks = n / 64 + 1;
    void **chunk = calloc(nchunks, sizeof(void *));
    if (chunk == NULL) {
        exit(1);
    }
    size_t dropped = 0;
    b->pauses_start(&r->log);
    for (size_t c = 0; c < nchunks; c++) {
        void *first = alloc(r), *prev = first;
        for (int k = 1; k < 64; k++) {
            void *x = alloc(r);
            b->set_slot(prev, 0, x);
            b->set_slot(x, 1, first);
            if (prev != first) {
                b->decref(prev);
            }
            prev = x;
        }
        b->set_slot(prev, 0, first);
        if (prev != first) {
            b->decref(prev);
        }
        chunk[c] = first;
        if (c % 2 == 1 && dropped < c / 2) {
            b->decref(chunk[dropped]);
            chunk[dropped++] = NULL;
        }
    }
    b->pauses_stop();
    for (size_t c = 0; c < nchunks; c++) {
        if (chunk[c] != NULL) {
            b->decref(chunk[c]);
        }
    }
    free(chunk);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int
pause_child(int argc, char **argv)
{
    if (argc < 3) {
        return 2;
    }
    int mode = -1, wl = -1;
    for (int i = 0; i < NMODES; i++) {
        mode = strcmp(argv[0], modes[i]) == 0 ? i : mode;
    }
    for (int i = 0; i < NWORK; i++) {
        wl = strcmp(argv[1], workloads[i]) == 0 ? i : wl;
    }
    size_t n = (size_t)strtoull(argv[2], NULL, 10);
    if (mode < 0 || wl < 0 || n == 0) {
        return 2;
    }
    Backend b;
    if (mode == 2) {
        py_backend_init(&b);
    }
    else {
        rc_backend_pause_budget(mode == 1 ? BUDGET_US : 0);
        rc_backend_init(&b);
    }
    if (!b.has_collector || b.blob_new == NULL) {
        return 3;
    }
    Run r = {.b = &b};
    rng_seed(&r.rng, 16);
    pauselog_init(&r.log, 1u << 22);
    b.setup();
    b.auto_gc(1);
    size_t base = bench_rss();
    switch (wl) {
        case 0:
            work_graph(&r, n, 1);
            break;
        case 1:
            work_requests(&r, n);
            break;
        case 2:
            work_list(&r, n);
            break;
        default:
            work_growing(&r, n);
            break;
    }
    size_t peak = bench_peak_rss();
    uint64_t total = 0;
    for (size_t i = 0; i < r.log.n; i++) {
        total += r.log.ns[i];
    }
    qsort(r.pause, r.npause, sizeof(uint64_t), cmp_u64);
    double mx = r.npause ? (double)r.pause[r.npause - 1] : 0;
    double p99 = r.npause ? (double)r.pause[(r.npause * 99) / 100] : 0;
    double p50 = r.npause ? (double)r.pause[r.npause / 2] : 0;
    printf("max=%.0f p99=%.0f p50=%.0f total=%llu peak=%zu base=%zu "
           "pauses=%zu collections=%zu\n",
           mx, p99, p50, (unsigned long long)total, peak, base, r.npause,
           r.log.n);
    /* collector time per generation (increments count as generation 2):
     * where the difference between the modes lies */
    uint64_t gtot[3] = {0, 0, 0}, gmax[3] = {0, 0, 0};
    size_t gn[3] = {0, 0, 0};
    for (size_t i = 0; i < r.log.n; i++) {
        int g = r.log.gen[i] < 3 ? r.log.gen[i] : 2;
        gtot[g] += r.log.ns[i];
        gmax[g] = r.log.ns[i] > gmax[g] ? r.log.ns[i] : gmax[g];
        gn[g]++;
    }
    fprintf(stderr,
            "  collector time (longest) by generation: 0: %.0f ms (%.2f), "
            "1: %.0f ms (%.2f), 2: %.0f ms (%.2f), collections %zu, %zu, "
            "%zu\n",
            (double)gtot[0] / 1e6, (double)gmax[0] / 1e6,
            (double)gtot[1] / 1e6, (double)gmax[1] / 1e6,
            (double)gtot[2] / 1e6, (double)gmax[2] / 1e6, gn[0], gn[1], gn[2]);
    if (b.describe != NULL) {
        char line[400];
        b.describe(line, sizeof line);
        fprintf(stderr, "  %s\n", line);
    }
    b.teardown();
    pauselog_free(&r.log);
    free(r.pause);
    return 0;
}

/* ---- the table ------------------------------------------------------- */

int
bench_pause(void)
{
    size_t n = bench_opts.quick ? 200000 : 4000000;
    if (!bench_opts.quick && bench_opts.nsizes > 0 &&
        bench_opts.sizes[0] != 100000) {
        n = bench_opts.sizes[0];
    }
    size_t nreq = bench_opts.quick ? 20000 : 100000;
    char path[512];
    snprintf(path, sizeof path, "%s/pause.md", bench_opts.outdir);
    FILE *md = fopen(path, "w");
    printf("\n## Pauses and peak RSS: stop-the-world vs pause-bounded (2 ms "
           "budget) vs CPython\n\n");
    const char *head = "| workload | mode | max pause | p99 | p50 | pauses "
                       "| collector time | peak RSS | RSS vs stw |\n"
                       "|---|---|---|---|---|---|---|---|---|\n";
    printf("%s", head);
    if (md != NULL) {
        fprintf(md,
                "### Pauses and peak RSS: stop-the-world vs pause-bounded "
                "(2 ms budget) vs CPython\n\n"
                "One fresh process per row; automatic collection on; a "
                "pause is the thread CPU time of an allocation during which "
                "collections ran (a young collection and the increment "
                "after it are one pause); collector time sums the "
                "collections' own durations; RSS ratio to rcgc "
                "stop-the-world in the same run.  Targets: max pause <= "
                "5 ms, peak RSS <= 1.10x, collector time <= 1.25x.\n\n%s",
                head);
    }
    for (int w = 0; w < NWORK; w++) {
        double stw_peak = 0;
        for (int m = 0; m < NMODES; m++) {
            char nbuf[32], out[512];
            snprintf(nbuf, sizeof nbuf, "%zu", w == 1 ? nreq : n);
            const char *args[] = {"pause-child", modes[m], workloads[w], nbuf,
                                  NULL};
            fprintf(stderr, "bench pause: %s, %s, %s\n", workloads[w],
                    modes[m], nbuf);
            double mx, p99, p50, total, peak, np;
            int rc = bench_run_child(args, out, sizeof out);
            if (rc != 0 || bench_field(out, "max", &mx) < 0 ||
                bench_field(out, "p99", &p99) < 0 ||
                bench_field(out, "p50", &p50) < 0 ||
                bench_field(out, "total", &total) < 0 ||
                bench_field(out, "peak", &peak) < 0 ||
                bench_field(out, "pauses", &np) < 0) {
                printf("| %s (%s) | %s | child failed (%d) |||||||\n",
                       workloads[w], nbuf, mode_names[m], rc);
                continue;
            }
            if (m == 0) {
                stw_peak = peak;
            }
            char line[400];
            snprintf(line, sizeof line,
                     "| %s (%s) | %s | %.2f ms | %.2f ms | %.3f ms | %.0f | "
                     "%.0f ms | %.0f MiB | %.2fx |\n",
                     workloads[w], nbuf, mode_names[m], mx / 1e6, p99 / 1e6,
                     p50 / 1e6, np, total / 1e6, peak / 1048576.0,
                     stw_peak > 0 ? peak / stw_peak : 0.0);
            printf("%s", line);
            fflush(stdout);
            if (md != NULL) {
                fputs(line, md);
            }
        }
    }
    if (md != NULL) {
        fclose(md);
    }
    return 0;
}
