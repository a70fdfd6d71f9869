/* SPDX-License-Identifier: MIT */
/* young_bench.c - automatic collection of a young generation under an
 * allocating workload, rcgc vs CPython, at the same thresholds.
 *
 * Workload (identical in both, thresholds (2000, 10, 10) in both, the
 * default of CPython 3.13+ and of rcgc): a heap of 50k long-lived
 * "survivor" nodes, then for each iteration
 *   - a 2-cycle of new nodes (a <-> b) whose second slot refers to a
 *     random survivor, dropped at once: young cyclic garbage;
 *   - every 4th iteration a new node, referring to a random survivor,
 *     replaces the oldest survivor (which dies unless still referenced).
 * Each collection is timed from the runtime's start/stop callbacks with
 * the bench's clock.  Reported: the generation-0 pause distribution (p50,
 * p99, max), collections per generation, the share of the workload's time
 * spent collecting, the time per iteration, and per generation the time
 * per iteration its collections took and the objects they found
 * unreachable (the same objects in both runtimes: the comparison is fair).
 * Target (issue 4): young-generation pauses no longer than CPython's.
 */
#include "bench/backend.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SURVIVORS 50000

enum {
    Y_P50,
    Y_P99,
    Y_MAX,
    Y_N0,
    Y_N1,
    Y_N2,
    Y_FULL_MAX,
    Y_SHARE,
    Y_ITER,
    Y_T0, /* ns per iteration in collections of generation 0, 1, 2 */
    Y_T1,
    Y_T2,
    Y_F0, /* objects found unreachable by generation 0, 1, 2 */
    Y_F1,
    Y_F2,
    Y_COUNT
};

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void
summarize(const PauseLog *log, double total_ns, long iters,
          double out[Y_COUNT])
{
    uint64_t *g0 = malloc((log->n + 1) * sizeof(uint64_t));
    size_t n0 = 0;
    double sum = 0, full_max = 0, per_gen[3] = {0, 0, 0};
    long count[3] = {0, 0, 0};
    for (size_t i = 0; i < log->n; i++) {
        int g = log->gen[i] < 3 ? log->gen[i] : 2;
        sum += (double)log->ns[i];
        per_gen[g] += (double)log->ns[i];
        count[g]++;
        if (log->gen[i] == 0) {
            g0[n0++] = log->ns[i];
        }
        else if (log->gen[i] == 2 && (double)log->ns[i] > full_max) {
            full_max = (double)log->ns[i];
        }
    }
    qsort(g0, n0, sizeof(uint64_t), cmp_u64);
    if (n0 > 0) {
        out[Y_P50] = (double)g0[n0 / 2] / 1e3;
        out[Y_P99] = (double)g0[(n0 * 99) / 100] / 1e3;
        out[Y_MAX] = (double)g0[n0 - 1] / 1e3;
    }
    out[Y_N0] = (double)count[0];
    out[Y_N1] = (double)count[1];
    out[Y_N2] = (double)count[2];
    out[Y_FULL_MAX] = full_max / 1e6;
    out[Y_SHARE] = 100.0 * sum / total_ns;
    out[Y_ITER] = total_ns / (double)iters;
    for (int g = 0; g < 3; g++) {
        out[Y_T0 + g] = per_gen[g] / (double)iters;
        out[Y_F0 + g] = (double)log->found[g];
    }
    free(g0);
}

static long
run_young(const Backend *b, long iters, double out[Y_COUNT], char *desc,
          size_t desc_cap)
{
    void **surv = malloc(SURVIVORS * sizeof(void *));
    PauseLog log;
    Rng r;
    if (surv == NULL) {
        perror("bench");
        exit(1);
    }
    rng_seed(&r, 77);
    pauselog_init(&log, 1 << 20);
    b->setup();
    b->set_threshold(2000, 10, 10);
    for (size_t i = 0; i < SURVIVORS; i++) {
        surv[i] = b->node_new();
        if (i > 0) {
            b->set_slot(surv[i], 0, surv[rng_below(&r, i)]);
        }
    }
    b->collect(2);
    b->pauses_start(&log);
    b->auto_gc(1);
    uint64_t t0 = bench_now();
    for (long i = 0; i < iters; i++) {
        void *x = b->node_new();
        void *y = b->node_new();
        b->set_slot(x, 0, y);
        b->set_slot(y, 0, x);
        b->set_slot(x, 1, surv[rng_below(&r, SURVIVORS)]);
        b->decref(x);
        b->decref(y);
        if ((i & 3) == 0) {
            void *z = b->node_new();
            size_t k = (size_t)(i >> 2) % SURVIVORS;
            b->set_slot(z, 0, surv[rng_below(&r, SURVIVORS)]);
            void *old = surv[k];
            surv[k] = z;
            b->decref(old);
        }
    }
    double total = (double)(bench_now() - t0);
    b->auto_gc(0);
    b->pauses_stop();
    summarize(&log, total, iters, out);
    if (b->describe != NULL && desc != NULL) {
        b->describe(desc, desc_cap);
    }
    for (size_t i = 0; i < SURVIVORS; i++) {
        b->decref(surv[i]);
    }
    b->collect(2);
    long left = b->live();
    b->teardown();
    pauselog_free(&log);
    free(surv);
    return left;
}

int
bench_young(void)
{
    Series s[Y_COUNT][B_COUNT];
    long iters = bench_scale(1000000);
    char desc[256] = "";
    memset(s, 0, sizeof s);
    backends_init();
    Table *t = table_new("young", "Collector: young generation under load",
                         backend_names, B_COUNT, B_CPYTHON);
    for (int r = 0; r < bench_opts.rounds; r++) {
        fprintf(stderr, "bench young: round %d/%d\n", r + 1,
                bench_opts.rounds);
        for (int j = 0; j < B_COUNT; j++) {
            int id = (j + r) % B_COUNT;
            double out[Y_COUNT] = {0};
            if (!backends[id].has_collector) {
                continue;
            }
            long left = run_young(&backends[id], iters, out,
                                  r == 0 ? desc : NULL, sizeof desc);
            if (left != 0 && r == 0) {
                table_note(t, "%s: %ld nodes left after the workload",
                           backend_names[id], left);
            }
            for (int m = 0; m < Y_COUNT; m++) {
                series_add(&s[m][id], out[m]);
            }
        }
    }
    Target p50 = {TARGET_RATIO, B_RCGC, 1.0};
    Target none = {TARGET_NONE, 0, 0};
    table_add(t, "gen-0 pause p50", "\u00b5s", s[Y_P50], &p50, 1);
    table_add(t, "gen-0 pause p99", "\u00b5s", s[Y_P99], &p50, 1);
    table_add(t, "gen-0 pause max", "\u00b5s", s[Y_MAX], &none, 1);
    table_add(t, "gen-2 pause max", "ms", s[Y_FULL_MAX], &none, 1);
    table_add(t, "gen-0 collections", "count", s[Y_N0], &none, 1);
    table_add(t, "gen-1 collections", "count", s[Y_N1], &none, 1);
    table_add(t, "gen-2 collections", "count", s[Y_N2], &none, 1);
    table_add(t, "time spent collecting", "%", s[Y_SHARE], &none, 1);
    table_add(t, "workload time per iteration (3 nodes)", "ns", s[Y_ITER],
              &none, 1);
    static const char *const gen_time[3] = {"  of which gen-0 collections",
                                            "  of which gen-1 collections",
                                            "  of which gen-2 collections"};
    static const char *const gen_found[3] = {
        "gen-0 objects found unreachable", "gen-1 objects found unreachable",
        "gen-2 objects found unreachable"};
    for (int g = 0; g < 3; g++) {
        table_add(t, gen_time[g], "ns", s[Y_T0 + g], &none, 1);
    }
    for (int g = 0; g < 3; g++) {
        table_add(t, gen_found[g], "count", s[Y_F0 + g], &none, 1);
    }
    table_note(t,
               "%ld iterations over %d long-lived nodes, thresholds "
               "(2000, 10, 10) in both; pauses timed from the start/stop "
               "callbacks (gc.callbacks / gc_callback_add).",
               iters, SURVIVORS);
    if (desc[0] != '\0') {
        table_note(t, "%s", desc);
    }
    if (!backends[B_RCGC].has_collector) {
        table_note(t, "rcgc skipped: %s", backends[B_RCGC].why);
    }
    table_finish(t);
    return 0;
}
