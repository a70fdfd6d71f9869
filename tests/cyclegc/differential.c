/* SPDX-License-Identifier: MIT */
/* differential.c - random graphs checked against an oracle.
 *
 * The test keeps a model of every object it made: the contents of each
 * slot (as ids), the references it holds itself (ext), and which objects
 * were frozen.  Random steps mutate the real heap and the model together
 * (new objects, slot stores, slot clears, dropping and taking external
 * references) and random collections of generation 0, 1 or 2 run between
 * them; with automatic collection on, collections also start by
 * themselves.  Deaths are seen through the test types' dealloc (gt_dead).
 *
 * Oracle: an object must be alive when it is reachable through the
 * model's slots from an object the test holds (or, in freeze mode, from a
 * frozen object that is alive).  After every step: nothing reachable
 * died.  After every collection, for every live object: payload intact,
 * every slot equal to the model's, reference count equal to the test's
 * references plus the model slots of live objects that point at it, and
 * finalized exactly when dead (fin type).  After a full collection: the
 * live objects are exactly the reachable ones, and the collection's result
 * equals the number of objects it freed.  Younger generations are empty
 * after a collection, count 0 is 0.
 *
 * Variants also compare gc_get_referents with the model's slots and
 * gc_why_alive with a breadth-first search from the held objects. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(differential, .init = gt_setup, .fini = gt_teardown);

enum { MODE_EXPLICIT, MODE_AUTOMATIC, MODE_FREEZE, MODE_INSPECT };

typedef struct Model {
    uint64_t rng;
    int mode;
    uint64_t base;  /* gt id of model index 0 */
    size_t n, cap;  /* objects made so far */
    RcObject **obj; /* by index; valid while alive */
    int32_t (*slot)[GT_SLOTS];
    uint32_t *ext;
    unsigned char *frozen;
    unsigned char *fin;   /* of gt_fin_type */
    unsigned char *reach; /* 1: from ext, 2: only from frozen */
    int32_t *list;        /* reachable from ext, in BFS order */
    size_t nlist;
    int32_t *dist; /* BFS distance from the held objects */
    int32_t *queue;
    uint32_t *indeg;
    unsigned char *pred; /* predicted to die in a full collection */
    long steps, collections;
} Model;

static int
dead(Model *m, size_t i)
{
    return gt_dead[m->base + i] != 0;
}

static void *
grow(void *p, size_t nmemb, size_t size)
{
    void *q = realloc(p, nmemb * size);
    cr_assert_not_null(q);
    return q;
}

static void
model_reserve(Model *m)
{
    if (m->n < m->cap) {
        return;
    }
    size_t cap = m->cap ? 2 * m->cap : 256;
    m->obj = grow(m->obj, cap, sizeof(*m->obj));
    m->slot = grow(m->slot, cap, sizeof(*m->slot));
    m->ext = grow(m->ext, cap, sizeof(*m->ext));
    m->frozen = grow(m->frozen, cap, 1);
    m->fin = grow(m->fin, cap, 1);
    m->reach = grow(m->reach, cap, 1);
    m->list = grow(m->list, cap, sizeof(*m->list));
    m->dist = grow(m->dist, cap, sizeof(*m->dist));
    m->queue = grow(m->queue, cap, sizeof(*m->queue));
    m->indeg = grow(m->indeg, cap, sizeof(*m->indeg));
    m->pred = grow(m->pred, cap, 1);
    m->cap = cap;
}

static void
model_free(Model *m)
{
    free(m->obj);
    free(m->slot);
    free(m->ext);
    free(m->frozen);
    free(m->fin);
    free(m->reach);
    free(m->list);
    free(m->dist);
    free(m->queue);
    free(m->indeg);
    free(m->pred);
    memset(m, 0, sizeof(*m));
}

/* Breadth-first search over the model's slots from `seed` (value 1 or 2
 * written into reach), appending to the queue from position *tail. */
static void
bfs(Model *m, size_t head, size_t *tail, unsigned char mark)
{
    while (head < *tail) {
        int32_t i = m->queue[head++];
        for (int k = 0; k < GT_SLOTS; k++) {
            int32_t j = m->slot[i][k];
            if (j >= 0 && m->reach[j] == 0) {
                m->reach[j] = mark;
                m->dist[j] = m->dist[i] + 1;
                m->queue[(*tail)++] = j;
            }
        }
    }
}

/* Recompute reach (1: reachable from held objects; 2: only from frozen
 * live ones), dist and the list of held-reachable objects; check that
 * none of them died. */
static void
compute_reach(Model *m)
{
    memset(m->reach, 0, m->n);
    size_t tail = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->ext[i] > 0) {
            m->reach[i] = 1;
            m->dist[i] = 0;
            m->queue[tail++] = (int32_t)i;
        }
    }
    bfs(m, 0, &tail, 1);
    m->nlist = tail;
    memcpy(m->list, m->queue, tail * sizeof(*m->list));
    size_t head = tail;
    for (size_t i = 0; i < m->n; i++) {
        if (m->frozen[i] && !dead(m, i) && m->reach[i] == 0) {
            m->reach[i] = 2;
            m->dist[i] = 0;
            m->queue[tail++] = (int32_t)i;
        }
    }
    bfs(m, head, &tail, 2);
    for (size_t q = 0; q < tail; q++) {
        int32_t i = m->queue[q];
        cr_assert_not(dead(m, (size_t)i),
                      "step %ld: reachable object %d died (mode %d)", m->steps,
                      i, m->mode);
    }
}

static int32_t
pick_reachable(Model *m)
{
    return m->nlist ? m->list[tc_below(&m->rng, m->nlist)] : -1;
}

/* ---- steps ---------------------------------------------------------- */

static void
set_slot(Model *m, int32_t src, int k, int32_t dst)
{
    gt_link(m->obj[src], k, dst >= 0 ? m->obj[dst] : NULL);
    m->slot[src][k] = dst;
}

static void
step_new(Model *m)
{
    model_reserve(m);
    int fin = tc_below(&m->rng, 10) < 3;
    RcObject *op = gt_new(fin ? &gt_fin_type : &gt_node_type);
    size_t i = m->n++;
    cr_assert_eq(gt_node(op)->id, m->base + i);
    m->obj[i] = op;
    m->ext[i] = 1;
    m->frozen[i] = 0;
    m->fin[i] = (unsigned char)fin;
    m->reach[i] = 1;
    for (int k = 0; k < GT_SLOTS; k++) {
        m->slot[i][k] = -1;
    }
    for (int k = 0; k < GT_SLOTS; k++) {
        uint64_t r = tc_below(&m->rng, 20);
        if (r < 4) {
            set_slot(m, (int32_t)i, k, pick_reachable(m));
        }
        else if (r < 6) {
            set_slot(m, (int32_t)i, k, (int32_t)i);
        }
    }
}

/* A small ring of new objects pointing into the graph, usually dropped
 * at once: young cyclic garbage referencing older objects. */
static void
step_new_ring(Model *m, size_t max_objects)
{
    size_t len = 2 + tc_below(&m->rng, 3);
    if (m->n + len > max_objects) {
        return;
    }
    size_t first = m->n;
    for (size_t q = 0; q < len; q++) {
        step_new(m);
    }
    for (size_t q = 0; q < len; q++) {
        size_t next = first + (q + 1) % len;
        set_slot(m, (int32_t)(first + q), 0, (int32_t)next);
    }
    int keep = tc_below(&m->rng, 4) == 0;
    for (size_t q = keep; q < len; q++) {
        m->ext[first + q]--;
        rc_decref(m->obj[first + q]);
    }
}

static void
step_link(Model *m)
{
    int32_t src = pick_reachable(m);
    if (src < 0) {
        return;
    }
    int k = (int)tc_below(&m->rng, GT_SLOTS);
    uint64_t r = tc_below(&m->rng, 10);
    int32_t dst = r < 5 ? pick_reachable(m) : r < 8 ? -1 : src;
    set_slot(m, src, k, dst);
}

static void
step_clear(Model *m)
{
    int32_t src = pick_reachable(m);
    if (src < 0) {
        return;
    }
    for (int k = 0; k < GT_SLOTS; k++) {
        set_slot(m, src, k, -1);
    }
}

static void
step_drop(Model *m)
{
    for (int tries = 0; tries < 16 && m->nlist > 0; tries++) {
        int32_t i = pick_reachable(m);
        if (m->ext[i] > 0) {
            m->ext[i]--;
            rc_decref(m->obj[i]);
            return;
        }
    }
}

static void
step_hold(Model *m)
{
    int32_t i = pick_reachable(m);
    if (i >= 0) {
        m->ext[i]++;
        rc_incref(m->obj[i]);
    }
}

static void
step(Model *m, size_t max_objects)
{
    compute_reach(m);
    uint64_t r = tc_below(&m->rng, 100);
    if (r < 20 || m->nlist == 0) {
        if (m->n < max_objects) {
            step_new(m);
        }
    }
    else if (r < 25) {
        step_new_ring(m, max_objects);
    }
    else if (r < 55) {
        step_link(m);
    }
    else if (r < 62) {
        int32_t src = pick_reachable(m);
        set_slot(m, src, (int)tc_below(&m->rng, GT_SLOTS), -1);
    }
    else if (r < 67) {
        step_clear(m);
    }
    else if (r < 95) {
        step_drop(m);
    }
    else {
        step_hold(m);
    }
    m->steps++;
}

/* ---- checks --------------------------------------------------------- */

/* Every live object: intact, slots as modelled, exact count, finalized
 * exactly when dead. */
static void
check_live(Model *m)
{
    memset(m->indeg, 0, m->n * sizeof(*m->indeg));
    for (size_t j = 0; j < m->n; j++) {
        if (dead(m, j)) {
            continue;
        }
        for (int k = 0; k < GT_SLOTS; k++) {
            if (m->slot[j][k] >= 0) {
                m->indeg[m->slot[j][k]]++;
            }
        }
    }
    for (size_t i = 0; i < m->n; i++) {
        unsigned char finals = gt_finals[m->base + i];
        if (dead(m, i)) {
            cr_assert_eq(finals, m->fin[i], "dead object %zu finalized %d", i,
                         finals);
            continue;
        }
        cr_assert_eq(finals, 0, "live object %zu was finalized", i);
        RcObject *op = m->obj[i];
        cr_assert(gt_intact(op), "object %zu damaged", i);
        cr_assert(gc_is_tracked(op), "object %zu untracked", i);
        for (int k = 0; k < GT_SLOTS; k++) {
            int32_t j = m->slot[i][k];
            RcObject *want = j >= 0 ? m->obj[j] : NULL;
            cr_assert_eq(gt_node(op)->slot[k], want,
                         "step %ld: object %zu slot %d is %p, model %d",
                         m->steps, i, k, (void *)gt_node(op)->slot[k], j);
        }
        uint32_t want = m->ext[i] + m->indeg[i];
        cr_assert_eq(rc_refcnt(op), want,
                     "step %ld: object %zu count %u, model %u", m->steps, i,
                     rc_refcnt(op), want);
    }
}

/* What a full collection frees: every live object unreachable from the
 * held and frozen ones (the collector finds them: their number is the
 * result), then what reference counting frees when they are cleared:
 * frozen objects left without references, and what only they held.
 * Marks m->pred and returns how many are found unreachable; *total gets
 * how many die in all. */
static size_t
predict_full(Model *m, size_t *total)
{
    size_t tail = 0;
    for (size_t i = 0; i < m->n; i++) {
        m->pred[i] = !dead(m, i) && m->reach[i] == 0;
        if (m->pred[i]) {
            m->queue[tail++] = (int32_t)i;
        }
    }
    size_t found = tail;
    /* references that outlive the collected set */
    memset(m->indeg, 0, m->n * sizeof(*m->indeg));
    for (size_t j = 0; j < m->n; j++) {
        if (dead(m, j) || m->pred[j]) {
            continue;
        }
        for (int k = 0; k < GT_SLOTS; k++) {
            if (m->slot[j][k] >= 0) {
                m->indeg[m->slot[j][k]]++;
            }
        }
    }
    /* objects that only the collected set referred to die by count, and
     * release what they refer to */
    for (size_t i = 0; i < m->n; i++) {
        if (!dead(m, i) && !m->pred[i] && m->ext[i] == 0 && m->indeg[i] == 0) {
            m->pred[i] = 1;
            m->queue[tail++] = (int32_t)i;
        }
    }
    for (size_t q = found; q < tail; q++) {
        int32_t j = m->queue[q];
        for (int k = 0; k < GT_SLOTS; k++) {
            int32_t t = m->slot[j][k];
            if (t >= 0 && !m->pred[t] && --m->indeg[t] == 0 &&
                m->ext[t] == 0) {
                m->pred[t] = 1;
                m->queue[tail++] = t;
            }
        }
    }
    *total = tail;
    return found;
}

static void
collect_and_check(Model *m, int gen)
{
    compute_reach(m);
    size_t alive_unkept = 0;
    for (size_t i = 0; i < m->n; i++) {
        alive_unkept += !dead(m, i) && m->reach[i] == 0;
    }
    size_t total = 0, found = 0;
    if (gen == 2) {
        found = predict_full(m, &total);
    }
    long deaths0 = gt_count.deallocs;
    long r = gc_collect(gt_gc, gen);
    long freed = gt_count.deallocs - deaths0;
    m->collections++;
    cr_assert_geq(r, 0, "gc_collect(%d) returned %ld", gen, r);
    if (gen == 2) {
        for (size_t i = 0; i < m->n; i++) {
            cr_assert(!m->pred[i] || dead(m, i),
                      "collection %ld: object %zu survived a full "
                      "collection (reach %d)",
                      m->collections, i, m->reach[i]);
        }
        cr_assert_eq(freed, (long)total, "collection %ld: freed %ld of %zu",
                     m->collections, freed, total);
        cr_assert_eq(r, (long)found,
                     "collection %ld: returned %ld, found %zu unreachable",
                     m->collections, r, found);
    }
    else {
        cr_assert_leq(r, freed, "gc_collect(%d) returned %ld, freed %ld", gen,
                      r, freed);
        if (m->mode != MODE_FREEZE) {
            cr_assert_leq(freed, (long)alive_unkept);
        }
    }
    compute_reach(m); /* nothing reachable died */
    for (int g = 0; g <= gen && g < GC_NGENERATIONS - 1; g++) {
        cr_assert_eq(gc_get_objects(gt_gc, g, NULL, 0), 0,
                     "generation %d not empty after collect(%d)", g, gen);
    }
    cr_assert_eq(gt_count_of(0), 0);
    check_live(m);
    gt_check();
}

/* gc_get_referents of a live object is its modelled slots. */
static void
check_referents(Model *m, size_t i)
{
    RcObject *buf[GT_SLOTS + 1];
    RcObject *op = m->obj[i];
    size_t n = gc_get_referents(&op, 1, buf, GT_SLOTS + 1);
    size_t want = 0;
    for (int k = 0; k < GT_SLOTS; k++) {
        int32_t j = m->slot[i][k];
        if (j < 0) {
            continue;
        }
        want++;
        size_t have = 0, need = 0;
        for (size_t q = 0; q < n && q <= GT_SLOTS; q++) {
            have += buf[q] == m->obj[j];
        }
        for (int kk = 0; kk < GT_SLOTS; kk++) {
            need += m->slot[i][kk] == j;
        }
        cr_assert_eq(have, need, "referents of %zu: %d seen %zu times", i, j,
                     have);
    }
    cr_assert_eq(n, want, "referents of %zu: %zu, model %zu", i, n, want);
}

/* gc_why_alive of a live object: a shortest path from a held object along
 * modelled edges, or none for garbage. */
static void
check_why_alive(Model *m, size_t i)
{
    RcObject *path[256];
    size_t n = gc_why_alive(gt_gc, m->obj[i], path, 256);
    if (m->reach[i] != 1) {
        cr_assert_eq(n, 0, "garbage object %zu has a path of %zu", i, n);
        return;
    }
    cr_assert_eq(n, (size_t)m->dist[i] + 1,
                 "object %zu: path of %zu, shortest is %d", i, n,
                 m->dist[i] + 1);
    if (n > 256) {
        return;
    }
    cr_assert_eq(path[n - 1], m->obj[i]);
    int32_t prev = -1;
    for (size_t q = 0; q < n; q++) {
        int32_t id = (int32_t)(gt_node(path[q])->id - m->base);
        cr_assert(id >= 0 && (size_t)id < m->n && m->obj[id] == path[q]);
        if (q == 0) {
            cr_assert_gt(m->ext[id], 0, "path root %d is not held", id);
        }
        else {
            int edge = 0;
            for (int k = 0; k < GT_SLOTS; k++) {
                edge |= m->slot[prev][k] == id;
            }
            cr_assert(edge, "path step %d -> %d is not an edge", prev, id);
        }
        prev = id;
    }
}

/* ---- runs ----------------------------------------------------------- */

static void
run(int mode, uint64_t seed)
{
    Model m;
    memset(&m, 0, sizeof(m));
    m.mode = mode;
    m.rng = seed * 0x9e3779b97f4a7c15ull + 1;
    m.base = gt_next_id;
    int valgrind = tc_under_valgrind();
    int rounds = valgrind ? 10 : 60;
    int per_round = 60;
    size_t max_objects = valgrind ? 1500 : 5000;
    if (mode == MODE_AUTOMATIC) {
        cr_assert_eq(gc_set_threshold(gt_gc, 37, 3, 2), 0);
        gc_enable(gt_gc);
    }
    else {
        gc_disable(gt_gc);
    }
    for (int i = 0; i < 150; i++) {
        step_new(&m);
        compute_reach(&m);
    }
    for (int round = 0; round < rounds; round++) {
        for (int s = 0; s < per_round; s++) {
            step(&m, max_objects);
        }
        if (mode == MODE_FREEZE) {
            uint64_t r = tc_below(&m.rng, 100);
            if (r < 15) {
                gc_freeze(gt_gc);
                for (size_t i = 0; i < m.n; i++) {
                    m.frozen[i] |= !dead(&m, i);
                }
            }
            else if (r < 25) {
                gc_unfreeze(gt_gc);
                memset(m.frozen, 0, m.n);
            }
        }
        uint64_t r = tc_below(&m.rng, 10);
        collect_and_check(&m, r < 4 ? 0 : r < 7 ? 1 : 2);
        if (mode == MODE_INSPECT) {
            compute_reach(&m);
            for (int q = 0; q < 10; q++) {
                size_t i = tc_below(&m.rng, m.n);
                if (!dead(&m, i)) {
                    check_referents(&m, i);
                    check_why_alive(&m, i);
                }
            }
            gt_check();
        }
    }
    /* drop everything the test holds: all of it is garbage now */
    gc_unfreeze(gt_gc);
    memset(m.frozen, 0, m.n);
    for (size_t i = 0; i < m.n; i++) {
        while (m.ext[i] > 0) {
            m.ext[i]--;
            rc_decref(m.obj[i]);
        }
    }
    collect_and_check(&m, 2);
    for (size_t i = 0; i < m.n; i++) {
        cr_assert(dead(&m, i), "object %zu outlived the test", i);
    }
    gc_enable(gt_gc);
    model_free(&m);
}

Test(differential, explicit_collections_match_the_oracle)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        run(MODE_EXPLICIT, seed);
    }
}

Test(differential, automatic_collections_match_the_oracle)
{
    for (uint64_t seed = 11; seed <= 14; seed++) {
        run(MODE_AUTOMATIC, seed);
    }
}

Test(differential, frozen_objects_match_the_oracle)
{
    for (uint64_t seed = 21; seed <= 24; seed++) {
        run(MODE_FREEZE, seed);
    }
}

Test(differential, referents_and_why_alive_match_the_oracle)
{
    for (uint64_t seed = 31; seed <= 33; seed++) {
        run(MODE_INSPECT, seed);
    }
}

/* With a second GcHeap alive, a full collection cannot take "tracked" for
 * "member of young" (reach.c's `all` mode is off): the update_refs walk
 * runs, and the results must be the same. */
Test(differential, collections_with_a_second_heap_alive_match_the_oracle)
{
    GcHeap *other = gc_heap_new(NULL);
    cr_assert_not_null(other, "gc_heap_new(NULL)");
    for (uint64_t seed = 41; seed <= 43; seed++) {
        run(MODE_EXPLICIT, seed);
    }
    gc_heap_destroy(other);
}
