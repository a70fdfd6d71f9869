/* SPDX-License-Identifier: MIT */
/* demo.c - `make demo`: rcgc embedded the way an interpreter embeds it.
 *
 * Three object types an interpreter would define (a byte string, a
 * variable-size vector of references used for frames, records and the
 * module table, and a closure = code + captured environment), a workload
 * full of cycles (see demo.h), automatic collection on with the default
 * thresholds, and a report in a user's terms: objects created and freed,
 * collections per generation with their pauses, memory held, and the same
 * workload run on CPython's own objects in the same process.
 *
 * Usage: demo [--steps N] [--seed S] [--no-cpython]
 */
#define _POSIX_C_SOURCE 200809L
#include "cyclegc/cyclegc.h"
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the types ---------------------------------------------------------
 * str:     non-GC, payload = length word + bytes.
 * vec:     GC, payload = length word + references.
 * closure: GC, payload = code (a str) + env (a vec). */

typedef struct Vec {
    size_t n;
    RcObject *item[];
} Vec;

typedef struct Closure {
    RcObject *code;
    RcObject *env;
} Closure;

static const RcType str_type = {
    RC_TYPE_HEAD("str", 0),
    .size = sizeof(size_t),
    .itemsize = 1,
};

static int
vec_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    Vec *v = rc_payload(op);
    for (size_t i = 0; i < v->n; i++) {
        if (v->item[i] != NULL) {
            int r = visit(v->item[i], arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

static void
vec_clear(RcObject *op)
{
    Vec *v = rc_payload(op);
    for (size_t i = 0; i < v->n; i++) {
        rc_setref(&v->item[i], NULL);
    }
}

static const RcType vec_type = {
    RC_TYPE_HEAD("vec", RC_TYPE_GC),
    .size = sizeof(size_t),
    .itemsize = sizeof(RcObject *),
    .traverse = vec_traverse,
    .clear = vec_clear,
};

static int
closure_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    Closure *c = rc_payload(op);
    int r = 0;
    if (c->code != NULL) {
        r = visit(c->code, arg);
    }
    if (r == 0 && c->env != NULL) {
        r = visit(c->env, arg);
    }
    return r;
}

static void
closure_clear(RcObject *op)
{
    Closure *c = rc_payload(op);
    rc_setref(&c->code, NULL);
    rc_setref(&c->env, NULL);
}

static const RcType closure_type = {
    RC_TYPE_HEAD("closure", RC_TYPE_GC),
    .size = sizeof(Closure),
    .traverse = closure_traverse,
    .clear = closure_clear,
};

/* ---- collection statistics through the callbacks -------------------- */

typedef struct Pauses {
    struct timespec start;
    uint64_t count[GC_NGENERATIONS];
    uint64_t total_ns[GC_NGENERATIONS];
    uint64_t max_ns[GC_NGENERATIONS];
} Pauses;

static uint64_t
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void
on_collect(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    Pauses *p = ctx;
    (void)gc;
    if (phase == GC_PHASE_START) {
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        return;
    }
    uint64_t t0 =
        (uint64_t)p->start.tv_sec * 1000000000u + (uint64_t)p->start.tv_nsec;
    uint64_t d = now_ns() - t0;
    int g = info->generation;
    p->count[g]++;
    p->total_ns[g] += d;
    if (d > p->max_ns[g]) {
        p->max_ns[g] = d;
    }
}

/* ---- the workload ---------------------------------------------------- */

typedef struct World {
    RcHeap *rc;
    RcObject *module; /* vec of DEMO_MODULE_SLOTS, held from C */
    RcObject *code;   /* one shared "code" string */
} World;

static void
die_oom(const char *what)
{
    fprintf(stderr, "demo: out of memory creating %s\n", what);
    exit(1);
}

static RcObject *
new_str(RcHeap *rc, unsigned len, unsigned fill)
{
    RcObject *s = rc_new_var(rc, &str_type, len);
    if (s == NULL) {
        die_oom("a string");
    }
    memset((char *)rc_payload(s) + sizeof(size_t), (int)fill, len);
    return s;
}

static RcObject **
slot(RcObject *vec, size_t i)
{
    return &((Vec *)rc_payload(vec))->item[i];
}

static void
step(World *w, uint64_t *seed)
{
    DemoStep st;
    demo_draw(seed, &st);
    RcObject *frame = rc_new_var(w->rc, &vec_type, st.nslots);
    if (frame == NULL) {
        die_oom("a frame");
    }
    for (unsigned i = 0; i < st.nstrings; i++) {
        rc_setref(slot(frame, i % st.nslots), new_str(w->rc, st.strlen_, i));
    }
    RcObject *last = NULL;
    for (unsigned j = 0; j < st.nclosures; j++) {
        RcObject *c = rc_new(w->rc, &closure_type);
        if (c == NULL) {
            die_oom("a closure");
        }
        Closure *cl = rc_payload(c);
        cl->code = rc_newref(w->code);
        cl->env = rc_newref(frame); /* frame -> closure -> frame */
        rc_setref(slot(frame, (st.nstrings + j) % st.nslots), c);
        last = c;
    }
    if (st.keep && last != NULL) {
        rc_setref(slot(w->module, st.keep_slot), rc_newref(last));
    }
    /* Link two long-lived records: a's environment refers to b. */
    RcObject *a = *slot(w->module, st.link_a);
    RcObject *b = *slot(w->module, st.link_b);
    if (a != NULL && b != NULL) {
        RcObject *env = ((Closure *)rc_payload(a))->env;
        size_t n = ((Vec *)rc_payload(env))->n;
        rc_setref(slot(env, n - 1), rc_newref(b));
    }
    rc_decref(frame);
}

/* ---- the report ------------------------------------------------------ */

static void
print_types(RcHeap *rc)
{
    RcTypeStats ts[16];
    size_t n = rc_type_stats(rc, ts, 16);
    printf("  %-10s %12s %12s %10s\n", "type", "created", "freed", "live");
    for (size_t i = 0; i < n && i < 16; i++) {
        printf("  %-10s %12llu %12llu %10zu\n", ts[i].type->name,
               (unsigned long long)ts[i].created,
               (unsigned long long)ts[i].freed, ts[i].live);
    }
}

static void
print_pauses(const Pauses *p, double seconds)
{
    uint64_t all = 0;
    printf("  %-10s %12s %12s %12s\n", "generation", "collections",
           "mean pause", "max pause");
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        double mean = p->count[g] ? (double)p->total_ns[g] / p->count[g] : 0.0;
        printf("  %-10d %12llu %10.1f us %10.1f us\n", g,
               (unsigned long long)p->count[g], mean / 1e3,
               (double)p->max_ns[g] / 1e3);
        all += p->total_ns[g];
    }
    printf("  time spent collecting: %.1f%% of the run\n",
           seconds > 0 ? 100.0 * (double)all / 1e9 / seconds : 0.0);
}

static void
print_memory(OaHeap *oa)
{
    OaStats st;
    oa_heap_stats(oa, &st);
    double internal =
        st.bytes_requested
            ? 100.0 * (double)(st.bytes_handed - st.bytes_requested) /
                  (double)st.bytes_handed
            : 0.0;
    printf("  arenas mapped %zu (high-water %zu, %.1f MiB now)\n", st.arenas,
           st.arenas_highwater, (double)st.bytes_mapped / (1 << 20));
    printf("  pools: %zu full, %zu partly used, %zu empty\n", st.pools_full,
           st.pools_used, st.pools_empty);
    printf("  blocks live %zu (%.1f MiB); free bytes stranded in partly "
           "used pools %.1f KiB\n",
           st.blocks_used, (double)st.bytes_used / (1 << 20),
           (double)st.bytes_stranded / 1024);
    printf("  internal fragmentation (class rounding): %.1f%%\n", internal);
}

int
main(int argc, char **argv)
{
    long steps = 1000000;
    uint64_t seed0 = 42;
    int cpython = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            steps = atol(argv[++i]);
        }
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed0 = strtoull(argv[++i], NULL, 10);
        }
        else if (strcmp(argv[i], "--no-cpython") == 0) {
            cpython = 0;
        }
        else {
            fprintf(stderr,
                    "usage: %s [--steps N] [--seed S] "
                    "[--no-cpython]\n",
                    argv[0]);
            return 2;
        }
    }
    if (steps <= 0 || seed0 == 0) {
        fprintf(stderr, "demo: --steps and --seed must be positive\n");
        return 2;
    }

    GcHeap *gc = gc_heap_new(NULL);
    if (gc == NULL) {
        die_oom("the heap");
    }
    World w = {.rc = gc_heap_rc(gc)};
    OaHeap *oa = rc_heap_oa(w.rc);
    Pauses pauses;
    memset(&pauses, 0, sizeof pauses);
    if (gc_callback_add(gc, on_collect, &pauses) != 0) {
        die_oom("a callback");
    }
    w.module = rc_new_var(w.rc, &vec_type, DEMO_MODULE_SLOTS);
    w.code = new_str(w.rc, 64, 'c');
    if (w.module == NULL) {
        die_oom("the module");
    }

    printf("rcgc demo: an interpreter-shaped heap, %ld steps "
           "(frames, closures capturing them, linked records)\n",
           steps);
    int tty = isatty(STDOUT_FILENO);
    uint64_t seed = seed0;
    uint64_t t0 = now_ns();
    long every = steps / 8 > 0 ? steps / 8 : 1;
    for (long i = 1; i <= steps; i++) {
        step(&w, &seed);
        if (i % every == 0 || i == steps) {
            long count[GC_NGENERATIONS];
            gc_get_count(gc, count);
            printf("%s  [%3ld%%] %ld steps, %.2f s, %zu objects live, "
                   "%llu collections%s",
                   tty ? "\r" : "", i * 100 / steps, i,
                   (double)(now_ns() - t0) / 1e9, rc_live_total(w.rc),
                   (unsigned long long)(pauses.count[0] + pauses.count[1] +
                                        pauses.count[2]),
                   tty ? "" : "\n");
            fflush(stdout);
        }
    }
    double seconds = (double)(now_ns() - t0) / 1e9;
    printf("%s\nrcgc: %ld steps in %.2f s (%.0f ns per step)\n", tty ? "" : "",
           steps, seconds, seconds * 1e9 / (double)steps);

    printf("\nObjects\n");
    print_types(w.rc);
    printf("\nCollections (automatic, thresholds 2000/10/10)\n");
    print_pauses(&pauses, seconds);
    printf("\nMemory held while running\n");
    print_memory(oa);

    /* Tear down: drop the roots, collect what cycles remain. */
    rc_decref(w.module);
    rc_decref(w.code);
    long found = gc_collect(gc, 2);
    printf("\nTeardown: dropped the module, a full collection found %ld "
           "unreachable; %zu objects left\n",
           found, rc_live_total(w.rc));
    print_memory(oa);
    int leaked = rc_live_total(w.rc) != 0;
    gc_heap_destroy(gc);

    if (cpython) {
        long pycoll = 0;
        double py = demo_cpython_run(seed0, steps, &pycoll);
        if (py > 0) {
            printf("\nSide by side, same steps on CPython's own objects "
                   "(lists, bytes; gc thresholds 2000/10/10):\n");
            printf("  CPython %.2f s (%.0f ns per step, %ld collections)\n",
                   py, py * 1e9 / (double)steps, pycoll);
            printf("  rcgc    %.2f s: %.2fx CPython's time\n", seconds,
                   seconds / py);
        }
        else {
            printf("\n(CPython side by side not available in this build)\n");
        }
    }
    if (leaked) {
        fprintf(stderr, "demo: objects left after teardown\n");
        return 1;
    }
    return 0;
}
