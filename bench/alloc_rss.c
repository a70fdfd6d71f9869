/* SPDX-License-Identifier: MIT */
/* alloc_rss.c - memory kept by each allocator after mass frees.
 *
 * Each measurement runs in a fresh process (this program re-executed as
 * `rss-child <allocator> <pattern>`), so that an allocator's footprint is
 * not mixed with memory that other allocators, or earlier workloads, hold
 * or cached.  The child:
 *   1. loads the anchors and allocates its own bookkeeping arrays (sizes,
 *      pointers, the free order) with the system malloc and touches them;
 *   2. base = RSS (/proc/self/statm);
 *   3. allocates 2M blocks with the CPython-like size mix; live = RSS;
 *   4. frees 90% of them: a random 90% ("random") or the first 90%
 *      allocated ("oldest"); after = RSS;
 *   5. calls the allocator's trim call if it has one; trimmed = RSS;
 *   6. prints live (MB) and kept = (after - base) / (live - base) in %,
 *      and the same after the trim.
 * The parent gathers one run per allocator and pattern (the workload is
 * deterministic) into a table whose reference is pymalloc.
 */
#include "bench/anchors.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSS_N 2000000

static void *
sys_alloc(size_t n)
{
    void *p = calloc(n, 1);
    if (p == NULL) {
        perror("bench");
        exit(1);
    }
    /* Touch: part of the base, not of the allocator.  Volatile stores: a
     * memset of zero right after calloc is dropped by the compiler, and
     * the pointer array (16 MB for 2M blocks) was then first touched
     * after the base was taken, counted as the allocator's. */
    volatile char *q = p;
    for (size_t i = 0; i < n; i += 4096) {
        q[i] = 0;
    }
    return p;
}

/* Allocate, free and measure with one allocator's entry points. */
static void
rss_run(AllocFns fn, int (*trim)(void), int oldest, size_t n)
{
    uint16_t *sz = sys_alloc(n * sizeof(uint16_t));
    void **p = sys_alloc(n * sizeof(void *));
    uint32_t *order = sys_alloc(n * sizeof(uint32_t));
    Rng r;
    rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++) {
        sz[i] = size_mix[rng_next(&r) & 4095];
        order[i] = (uint32_t)i;
    }
    if (!oldest) {
        rng_shuffle(&r, order, n);
    }
    size_t base = bench_rss();
    for (size_t i = 0; i < n; i++) {
        p[i] = fn.malloc(sz[i]);
        *(size_t *)p[i] = i;
    }
    size_t live = bench_rss();
    for (size_t i = 0; i < n / 10 * 9; i++) {
        fn.free(p[order[i]], sz[order[i]]);
    }
    size_t after = bench_rss();
    double kept_trim = -1;
    if (trim != NULL) {
        trim();
        kept_trim = 100.0 * ((double)bench_rss() - (double)base) /
                    (double)(live - base);
    }
    printf("live=%.2f kept=%.2f kept_trim=%.2f\n",
           (double)(live - base) / 1048576.0,
           100.0 * ((double)after - (double)base) / (double)(live - base),
           kept_trim);
}

int
alloc_rss_child(int argc, char **argv)
{
    if (argc < 2) {
        return 2;
    }
    int id = atoi(argv[0]);
    int oldest = strcmp(argv[1], "oldest") == 0;
    size_t n = argc > 2 ? (size_t)atol(argv[2]) : RSS_N;
    anchors_init();
    size_mix_init();
    if (id < 0 || id >= A_COUNT || !anchors[id].available) {
        return 3;
    }
    int (*trim)(void) = anchors[id].trim;
    switch (id) {
        case A_PYMALLOC:
            rss_run((AllocFns){py_m, py_f, py_r}, trim, oldest, n);
            break;
        case A_GLIBC:
            rss_run((AllocFns){glibc_m, glibc_f, glibc_r}, trim, oldest, n);
            break;
        case A_MIMALLOC:
            rss_run((AllocFns){mi_m, mi_f, mi_r}, trim, oldest, n);
            break;
        case A_JEMALLOC:
            rss_run((AllocFns){je_m, je_f, je_r}, trim, oldest, n);
            break;
#ifdef BENCH_HAVE_OBJALLOC
        case A_OBJALLOC:
            rss_run((AllocFns){oa_m, oa_f, oa_r}, trim, oldest, n);
            break;
#endif
        default:
            return 3;
    }
    return 0;
}

enum { R_LIVE, R_RANDOM, R_RANDOM_TRIM, R_OLDEST, R_OLDEST_TRIM, R_COUNT };

int
bench_alloc_rss(void)
{
    static const char *const names[A_COUNT] = {
        "pymalloc", "objalloc", "objalloc-sized",
        "glibc",    "mimalloc", "jemalloc",
    };
    Series s[R_COUNT][A_COUNT];
    char nbuf[32], out[512];
    long n = bench_scale(RSS_N);
    memset(s, 0, sizeof s);
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    anchors_init();
    for (int pat = 0; pat < 2; pat++) {
        for (int id = 0; id < A_COUNT; id++) {
            char idbuf[8];
            double live, kept, trim;
            if (!anchors[id].available || id == A_OBJALLOC_SIZED) {
                continue;
            }
            snprintf(idbuf, sizeof idbuf, "%d", id);
            const char *args[] = {"rss-child", idbuf,
                                  pat ? "oldest" : "random", nbuf, NULL};
            int rc = bench_run_child(args, out, sizeof out);
            if (rc != 0 || bench_field(out, "kept", &kept) < 0 ||
                bench_field(out, "live", &live) < 0 ||
                bench_field(out, "kept_trim", &trim) < 0) {
                fprintf(stderr, "bench alloc: rss child for %s failed (%d)\n",
                        names[id], rc);
                continue;
            }
            if (pat == 0) {
                series_add(&s[R_LIVE][id], live);
            }
            series_add(&s[pat ? R_OLDEST : R_RANDOM][id], kept);
            if (trim >= 0) {
                series_add(&s[pat ? R_OLDEST_TRIM : R_RANDOM_TRIM][id], trim);
            }
        }
    }
    Table *t = table_new("alloc-rss", "Allocator: memory kept", names, A_COUNT,
                         A_PYMALLOC);
    table_set_rounds(t, 1);
    char name[96];
    Target none = {TARGET_NONE, 0, 0};
    Target oldest = {TARGET_RATIO, A_OBJALLOC, 1.0};
    snprintf(name, sizeof name, "RSS of %.1fM live blocks (CPython size mix)",
             (double)n / 1e6);
    table_add(t, name, "MiB", s[R_LIVE], &none, 1);
    table_add(t, "RSS kept after freeing a random 90%", "%", s[R_RANDOM],
              &none, 1);
    table_add(t, "... and after the trim call", "%", s[R_RANDOM_TRIM], &none,
              1);
    table_add(t, "RSS kept after freeing the oldest 90%", "%", s[R_OLDEST],
              &oldest, 1);
    table_add(t, "... and after the trim call", "%", s[R_OLDEST_TRIM], &none,
              1);
    table_note(t, "one fresh process per allocator and pattern; RSS from "
                  "/proc/self/statm, relative to the RSS before the first "
                  "block.");
    table_note(t, "trim calls: glibc malloc_trim(0), mimalloc "
                  "mi_collect(true), jemalloc mallctl arena.<all>.purge, "
                  "objalloc oa_heap_trim (the pools classes keep and the "
                  "pages of empty pools); pymalloc releases empty arenas by "
                  "itself.");
    table_finish(t);
    return 0;
}
