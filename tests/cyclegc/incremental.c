/* SPDX-License-Identifier: MIT */
/* incremental.c - the pause-bounded mode (cyclegc.h): increments of a pass
 * over generation 2 interleaved with a mutating program, against an
 * oracle.
 *
 * Map:
 *   api_*        the settings, refusals, stats, events;
 *   pass_*       one pass on a quiet heap: garbage freed by its end, live
 *                objects kept, young collections and a full collection
 *                in the middle, freeze, why_alive;
 *   oracle_*     a model of every object (slots as ids, references the
 *                test holds, weakrefs, resurrections by gt_lazarus_type)
 *                mutated at random between increments of a few work
 *                units.  After every step: nothing reachable died, every
 *                weakref to a dead object reads NULL and every other one
 *                reads its own object, intact.  At a checkpoint the
 *                unreachable set G is recorded; once the running pass
 *                ended and one more whole pass ran (the program mutating
 *                all along), every object of G is dead: the bound the
 *                header states.  Finalizers run once (gt_count.corrupt,
 *                checked by the teardown).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

TestSuite(incremental, .init = gt_setup, .fini = gt_teardown);

static GcIncStats
inc_stats(void)
{
    GcIncStats st;
    gc_get_incremental_stats(gt_gc, &st);
    return st;
}

/* Run increments until the running pass ends (starting one if none). */
static long
finish_pass(void)
{
    long found = 0;
    uint64_t passes = inc_stats().passes;
    for (int i = 0; i < 1000000 && inc_stats().passes == passes; i++) {
        long n = gc_collect_increment(gt_gc);
        cr_assert_geq(n, 0);
        found += n;
    }
    cr_assert_eq(inc_stats().passes, passes + 1);
    return found;
}

/* ---- api ------------------------------------------------------------ */

Test(incremental, api_settings)
{
    cr_assert_eq(gc_get_pause_budget(gt_gc), 0);
    cr_assert_eq(gc_set_pause_budget(gt_gc, 2000), 0);
    cr_assert_eq(gc_get_pause_budget(gt_gc), 2000);
    cr_assert_eq(gc_set_pause_budget(gt_gc, 20000000), -1);
    cr_assert_not_null(strstr(gc_error(gt_gc), "more than 10 s"));
    cr_assert_eq(gc_get_pause_budget(gt_gc), 2000);
    gc_set_increment_work(gt_gc, 100);
    cr_assert_eq(gc_get_increment_work(gt_gc), 100);
    GcIncStats st = inc_stats();
    cr_assert_eq(st.budget_us, 2000);
    cr_assert_eq(st.work_limit, 100);
    cr_assert_eq(st.pass_running, 0);
    cr_assert_eq(gc_set_pause_budget(gt_gc, 0), 0);
    gc_set_increment_work(gt_gc, 0);
    cr_assert_eq(gc_set_pause_budget(NULL, 1), -1);
}

Test(incremental, api_events_record_increments)
{
    gc_set_increment_work(gt_gc, 8);
    RcObject *keep = gt_ring(&gt_node_type, 50);
    gc_collect(gt_gc, 2); /* into generation 2 */
    cr_assert_eq(gc_collect_increment(gt_gc), 0);
    GcIncStats st = inc_stats();
    cr_assert_eq(st.pass_running, 1);
    cr_assert_eq(st.increments, 1);
    GcEvent ev[GC_EVENT_LOG];
    size_t n = gc_events(gt_gc, ev, GC_EVENT_LOG);
    cr_assert_geq(n, 2);
    cr_assert_eq(ev[n - 1].increment, 1);
    cr_assert_eq(ev[n - 1].generation, 2);
    cr_assert_geq(ev[n - 1].work, 8);
    cr_assert_eq(ev[n - 2].increment, 0);
    finish_pass();
    st = inc_stats();
    cr_assert_eq(st.pass_running, 0);
    cr_assert_eq(st.passes, 1);
    cr_assert_geq(st.work, 3 * 50);
    cr_assert(gt_in_generation(2, keep));
    rc_decref(keep);
}

/* ---- one pass ------------------------------------------------------- */

Test(incremental, pass_frees_cycles_keeps_live)
{
    gc_set_increment_work(gt_gc, 5);
    RcObject *live = gt_ring(&gt_node_type, 40);
    RcObject *dead = gt_ring(&gt_fin_type, 30);
    gt_link(live, 1, dead); /* dead reachable for now */
    gc_collect(gt_gc, 2);
    cr_assert(gt_in_generation(2, dead));
    gt_link(live, 1, NULL);
    rc_decref(dead); /* the ring of 30 is garbage in generation 2 */
    long found = finish_pass();
    cr_assert_eq(found, 30);
    cr_assert_eq(gt_count.finalizes, 30);
    cr_assert_eq(gt_count.deallocs, 30);
    cr_assert(gt_intact(live));
    cr_assert(gt_in_generation(2, live));
    gt_check();
    rc_decref(live);
}

Test(incremental, pass_survives_young_collections_and_untrack)
{
    gc_set_increment_work(gt_gc, 3);
    RcObject *a = gt_ring(&gt_node_type, 20);
    RcObject *b = gt_ring(&gt_node_type, 20);
    gc_collect(gt_gc, 2);
    rc_decref(b); /* garbage */
    cr_assert_eq(gc_collect_increment(gt_gc), 0);
    /* objects die by refcount under the cursor; young ones come and go */
    RcObject *chain = gt_ring(&gt_node_type, 5);
    gt_link(a, 1, chain);
    rc_decref(chain);
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        RcObject *g = gt_ring(&gt_node_type, 3);
        rc_decref(g);
        gc_collect(gt_gc, i % 2);
        gt_check();
    }
    gt_link(a, 0, NULL); /* a's ring (in the pass) dies by refcount */
    long found = finish_pass();
    cr_assert_geq(found, 20);
    cr_assert(gt_intact(a));
    cr_assert(gt_intact(chain));
    gt_check();
    rc_decref(a);
}

Test(incremental, pass_abandoned_by_full_freeze_why)
{
    gc_set_increment_work(gt_gc, 4);
    RcObject *a = gt_ring(&gt_node_type, 30);
    RcObject *b = gt_ring(&gt_node_type, 30);
    gc_collect(gt_gc, 2);
    rc_decref(b);
    gc_collect_increment(gt_gc);
    cr_assert(inc_stats().pass_running);
    cr_assert_eq(gc_collect(gt_gc, 2), 30); /* complete, stop-the-world */
    cr_assert_not(inc_stats().pass_running);
    cr_assert_eq(inc_stats().abandoned, 1);
    gt_check();
    /* freeze in the middle of a pass */
    gc_collect_increment(gt_gc);
    gc_collect_increment(gt_gc);
    gc_freeze(gt_gc);
    cr_assert_not(inc_stats().pass_running);
    cr_assert_eq(gc_get_freeze_count(gt_gc), 30);
    gt_check();
    gc_unfreeze(gt_gc);
    gc_collect_increment(gt_gc);
    RcObject *path[4];
    cr_assert_eq(gc_why_alive(gt_gc, a, path, 4), 1);
    cr_assert_not(inc_stats().pass_running);
    gt_check();
    rc_decref(a);
}

Test(incremental, pass_get_objects_sees_the_pass)
{
    gc_set_increment_work(gt_gc, 4);
    RcObject *a = gt_ring(&gt_node_type, 25);
    gc_collect(gt_gc, 2);
    gc_collect_increment(gt_gc);
    cr_assert(inc_stats().pass_running);
    RcObject **objs;
    size_t n = gt_objects(2, &objs);
    cr_assert_eq(n, 25);
    cr_assert(gt_in(objs, n, a));
    free(objs);
    RcObject *ref[64];
    cr_assert_eq(gc_get_referrers(gt_gc, &a, 1, ref, 64), 1);
    gt_check();
    rc_decref(a);
}

/* A doubly linked ring of n nodes (slot 0 next, slot 1 prev), returned
 * with one reference (clearing one node frees no other: no cascade). */
static RcObject *
dring(int n)
{
    RcObject *first = gt_new(&gt_node_type), *prev = first;
    for (int i = 1; i < n; i++) {
        RcObject *x = gt_new(&gt_node_type);
        gt_link(prev, 0, x);
        gt_link(x, 1, prev);
        if (prev != first) {
            rc_decref(prev);
        }
        prev = x;
    }
    gt_link(prev, 0, first);
    gt_link(first, 1, prev);
    rc_decref(prev);
    return first;
}

/* A large garbage set that needs no finalizer or weakref work is
 * cleared by the increments after the pass, within their cap. */
Test(incremental, pass_large_garbage_cleared_over_increments)
{
    gc_set_increment_work(gt_gc, 64);
    RcObject *keep = gt_ring(&gt_node_type, 10);
    RcObject *big = dring(3000);
    gc_collect(gt_gc, 2);
    rc_decref(big);
    long found = finish_pass();
    cr_assert_eq(found, 3000);
    cr_assert_lt(gt_count.deallocs, 3000, "freed in one step");
    gt_check();
    int steps = 0;
    while (gt_count.deallocs - 2 * steps < 3000 && steps < 10000) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        RcObject *t = gt_ring(&gt_node_type, 2); /* the program runs */
        rc_decref(t);
        gc_collect(gt_gc, 0);
        gt_check();
        steps++;
    }
    cr_assert_geq(steps, 3000 * 4 / 64 / 2);
    cr_assert_eq(gt_count.deallocs - 2 * steps, 3000);
    /* the same, interrupted by a full collection */
    big = dring(3000);
    gc_collect(gt_gc, 2);
    rc_decref(big);
    finish_pass();
    gc_collect_increment(gt_gc);
    cr_assert_lt(gt_count.deallocs - 2 * steps, 6000);
    cr_assert_gt(gc_collect(gt_gc, 2), 0); /* gives up the doomed list */
    cr_assert_eq(gt_count.deallocs - 2 * steps, 6000);
    gt_check();
    cr_assert(gt_intact(keep));
    rc_decref(keep);
}

/* References moved between SUBTRACT and MARK leave live objects among
 * the candidates: the search reruns on them, and confirmation keeps
 * them all while the garbage among them is found. */
Test(incremental, pass_refines_stale_candidates)
{
    enum { N = 3000 };
    gc_set_increment_work(gt_gc, 16);
    static RcObject *a[N], *bn[N];
    for (int i = 0; i < N; i++) {
        a[i] = gt_new(&gt_node_type);
        bn[i] = gt_new(&gt_node_type);
        gt_link(a[i], 0, bn[i]);
        rc_decref(bn[i]); /* b[i]: held by a[i] only */
    }
    RcObject *junk = dring(2000);
    gc_collect(gt_gc, 2);
    rc_decref(junk); /* garbage in generation 2 */
    while (inc_stats().phase != 3) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    for (int i = 0; i < N; i++) {
        rc_incref(bn[i]);       /* the program takes b[i] ... */
        gt_link(a[i], 0, NULL); /* ... and a[i] lets go */
    }
    long found = finish_pass();
    GcIncStats st = inc_stats();
    cr_assert_geq(st.refinements, 1);
    cr_assert_eq(found, 2000);
    cr_assert_lt(st.candidates, 2000 + N / 10, "confirmed %llu",
                 (unsigned long long)st.candidates);
    for (int i = 0; i < N; i++) {
        cr_assert(gt_intact(bn[i]));
        rc_decref(bn[i]);
        rc_decref(a[i]);
    }
    gt_check();
}

/* Track objs[0..n) again in a shuffled order: generation 0 then runs
 * across the heap's pools at random. */
static void
retrack_shuffled(RcObject **objs, int n, uint64_t seed)
{
    RcObject **order = malloc((size_t)n * sizeof(*order));
    cr_assert_not_null(order);
    memcpy(order, objs, (size_t)n * sizeof(*order));
    for (int i = n - 1; i > 0; i--) {
        size_t j = tc_below(&seed, (size_t)i + 1);
        RcObject *t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < n; i++) {
        cr_assert_eq(gc_untrack(order[i]), 0);
        cr_assert_eq(gc_track(order[i]), 0);
    }
    free(order);
    gc_freeze(gt_gc);   /* every generation, in list order ... */
    gc_unfreeze(gt_gc); /* ... into generation 2, unsorted */
}

/* A generation 2 far from address order (over 16384 objects, most in a
 * shuffled order) is distributed over the buckets by INIT and sorted
 * back, one bucket a step, by SORT: a full collection in the middle of
 * SORT gives every object back; a pass frees its garbage, keeps the
 * rest, and leaves generation 2 in address order. */
Test(incremental, pass_sorts_a_disordered_generation)
{
    enum { N = 24000 };
    static RcObject *a[N], *pair[N];
    gc_disable(gt_gc); /* no collection sorts anything meanwhile */
    gc_set_increment_work(gt_gc, 256);
    for (int i = 0; i < N; i++) {
        a[i] = gt_new(&gt_node_type);
        pair[i] = gt_new(&gt_fin_type);
    }
    /* pairs (2k, 2k+1) linked both ways, held through 2k */
    for (int i = 0; i < N; i += 2) {
        gt_link(pair[i], 0, pair[i + 1]);
        gt_link(pair[i + 1], 0, pair[i]);
        rc_decref(pair[i + 1]);
    }
    retrack_shuffled(pair, N, 16);
    for (int i = 2; i < N; i += 4) {
        rc_decref(pair[i]); /* N / 4 pairs: garbage */
    }
    while (inc_stats().phase != 4) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_eq(inc_stats().passes, 0, "no SORT phase");
    }
    gt_check(); /* the buckets and `pass` in the middle of SORT */
    cr_assert_eq(gc_collect(gt_gc, 2), N / 2);
    gt_check();
    cr_assert_eq(gt_count.finalizes, N / 2);
    /* again, to the end of the pass */
    for (int i = 4; i < N; i += 8) {
        rc_decref(pair[i]); /* N / 8 pairs more */
    }
    retrack_shuffled(a, N, 17);
    cr_assert_eq(finish_pass(), N / 4);
    cr_assert_eq(gt_count.finalizes, N / 2 + N / 4);
    cr_assert_eq(gt_count.deallocs, N / 2 + N / 4);
    gt_check();
    /* generation 2 is in address order but for the few objects reached
     * out of order at the end of an increment (traversed from `grey`):
     * the next pass walks it as it is */
    RcObject **objs;
    size_t n = gt_objects(2, &objs);
    cr_assert_eq(n, N + N / 4);
    size_t down = 0;
    for (size_t i = 1; i < n; i++) {
        down += (uintptr_t)objs[i - 1] > (uintptr_t)objs[i];
    }
    cr_assert_lt(down * 256, n, "%zu pairs out of order", down);
    free(objs);
    uint64_t passes = inc_stats().passes;
    while (inc_stats().passes == passes) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_neq(inc_stats().phase, 4, "sorted again");
    }
    for (int i = 0; i < N; i += 8) {
        cr_assert(gt_intact(pair[i]));
        rc_decref(pair[i]);
    }
    for (int i = 0; i < N; i++) {
        cr_assert(gt_intact(a[i]));
        rc_decref(a[i]);
    }
}

/* ---- a heap whose arenas lie far apart -------------------------------
 * The arenas of the incremental_far suite come from a reservation of
 * FAR_SPAN arenas (33 GiB, PROT_NONE and MAP_NORESERVE: no memory behind
 * it; Valgrind gives a process no 64 GiB), at the places a test chooses; by default alternately from the
 * bottom and the top of its first 4 GiB, so that the pass set spans
 * 4 GiB with its objects in a few MiB at each end: the layout of a heap
 * whose arenas straddle a large mapping.  Each of the pass's 1024
 * address buckets then spans 4 MiB, and one holds most of each end. */

#define FAR_ARENA ((size_t)OA_ARENA_SIZE)
#define FAR_SPAN  ((size_t)33 << 10) /* arenas reserved */
#define FAR_MAX   64                 /* arenas a test's heap may get */

typedef struct FarSource {
    char *map;             /* the reservation */
    size_t len;            /* its length */
    char *base;            /* its first arena */
    size_t place[FAR_MAX]; /* arena i at base + place[i] arenas */
    size_t nplace;         /* places set */
    size_t n;              /* arenas handed out */
} FarSource;

static FarSource far;
static OaHeap *far_oa;
static RcHeap *far_rc;

/* The next arena of far.place, made readable and writable; NULL when
 * all are handed out. */
static void *
far_get(void *ctx)
{
    FarSource *s = ctx;
    if (s->n == s->nplace) {
        return NULL;
    }
    char *a = s->base + s->place[s->n++] * FAR_ARENA;
    if (mprotect(a, FAR_ARENA, PROT_READ | PROT_WRITE) != 0) {
        return NULL;
    }
    return a;
}

/* Arenas alternately from the bottom and the top of the first `gap`. */
static void
far_alternate(size_t gap)
{
    for (size_t i = 0; i < FAR_MAX; i++) {
        far.place[i] = i % 2 == 0 ? i / 2 : gap - 1 - i / 2;
    }
    far.nplace = FAR_MAX;
}

/* Objects of objs[0..n) in arenas [from, to) of the reservation. */
static size_t
far_in(RcObject *const *objs, size_t n, size_t from, size_t to)
{
    size_t in = 0;
    for (size_t i = 0; i < n; i++) {
        char *o = (char *)objs[i];
        in +=
            o >= far.base + from * FAR_ARENA && o < far.base + to * FAR_ARENA;
    }
    return in;
}

/* gt_setup's heap replaced by one (and its objalloc heap) over `far`. */
static void
far_setup(void)
{
    gt_setup();
    gc_heap_destroy(gt_gc); /* empty; its heaps go with it */
    far.len = (FAR_SPAN + 1) * FAR_ARENA;
    far.map = mmap(NULL, far.len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert_neq(far.map, MAP_FAILED, "cannot reserve 33 GiB");
    uintptr_t base = ((uintptr_t)far.map + FAR_ARENA - 1) & ~(FAR_ARENA - 1);
    far.base = (char *)base;
    far.n = 0;
    far_alternate((size_t)4 << 10); /* 4 GiB */
    OaArenaSource src = {far_get, NULL, &far};
    far_oa = oa_heap_new_with_source(&src);
    cr_assert_not_null(far_oa);
    far_rc = rc_heap_new(far_oa);
    cr_assert_not_null(far_rc);
    gt_gc = gc_heap_new(far_rc);
    cr_assert_not_null(gt_gc);
    gt_rc = far_rc;
    gt_check();
}

static void
far_teardown(void)
{
    gt_teardown(); /* its checks, then the collector */
    rc_heap_destroy(far_rc);
    oa_heap_destroy(far_oa);
    munmap(far.map, far.len);
}

TestSuite(incremental_far, .init = far_setup, .fini = far_teardown);

/* Adjacent pairs of generation 2 out of address order. */
static size_t
gen2_descents(size_t *n)
{
    RcObject **objs;
    *n = gt_objects(2, &objs);
    size_t down = 0;
    for (size_t i = 1; i < *n; i++) {
        down += (uintptr_t)objs[i - 1] > (uintptr_t)objs[i];
    }
    free(objs);
    return down;
}

/* A disordered generation 2 at both ends of a 4 GiB gap, over 8192
 * objects at each (the most a bucket sorts in one step): a pass sorts
 * it whole, frees its garbage and keeps the rest; objects that die and
 * a full collection in the middle of SORT leave every list consistent. */
Test(incremental_far, pass_sorts_a_generation_across_a_gap)
{
    enum { N = 48000 }; /* pairs (a[2p], a[2p+1]), held through a[2p] */
    static RcObject *a[N], *rest[N];
    gc_disable(gt_gc);
    gc_set_increment_work(gt_gc, 256);
    for (int i = 0; i < N; i++) {
        a[i] = gt_new(&gt_node_type);
    }
    for (int i = 0; i < N; i += 2) {
        gt_link(a[i], 0, a[i + 1]);
        gt_link(a[i + 1], 0, a[i]);
        rc_decref(a[i + 1]);
    }
    size_t low = far_in(a, N, 0, 2048);
    cr_assert_geq(far.n, 4, "%zu arenas", far.n);
    cr_assert(low > 16384 && N - low > 16384, "%zu of %d objects low", low, N);
    retrack_shuffled(a, N, 18);
    for (int p = 1; p < N / 2; p += 4) {
        rc_decref(a[2 * p]); /* N / 8 pairs: garbage */
    }
    while (inc_stats().phase != 4) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_eq(inc_stats().passes, 0, "no SORT phase");
    }
    /* on into SORT, past the first buckets (into the big one) */
    for (int i = 0; i < 20 && inc_stats().phase == 4; i++) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    gt_check();
    for (int p = 2; p < N / 2; p += 8) {
        gt_link(a[2 * p + 1], 0, NULL); /* the pair's cycle broken ... */
        rc_decref(a[2 * p]);            /* ... both die: N / 16 pairs */
    }
    cr_assert_eq(gt_count.deallocs, N / 8);
    gt_check();
    cr_assert_eq(gc_collect(gt_gc, 2), N / 4); /* gives the pass up */
    gt_check();
    /* again, disordered, to the end of a pass */
    size_t n = 0;
    for (int p = 0; p < N / 2; p++) {
        if (p % 4 != 1 && p % 8 != 2) {
            rest[n++] = a[2 * p];
            rest[n++] = a[2 * p + 1];
        }
    }
    for (int p = 3; p < N / 2; p += 4) {
        rc_decref(a[2 * p]); /* N / 8 pairs more */
    }
    retrack_shuffled(rest, (int)n, 19);
    low = far_in(rest, n, 0, 2048);
    cr_assert(low > 8192 && n - low > 8192, "%zu of %zu objects low", low, n);
    uint64_t passes = inc_stats().passes;
    while (inc_stats().phase != 4) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_eq(inc_stats().passes, passes, "no SORT phase");
    }
    while (inc_stats().phase == 4) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    /* SORT is over: the pass set (all of generation 2) is in address
     * order, and SUBTRACT, which moves nothing, walks it */
    cr_assert_eq(inc_stats().phase, 2);
    size_t all;
    size_t down = gen2_descents(&all);
    cr_assert_eq(all, n);
    cr_assert_eq(down, 0, "%zu pairs of %zu out of address order", down, all);
    cr_assert_eq(finish_pass(), N / 4);
    gt_check();
    /* the garbage, doomed, is cleared by the next increments */
    while (gt_count.deallocs < N / 8 + N / 4 + N / 4) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    for (int p = 0; p < N / 2; p++) {
        if (p % 4 == 0 || p % 8 == 6) {
            cr_assert(gt_intact(a[2 * p]) && gt_intact(a[2 * p + 1]));
            rc_decref(a[2 * p]);
        }
    }
    cr_assert_eq(gc_collect(gt_gc, 2), (long)(n - N / 4));
}

/* Arenas at 0, 1 and 62 MiB from the bottom of the far gap and three
 * at its top, in turn, filled with 2-cycles (a[2p] holds a[2p+1] and
 * is held by the caller) until a sixth arena is handed out; the count
 * of objects made.  Collections off, increments of 256 units. */
enum { FAR_OBJECTS = 100000 };
static int
far_six_arenas_of_pairs(RcObject **a)
{
    const size_t g = FAR_SPAN;
    const size_t place[] = {0, g - 1, 1, g - 2, 62, g - 3};
    cr_assert_eq(far.n, 0, "an arena was handed out before the test");
    memcpy(far.place, place, sizeof(place));
    far.nplace = sizeof(place) / sizeof(place[0]);
    int n = 0;
    gc_disable(gt_gc);
    gc_set_increment_work(gt_gc, 256);
    while (far.n < 6) {
        cr_assert_lt(n, FAR_OBJECTS);
        a[n] = gt_new(&gt_node_type);
        a[n + 1] = gt_new(&gt_node_type);
        gt_link(a[n], 0, a[n + 1]);
        gt_link(a[n + 1], 0, a[n]);
        rc_decref(a[n + 1]);
        n += 2;
    }
    return n;
}

/* Arenas at 0, 1 and 62 MiB from the bottom of a 33 GiB gap and two at
 * its top, filled (and a sixth begun): the pass set spans over 2^35
 * bytes, so the bucket of the bottom three spans 64 MiB; it is split
 * into 1 MiB sub-buckets, each holding one arena of over 8192 objects,
 * which is split again.  SORT leaves the pass set in address order;
 * every list stays consistent along the way (gt_check every 16
 * increments, in the middle of both levels of splits). */
Test(incremental_far, pass_splits_a_sub_bucket_again)
{
    static RcObject
        *a[FAR_OBJECTS]; /* pairs (a[2p], a[2p+1]), held by a[2p] */
    int n = far_six_arenas_of_pairs(a);
    for (int k = 0; k < 6; k += 2) {
        size_t in = far_in(a, (size_t)n, far.place[k], far.place[k] + 1);
        cr_assert_gt(in, 8192, "%zu objects in the arena at %zu MiB", in,
                     far.place[k]);
    }
    retrack_shuffled(a, n, 20);
    long garbage = 0;
    for (int p = 1; p < n / 2; p += 4) {
        rc_decref(a[2 * p]); /* a quarter of the pairs: garbage */
        garbage += 2;
    }
    while (inc_stats().phase != 4) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_eq(inc_stats().passes, 0, "no SORT phase");
    }
    for (int i = 0; inc_stats().phase == 4; i++) {
        if (i % 16 == 0) {
            gt_check();
        }
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    cr_assert_eq(inc_stats().phase, 2);
    size_t all;
    size_t down = gen2_descents(&all);
    cr_assert_eq(all, (size_t)n);
    cr_assert_eq(down, 0, "%zu pairs of %zu out of address order", down, all);
    cr_assert_eq(finish_pass(), garbage);
    gt_check();
    while (gt_count.deallocs < garbage) { /* the doomed garbage cleared */
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    for (int p = 0; p < n / 2; p++) {
        if (p % 4 != 1) {
            cr_assert(gt_intact(a[2 * p]) && gt_intact(a[2 * p + 1]));
            rc_decref(a[2 * p]);
        }
    }
    cr_assert_eq(gc_collect(gt_gc, 2), n - garbage);
}

/* Run increments until the pass is `increments` into SORT (starting one
 * if none runs; generation 2 must be disordered enough to be sorted). */
static void
into_sort(int increments)
{
    for (int i = 0; i < 100000 && inc_stats().phase != 4; i++) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    cr_assert_eq(inc_stats().phase, 4, "no SORT phase");
    for (int i = 0; i < increments; i++) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_eq(inc_stats().phase, 4, "SORT over after %d", i);
    }
}

/* pass_splits_a_sub_bucket_again's heap, its splits interrupted: a pass
 * given up in the middle of a split (by freeze, by a full collection,
 * once at each split level) leaves no split and no stale bucket behind
 * (gc_check: check_sort), objects die and are untracked in the middle of
 * a split (in the list split and in its sub-buckets), young
 * collections promote into generation 2 while the pause-bounded mode is
 * switched off in the middle of one; the last pass, uninterrupted, still
 * leaves the pass set in address order and frees exactly the garbage. */
Test(incremental_far, pass_split_interrupted)
{
    static RcObject *a[FAR_OBJECTS],
        *live[FAR_OBJECTS]; /* pairs (a[2p], a[2p+1]) */
    int n = far_six_arenas_of_pairs(a);
    /* state of pair p: 0 held, 1 garbage (cycle dropped), 2 dead by
     * refcount, 3 its first untracked (held) */
    static unsigned char state[FAR_OBJECTS / 2];
    memset(state, 0, sizeof(state));
    long garbage = 0, dead = 0;
    /* 1. given up by freeze in the first split (bucket 0, at the bottom
     * arenas), after deaths and untracks in the middle of it */
    retrack_shuffled(a, n, 21);
    into_sort(8);
    gt_check();
    for (int p = 5; p < n / 2; p += 16) {
        gt_link(a[2 * p + 1], 0, NULL);
        rc_decref(a[2 * p]); /* both die */
        state[p] = 2;
        dead += 2;
    }
    for (int p = 9; p < n / 2; p += 16) {
        cr_assert_eq(gc_untrack(a[2 * p]), 0);
        state[p] = 3;
    }
    cr_assert_eq(gt_count.deallocs, dead);
    gt_check();
    into_sort(8);
    gt_check();
    gc_freeze(gt_gc);
    gt_check();
    gc_unfreeze(gt_gc);
    gt_check();
    /* 2. the mode off in the middle of a deeper split: young collections
     * promote into generation 2 meanwhile; then given up by a full
     * collection that frees the garbage made so far */
    int m = 0;
    for (int p = 0; p < n / 2; p++) {
        if (state[p] == 0) {
            live[m++] = a[2 * p];
            live[m++] = a[2 * p + 1];
        }
    }
    retrack_shuffled(live, m, 22);
    for (int p = 1; p < n / 2; p += 16) {
        rc_decref(a[2 * p]);
        state[p] = 1;
        garbage += 2;
    }
    into_sort(120);
    gt_check();
    gc_set_increment_work(gt_gc, 0);
    static RcObject *young[64];
    for (int i = 0; i < 64; i++) {
        young[i] = gt_new(&gt_node_type);
        if (i % 8 == 7) {
            gc_collect(gt_gc, 1);
            gt_check();
        }
    }
    gc_set_increment_work(gt_gc, 256);
    into_sort(4);
    gt_check();
    cr_assert_eq(gc_collect(gt_gc, 2), garbage);
    gt_check();
    /* 3. more garbage; a pass to its end, uninterrupted */
    m = 0;
    for (int p = 0; p < n / 2; p++) {
        if (state[p] == 0) {
            live[m++] = a[2 * p];
            live[m++] = a[2 * p + 1];
        }
    }
    retrack_shuffled(live, m, 23);
    long garbage3 = 0;
    for (int p = 3; p < n / 2; p += 16) {
        rc_decref(a[2 * p]);
        state[p] = 1;
        garbage3 += 2;
    }
    into_sort(0);
    for (int i = 0; inc_stats().phase == 4; i++) {
        if (i % 32 == 0) {
            gt_check();
        }
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    cr_assert_eq(inc_stats().phase, 2);
    size_t all;
    size_t down = gen2_descents(&all);
    cr_assert_eq(down, 0, "%zu pairs of %zu out of address order", down, all);
    cr_assert_eq(finish_pass(), garbage3);
    gt_check();
    while (gt_count.deallocs < dead + garbage + garbage3) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    for (int p = 0; p < n / 2; p++) {
        if (state[p] == 0 || state[p] == 3) {
            cr_assert(gt_intact(a[2 * p]) && gt_intact(a[2 * p + 1]));
            gt_link(a[2 * p + 1], 0, NULL); /* (untracked: no cycle) */
            rc_decref(a[2 * p]);
        }
    }
    for (int i = 0; i < 64; i++) {
        rc_decref(young[i]);
    }
    gc_set_increment_work(gt_gc, 0);
    gc_collect(gt_gc, 2);
    gt_check();
}

/* One pass over N live pairs a[i] -> b[i] and JUNK garbage, with stale
 * counts (the program takes each b[i] and a[i] lets go while the search
 * marks), so that the b[i] are candidates and a confirmation round runs.
 * In that round's MARK the program does `what` to one of them: 0
 * nothing, 1 stores it with rc_setref, 2 lets it die, 3 reads it from a
 * weakref.
 * Returns the rounds after the search. */
static uint64_t
disturbed_pass(int what)
{
    enum { N = 1500, JUNK = 2000 };
    static RcObject *a[N], *bn[N];
    for (int i = 0; i < N; i++) {
        a[i] = gt_new(&gt_node_type);
        bn[i] = gt_new(&gt_node_type);
        gt_link(a[i], 0, bn[i]);
        rc_decref(bn[i]); /* b[i]: held by a[i] only */
    }
    RcObject *junk = dring(JUNK);
    gc_collect(gt_gc, 2);
    rc_decref(junk);
    uint64_t before = inc_stats().refinements;
    uint64_t passes = inc_stats().passes;
    while (inc_stats().phase != 3) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
    }
    for (int i = 0; i < N; i++) {
        rc_incref(bn[i]);
        gt_link(a[i], 0, NULL);
    }
    while (inc_stats().refinements == before || inc_stats().phase != 3) {
        cr_assert_eq(gc_collect_increment(gt_gc), 0);
        cr_assert_eq(inc_stats().passes, passes, "the pass ended first");
    }
    /* a b[i] the search left among the candidates: watched now */
    int v = 0;
    while (v < N && !(bn[v]->flags & RC_OBJ_WATCHED)) {
        v++;
    }
    cr_assert_lt(v, N, "no b[i] in the confirmation round");
    if (what == 1) {
        gt_link(a[0], 1, bn[v]);
    }
    else if (what == 2) {
        rc_decref(bn[v]);
        bn[v] = NULL;
    }
    else if (what == 3) {
        RcObject *wr2 = rc_weakref_new(gt_rc, bn[v], NULL, NULL, NULL);
        cr_assert_eq(rc_weakref_get(wr2), bn[v]);
        rc_decref(wr2);
    }
    cr_assert_eq(finish_pass(), JUNK);
    for (int i = 0; i < N; i++) {
        if (bn[i] != NULL) {
            cr_assert(gt_intact(bn[i]));
            rc_decref(bn[i]);
        }
        rc_decref(a[i]);
    }
    gt_check();
    return inc_stats().refinements - before;
}

/* A confirmation round the program disturbs - a reference to one of its
 * objects stored with rc_setref, one of them freed, one read from a
 * weakref - proves nothing: another round runs.  A round left alone
 * hands its garbage over at once. */
Test(incremental, confirm_round_disturbed_by_the_program)
{
    gc_set_increment_work(gt_gc, 16);
    cr_assert_eq(disturbed_pass(0), 1);
    for (int what = 1; what <= 3; what++) {
        uint64_t r = disturbed_pass(what);
        cr_assert_eq(r, 2, "disturbance %d: %llu rounds", what,
                     (unsigned long long)r);
    }
}

#if defined(RCGC_DEBUG)
/* A reference stored past the write barrier (a plain store of a pointer
 * the program kept without a reference) while a confirmation round
 * watches a garbage ring: the round confirms the ring, and debug builds
 * find the extra reference and stop, naming the object. */
static void
store_past_the_barrier(void)
{
    gt_setup();
    gc_set_increment_work(gt_gc, 16);
    RcObject *holder = gt_new(&gt_node_type);
    RcObject *ring = dring(2000);
    RcObject *kept = ring; /* borrowed: not allowed */
    gc_collect(gt_gc, 2);
    rc_decref(ring);
    /* the round's SWEEP: its MARK saw `kept` held by the ring alone */
    while (inc_stats().refinements == 0 || inc_stats().phase != 5) {
        gc_collect_increment(gt_gc);
    }
    gt_node(holder)->slot[0] = kept; /* no rc_setref */
    rc_incref(kept);
    finish_pass();
}

Test(incremental_death, store_past_the_barrier_aborts, .signal = SIGABRT)
{
    store_past_the_barrier();
}

Test(incremental_death, store_past_the_barrier_is_named)
{
    tc_expect_abort(store_past_the_barrier,
                    "cyclegc: gc_collect_increment: object 0x",
                    "without rc_setref");
}
#endif

/* A budget alone: increments of the automatic trigger run the passes and
 * free old garbage without a full collection. */
Test(incremental, pass_automatic_trigger)
{
    cr_assert_eq(gc_set_pause_budget(gt_gc, 1000), 0);
    gc_set_threshold(gt_gc, 100, 2, 2);
    RcObject *keep = gt_ring(&gt_node_type, 10);
    for (int round = 0; round < 200; round++) {
        RcObject *r = gt_ring(&gt_node_type, 4);
        gt_link(keep, 1, r); /* lives a while, then dies in gen 2 */
        rc_decref(r);
        for (int i = 0; i < 30; i++) {
            RcObject *t = gt_ring(&gt_node_type, 2);
            rc_decref(t);
        }
    }
    GcIncStats st = inc_stats();
    cr_assert_gt(st.passes, 0);
    cr_assert_gt(st.collected, 0);
    cr_assert_eq(gt_stats(2).collections, st.passes);
    gt_check();
    rc_decref(keep);
}

/* ---- oracle ----------------------------------------------------------- */

#define MAX_OBJ 600
#define NWEAK   24

typedef struct Model {
    uint64_t rng;
    uint64_t base;
    size_t n;
    RcObject *obj[MAX_OBJ];
    int32_t slot[MAX_OBJ][GT_SLOTS];
    uint32_t ext[MAX_OBJ];
    unsigned char reach[MAX_OBJ];
    unsigned char garbage[MAX_OBJ]; /* the checkpoint's set G */
    int window; /* between a checkpoint and its check: no resurrected
                   object is dropped */
    int32_t queue[MAX_OBJ];
    RcObject *wr[NWEAK];
    int32_t wr_target[NWEAK];
    long steps;
} Model;

static int
dead(Model *m, size_t i)
{
    return gt_dead[m->base + i] != 0;
}

/* Index of a gt object of the model, or -1. */
static int32_t
index_of(Model *m, RcObject *op)
{
    uint64_t id = gt_node(op)->id;
    return id >= m->base && id < m->base + m->n ? (int32_t)(id - m->base) : -1;
}

/* reach: from what the test holds and what finalizers resurrected
 * (gt_saved); check that nothing reachable died. */
static void
compute_reach(Model *m)
{
    memset(m->reach, 0, m->n);
    size_t tail = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->ext[i] > 0) {
            m->reach[i] = 1;
            m->queue[tail++] = (int32_t)i;
        }
    }
    for (size_t s = 0; s < gt_nsaved; s++) {
        int32_t i = index_of(m, gt_saved[s]);
        if (i >= 0 && !m->reach[i]) {
            m->reach[i] = 1;
            m->queue[tail++] = i;
        }
    }
    for (size_t h = 0; h < tail; h++) {
        int32_t i = m->queue[h];
        for (int k = 0; k < GT_SLOTS; k++) {
            int32_t j = m->slot[i][k];
            if (j >= 0 && !m->reach[j]) {
                m->reach[j] = 1;
                m->queue[tail++] = j;
            }
        }
    }
    for (size_t h = 0; h < tail; h++) {
        cr_assert_not(dead(m, (size_t)m->queue[h]),
                      "step %ld: reachable object %d died", m->steps,
                      m->queue[h]);
        cr_assert(gt_intact(m->obj[m->queue[h]]));
    }
}

static int32_t
pick(Model *m)
{
    for (int t = 0; t < 32; t++) {
        int32_t i = (int32_t)tc_below(&m->rng, m->n ? m->n : 1);
        if (m->n && m->reach[i]) {
            return i;
        }
    }
    return -1;
}

static void
set_slot(Model *m, int32_t src, int k, int32_t dst)
{
    gt_link(m->obj[src], k, dst >= 0 ? m->obj[dst] : NULL);
    m->slot[src][k] = dst;
}

static void
make(Model *m)
{
    if (m->n >= MAX_OBJ) {
        return;
    }
    uint64_t r = tc_below(&m->rng, 20);
    const RcType *t = r < 3 ? &gt_fin_type
                      : r < 4 && gt_nsaved < GT_SAVED_MAX / 2
                          ? &gt_lazarus_type
                          : &gt_node_type;
    RcObject *op = gt_new(t);
    size_t i = m->n++;
    cr_assert_eq(gt_node(op)->id, m->base + i);
    m->obj[i] = op;
    m->ext[i] = 1;
    m->reach[i] = 1;
    for (int k = 0; k < GT_SLOTS; k++) {
        m->slot[i][k] = -1;
        if (tc_below(&m->rng, 4) == 0) {
            int32_t j = pick(m);
            set_slot(m, (int32_t)i, k, j >= 0 ? j : (int32_t)i);
        }
    }
}

/* Weakrefs: to a dead object they read NULL, else their own object. */
static void
check_weak(Model *m)
{
    for (int w = 0; w < NWEAK; w++) {
        if (m->wr[w] == NULL) {
            continue;
        }
        RcObject *t = rc_weakref_get(m->wr[w]);
        int32_t i = m->wr_target[w];
        if (dead(m, (size_t)i)) {
            cr_assert_null(t, "step %ld: weakref to dead %d reads %p",
                           m->steps, i, (void *)t);
        }
        else if (t != NULL) {
            cr_assert_eq(t, m->obj[i]);
            cr_assert_eq(gt_node(t)->id, m->base + (uint64_t)i);
        }
    }
}

static void
mutate(Model *m)
{
    compute_reach(m);
    uint64_t r = tc_below(&m->rng, 100);
    int32_t a = pick(m);
    if (r < 20 || a < 0) {
        make(m);
    }
    else if (r < 50) {
        set_slot(m, a, (int)tc_below(&m->rng, GT_SLOTS),
                 tc_below(&m->rng, 3) ? pick(m) : -1);
    }
    else if (r < 75) {
        if (m->ext[a] > 0) {
            m->ext[a]--;
            rc_decref(m->obj[a]);
        }
    }
    else if (r < 82) {
        m->ext[a]++;
        rc_incref(m->obj[a]);
    }
    else if (r < 90) {
        int w = (int)tc_below(&m->rng, NWEAK);
        if (m->wr[w] != NULL) {
            rc_decref(m->wr[w]);
        }
        m->wr[w] = rc_weakref_new(gt_rc, m->obj[a], NULL, NULL, NULL);
        cr_assert_not_null(m->wr[w]);
        m->wr_target[w] = a;
    }
    else if (r < 92) {
        if (!m->window) {
            gt_saved_clear();
        } /* resurrected objects may die again */
    }
    else {
        /* a new ring into the graph, usually dropped at once */
        size_t first = m->n;
        for (int q = 0; q < 3; q++) {
            make(m);
        }
        for (size_t q = first; q + 1 < m->n; q++) {
            set_slot(m, (int32_t)q, 0, (int32_t)(q + 1));
        }
        if (m->n > first) {
            set_slot(m, (int32_t)(m->n - 1), 0, (int32_t)first);
            for (size_t q = first; q < m->n; q++) {
                m->ext[q]--;
                rc_decref(m->obj[q]);
            }
        }
    }
    m->steps++;
    compute_reach(m);
    check_weak(m);
}

/* Steps with increments (and now and then a young collection) between
 * them until the running pass ends. */
static void
mutate_until_pass_ends(Model *m)
{
    uint64_t passes = inc_stats().passes;
    int started = inc_stats().pass_running;
    for (long i = 0; i < 200000; i++) {
        if (inc_stats().passes != passes) {
            return;
        }
        if (!started && !inc_stats().pass_running) {
            started = 1; /* the next increment starts one */
        }
        cr_assert_geq(gc_collect_increment(gt_gc), 0);
        if (inc_stats().passes != passes) {
            return;
        }
        mutate(m);
        if (tc_below(&m->rng, 10) == 0) {
            gc_collect(gt_gc, (int)tc_below(&m->rng, 2));
            compute_reach(m);
            check_weak(m);
        }
    }
    cr_assert_fail("pass did not end");
}

static void
run_oracle(uint64_t seed, size_t work, int with_freeze)
{
    Model *m = calloc(1, sizeof(Model));
    cr_assert_not_null(m);
    m->rng = seed;
    m->base = gt_next_id;
    gc_set_increment_work(gt_gc, work);
    gc_set_threshold(gt_gc, 50, 3, 3);
    for (int round = 0; round < 6; round++) {
        /* free mutation, increments, collections of every kind */
        for (int s = 0; s < 150; s++) {
            mutate(m);
            uint64_t r = tc_below(&m->rng, 20);
            if (r < 6) {
                cr_assert_geq(gc_collect_increment(gt_gc), 0);
            }
            else if (r == 6) {
                gc_collect(gt_gc, (int)tc_below(&m->rng, 3));
            }
            else if (r == 7 && with_freeze) {
                gc_freeze(gt_gc);
            }
            else if (r == 8 && with_freeze) {
                gc_unfreeze(gt_gc);
            }
            compute_reach(m);
            check_weak(m);
            gt_check();
        }
        /* the bound: G = unreachable now; after the running pass and one
         * whole pass more, all of G is dead */
        gc_unfreeze(gt_gc);
        compute_reach(m);
        for (size_t i = 0; i < m->n; i++) {
            m->garbage[i] = !m->reach[i] && !dead(m, i);
        }
        m->window = 1;
        gc_collect(gt_gc, 1); /* young survivors into generation 2 */
        if (inc_stats().pass_running) {
            mutate_until_pass_ends(m);
        }
        mutate_until_pass_ends(m);
        compute_reach(m); /* the last step may have resurrected some */
        for (size_t i = 0; i < m->n; i++) {
            if (m->garbage[i]) {
                /* a finalizer may have resurrected it (gt_saved) */
                cr_assert(dead(m, i) || m->reach[i],
                          "round %d: object %zu unreachable at the "
                          "checkpoint is alive after two passes",
                          round, i);
            }
        }
        m->window = 0;
        gt_check();
    }
    for (int w = 0; w < NWEAK; w++) {
        if (m->wr[w] != NULL) {
            rc_decref(m->wr[w]);
        }
    }
    for (size_t i = 0; i < m->n; i++) {
        while (m->ext[i] > 0) {
            m->ext[i]--;
            rc_decref(m->obj[i]);
        }
    }
    gc_set_increment_work(gt_gc, 0);
    /* resurrected objects die for good (finalizers run once) */
    for (int i = 0; i < 4; i++) {
        gt_saved_clear();
        gc_collect(gt_gc, 2);
    }
    cr_assert_eq(gt_nsaved, 0);
    GcIncStats st = inc_stats();
    cr_assert_geq(st.passes, 12);
    cr_assert_gt(st.collected, 0, "the passes found no garbage");
    free(m);
}

Test(incremental, oracle_small_increments)
{
    run_oracle(0x1234567ull, 3, 0);
}

Test(incremental, oracle_larger_increments)
{
    run_oracle(0xfeedbeefull, 40, 0);
}

Test(incremental, oracle_with_freeze)
{
    run_oracle(0xabcdef12ull, 7, 1);
}

Test(incremental, oracle_seeds)
{
    for (uint64_t s = 1; s <= 4; s++) {
        run_oracle(s * 0x9e3779b97f4a7c15ull, 1 + s * 5, (int)(s & 1));
        gt_saved_clear();
        gc_collect(gt_gc, 2);
    }
}
