/* SPDX-License-Identifier: MIT */
/* inspect.c - looking at the tracked graph: get_objects, get_referrers,
 * get_referents, is_tracked, is_finalized, and explicit track / untrack.
 *
 * The listing functions fill a caller's buffer with up to cap borrowed
 * pointers and return how many there are in all (so a caller may call
 * once to size the buffer).  They walk the generation lists in order
 * (gens 0..2, as Python's gc module; frozen objects are not listed) and
 * run no user code other than traverse.
 */
#include "cyclegc/internal.h"

#include <stdlib.h>

typedef struct Collect {
    RcObject **buf;
    size_t cap;
    size_t n;
} Collect;

static void
collect_add(Collect *c, RcObject *op)
{
    if (c->n < c->cap) {
        c->buf[c->n] = op;
    }
    c->n++;
}

/* Fills buf with up to cap tracked objects of `generation` (-1: all three)
 * and returns how many there are in all (so buf NULL, cap 0 asks the
 * count), or (size_t)-1 with the heap's error set for a bad generation.
 * Generation 2 includes the lists of an incremental pass under way. */
size_t
gc_get_objects(GcHeap *gc, int generation, RcObject **buf, size_t cap)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_objects");
        return (size_t)-1;
    }
    if (generation < -1 || generation >= GC_NGENERATIONS) {
        gc_set_error(gc, "gc_get_objects: invalid generation %d (-1..%d)",
                     generation, GC_NGENERATIONS - 1);
        return (size_t)-1;
    }
    Collect c = {buf, cap, 0};
    int lo = generation < 0 ? 0 : generation;
    int hi = generation < 0 ? GC_NGENERATIONS - 1 : generation;
    for (int i = lo; i <= hi; i++) {
        GcList *l = &gc->gens[i].list;
        for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
            collect_add(&c, gc_obj(g));
        }
    }
    if (hi == GC_NGENERATIONS - 1) {
        /* a pass of the pause-bounded mode holds part of generation 2 */
        GcList *pass[GC_INC_NLISTS];
        gc_inc_lists(gc, pass);
        for (int i = 0; i < GC_INC_NLISTS; i++) {
            GcList *l = pass[i];
            for (RcGcHead *g = gc_list_first(l); g != &l->head;
                 g = gc_next(g)) {
                collect_add(&c, gc_obj(g));
            }
        }
    }
    return c.n;
}

/* ---- referrers ------------------------------------------------------ */

typedef struct Targets {
    RcObject *const *targets;
    size_t n;
    const uintptr_t *sorted; /* sorted copy when n is large, or NULL */
} Targets;

static int
cmp_addr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static int
visit_is_target(RcObject *r, void *arg)
{
    const Targets *t = arg;
    if (t->sorted != NULL) {
        uintptr_t key = (uintptr_t)r;
        return bsearch(&key, t->sorted, t->n, sizeof(uintptr_t), cmp_addr) !=
               NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->targets[i] == r) {
            return 1;
        }
    }
    return 0;
}

/* Walk generations 0..2 and traverse each object once, listing those
 * with a reference to any target (a sorted copy of the targets when
 * there are many, for a binary search per reference). */
size_t
gc_get_referrers(GcHeap *gc, RcObject *const *targets, size_t n,
                 RcObject **buf, size_t cap)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_referrers");
        return (size_t)-1;
    }
    Collect c = {buf, cap, 0};
    if (n == 0) {
        return 0;
    }
    Targets t = {targets, n, NULL};
    uintptr_t *sorted = NULL;
    if (n > 16 && n <= SIZE_MAX / sizeof(uintptr_t)) {
        sorted = oa_meta_malloc(gc->oa, n * sizeof(uintptr_t));
        if (sorted != NULL) {
            for (size_t i = 0; i < n; i++) {
                sorted[i] = (uintptr_t)targets[i];
            }
            qsort(sorted, n, sizeof(uintptr_t), cmp_addr);
            t.sorted = sorted;
        }
    }
    GcList *lists[GC_NGENERATIONS + GC_INC_NLISTS];
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        lists[i] = &gc->gens[i].list;
    }
    gc_inc_lists(gc, lists + GC_NGENERATIONS); /* a pass's lists */
    for (int i = 0; i < GC_NGENERATIONS + GC_INC_NLISTS; i++) {
        GcList *l = lists[i];
        for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
            RcObject *op = gc_obj(g);
            if (op->type->traverse(op, visit_is_target, &t)) {
                collect_add(&c, op);
            }
        }
    }
    if (sorted != NULL) {
        oa_meta_free(gc->oa, sorted, n * sizeof(uintptr_t));
    }
    return c.n;
}

/* ---- referents ------------------------------------------------------ */

static int
visit_add(RcObject *r, void *arg)
{
    collect_add(arg, r);
    return 0;
}

size_t
gc_get_referents(RcObject *const *objs, size_t n, RcObject **buf, size_t cap)
{
    if ((objs == NULL && n != 0) || (buf == NULL && cap != 0)) {
        rcgc_report(RCGC_ERROR_MISUSE,
                    "cyclegc: gc_get_referents: %s is NULL with %zu entries",
                    objs == NULL && n != 0 ? "objs" : "buf",
                    objs == NULL && n != 0 ? n : cap);
        return (size_t)-1;
    }
    Collect c = {buf, cap, 0};
    for (size_t i = 0; i < n; i++) {
        RcObject *op = objs[i];
        if (op != NULL && rc_is_gc(op) && op->type->traverse != NULL) {
            op->type->traverse(op, visit_add, &c);
        }
    }
    return c.n;
}

/* ---- tracking ------------------------------------------------------- */

/* Linked, and not an untracked weakref that a collection holds on a
 * list for its callback (GC_OBJ_WR_UNTRACKED: on a tracked object, the
 * same bit is a chain start's flag). */
int
gc_is_tracked(const RcObject *op)
{
    if (op == NULL || !rc_is_gc(op) ||
        rc_gc_head((RcObject *)(uintptr_t)op)->next == 0) {
        return 0;
    }
    return !(op->flags & GC_OBJ_WR_UNTRACKED) ||
           !gc_wr_held(gc_heap_of(op), op);
}

int
gc_is_finalized(const RcObject *op)
{
    return op != NULL && (op->flags & RC_OBJ_FINALIZED) != 0;
}

/* Public track: refused with a message for non-GC objects and tracked
 * ones; otherwise the object joins generation 0. */
int
gc_track(RcObject *op)
{
    if (op == NULL) {
        return -1;
    }
    GcHeap *gc = gc_heap_of(op);
    if (gc == NULL) {
        return -1; /* no collector: nowhere to leave a message */
    }
    if (!rc_is_gc(op)) {
        gc_set_error(gc,
                     "gc_track: object %p of type '%s' is not of a GC "
                     "type",
                     (void *)op, op->type->name);
        return -1;
    }
    if (gc_is_tracked(op)) {
        gc_set_error(gc,
                     "gc_track: object %p of type '%s' is already "
                     "tracked",
                     (void *)op, op->type->name);
        return -1;
    }
    if (gc_wr_held(gc, op)) {
        /* an untracked weakref waiting for its callback on a list: once
         * called back, it joins the collection's older generation */
        op->flags &= ~GC_OBJ_WR_UNTRACKED;
        GC_CHECKPOINT(gc, "gc_track", op);
        return 0;
    }
    gc_gen0_join(gc, op);
    RCGC_ASSERT(gc_is_tracked(op) && (op->flags & GC_OBJ_YOUNG));
    GC_CHECKPOINT(gc, "gc_track", op);
    return 0;
}

/* Public untrack: refused with a message for non-GC and untracked
 * objects; otherwise unlinked from whatever list holds it. */
int
gc_untrack(RcObject *op)
{
    if (op == NULL) {
        return -1;
    }
    GcHeap *gc = gc_heap_of(op);
    if (gc == NULL) {
        return -1;
    }
    if (!rc_is_gc(op)) {
        gc_set_error(gc,
                     "gc_untrack: object %p of type '%s' is not of a "
                     "GC type",
                     (void *)op, op->type->name);
        return -1;
    }
    if (!gc_is_tracked(op)) {
        gc_set_error(gc,
                     "gc_untrack: object %p of type '%s' is not "
                     "tracked",
                     (void *)op, op->type->name);
        return -1;
    }
    if (gc_wr_held(gc, op)) {
        /* a weakref waiting for its callback on a list: it stays there,
         * and leaves it untracked once called back */
        op->flags |= GC_OBJ_WR_UNTRACKED;
        GC_CHECKPOINT(gc, "gc_untrack", NULL);
        return 0;
    }
    RcGcHead *g = gc_head(op);
    gc_inc_forget(gc, g); /* a pass's cursor may be at it */
    RcGcHead *prev = gc_prev(g);
    int hint = gc_hint_maybe(g);
    gc_list_remove(g);
    if (hint) {
        gc_hint_forget(gc, g, prev);
    }
    g->next = 0;
    g->prev = 0;
    op->flags &= ~GC_OBJ_BITS;
    GC_CHECKPOINT(gc, "gc_untrack", NULL);
    return 0;
}
