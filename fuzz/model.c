/* SPDX-License-Identifier: MIT */
/* model.c - the fuzzer's object types and its mirror of the graph.
 *
 * Three object types and the library's weak references:
 *   fz_node_type  GC, slots + payload, no finalizer;
 *   fz_fin_type   the same with a PEP 442 finalizer that records the call
 *                 and may act (resurrect, create, collect, freeze: enum
 *                 fz_action);
 *   fz_leaf_type  not GC: payload only.
 * A node or leaf is a variable object whose payload words are
 *
 *     [0] nitems (rc_new_var's)   [1] (id + 1) | nslots << 32
 *     [2 .. 2+nslots) slots        [2+nslots ..) data: fz_mix(seed, j)
 *
 * so that every hook can find its mirror entry and check that the payload
 * is intact.  Weak references carry their id in the callback context; the
 * release hook marks their death.
 *
 * The hooks (traverse, clear, finalize, dealloc, weakref callback and
 * release) are where the library tells the model what it does; each
 * checks that the step is allowed right now:
 *   - finalize: at most once, only on an object unreachable from the
 *     external references;
 *   - clear: only inside a collection, only on an unreachable object, and
 *     after its finalizer ran;
 *   - dealloc / release: once, with no external reference and no slot of
 *     a live object naming it (that is: its count was right), payload
 *     intact;
 *   - weakref callback: at most once, with the weakref already cleared.
 * Every mirror update happens before the library call that can release a
 * reference, so that a hook running inside that call sees the new graph.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

uint64_t
fz_mix(uint64_t seed, uint64_t j)
{
    uint64_t x = seed + 0x9E3779B97F4A7C15ULL * (j + 1);
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

static uint64_t *
words(RcObject *op)
{
    return (uint64_t *)rc_payload(op);
}

/* The id written in an object's payload; fails on a damaged or
 * half-built object. */
int
fz_id_of(const RcObject *op)
{
    const uint64_t *w = (const uint64_t *)(const void *)(op + 1);
    uint64_t idw = w[1] & 0xFFFFFFFFu;
    FZ_CHECK(idw >= 1 && idw <= (uint64_t)fz->nobj,
             "object %p: payload id word %llu is not an id (object under "
             "construction or damaged)",
             (const void *)op, (unsigned long long)idw);
    int id = (int)idw - 1;
    FZ_CHECK(fz->obj[id].op == op,
             "object %p: payload names id %d whose object is %p",
             (const void *)op, id, (void *)fz->obj[id].op);
    return id;
}

RcObject **
fz_slot_ptr(int id, unsigned i)
{
    return (RcObject **)(void *)(words(fz->obj[id].op) + 2 + i);
}

void
fz_check_payload(int id, const char *when)
{
    FzObj *o = &fz->obj[id];
    FZ_CHECK(o->alive && o->op != NULL, "%s: object %d is dead", when, id);
    const RcType *want = o->kind == FZ_NODE   ? &fz_node_type
                         : o->kind == FZ_FIN  ? &fz_fin_type
                         : o->kind == FZ_LEAF ? &fz_leaf_type
                                              : &rc_weakref_type;
    FZ_CHECK(o->op->type == want, "%s: object %d has type %p, not %s", when,
             id, (const void *)o->op->type, want->name);
    if (o->kind == FZ_WEAK) {
        return;
    }
    uint64_t *w = words(o->op);
    FZ_CHECK(w[0] == o->nslots + o->ndata,
             "%s: object %d: item count %llu, want %u", when, id,
             (unsigned long long)w[0], o->nslots + o->ndata);
    FZ_CHECK(w[1] == ((uint64_t)(id + 1) | (uint64_t)o->nslots << 32),
             "%s: object %d: id word damaged", when, id);
    for (unsigned i = 0; i < o->nslots; i++) {
        RcObject *want_ref = o->slots[i] < 0 ? NULL : fz->obj[o->slots[i]].op;
        FZ_CHECK((RcObject *)(uintptr_t)w[2 + i] == want_ref,
                 "%s: object %d slot %u holds %p, model says %p (id %d)", when,
                 id, i, (void *)(uintptr_t)w[2 + i], (void *)want_ref,
                 o->slots[i]);
    }
    for (unsigned j = 0; j < o->ndata; j++) {
        FZ_CHECK(w[2 + o->nslots + j] == fz_mix(o->seed, j),
                 "%s: object %d payload word %u damaged", when, id, j);
    }
}

/* ---- pointer -> id ---------------------------------------------------- */

static size_t
map_home(const RcObject *op)
{
    return (size_t)(((uintptr_t)op >> 4) * 0x9E3779B97F4A7C15ULL >> 40) &
           (FZ_MAPSIZE - 1);
}

void
fz_map_put(RcObject *op, int id)
{
    size_t i = map_home(op);
    while (fz->map[i].op != NULL && fz->map[i].op != op) {
        i = (i + 1) & (FZ_MAPSIZE - 1);
    }
    fz->map[i].op = op;
    fz->map[i].id = id;
}

int
fz_lookup(const RcObject *op)
{
    size_t i = map_home(op);
    while (fz->map[i].op != NULL) {
        if (fz->map[i].op == op) {
            int id = fz->map[i].id;
            return fz->obj[id].alive && fz->obj[id].op == op ? id : -1;
        }
        i = (i + 1) & (FZ_MAPSIZE - 1);
    }
    return -1;
}

/* ---- reachability ----------------------------------------------------- */

/* Roots: objects with external references or immortal; edges: slots of
 * live objects.  Recomputed only when the graph changed (epoch). */
void
fz_reach_update(void)
{
    static int queue[FZ_MAXOBJ];
    if (fz->reach_epoch == fz->epoch) {
        return;
    }
    int head = 0, tail = 0;
    memset(fz->reach, 0, sizeof fz->reach);
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *o = &fz->obj[id];
        if (o->alive && (o->ext > 0 || o->immortal)) {
            fz->reach[id] = 1;
            queue[tail++] = id;
        }
    }
    while (head < tail) {
        FzObj *o = &fz->obj[queue[head++]];
        for (unsigned i = 0; i < o->nslots; i++) {
            int t = o->slots[i];
            if (t >= 0 && !fz->reach[t]) {
                fz->reach[t] = 1;
                queue[tail++] = t;
            }
        }
    }
    fz->reach_epoch = fz->epoch;
}

int
fz_reachable(int id)
{
    fz_reach_update();
    return fz->reach[id];
}

/* ---- mirror updates --------------------------------------------------- */

void
fz_hold(int id)
{
    FZ_CHECK(fz->nheld < FZ_MAXHELD, "too many external references");
    fz->held[fz->nheld++] = id;
    fz->obj[id].ext++;
    fz->epoch++;
}

/* Release external reference held[idx] (model first, then the library). */
void
fz_drop_held(size_t idx)
{
    int id = fz->held[idx];
    fz->held[idx] = fz->held[--fz->nheld];
    FzObj *o = &fz->obj[id];
    FZ_CHECK(o->alive && o->ext > 0, "dropping a reference to dead %d", id);
    o->ext--;
    fz->epoch++;
    rc_decref(o->op);
}

/* Store target (an id with a reference the caller already took, or -1)
 * into slot i of id and release the old one. */
void
fz_set_slot(int id, unsigned i, int target)
{
    FzObj *o = &fz->obj[id];
    int old = o->slots[i];
    o->slots[i] = target;
    if (target >= 0) {
        fz->obj[target].indeg++;
    }
    if (old >= 0) {
        fz->obj[old].indeg--;
    }
    fz->epoch++;
    rc_setref(fz_slot_ptr(id, i), target < 0 ? NULL : fz->obj[target].op);
}

/* Drop every slot of a dying or cleared object; its edges leave the
 * model before each release (no epoch change: an unreachable object's
 * edges do not decide reachability). */
static void
release_slots(int id)
{
    FzObj *o = &fz->obj[id];
    for (unsigned i = 0; i < o->nslots; i++) {
        int old = o->slots[i];
        if (old < 0) {
            continue;
        }
        o->slots[i] = -1;
        fz->obj[old].indeg--;
        rc_setref(fz_slot_ptr(id, i), NULL);
    }
}

static void
check_unreferenced(int id, const char *what)
{
    FzObj *o = &fz->obj[id];
    FZ_CHECK(o->ext == 0,
             "%s of object %d (kind %d) that the harness still holds %u "
             "times",
             what, id, o->kind, o->ext);
    FZ_CHECK(o->indeg == 0,
             "%s of object %d (kind %d) still named by %u live slots", what,
             id, o->kind, o->indeg);
    FZ_CHECK(!o->immortal, "%s of immortal object %d", what, id);
}

/* ---- the type hooks --------------------------------------------------- */

static int
node_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    uint64_t *w = words(op);
    unsigned nslots = (unsigned)(w[1] >> 32);
    for (unsigned i = 0; i < nslots; i++) {
        RcObject *ref = (RcObject *)(uintptr_t)w[2 + i];
        if (ref != NULL) {
            int r = visit(ref, arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

static void
node_clear(RcObject *op)
{
    fz->in_hook++;
    int id = fz_id_of(op);
    FzObj *o = &fz->obj[id];
    fz_check_payload(id, "clear");
    FZ_CHECK(fz->depth[o->heap] > 0, "clear of object %d outside a collection",
             id);
    FZ_CHECK(!fz_reachable(id), "collector cleared reachable object %d", id);
    FZ_CHECK(o->kind != FZ_FIN || o->finalized,
             "object %d cleared before its finalizer ran", id);
    o->cleared++;
    release_slots(id);
    fz->in_hook--;
}

static void
act(int heap, int action, int self)
{
    switch (action) {
        case FZ_ACT_RESURRECT:
            rc_incref(fz->obj[self].op);
            fz_hold(self);
            if (fz->depth[heap] > 0) {
                fz->resurrected[heap] = 1;
            }
            break;
        case FZ_ACT_CREATE:
            fz_new_object(heap, FZ_NODE, 2, 3, FZ_ACT_NONE);
            break;
        case FZ_ACT_COLLECT: {
            int inside = fz->depth[heap] > 0;
            long r = gc_collect(fz->gc[heap], 2);
            FZ_CHECK(!inside || r == 0,
                     "gc_collect inside a collection returned %ld", r);
            FZ_CHECK(r >= 0, "gc_collect(2) returned %ld", r);
            break;
        }
        case FZ_ACT_FREEZE:
            /* from a finalizer or callback, the collection's garbage and
             * the weakrefs it holds are on no generation: no count to
             * check here (the oracle's full check unfreezes) */
            gc_freeze(fz->gc[heap]);
            fz->frozen[heap] = 1;
            break;
        default:
            break;
    }
}

static void
node_finalize(RcObject *op)
{
    fz->in_hook++;
    int id = fz_id_of(op);
    FzObj *o = &fz->obj[id];
    fz_check_payload(id, "finalize");
    FZ_CHECK(o->finalized == 0, "finalizer of object %d ran twice", id);
    if (fz->depth[o->heap] > 0) {
        FZ_CHECK(id < fz->nobj_start && !fz->reach_start[id],
                 "collector finalized object %d, reachable when the "
                 "collection started",
                 id);
    }
    else {
        FZ_CHECK(!fz_reachable(id), "finalizer ran on reachable object %d",
                 id);
    }
    o->finalized = 1;
    o->dying = 1;
    act(o->heap, o->action, id);
    fz->in_hook--;
}

static void
node_dealloc(RcObject *op)
{
    fz->in_hook++;
    int id = fz_id_of(op);
    FzObj *o = &fz->obj[id];
    fz_check_payload(id, "dealloc");
    FZ_CHECK(o->deallocs == 0, "object %d deallocated twice", id);
    check_unreferenced(id, "dealloc");
    FZ_CHECK(o->kind != FZ_FIN || o->finalized,
             "object %d deallocated without its finalizer", id);
    o->deallocs++;
    o->alive = 0;
    release_slots(id);
    o->op = NULL;
    fz->in_hook--;
}

const RcType fz_node_type = {
    RC_TYPE_HEAD("fz_node", RC_TYPE_GC),
    .size = 2 * sizeof(uint64_t),
    .itemsize = sizeof(uint64_t),
    .traverse = node_traverse,
    .clear = node_clear,
    .dealloc = node_dealloc,
};

const RcType fz_fin_type = {
    RC_TYPE_HEAD("fz_fin", RC_TYPE_GC),
    .size = 2 * sizeof(uint64_t),
    .itemsize = sizeof(uint64_t),
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .dealloc = node_dealloc,
};

const RcType fz_leaf_type = {
    RC_TYPE_HEAD("fz_leaf", 0),
    .size = 2 * sizeof(uint64_t),
    .itemsize = sizeof(uint64_t),
    .dealloc = node_dealloc,
};

/* ---- weak references -------------------------------------------------- */

static void
weak_callback(RcObject *wr, void *ctx)
{
    fz->in_hook++;
    int id = (int)(uintptr_t)ctx;
    FzObj *o = &fz->obj[id];
    FZ_CHECK(o->alive && o->op == wr,
             "weakref callback of dead or foreign weakref %d", id);
    FZ_CHECK(rc_weakref_get(wr) == NULL,
             "weakref %d calls back before it is cleared", id);
    FZ_CHECK(o->cbcalls == 0, "weakref %d called back twice", id);
    o->cbcalls++;
    fz->obj[o->target].dying = 1;
    act(o->heap, o->action, -1);
    fz->in_hook--;
}

static void
weak_release(void *ctx)
{
    fz->in_hook++;
    int id = (int)(uintptr_t)ctx;
    FzObj *o = &fz->obj[id];
    FZ_CHECK(o->kind == FZ_WEAK, "release hook for a non-weakref %d", id);
    FZ_CHECK(o->deallocs == 0 && o->alive, "weakref %d released twice", id);
    check_unreferenced(id, "release");
    o->deallocs++;
    o->alive = 0;
    o->op = NULL;
    fz->in_hook--;
}

/* ---- creation --------------------------------------------------------- */

/* A new id, void until the library call succeeds (kind -1). */
static int
reserve_id(int heap)
{
    if (fz->nobj >= FZ_MAXOBJ || fz->nheld >= FZ_MAXHELD) {
        return -1;
    }
    int id = fz->nobj++;
    FzObj *o = &fz->obj[id];
    memset(o, 0, sizeof *o);
    o->kind = -1;
    o->heap = heap;
    o->target = -1;
    for (unsigned i = 0; i < FZ_MAXSLOTS; i++) {
        o->slots[i] = -1;
    }
    return id;
}

static void
creation_failed(int heap, const char *what)
{
    FZ_CHECK(fz->oom[heap], "%s failed with no memory limit or injection: %s",
             what, gc_error(fz->gc[heap]) ? gc_error(fz->gc[heap]) : "?");
}

/* A node (FZ_NODE/FZ_FIN) or leaf in heap, held once; NULL when out of
 * memory or the model is full. */
RcObject *
fz_new_object(int heap, int kind, unsigned nslots, unsigned ndata, int action)
{
    int id = reserve_id(heap);
    if (id < 0) {
        return NULL;
    }
    const RcType *type = kind == FZ_NODE  ? &fz_node_type
                         : kind == FZ_FIN ? &fz_fin_type
                                          : &fz_leaf_type;
    if (kind == FZ_LEAF) {
        nslots = 0;
    }
    RcObject *op = rc_new_var(fz->rc[heap], type, nslots + ndata);
    if (op == NULL) {
        creation_failed(heap, "rc_new_var");
        return NULL;
    }
    FZ_CHECK(rc_refcnt(op) == 1, "new object has count %u", rc_refcnt(op));
    FZ_CHECK(rc_heap_of(op) == fz->rc[heap], "new object in another heap");
    FzObj *o = &fz->obj[id];
    o->op = op;
    o->kind = kind;
    o->alive = 1;
    o->nslots = nslots;
    o->ndata = ndata;
    o->action = action;
    o->seed = fz_mix((uint64_t)id, 99);
    uint64_t *w = words(op);
    FZ_CHECK(w[0] == nslots + ndata, "rc_new_var: item count word %llu",
             (unsigned long long)w[0]);
    for (unsigned i = 0; i < nslots + ndata; i++) {
        FZ_CHECK(w[2 + i] == 0, "rc_new_var: payload not zeroed");
    }
    w[1] = (uint64_t)(id + 1) | (uint64_t)nslots << 32;
    fz_map_put(op, id);
    for (unsigned j = 0; j < ndata; j++) {
        w[2 + nslots + j] = fz_mix(o->seed, j);
    }
    fz_hold(id);
    return op;
}

/* A weak reference to the live object `target`, held once. */
RcObject *
fz_new_weakref(int heap, int target, int with_cb, int action)
{
    int id = reserve_id(heap);
    if (id < 0) {
        return NULL;
    }
    FzObj *t = &fz->obj[target];
    RcObject *wr =
        rc_weakref_new(fz->rc[heap], t->op, with_cb ? weak_callback : NULL,
                       (void *)(uintptr_t)id, weak_release);
    if (t->immortal) {
        FZ_CHECK(wr == NULL, "weakref to an immortal object was created");
        return NULL;
    }
    if (wr == NULL) {
        creation_failed(heap, "rc_weakref_new");
        return NULL;
    }
    FzObj *o = &fz->obj[id];
    o->op = wr;
    o->kind = FZ_WEAK;
    o->alive = 1;
    o->target = target;
    o->has_cb = with_cb;
    o->action = action;
    fz_map_put(wr, id);
    FZ_CHECK(rc_weakref_get(wr) == t->op, "new weakref does not point at "
                                          "its target");
    fz_hold(id);
    return wr;
}
