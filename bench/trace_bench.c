/* SPDX-License-Identifier: MIT */
/* trace_bench.c - rcgc-bench trace: real programs' allocation calls,
 * replayed against every allocator.
 *
 * Input: the traces (*.trc, bench/trace_io.h) in --traces DIR (default
 * build/traces), recorded from stdlib-only Python programs by
 * bench/traces.sh (make traces).
 *
 * Steps:
 *   1. load each trace (decoded into memory before any timing);
 *   2. time: for each round, for each trace, replay it once per allocator,
 *      the order of the allocators rotating from round to round; time =
 *      the calls (replay_calls) / the number of calls; the blocks the
 *      program left live are then freed outside the timing
 *      (replay_drain), so every replay starts from an empty heap;
 *   3. memory: for each trace and allocator, a fresh process
 *      (`rcgc-bench trace-child <allocator> <file>`) loads the trace,
 *      resets its peak RSS (/proc/self/clear_refs), replays and reports
 *      the peak RSS over the RSS before the first call;
 *   4. one table: a time row per trace, their geometric mean, a peak RSS
 *      row per trace, their geometric mean; ratios to pymalloc.
 * Allocators: pymalloc (libpython3.11's PyObject_Malloc, which sends
 * requests over 512 bytes to the system malloc), objalloc (oa_free),
 * objalloc-sized (oa_free_sized with the request the trace knows), glibc,
 * mimalloc, jemalloc, tcmalloc.  The CPython domain of a call is ignored:
 * each allocator serves both, as pymalloc does.
 */
#include "bench/anchors.h"
#include "bench/bench.h"
#include "bench/harness.h"
#include "bench/replay.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    T_PYMALLOC,
    T_OBJALLOC,
    T_OBJALLOC_SIZED,
    T_GLIBC,
    T_MIMALLOC,
    T_JEMALLOC,
    T_TCMALLOC,
    T_COUNT
};

static const char *const comp_names[T_COUNT] = {
    "pymalloc", "objalloc", "objalloc-sized", "glibc",
    "mimalloc", "jemalloc", "tcmalloc",
};

#define MAX_TRACES 16

/* ---- the allocators' replay entry points ----------------------------- */

static inline void *
py_c(size_t n)
{
    return PyObject_Calloc(1, n);
}
static inline void *
glibc_c(size_t n)
{
    return calloc(1, n);
}
static inline void *
mi_c(size_t n)
{
    return dl_mi_calloc(1, n);
}
static inline void *
je_c(size_t n)
{
    return dl_je_calloc(1, n);
}
static inline void *
tc_m(size_t n)
{
    return dl_tc_malloc(n);
}
static inline void *
tc_c(size_t n)
{
    return dl_tc_calloc(1, n);
}
static inline void
tc_f(void *p, size_t n)
{
    (void)n;
    dl_tc_free(p);
}
static inline void *
tc_r(void *p, size_t old, size_t n)
{
    (void)old;
    return dl_tc_realloc(p, n);
}
#ifdef BENCH_HAVE_OBJALLOC
static inline void *
oa_c(size_t n)
{
    return oa_calloc(bench_oa, 1, n);
}
#endif

static int
comp_available(int id)
{
    switch (id) {
        case T_PYMALLOC:
            return anchors[A_PYMALLOC].available;
        case T_OBJALLOC:
            return anchors[A_OBJALLOC].available;
        case T_OBJALLOC_SIZED:
            return anchors[A_OBJALLOC_SIZED].available;
        case T_GLIBC:
            return anchors[A_GLIBC].available;
        case T_MIMALLOC:
            return anchors[A_MIMALLOC].available;
        case T_JEMALLOC:
            return anchors[A_JEMALLOC].available;
        default:
            return anchor_tcmalloc.available;
    }
}

static const char *
comp_why(int id)
{
    static const int map[] = {A_PYMALLOC, A_OBJALLOC, A_OBJALLOC_SIZED,
                              A_GLIBC,    A_MIMALLOC, A_JEMALLOC};
    return id == T_TCMALLOC ? anchor_tcmalloc.why : anchors[map[id]].why;
}

/* Run STMT with `fn` (a ReplayFns of constants) and `sized` bound for
 * allocator id. */
#ifdef BENCH_HAVE_OBJALLOC
#define OA_REPLAY_CASES(STMT)                                                 \
    case T_OBJALLOC: {                                                        \
        const ReplayFns fn = {oa_m, oa_c, oa_f, oa_r};                        \
        const int sized = 0;                                                  \
        STMT;                                                                 \
    } break;                                                                  \
    case T_OBJALLOC_SIZED: {                                                  \
        const ReplayFns fn = {oa_m, oa_c, oa_fs, oa_r};                       \
        const int sized = 1;                                                  \
        STMT;                                                                 \
    } break;
#else
#define OA_REPLAY_CASES(STMT)
#endif
#define REPLAY_CASE(ID, M, C, F, R, STMT)                                     \
    case ID: {                                                                \
        const ReplayFns fn = {M, C, F, R};                                    \
        const int sized = 0;                                                  \
        STMT;                                                                 \
    } break;
#define WITH_REPLAY(id, STMT)                                                 \
    switch (id) {                                                             \
        REPLAY_CASE(T_PYMALLOC, py_m, py_c, py_f, py_r, STMT)                 \
        REPLAY_CASE(T_GLIBC, glibc_m, glibc_c, glibc_f, glibc_r, STMT)        \
        REPLAY_CASE(T_MIMALLOC, mi_m, mi_c, mi_f, mi_r, STMT)                 \
        REPLAY_CASE(T_JEMALLOC, je_m, je_c, je_f, je_r, STMT)                 \
        REPLAY_CASE(T_TCMALLOC, tc_m, tc_c, tc_f, tc_r, STMT)                 \
        OA_REPLAY_CASES(STMT)                                                 \
        default:                                                              \
            break;                                                            \
    }

/* ---- one replay ----------------------------------------------------- */

typedef struct Loaded {
    char name[64];
    char path[512];
    Trace t;
    void **slot;
    uint32_t *size;
} Loaded;

static int
prepare(Loaded *l)
{
    l->slot = calloc(l->t.nslots + 1, sizeof(void *));
    l->size = calloc(l->t.nslots + 1, sizeof(uint32_t));
    return l->slot != NULL && l->size != NULL ? 0 : -1;
}

/* Replay l with allocator id: ns per call (bench clock), or -1. */
static double
replay_timed(Loaded *l, int id)
{
    int rc = -1;
    uint64_t t0 = 0, t1 = 0;
    WITH_REPLAY(id, {
        t0 = bench_now();
        rc = replay_calls(fn, &l->t, 0, l->t.n, l->slot, l->size, sized);
        t1 = bench_now();
        replay_drain(fn, l->t.nslots, l->slot, l->size, sized);
    });
    return rc == 0 ? (double)(t1 - t0) / (double)l->t.n : -1;
}

/* ---- the fresh-process peak RSS ------------------------------------- */

/* Make n bytes at p resident with stores the compiler cannot drop (a
 * memset of zero right after calloc is removed: the pages were then first
 * touched during the replay, and counted in its peak RSS). */
static void
touch(void *p, size_t n)
{
    volatile char *q = p;
    for (size_t i = 0; i < n; i += 4096) {
        q[i] = 0;
    }
}

/* Forget the peak RSS so far (Linux: "5" into clear_refs resets VmHWM). */
static void
reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1) {
            perror("bench trace: clear_refs");
        }
        close(fd);
    }
}

int
trace_child(int argc, char **argv)
{
    if (argc < 2) {
        return 2;
    }
    int id = atoi(argv[0]);
    Loaded l;
    char err[512];
    anchors_init();
    if (id < 0 || id >= T_COUNT || !comp_available(id)) {
        return 3;
    }
    if (trace_load(argv[1], &l.t, err, sizeof err) < 0 || prepare(&l) < 0) {
        fprintf(stderr, "bench trace: %s\n", err);
        return 4;
    }
    /* Touch the bookkeeping: part of the base, not of the allocator. */
    touch(l.slot, (l.t.nslots + 1) * sizeof(void *));
    touch(l.size, (l.t.nslots + 1) * sizeof(uint32_t));
    reset_peak();
    size_t base = bench_rss();
    int rc = -1;
    WITH_REPLAY(id,
                rc = replay_calls(fn, &l.t, 0, l.t.n, l.slot, l.size, sized));
    size_t peak = bench_peak_rss();
    printf("peak_kib=%.0f ok=%d\n",
           peak > base ? (double)(peak - base) / 1024.0 : 0.0, rc == 0);
    return rc == 0 ? 0 : 5;
}

/* ---- the topic ------------------------------------------------------ */

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const Loaded *)a)->name, ((const Loaded *)b)->name);
}

/* Load every *.trc of the directory; how many, or -1. */
static int
load_all(Loaded *ls)
{
    DIR *d = opendir(bench_opts.traces);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_TRACES) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len >= sizeof ls[n].name ||
            strcmp(e->d_name + len - 4, ".trc") != 0) {
            continue;
        }
        snprintf(ls[n].name, sizeof ls[n].name, "%.*s", (int)(len - 4),
                 e->d_name);
        snprintf(ls[n].path, sizeof ls[n].path, "%s/%s", bench_opts.traces,
                 e->d_name);
        n++;
    }
    closedir(d);
    qsort(ls, (size_t)n, sizeof *ls, by_name);
    for (int i = 0; i < n; i++) {
        char err[512];
        if (trace_load(ls[i].path, &ls[i].t, err, sizeof err) < 0 ||
            prepare(&ls[i]) < 0) {
            fprintf(stderr, "bench trace: %s\n", err);
            return -1;
        }
    }
    return n;
}

static void
measure_time(Loaded *ls, int n, int rounds, Series time[][T_COUNT],
             Series *geo)
{
    for (int r = 0; r < rounds; r++) {
        fprintf(stderr, "bench trace: round %d/%d\n", r + 1, rounds);
        double logsum[T_COUNT] = {0};
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < T_COUNT; k++) {
                int id = (k + r) % T_COUNT;
                if (!comp_available(id)) {
                    continue;
                }
                double ns = replay_timed(&ls[i], id);
                if (ns < 0) {
                    fprintf(stderr,
                            "bench trace: %s ran out of memory on %s\n",
                            comp_names[id], ls[i].name);
                    continue;
                }
                series_add(&time[i][id], ns);
                logsum[id] += log(ns);
            }
        }
        for (int id = 0; id < T_COUNT; id++) {
            if (time[0][id].n == r + 1) {
                series_add(&geo[id], exp(logsum[id] / n));
            }
        }
    }
}

static void
measure_rss(Loaded *ls, int n, Series rss[][T_COUNT], Series *geo)
{
    double logsum[T_COUNT] = {0};
    int got[T_COUNT] = {0};
    for (int i = 0; i < n; i++) {
        for (int id = 0; id < T_COUNT; id++) {
            char idbuf[8], out[256];
            double kib;
            if (!comp_available(id)) {
                continue;
            }
            snprintf(idbuf, sizeof idbuf, "%d", id);
            const char *args[] = {"trace-child", idbuf, ls[i].path, NULL};
            int rc = bench_run_child(args, out, sizeof out);
            if (rc != 0 || bench_field(out, "peak_kib", &kib) < 0) {
                fprintf(stderr, "bench trace: rss child %s %s failed (%d)\n",
                        comp_names[id], ls[i].name, rc);
                continue;
            }
            series_add(&rss[i][id], kib);
            logsum[id] += log(kib > 1 ? kib : 1);
            got[id]++;
        }
    }
    for (int id = 0; id < T_COUNT; id++) {
        if (got[id] == n) {
            series_add(&geo[id], exp(logsum[id] / n));
        }
    }
}

static void
describe(Table *t, const Loaded *l)
{
    const Trace *x = &l->t;
    table_note(t,
               "%s: %.2fM calls (malloc %.0f%%, calloc %.0f%%, realloc "
               "%.0f%%, free %.0f%%), %.1f%% of requests 513 B..32 KiB, "
               "%.2f%% larger, %.0fk live at most",
               l->name, (double)x->n / 1e6,
               100.0 * (double)x->count[TR_MALLOC] / (double)x->n,
               100.0 * (double)x->count[TR_CALLOC] / (double)x->n,
               100.0 * (double)x->count[TR_REALLOC] / (double)x->n,
               100.0 * (double)x->count[TR_FREE] / (double)x->n,
               100.0 * (double)x->nmedium / (double)(x->n - x->count[TR_FREE]),
               100.0 * (double)x->nlarge / (double)(x->n - x->count[TR_FREE]),
               (double)x->maxlive / 1e3);
}

int
bench_trace(void)
{
    static Loaded ls[MAX_TRACES];
    static Series time[MAX_TRACES][T_COUNT], rss[MAX_TRACES][T_COUNT];
    static Series tgeo[T_COUNT], rgeo[T_COUNT];
    anchors_init();
    int n = load_all(ls);
    if (n <= 0) {
        fprintf(stderr,
                "bench trace: no traces in %s (record them with `make "
                "traces`); skipped\n",
                bench_opts.traces);
        return 0;
    }
    for (int id = 0; id < T_COUNT; id++) {
        if (!comp_available(id)) {
            fprintf(stderr, "bench trace: skipping %s: %s\n", comp_names[id],
                    comp_why(id));
        }
    }
    /* At least 9 rounds: the published medians must hold up. */
    int rounds = bench_opts.rounds;
    if (!bench_opts.quick && rounds < 9) {
        rounds = 9;
    }
    measure_time(ls, n, rounds, time, tgeo);
    measure_rss(ls, n, rss, rgeo);

    Table *t = table_new("trace", "Allocator: real programs' calls replayed",
                         comp_names, T_COUNT, T_PYMALLOC);
    table_set_rounds(t, rounds);
    Target none = {TARGET_NONE, 0, 0};
    char name[96];
    for (int i = 0; i < n; i++) {
        Target tg = {strcmp(ls[i].name, "regex") == 0 ? TARGET_RATIO
                                                      : TARGET_NONE,
                     T_OBJALLOC, 0.80};
        snprintf(name, sizeof name, "time: %.60s", ls[i].name);
        table_add(t, name, "ns/call", time[i], &tg, 1);
    }
    Target geo_t[2] = {{TARGET_RATIO, T_OBJALLOC, 0.75},
                       {TARGET_RATIO, T_OBJALLOC_SIZED, 0.75}};
    table_add(t, "time: geometric mean", "ns/call", tgeo, geo_t, 2);
    for (int i = 0; i < n; i++) {
        Target tg = {TARGET_RATIO, T_OBJALLOC, 1.00};
        snprintf(name, sizeof name, "peak RSS: %.60s", ls[i].name);
        table_add(t, name, "KiB", rss[i], &tg, 1);
    }
    table_add(t, "peak RSS: geometric mean", "KiB", rgeo, &none, 1);
    for (int i = 0; i < n; i++) {
        describe(t, &ls[i]);
    }
    for (int id = 0; id < T_COUNT; id++) {
        if (!comp_available(id)) {
            table_note(t, "%s skipped: %s", comp_names[id], comp_why(id));
        }
    }
    table_note(t, "traces recorded by `make traces` (bench/traces/*.py "
                  "under rcgc-python with RCGC_TRACE); every allocator "
                  "replays the same calls in one process, alternating; "
                  "time covers the calls only (what the program left live "
                  "is freed afterwards, untimed); peak RSS in a fresh "
                  "process per allocator and trace (one run: the replay is "
                  "deterministic), over the RSS before the first call.");
    table_note(t, "targets: objalloc geometric mean <= 0.75x "
                  "pymalloc and below mimalloc; regex <= 0.80x; peak RSS "
                  "<= 1.00x on every trace.");
    table_finish(t);
    return 0;
}
