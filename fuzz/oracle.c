/* SPDX-License-Identifier: MIT */
/* oracle.c - compare the library with the fuzzer's model.
 *
 * fz_full_check(heap) is the differential step.  With injection and
 * limits off and every object unfrozen it:
 *   1. computes U, the live objects of the heap that no external
 *      reference (or immortal object) reaches, and notes for each weak
 *      reference whether it was already cleared and how often it called
 *      back;
 *   2. runs gc_collect(gc, 2) and checks its result (the number of
 *      tracked objects in U when no finalizer resurrected anything);
 *   3. checks that exactly the reachable objects are alive (so U is gone
 *      except what a resurrection reaches), that every live object is
 *      intact (payload, slots) with the count the model predicts
 *      (external references + slots naming it), tracked iff GC, and
 *      finalized iff its finalizer ran;
 *   4. checks weak references: cleared iff their target died (or was in
 *      U while something resurrected), weakrefs in U never called back,
 *      reachable weakrefs to objects of U called back exactly once;
 *   5. checks the counters (rc_live_total, gc_get_objects, freeze
 *      count), gc_check, oa_heap_check and every raw block's bytes.
 * fz_gc_event (the collector's start/stop callback) checks, after each
 * collection, the weak-reference rules that hold at any quiet moment.
 */
#include "fuzz.h"

#include <string.h>

static int
is_tracked_kind(int kind)
{
    return kind == FZ_NODE || kind == FZ_FIN || kind == FZ_WEAK;
}

void
fz_heap_checks(void)
{
    for (int h = 0; h < FZ_OA_HEAPS; h++) {
        FZ_CHECK(oa_heap_check(fz->oa[h]) == 0, "oa_heap_check(%d) failed", h);
    }
    for (int h = 0; h < FZ_GC_HEAPS; h++) {
        FZ_CHECK(gc_check(fz->gc[h]) == 0, "gc_check(%d) failed", h);
    }
}

/* The weak-reference rules that hold whenever no library call is in
 * progress: a dead target means a cleared weakref that called back (if it
 * has a callback) unless a resurrection excuses it; a live target is still
 * referenced unless excused. */
static void
check_weakrefs(int heap, int resurrected, int strict)
{
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *w = &fz->obj[id];
        if (!w->alive || w->kind != FZ_WEAK || w->heap != heap) {
            continue;
        }
        FzObj *t = &fz->obj[w->target];
        RcObject *got = rc_weakref_get(w->op);
        int owed = t->alive ? got == NULL && !w->excused
                            : w->has_cb && w->cbcalls == 0 && !w->excused;
        if (!t->alive) {
            FZ_CHECK(got == NULL, "weakref %d still points at dead %d", id,
                     w->target);
        }
        else if (got != NULL) {
            FZ_CHECK(got == t->op, "weakref %d points at %p, target %d is %p",
                     id, (void *)got, w->target, (void *)t->op);
        }
        if (!owed) {
            continue;
        }
        if (!strict) {
            w->excused = resurrected; /* judged at the next quiet stop */
            continue;
        }
        if (!t->alive) {
            FZ_CHECK(resurrected, "weakref %d: target %d died, no callback",
                     id, w->target);
        }
        else {
            FZ_CHECK(resurrected || t->dying,
                     "weakref %d cleared while target %d (kind %d) lives: "
                     "its count is %u, model %u",
                     id, w->target, t->kind, rc_refcnt(t->op),
                     t->ext + t->indeg);
        }
        w->excused = 1;
    }
}

void
fz_gc_event(int heap, GcPhase phase, const GcInfo *info)
{
    FZ_CHECK(info != NULL && info->generation >= 0 &&
                 info->generation < GC_NGENERATIONS,
             "collector callback with a bad generation");
    if (phase == GC_PHASE_START) {
        FZ_CHECK(fz->depth[heap] == 0, "collections of heap %d nested", heap);
        fz->depth[heap]++;
        fz->seq[heap]++;
        fz->resurrected[heap] = 0;
        /* Finalizers of a collection all run before resurrection is
         * detected, so one may run on an object that another finalizer
         * of the same collection made reachable: judge them against
         * reachability at the start. */
        fz_reach_update();
        memcpy(fz->reach_start, fz->reach, (size_t)fz->nobj);
        fz->nobj_start = fz->nobj;
        return;
    }
    FZ_CHECK(phase == GC_PHASE_STOP, "unknown collector phase %d", (int)phase);
    FZ_CHECK(fz->depth[heap] == 1, "stop without start");
    FZ_CHECK(info->collected >= 0 && info->uncollectable >= 0,
             "negative counts at stop");
    fz->depth[heap]--;
    /* Inside a hook (a collection run by a finalizer or callback during
     * a deallocation) some objects are half-dead: only note what a
     * resurrection excuses. */
    check_weakrefs(heap, fz->resurrected[heap], fz->in_hook == 0);
}

static void
check_alive(int id)
{
    FzObj *o = &fz->obj[id];
    fz_check_payload(id, "full check");
    if (!o->immortal) {
        uint32_t want = o->ext + o->indeg;
        FZ_CHECK(rc_refcnt(o->op) == want,
                 "object %d (kind %d): count %u, model %u (%u external, %u "
                 "slots)",
                 id, o->kind, rc_refcnt(o->op), want, o->ext, o->indeg);
    }
    FZ_CHECK(gc_is_tracked(o->op) == is_tracked_kind(o->kind),
             "object %d (kind %d): tracked %d", id, o->kind,
             gc_is_tracked(o->op));
    if (o->kind == FZ_FIN) {
        FZ_CHECK(!gc_is_finalized(o->op) == !o->finalized,
                 "object %d: is_finalized %d, finalizer ran %u times", id,
                 gc_is_finalized(o->op), o->finalized);
    }
}

static void
check_counters(int heap)
{
    static RcObject *objs[FZ_MAXOBJ];
    size_t alive = 0, tracked = 0;
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *o = &fz->obj[id];
        if (o->alive && o->heap == heap) {
            alive++;
            tracked += is_tracked_kind(o->kind);
        }
    }
    FZ_CHECK(rc_live_total(fz->rc[heap]) == alive,
             "rc_live_total %zu, model %zu", rc_live_total(fz->rc[heap]),
             alive);
    size_t n = gc_get_objects(fz->gc[heap], -1, objs, FZ_MAXOBJ);
    FZ_CHECK(n == tracked, "gc_get_objects(-1): %zu, model %zu", n, tracked);
    for (size_t i = 0; i < n && i < FZ_MAXOBJ; i++) {
        int id = fz_lookup(objs[i]);
        FZ_CHECK(id >= 0 && fz->obj[id].heap == heap &&
                     is_tracked_kind(fz->obj[id].kind),
                 "gc_get_objects: %p is no live tracked object of the heap",
                 (void *)objs[i]);
    }
    FZ_CHECK(gc_get_objects(fz->gc[heap], 3, NULL, 0) == (size_t)-1,
             "gc_get_objects(3) accepted");
}

void
fz_full_check(int heap)
{
    static unsigned char in_u[FZ_MAXOBJ], was_cleared[FZ_MAXOBJ];
    static unsigned cb_before[FZ_MAXOBJ], nweak[FZ_MAXOBJ];
    GcHeap *gc = fz->gc[heap];
    OaHeap *oa = fz->oa[heap];

    oa_heap_fail_nth(oa, OA_FAIL_ALL, 0, 0);
    oa_heap_set_limit(oa, 0);
    fz->inject[heap] = fz->limit[heap] = fz->oom[heap] = 0;
    gc_unfreeze(gc);
    fz->frozen[heap] = 0;
    FZ_CHECK(gc_get_freeze_count(gc) == 0, "freeze count after unfreeze");

    /* 1. the unreachable set before */
    fz_reach_update();
    size_t u_tracked = 0;
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *o = &fz->obj[id];
        in_u[id] = o->alive && o->heap == heap && !fz->reach[id];
        u_tracked += in_u[id] && is_tracked_kind(o->kind);
        was_cleared[id] =
            o->alive && o->kind == FZ_WEAK && rc_weakref_get(o->op) == NULL;
        cb_before[id] = o->cbcalls;
    }

    /* 2. collect */
    unsigned long long seq = fz->seq[heap];
    long r = gc_collect(gc, 2);
    int res = fz->resurrected[heap];
    FZ_CHECK(fz->seq[heap] == seq + 1,
             "gc_collect(2): %llu start "
             "callbacks, want 1",
             fz->seq[heap] - seq);
    FZ_CHECK(res || r == (long)u_tracked,
             "gc_collect(2) returned %ld, %zu tracked objects unreachable", r,
             u_tracked);
    /* a finalizer of it may have frozen the heap (FZ_ACT_FREEZE) */
    gc_unfreeze(gc);
    fz->frozen[heap] = 0;

    /* 3. exactly the reachable survive, intact */
    fz_reach_update();
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *o = &fz->obj[id];
        if (o->kind < 0 || o->heap != heap) {
            continue;
        }
        if (o->alive) {
            FZ_CHECK(fz->reach[id],
                     "object %d (kind %d) unreachable but "
                     "alive after a full collection",
                     id, o->kind);
            check_alive(id);
        }
        else {
            FZ_CHECK(o->deallocs == 1, "dead object %d deallocated %u times",
                     id, o->deallocs);
        }
    }

    /* 4. weak references */
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *w = &fz->obj[id];
        if (w->kind != FZ_WEAK || w->heap != heap) {
            continue;
        }
        if (in_u[id]) {
            /* A weakref in the garbage stays attached while the
             * finalizers run (CPython 3.14), and after them if it was
             * resurrected: it may call back when its target dies by
             * count meanwhile - a target outside the garbage, or one the
             * collector does not track (a leaf held by the garbage). */
            FzObj *t = &fz->obj[w->target];
            FZ_CHECK(w->cbcalls == cb_before[id] ||
                         (!t->alive &&
                          (!in_u[w->target] || !is_tracked_kind(t->kind))),
                     "weakref %d in the garbage called back (target %d: "
                     "kind %d, garbage %d, alive %d)",
                     id, w->target, t->kind, in_u[w->target], t->alive);
        }
        else if (w->alive && in_u[w->target] && !w->has_cb &&
                 fz->obj[w->target].alive && rc_weakref_get(w->op) != NULL) {
            /* A weakref without a callback is cleared after the
             * finalizers, and only if its target stayed garbage: this
             * one was resurrected (gh-135552). */
            FZ_CHECK(rc_weakref_get(w->op) == fz->obj[w->target].op,
                     "weakref %d to resurrected %d points elsewhere", id,
                     w->target);
        }
        else if (w->alive && in_u[w->target] && !was_cleared[id] &&
                 (is_tracked_kind(fz->obj[w->target].kind) ||
                  !fz->obj[w->target].alive)) {
            /* (a leaf is not tracked: the collector clears weakrefs to it
             * only if it dies; a resurrection may keep it alive) */
            FZ_CHECK(rc_weakref_get(w->op) == NULL,
                     "weakref %d to garbage %d not cleared", id, w->target);
            FZ_CHECK(!w->has_cb || w->cbcalls == cb_before[id] + 1,
                     "reachable weakref %d to garbage %d: %u callbacks", id,
                     w->target, w->cbcalls - cb_before[id]);
            if (fz->obj[w->target].alive) {
                w->excused = 1; /* cleared, target resurrected */
            }
        }
    }
    check_weakrefs(heap, res, 1);
    memset(nweak, 0, sizeof nweak);
    for (int j = 0; j < fz->nobj; j++) {
        FzObj *w = &fz->obj[j];
        if (w->alive && w->kind == FZ_WEAK && rc_weakref_get(w->op)) {
            nweak[w->target]++;
        }
    }
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *t = &fz->obj[id];
        if (t->alive && t->heap == heap) {
            FZ_CHECK(rc_weakref_count(t->op) == nweak[id],
                     "rc_weakref_count(%d) = %zu, model %u", id,
                     rc_weakref_count(t->op), nweak[id]);
        }
    }

    /* 5. counters and invariants */
    check_counters(heap);
    FZ_CHECK(gc_check(gc) == 0, "gc_check failed");
    FZ_CHECK(oa_heap_check(oa) == 0, "oa_heap_check failed");
    fz_blocks_check();
}
