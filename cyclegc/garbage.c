/* garbage.c - what a collection does with the unreachable objects.
 *
 * Input: `unreachable`, the objects that reach.c found unreachable from
 * outside the collected set (each with GC_OBJ_UNREACHABLE), and `old`, the
 * generation that receives everything that survives.  From here on user
 * code runs (weakref callbacks, finalizers, clear, deallocation), so every
 * list is a real doubly-linked list at all times: refcount's untrack hook
 * may unlink any object of any list at any moment, and each loop that
 * runs user code re-reads the head of its list instead of keeping a
 * pointer to the next object.  Following CPython's gc_collect_main:
 *
 *   1. legacy finalizers: objects whose type has legacy_del, and all they
 *      reach inside the set, move to `legacy` (uncollectable; the list
 *      itself is the work queue, so no recursion and no extra memory);
 *   2. weak references: weakrefs that are themselves garbage are
 *      detached (they never call back); every weakref to a garbage object
 *      is detached, and those with a callback (necessarily reachable now)
 *      are held and called after all are detached, so a callback sees a
 *      cleared reference and cannot reach garbage through another one;
 *   3. finalize: each object's finalize runs once ever (RC_OBJ_FINALIZED
 *      is set first), holding a temporary reference;
 *   4. resurrection: if a finalizer ran, redo the reachability over the
 *      set (reach.c): what is referenced from outside now, and all it
 *      reaches, moves to `old` intact;
 *   5. clear: type->clear on each remaining object, holding a temporary
 *      reference; objects die as their counts drop (refcount frees them
 *      and unlinks them); one still alive afterwards moves to `old`;
 *   (1b) the uncollectable go to the garbage list (strong references)
 *      and to `old` right after step 1, before any user code runs.
 */
#include "cyclegc/internal.h"

#define AHEAD     6 /* objects between the one cleared and the one prefetched */
#define WR_INLINE 32

static void
debug_object(GcHeap *gc, const char *what, RcObject *op)
{
    fprintf(gc_stream(gc), "gc: %s <%s %p>\n", what, op->type->name,
            (void *)op);
}

/* ---- 1. legacy finalizers ------------------------------------------- */

static int
visit_set_aside(RcObject *r, void *arg)
{
    if ((r->type->flags & RC_TYPE_GC) && (r->flags & GC_OBJ_UNREACHABLE) &&
        gc_head(r)->next != 0) {
        r->flags &= ~GC_OBJ_UNREACHABLE;
        gc_list_move(gc_head(r), arg);
    }
    return 0;
}

/* After: legacy holds the objects with legacy_del and all they reach in
 * unreachable; none of them has GC_OBJ_UNREACHABLE. */
static void
move_legacy(GcList *unreachable, GcList *legacy)
{
    RcGcHead *end = &unreachable->head;
    for (RcGcHead *g = gc_list_first(unreachable); g != end;) {
        RcGcHead *next = gc_next(g);
        RcObject *op = gc_obj(g);
        if (op->type->legacy_del != NULL) {
            op->flags &= ~GC_OBJ_UNREACHABLE;
            gc_list_move(g, legacy);
        }
        g = next;
    }
    /* The list grows at its tail while we walk it: a queue. */
    for (RcGcHead *g = gc_list_first(legacy); g != &legacy->head;
         g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        op->type->traverse(op, visit_set_aside, legacy);
    }
}

/* ---- 2. weak references --------------------------------------------- */

static int
is_garbage(const RcObject *op)
{
    return (op->flags & GC_OBJ_UNREACHABLE) != 0;
}

/* Without memory for the array of held weakrefs, hold them on a list
 * through their own GC heads instead (CPython's way): a tracked weakref
 * leaves its generation and ends in old; an untracked one is linked for
 * the while and unlinked again (GC_OBJ_WR_UNTRACKED remembers it). */
static void
hold_on_list(GcList *wrcb, RcObject *wr)
{
    RcGcHead *g = gc_head(wr);
    if (g->next != 0) {
        gc_list_move(g, wrcb);
    }
    else {
        wr->flags |= GC_OBJ_WR_UNTRACKED;
        gc_list_append(wrcb, g);
    }
}

static void
call_from_list(GcList *wrcb, GcList *old)
{
    while (!gc_list_is_empty(wrcb)) {
        RcGcHead *g = gc_list_first(wrcb);
        RcObject *wr = gc_obj(g);
        if (wr->flags & GC_OBJ_WR_UNTRACKED) {
            wr->flags &= ~GC_OBJ_WR_UNTRACKED;
            gc_list_remove(g);
            g->next = 0;
            g->prev = 0;
        }
        else {
            gc_list_move(g, old);
        }
        rc_weakref_call(wr);
        rc_decref(wr);
    }
}

static void
handle_weakrefs(GcHeap *gc, GcList *unreachable, GcList *old)
{
    RcGcHead *end = &unreachable->head;
    size_t ncb = 0;
    for (RcGcHead *g = gc_list_first(unreachable); g != end; g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        if (op->type == &rc_weakref_type) {
            rc_weakref_detach(op); /* garbage never calls back */
        }
    }
    for (RcGcHead *g = gc_list_first(unreachable); g != end; g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        for (RcObject *wr = rc_weakref_first(op); wr != NULL;
             wr = rc_weakref_next(wr)) {
            ncb += rc_weakref_has_callback(wr) && !is_garbage(wr);
        }
    }
    RcObject *inline_buf[WR_INLINE];
    RcObject **held = inline_buf;
    if (ncb > WR_INLINE) {
        held = oa_meta_malloc(gc->oa, ncb * sizeof(RcObject *));
    }
    GcList wrcb;
    gc_list_init(&wrcb);
    size_t k = 0;
    for (RcGcHead *g = gc_list_first(unreachable); g != end; g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        RcObject *wr = rc_weakref_first(op);
        while (wr != NULL) {
            RcObject *next = rc_weakref_next(wr);
            if (rc_weakref_has_callback(wr) && !is_garbage(wr)) {
                rc_incref(wr);
                if (held != NULL && k < ncb) {
                    held[k++] = wr;
                }
                else {
                    hold_on_list(&wrcb, wr);
                }
            }
            rc_weakref_detach(wr);
            wr = next;
        }
    }
    /* Every weakref to the garbage is cleared: callbacks may run. */
    for (size_t i = 0; i < k; i++) {
        rc_weakref_call(held[i]);
        rc_decref(held[i]);
    }
    call_from_list(&wrcb, old);
    if (held != inline_buf && held != NULL) {
        oa_meta_free(gc->oa, held, ncb * sizeof(RcObject *));
    }
}

/* ---- 3. finalize ---------------------------------------------------- */

/* Returns 1 when at least one finalizer ran. */
static int
finalize_garbage(GcList *unreachable)
{
    GcList seen;
    gc_list_init(&seen);
    int ran = 0;
    while (!gc_list_is_empty(unreachable)) {
        RcGcHead *g = gc_list_first(unreachable);
        RcObject *op = gc_obj(g);
        gc_list_move(g, &seen);
        if (op->type->finalize != NULL && !(op->flags & RC_OBJ_FINALIZED)) {
            op->flags |= RC_OBJ_FINALIZED;
            rc_incref(op);
            op->type->finalize(op);
            rc_decref(op);
            ran = 1;
        }
    }
    gc_list_merge(&seen, unreachable);
    return ran;
}

/* ---- 5. clear ------------------------------------------------------- */

static int
visit_prefetch(RcObject *r, void *arg)
{
    (void)arg;
    __builtin_prefetch(r, 1);
    return 0;
}

static void
prefetch_ahead(GcList *l, RcGcHead *g)
{
    for (int k = 0; k < AHEAD; k++) {
        g = gc_next(g);
        if (g == &l->head) {
            return;
        }
    }
    RcObject *op = gc_obj(g);
    op->type->traverse(op, visit_prefetch, NULL);
}

static void
delete_garbage(GcHeap *gc, GcList *final, GcList *old)
{
    while (!gc_list_is_empty(final)) {
        RcGcHead *g = gc_list_first(final);
        RcObject *op = gc_obj(g);
        prefetch_ahead(final, g);
        if (gc->debug & GC_DEBUG_SAVEALL) {
            (void)gc_garbage_append(gc, op);
        }
        else if (op->type->clear != NULL) {
            rc_incref(op);
            op->type->clear(op);
            rc_decref(op);
        }
        if (gc_list_first(final) == g) {
            /* Still alive: it may die later. */
            op->flags &= ~GC_OBJ_UNREACHABLE;
            gc_list_move(g, old);
        }
    }
}

/* ---- the whole ------------------------------------------------------ */

void
gc_handle_unreachable(GcHeap *gc, GcList *unreachable, GcList *old,
                      const GcSplit *split, GcOutcome *out)
{
    GcList legacy;
    gc_list_init(&legacy);
    if (split->need & GC_NEED_LEGACY) {
        move_legacy(unreachable, &legacy);
    }
    if (gc->debug & GC_DEBUG_COLLECTABLE) {
        for (RcGcHead *g = gc_list_first(unreachable); g != &unreachable->head;
             g = gc_next(g)) {
            debug_object(gc, "collectable", gc_obj(g));
        }
    }
    if (split->need & GC_NEED_WEAKREFS) {
        handle_weakrefs(gc, unreachable, old);
    }
    /* The set aside go to the garbage list now, before anything is
     * cleared: clearing the garbage that refers to them must not free
     * them (CPython appends them after, and can free one whose only
     * referrer was cleared). */
    size_t m = 0;
    for (RcGcHead *g = gc_list_first(&legacy); g != &legacy.head;
         g = gc_next(g)) {
        if (gc->debug & GC_DEBUG_UNCOLLECTABLE) {
            debug_object(gc, "uncollectable", gc_obj(g));
        }
        m++;
        (void)gc_garbage_append(gc, gc_obj(g));
    }
    out->uncollectable = m;
    gc_list_merge(&legacy, old);
    GcList final;
    gc_list_init(&final);
    if ((split->need & GC_NEED_FINALIZE) && finalize_garbage(unreachable)) {
        /* Redo reachability over the set; the resurrected (and all they
         * reach) go to old with their flag cleared. */
        GcSplit again;
        oa_heap_claim(gc->oa, "gc_collect"); /* as in collect.c */
        gc_reach_split(unreachable, old, &final, 0, &again);
        oa_heap_release(gc->oa);
        out->collected = again.unreachable;
    }
    else {
        /* No finalizer ran, so no user code could reach the set: nothing
         * in it died or came back; only the set aside left it. */
        gc_list_merge(unreachable, &final);
        out->collected = split->unreachable - m;
    }
    delete_garbage(gc, &final, old);
}
