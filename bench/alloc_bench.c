/* SPDX-License-Identifier: MIT */
/* alloc_bench.c - the allocator benchmark: objalloc against pymalloc,
 * glibc malloc, mimalloc and jemalloc in one process.
 *
 * Workloads (each touches the first word of every block it gets):
 *   lifo    per size class 16..512: allocate 64 blocks, free them in
 *           reverse order, repeat; ns per call (malloc or free);
 *   build   1M blocks of mixed sizes 1..512 B; ns per malloc;
 *   free    the same blocks in a random order; ns per free;
 *   churn   100k live blocks, 10M steps: free a random one, allocate a
 *           new one of a random size 1..512; ns per step (free+malloc);
 *   pymix   the same churn (5M steps) with a CPython-like size mix
 *           (most requests 33-64 B, see size_mix_init);
 *   realloc 20k lists grown by appends, interleaved, with CPython's
 *           list over-allocation (3.11 list_resize), then freed; ns per
 *           call (realloc or free);
 *   walk    locality on a reused heap: 1M blocks of 48 B (one 16 B block
 *           kept live per 256, so that arenas stay), freed in a random
 *           order, then a list of 1M new 48 B nodes built in order and
 *           walked once; ns per node of the walk;
 *   RSS     in a fresh process per allocator (alloc_rss.c).
 * Rounds: in every round each available allocator runs each workload
 * once, the starting allocator rotating from round to round; every
 * allocator sees the same sizes and the same random sequence.
 *
 * Every workload is an always_inline function over an AllocFns; WITH_ALLOC
 * instantiates it with the constant entry points of one allocator, so
 * that the compiler emits direct calls for each (no indirect-call cost
 * that would blur the ratios).
 */
#include "bench/anchors.h"
#include "bench/bench.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

#define LIFO_BATCH   64
#define NCLASS       32
#define MIX_TABLE    4096
#define BUILD_N      1000000
#define CHURN_LIVE   100000
#define CHURN_STEPS  10000000
#define PYMIX_STEPS  5000000
#define REALLOC_LIST 20000
#define REALLOC_MAXN 128

uint16_t size_mix[MIX_TABLE];

/* The CPython-like mix: share of requests (in 1/1000) per size range.
 * Most are 33-64 B (small tuples, ints, short strings, frames' small
 * objects); a tail reaches 512 B. */
void
size_mix_init(void)
{
    static const struct {
        int lo, hi, permille;
    } mix[] = {
        {1, 16, 80},  {17, 32, 140}, {33, 48, 300},  {49, 64, 240},
        {65, 96, 90}, {97, 128, 60}, {129, 256, 60}, {257, 512, 30},
    };
    Rng r;
    int k = 0;
    rng_seed(&r, 42);
    for (size_t b = 0; b < sizeof mix / sizeof mix[0]; b++) {
        int n = mix[b].permille * MIX_TABLE / 1000;
        for (int i = 0; i < n && k < MIX_TABLE; i++) {
            size_mix[k++] =
                (uint16_t)(mix[b].lo +
                           (int)rng_below(
                               &r, (size_t)(mix[b].hi - mix[b].lo + 1)));
        }
    }
    while (k < MIX_TABLE) {
        size_mix[k++] = 48;
    }
}

/* ---- the workloads -------------------------------------------------- */

INLINE double
wl_lifo(AllocFns fn, size_t size, long calls)
{
    void *p[LIFO_BATCH];
    long batches = calls / (2 * LIFO_BATCH);
    uint64_t t0 = bench_now();
    for (long b = 0; b < batches; b++) {
        for (int k = 0; k < LIFO_BATCH; k++) {
            p[k] = fn.malloc(size);
            *(long *)p[k] = k;
        }
        for (int k = LIFO_BATCH - 1; k >= 0; k--) {
            fn.free(p[k], size);
        }
    }
    return (double)(bench_now() - t0);
}

/* The LIFO loop's floor: a bare free list per 16-byte class over static
 * memory (pop and push a head; no counts, no ownership test, no pools, no
 * return to the OS).  No allocator can do less per call, so its time
 * tells how far below pymalloc any free-list allocator can get here.  Out
 * of line, as every allocator is called: inlined, the compiler keeps the
 * heads in registers across the loop, which no allocator can do. */
#define FLOOR_CLASS_BYTES (LIFO_BATCH * 16 * NCLASS)
static void *floor_head[NCLASS];
static size_t floor_used[NCLASS];
static _Alignas(16) unsigned char floor_mem[NCLASS][FLOOR_CLASS_BYTES];

static __attribute__((noinline)) void *
floor_m(size_t n)
{
    size_t c = (n - 1) >> 4;
    void *p = floor_head[c];
    if (p != NULL) {
        floor_head[c] = *(void **)p;
        return p;
    }
    p = &floor_mem[c][floor_used[c]];
    floor_used[c] += (c + 1) * 16;
    return p;
}

static __attribute__((noinline)) void
floor_f(void *p, size_t n)
{
    size_t c = (n - 1) >> 4;
    *(void **)p = floor_head[c];
    floor_head[c] = p;
}

static void *
floor_r(void *p, size_t old, size_t n)
{
    (void)p, (void)old, (void)n;
    return NULL; /* the LIFO loop never reallocates */
}

/* Build n blocks (sizes sz), then free them in the order perm; the two
 * phases' times in ns. */
INLINE void
wl_build_free(AllocFns fn, void **p, const uint16_t *sz, const uint32_t *perm,
              size_t n, double *build, double *fr)
{
    uint64_t t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        p[i] = fn.malloc(sz[i]);
        *(size_t *)p[i] = i;
    }
    uint64_t t1 = bench_now();
    for (size_t i = 0; i < n; i++) {
        uint32_t j = perm[i];
        fn.free(p[j], sz[j]);
    }
    *build = (double)(t1 - t0);
    *fr = (double)(bench_now() - t1);
}

/* live blocks p[0..nlive) of sizes sz; steps of free-one, allocate-one.
 * mix != NULL: sizes from the CPython-like table, else uniform 1..512. */
INLINE double
wl_churn(AllocFns fn, void **p, uint16_t *sz, size_t nlive, long steps,
         const uint16_t *mix, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < nlive; i++) {
        uint64_t x = rng_next(&r);
        sz[i] = mix ? mix[x & (MIX_TABLE - 1)] : (uint16_t)(1 + (x & 511));
        p[i] = fn.malloc(sz[i]);
        *(size_t *)p[i] = i;
    }
    uint64_t t0 = bench_now();
    for (long s = 0; s < steps; s++) {
        uint64_t x = rng_next(&r);
        size_t j = (size_t)(((bench_u128)(x >> 16) * nlive) >> 48);
        fn.free(p[j], sz[j]);
        sz[j] = mix ? mix[x & (MIX_TABLE - 1)] : (uint16_t)(1 + (x & 511));
        p[j] = fn.malloc(sz[j]);
        *(size_t *)p[j] = (size_t)s;
    }
    double ns = (double)(bench_now() - t0);
    for (size_t i = 0; i < nlive; i++) {
        fn.free(p[i], sz[i]);
    }
    return ns;
}

typedef struct Node {
    struct Node *next;
    size_t val;
    char payload[32]; /* 48 bytes: a small CPython object */
} Node;

static volatile size_t walk_sink;

/* Free n blocks of 48 B in the order perm, with a 16 B block kept live
 * for every 256 of them (pins[]), build a list of n fresh nodes in
 * allocation order, and walk it; the walk's ns. */
INLINE double
wl_walk(AllocFns fn, void **p, void **pins, const uint32_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = fn.malloc(sizeof(Node));
        *(size_t *)p[i] = i;
        if (i % 256 == 0) {
            pins[i / 256] = fn.malloc(16);
        }
    }
    for (size_t i = 0; i < n; i++) {
        fn.free(p[perm[i]], sizeof(Node));
    }
    Node head = {0};
    Node *tail = &head;
    for (size_t i = 0; i < n; i++) {
        Node *x = fn.malloc(sizeof(Node));
        x->next = NULL;
        x->val = i;
        tail->next = x;
        tail = x;
    }
    size_t sum = 0;
    uint64_t t0 = bench_now();
    for (const Node *x = head.next; x != NULL; x = x->next) {
        sum += x->val;
    }
    double ns = (double)(bench_now() - t0);
    walk_sink = sum; /* the walk is not dead code */
    for (Node *x = head.next; x != NULL;) {
        Node *next = x->next;
        fn.free(x, sizeof(Node));
        x = next;
    }
    for (size_t i = 0; i < n; i += 256) {
        fn.free(pins[i / 256], 16);
    }
    return ns;
}

/* CPython 3.11's list over-allocation for a list growing to newsize. */
static size_t
list_capacity(size_t newsize, size_t oldsize)
{
    size_t cap = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize - oldsize > cap - newsize) {
        cap = (newsize + 3) & ~(size_t)3;
    }
    return cap;
}

/* Lists items[l] of capacity cap[l] grow, one append per list per
 * step, to their target length len[l]; returns ns, *calls the number of
 * realloc and free calls. */
INLINE double
wl_realloc(AllocFns fn, void ***items, uint32_t *cap, const uint8_t *len,
           size_t nlists, long *calls)
{
    long n = 0;
    uint64_t t0 = bench_now();
    for (size_t s = 1; s <= REALLOC_MAXN; s++) {
        for (size_t l = 0; l < nlists; l++) {
            if (len[l] < s) {
                continue;
            }
            if (s > cap[l]) {
                size_t c = list_capacity(s, s - 1);
                items[l] = fn.realloc(items[l], cap[l] * sizeof(void *),
                                      c * sizeof(void *));
                cap[l] = (uint32_t)c;
                n++;
            }
            items[l][s - 1] = items;
        }
    }
    for (size_t l = 0; l < nlists; l++) {
        fn.free(items[l], cap[l] * sizeof(void *));
        items[l] = NULL;
        cap[l] = 0;
        n++;
    }
    *calls = n;
    return (double)(bench_now() - t0);
}

/* Run STMT with `fn` bound to the constant entry points of allocator id. */
#ifdef BENCH_HAVE_OBJALLOC
#define OA_CASES(STMT)                                                        \
    case A_OBJALLOC: {                                                        \
        const AllocFns fn = {oa_m, oa_f, oa_r};                               \
        STMT;                                                                 \
    } break;                                                                  \
    case A_OBJALLOC_SIZED: {                                                  \
        const AllocFns fn = {oa_m, oa_fs, oa_r};                              \
        STMT;                                                                 \
    } break;
#else
#define OA_CASES(STMT)
#endif
#define WITH_ALLOC(id, STMT)                                                  \
    switch (id) {                                                             \
        case A_PYMALLOC: {                                                    \
            const AllocFns fn = {py_m, py_f, py_r};                           \
            STMT;                                                             \
        } break;                                                              \
        case A_GLIBC: {                                                       \
            const AllocFns fn = {glibc_m, glibc_f, glibc_r};                  \
            STMT;                                                             \
        } break;                                                              \
        case A_MIMALLOC: {                                                    \
            const AllocFns fn = {mi_m, mi_f, mi_r};                           \
            STMT;                                                             \
        } break;                                                              \
        case A_JEMALLOC: {                                                    \
            const AllocFns fn = {je_m, je_f, je_r};                           \
            STMT;                                                             \
        } break;                                                              \
            OA_CASES(STMT)                                                    \
        default:                                                              \
            break;                                                            \
    }

/* ---- the rounds ----------------------------------------------------- */

enum { W_LIFO, W_BUILD, W_FREE, W_CHURN, W_PYMIX, W_REALLOC, W_WALK, W_COUNT };

typedef struct Work {
    void **p;
    uint16_t *sz;
    uint32_t *perm;
    void ***items;
    void **pins;
    uint32_t *cap;
    uint8_t *len;
    long lifo_calls, build_n, churn_steps, pymix_steps;
} Work;

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL) {
        perror("bench");
        exit(1);
    }
    return p;
}

static void
work_init(Work *w)
{
    Rng r;
    w->lifo_calls = bench_scale(1000000);
    w->build_n = bench_scale(BUILD_N);
    w->churn_steps = bench_scale(CHURN_STEPS);
    w->pymix_steps = bench_scale(PYMIX_STEPS);
    w->p = xcalloc(BUILD_N, sizeof(void *));
    w->sz = xcalloc(BUILD_N, sizeof(uint16_t));
    w->perm = xcalloc(BUILD_N, sizeof(uint32_t));
    w->items = xcalloc(REALLOC_LIST, sizeof(void **));
    w->pins = xcalloc(BUILD_N / 256 + 1, sizeof(void *));
    w->cap = xcalloc(REALLOC_LIST, sizeof(uint32_t));
    w->len = xcalloc(REALLOC_LIST, 1);
    rng_seed(&r, 7);
    for (size_t i = 0; i < BUILD_N; i++) {
        w->perm[i] = (uint32_t)i;
    }
    rng_shuffle(&r, w->perm, (size_t)w->build_n);
    for (size_t l = 0; l < REALLOC_LIST; l++) {
        w->len[l] = (uint8_t)(1 + rng_below(&r, REALLOC_MAXN));
    }
}

/* The mixed sizes of the build/free workload, reset each round because
 * the churns reuse the array. */
static void
build_sizes(Work *w)
{
    Rng r;
    rng_seed(&r, 11);
    for (long i = 0; i < w->build_n; i++) {
        w->sz[i] = (uint16_t)(1 + rng_below(&r, OA_SMALL_MAX_BENCH));
    }
}

static void
run_one(Work *w, int id, Series res[W_COUNT], Series lifo[NCLASS])
{
    double ns = 0, total = 0, b = 0, f = 0;
    long calls = 1;
    for (int c = 0; c < NCLASS; c++) {
        size_t size = (size_t)(c + 1) * 16;
        WITH_ALLOC(id, ns = wl_lifo(fn, size, w->lifo_calls));
        series_add(&lifo[c], ns / (double)w->lifo_calls);
        total += ns;
    }
    series_add(&res[W_LIFO], total / (double)(NCLASS * w->lifo_calls));
    build_sizes(w);
    WITH_ALLOC(id, wl_build_free(fn, w->p, w->sz, w->perm, (size_t)w->build_n,
                                 &b, &f));
    series_add(&res[W_BUILD], b / (double)w->build_n);
    series_add(&res[W_FREE], f / (double)w->build_n);
    WITH_ALLOC(id, ns = wl_churn(fn, w->p, w->sz, CHURN_LIVE, w->churn_steps,
                                 NULL, 99));
    series_add(&res[W_CHURN], ns / (double)w->churn_steps);
    WITH_ALLOC(id, ns = wl_churn(fn, w->p, w->sz, CHURN_LIVE, w->pymix_steps,
                                 size_mix, 123));
    series_add(&res[W_PYMIX], ns / (double)w->pymix_steps);
    WITH_ALLOC(id, ns = wl_realloc(fn, w->items, w->cap, w->len, REALLOC_LIST,
                                   &calls));
    series_add(&res[W_REALLOC], ns / (double)calls);
    WITH_ALLOC(id,
               ns = wl_walk(fn, w->p, w->pins, w->perm, (size_t)w->build_n));
    series_add(&res[W_WALK], ns / (double)w->build_n);
}

static const char *const comp_names[A_COUNT] = {
    "pymalloc", "objalloc", "objalloc-sized", "glibc", "mimalloc", "jemalloc",
};

static void
add_row(Table *t, const char *name, const char *unit, Series *s, double limit)
{
    Target tg[2] = {
        {limit > 0 ? TARGET_RATIO : TARGET_NONE, A_OBJALLOC, limit},
        {limit > 0 ? TARGET_RATIO : TARGET_NONE, A_OBJALLOC_SIZED, limit},
    };
    table_add(t, name, unit, s, tg, 2);
}

int
bench_alloc(void)
{
    static Series res[W_COUNT][A_COUNT], lifo[A_COUNT][NCLASS];
    static Series floor_ns, floor_ratio;
    double py_lifo = 0;
    Work w;
    char name[80];

    anchors_init();
    size_mix_init();
    work_init(&w);
    for (int i = 0; i < A_COUNT; i++) {
        if (!anchors[i].available) {
            fprintf(stderr, "bench alloc: skipping %s: %s\n", anchors[i].name,
                    anchors[i].why);
        }
    }
    for (int r = 0; r < bench_opts.rounds; r++) {
        fprintf(stderr, "bench alloc: round %d/%d\n", r + 1,
                bench_opts.rounds);
        for (int k = 0; k < A_COUNT; k++) {
            int id = (k + r) % A_COUNT;
            Series one[W_COUNT] = {{{0}, 0}};
            if (!anchors[id].available) {
                continue;
            }
            run_one(&w, id, one, lifo[id]);
            for (int x = 0; x < W_COUNT; x++) {
                series_add(&res[x][id], one[x].v[0]);
            }
            if (id == A_PYMALLOC) {
                py_lifo = one[W_LIFO].v[0];
            }
        }
        if (py_lifo > 0) {
            const AllocFns fn = {floor_m, floor_f, floor_r};
            double total = 0;
            for (int c = 0; c < NCLASS; c++) {
                total += wl_lifo(fn, (size_t)(c + 1) * 16, w.lifo_calls);
            }
            total /= (double)(NCLASS * w.lifo_calls);
            series_add(&floor_ns, total);
            series_add(&floor_ratio, total / py_lifo);
        }
    }

    Table *t = table_new("alloc", "Allocator: speed", comp_names, A_COUNT,
                         A_PYMALLOC);
    add_row(t, "LIFO, every class 16..512 B (batches of 64)", "ns/call",
            res[W_LIFO], 0.7);
    snprintf(name, sizeof name, "build %ldk mixed 1..512 B", w.build_n / 1000);
    add_row(t, name, "ns/malloc", res[W_BUILD], 0);
    snprintf(name, sizeof name, "free those in random order");
    add_row(t, name, "ns/free", res[W_FREE], 0.7);
    snprintf(name, sizeof name, "churn %.0fM steps over 100k live, 1..512 B",
             (double)w.churn_steps / 1e6);
    add_row(t, name, "ns/step", res[W_CHURN], 0.7);
    snprintf(name, sizeof name, "churn %.1fM steps, CPython-like size mix",
             (double)w.pymix_steps / 1e6);
    add_row(t, name, "ns/step", res[W_PYMIX], 0);
    add_row(t, "realloc growth of 20k lists (CPython list_resize)", "ns/call",
            res[W_REALLOC], 0);
    snprintf(name, sizeof name,
             "walk %ldk new 48 B nodes, heap reused (random frees)",
             w.build_n / 1000);
    add_row(t, name, "ns/node", res[W_WALK], 1.0);
    for (int i = 0; i < A_COUNT; i++) {
        if (!anchors[i].available) {
            table_note(t, "%s skipped: %s", anchors[i].name, anchors[i].why);
        }
    }
    table_note(t,
               "the first touch of a fresh page costs %.1f \u00b5s "
               "here (bench clock), %.1f \u00b5s when populated first "
               "by madvise, as objalloc does a fresh pool's pages: rows "
               "that take memory from the OS (build, realloc) are "
               "dominated by it",
               bench_page_fault_ns(false) / 1e3,
               bench_page_fault_ns(true) / 1e3);
    table_note(t, "objalloc-sized frees with oa_free_sized (size known "
                  "from the type: no ownership tests).");
    if (floor_ns.n > 0) {
        table_note(t,
                   "LIFO's floor: a bare free list per class (pop and push "
                   "a head over static memory: no counts, no ownership "
                   "test, no pools) runs the same loop in %.2f ns/call, "
                   "%.2fx pymalloc's (median of %d rounds' ratios)",
                   series_median(&floor_ns), series_median(&floor_ratio),
                   floor_ratio.n);
    }
    table_finish(t);

    Table *lt =
        table_new("alloc-lifo-classes", "Allocator: LIFO per size class",
                  comp_names, A_COUNT, A_PYMALLOC);
    for (int c = 0; c < NCLASS; c++) {
        Series s[A_COUNT];
        for (int i = 0; i < A_COUNT; i++) {
            s[i] = lifo[i][c];
        }
        snprintf(name, sizeof name, "LIFO %d B", (c + 1) * 16);
        add_row(lt, name, "ns/call", s, 0.7);
    }
    table_finish(lt);
    return bench_alloc_rss();
}
