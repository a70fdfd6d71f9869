/* SPDX-License-Identifier: MIT */
/* garbage.c - what a collection does with the unreachable objects.
 *
 * Input: `unreachable`, the objects that reach.c found unreachable from
 * outside the collected set (each with GC_OBJ_UNREACHABLE), and `old`, the
 * generation that receives everything that survives.  From here on user
 * code runs (weakref callbacks, finalizers, clear, deallocation), so every
 * list is a real doubly-linked list at all times: refcount's untrack hook
 * may unlink any object of any list at any moment, and each loop that
 * runs user code re-reads the head of its list instead of keeping a
 * pointer to the next object.  Following CPython 3.14's gc_collect_main:
 *
 *   1. legacy finalizers: objects whose type has legacy_del, and all they
 *      reach inside the set, move to `legacy` (uncollectable; the list
 *      itself is the work queue, so no recursion and no extra memory);
 *      the owners of a legacy_del (every object of `legacy` with
 *      DEBUG_SAVEALL) go to the garbage list, and `legacy` to old;
 *   2. weakref callbacks: every weakref *with a callback* to a garbage
 *      object is cleared; those that are not garbage themselves are held
 *      and called after all are cleared, so a callback sees a cleared
 *      reference and cannot reach garbage through another one.  Weakrefs
 *      without a callback stay, and so do the weakrefs that are garbage
 *      (gh-135552): a finalizer may still use them;
 *   3. finalize: each object's finalize runs once ever (RC_OBJ_FINALIZED
 *      is set first), holding a temporary reference;
 *   4. resurrection: if a finalizer or a weakref callback ran, redo the
 *      reachability over the set (reach.c): what is referenced from
 *      outside now, and all it reaches, moves to `old` intact;
 *   5. clear weakrefs: every weakref to what is still garbage is cleared
 *      without calling back, including those the finalizers made, and
 *      every weakref that is garbage itself (GH-136401): no code sees an
 *      object after its clear;
 *   6. clear: type->clear on each remaining object, holding a temporary
 *      reference; objects die as their counts drop (refcount frees them
 *      and unlinks them); one still alive afterwards moves to `old`.
 * The garbage list takes its references in step 1, before any user code
 * runs: clearing the garbage that refers to a legacy object cannot free
 * it (CPython appends after step 6, and can).
 */
#include "cyclegc/internal.h"

#define AHEAD 6 /* objects between the one cleared and the one prefetched */
/* Garbage sets smaller than this go without the prefetch (delete_garbage) */
#define AHEAD_MIN 8192
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
 * leaves its generation (or a pass) and ends in old; an untracked one is
 * linked for the while and unlinked again (GC_OBJ_WR_UNTRACKED remembers
 * it). */
static void
hold_on_list(GcHeap *gc, GcList *wrcb, RcObject *wr)
{
    RcGcHead *g = gc_head(wr);
    if (g->next != 0) {
        /* it may be in a pass of the pause-bounded mode (generation 2):
         * it leaves it as an untracked object does, its pass bits with it
         * (bit 20 is GC_OBJ_GEN1 in generation 1) */
        gc_inc_forget(gc, g);
        RcGcHead *prev = gc_prev(g);
        int hint = gc_hint_maybe(g); /* it may be in generation 2 */
        gc_list_move(g, wrcb);
        if (hint) {
            gc_hint_forget(gc, g, prev);
        }
    }
    else {
        wr->flags |= GC_OBJ_WR_UNTRACKED;
        gc_list_append(wrcb, g);
    }
}

int
gc_wr_held(const GcHeap *gc, const RcObject *op)
{
    if (gc == NULL || gc->wr_held == NULL || op->type != &rc_weakref_type) {
        return 0;
    }
    const RcGcHead *head = &gc->wr_held->head;
    const RcGcHead *h = gc_head((RcObject *)(uintptr_t)op);
    for (const RcGcHead *g = gc_next(head); g != head; g = gc_next(g)) {
        if (g == h) {
            return 1;
        }
    }
    return 0;
}

/* Each weakref of wrcb called back, one at a time: the program's
 * callbacks may gc_track or gc_untrack one still waiting (gc_wr_held:
 * its flag changes, it stays on wrcb). */
static void
call_from_list(GcList *wrcb, GcList *old)
{
    while (!gc_list_is_empty(wrcb)) {
        RcGcHead *g = gc_list_first(wrcb);
        RcObject *wr = gc_obj(g);
        if (wr->flags & GC_OBJ_WR_UNTRACKED) {
            wr->flags &= ~GC_OBJ_BITS; /* as gc_untrack leaves it */
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

/* Before: no weakref to the garbage has been touched.  After: every
 * weakref with a callback to a garbage object is cleared, and the
 * callbacks of those that are not garbage themselves have run; weakrefs
 * without a callback, and garbage weakrefs to objects outside the
 * garbage, are left for clear_weakrefs (step 5).  Returns 1 when
 * callbacks were called: they may have freed an object outside the
 * garbage whose garbage weakref then called back too, and that callback
 * may reach the garbage, so the caller redoes the reachability (CPython
 * always does). */
static int
handle_weakref_callbacks(GcHeap *gc, GcList *unreachable, GcList *old)
{
    RcGcHead *end = &unreachable->head;
    size_t ncb = 0;
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
            if (!rc_weakref_has_callback(wr)) {
                wr = next; /* cleared in step 5, after the finalizers */
                continue;
            }
            /* A garbage weakref is cleared and never calls back: its
             * callback could reach (and resurrect) the garbage. */
            if (!is_garbage(wr)) {
                rc_incref(wr);
                if (held != NULL && k < ncb) {
                    held[k++] = wr;
                }
                else {
                    hold_on_list(gc, &wrcb, wr);
                }
            }
            rc_weakref_detach(wr);
            wr = next;
        }
    }
    /* Every weakref with a callback to the garbage is cleared: the
     * callbacks may run. */
    int called = k != 0 || !gc_list_is_empty(&wrcb);
    if (!gc_list_is_empty(&wrcb)) {
        gc->wr_held = &wrcb;
    }
    for (size_t i = 0; i < k; i++) {
        rc_weakref_call(held[i]);
        rc_decref(held[i]);
    }
    call_from_list(&wrcb, old);
    gc->wr_held = NULL;
    if (held != inline_buf && held != NULL) {
        oa_meta_free(gc->oa, held, ncb * sizeof(RcObject *));
    }
    return called;
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

/* ---- 5. clear weakrefs --------------------------------------------- */

/* Before: `final` holds what stays garbage after the finalizers.
 * After: no weakref points at an object of `final`, and every weakref of
 * `final` is cleared; none called back (CPython 3.14 clear_weakrefs).
 * Runs no user code. */
static void
clear_weakrefs(GcList *final)
{
    RcGcHead *end = &final->head;
    for (RcGcHead *g = gc_list_first(final); g != end; g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        if (op->type == &rc_weakref_type) {
            rc_weakref_detach(op);
        }
        RcObject *wr;
        while ((wr = rc_weakref_first(op)) != NULL) {
            rc_weakref_detach(wr);
        }
    }
}

/* ---- 6. clear ------------------------------------------------------- */

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

/* A set under AHEAD_MIN lies in L2, not L1 (2000 objects of 48 bytes
 * are 100 KB): bring the object after next into L1 before its clear,
 * its first 64 bytes wherever a line starts (the head, the object's
 * count and type; the first line alone did not pay).  The next object
 * is touched too soon for a prefetch: in a set of 2-cycles it dies
 * inside this clear. */
static inline void
prefetch_after_next(GcList *l, RcGcHead *g)
{
    RcGcHead *n = gc_next(g);
    if (n != &l->head) {
        n = gc_next(n);
        __builtin_prefetch(n, 1, 3);
        __builtin_prefetch((char *)n + 63, 1, 3);
    }
}

/* Clear each object of final (n of them), holding a temporary reference;
 * one still alive afterwards moves to old.  A set of AHEAD_MIN objects
 * or more is prefetched AHEAD objects ahead of the one cleared (its
 * links are a chain of misses once it outgrows the caches: a dropped
 * random graph of 1M nodes collected 5-8 % faster with it).  A smaller
 * set is in cache, and the prefetch was only work: the decrefs that
 * clear makes of referents outside the set do not wait for their miss
 * (the branch on the count is predicted; bench young's driver, with
 * 50k and 1M long-lived nodes, generation-0 collections took 1-3 ns an
 * iteration less without it).  Such a set gets the lines of the object
 * after next instead (prefetch_after_next: bench young, generation-0
 * collections lower in 28 of 34 alternating pairs, by 1.8 ns an
 * iteration on average). */
static void
delete_garbage(GcHeap *gc, GcList *final, GcList *old, size_t n)
{
    int ahead = n >= AHEAD_MIN;
    while (!gc_list_is_empty(final)) {
        RcGcHead *g = gc_list_first(final);
        RcObject *op = gc_obj(g);
        if (ahead) {
            prefetch_ahead(final, g);
        }
        else {
            prefetch_after_next(final, g);
        }
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

/* ---- 1b. the garbage list ------------------------------------------ */

/* The set aside go to the garbage list now, before any garbage is
 * finalized or cleared: clearing the garbage that refers to them must not
 * free them (CPython appends them after, and can free one whose only
 * referrer was cleared).  Listed are the owners of a legacy_del (every
 * object of the set with DEBUG_SAVEALL), as in CPython: what they reach
 * is uncollectable too and counted, but not listed; the owners hold it.
 * Returns the number of objects set aside; `legacy` ends in old. */
static size_t
set_aside(GcHeap *gc, GcList *legacy, GcList *old)
{
    size_t m = 0;
    for (RcGcHead *g = gc_list_first(legacy); g != &legacy->head;
         g = gc_next(g)) {
        RcObject *op = gc_obj(g);
        if (gc->debug & GC_DEBUG_UNCOLLECTABLE) {
            debug_object(gc, "uncollectable", op);
        }
        m++;
        if ((gc->debug & GC_DEBUG_SAVEALL) || op->type->legacy_del != NULL) {
            (void)gc_garbage_append(gc, op);
        }
    }
    gc_list_merge(legacy, old);
    return m;
}

/* ---- the whole ------------------------------------------------------ */

/* Steps 1-6 of the list at the top of this file, on `unreachable` as
 * reach.c left it (GC_OBJ_UNREACHABLE set, prev links real).  Legacy
 * finalizers and all they reach go to `old` (their owners listed as
 * garbage); weakref callbacks and finalizers run; if any ran, reachability
 * is redone and the resurrected go to `old`; what is still garbage has its
 * weakrefs cleared and is cleared and freed.  After: `unreachable` is empty
 * and out->collected / out->uncollectable count what was freed / set
 * aside. */
void
gc_handle_unreachable(GcHeap *gc, GcList *unreachable, GcList *old,
                      const GcSplit *split, GcOutcome *out)
{
    /* Before: unreachable holds split->unreachable objects, each flagged
     * GC_OBJ_UNREACHABLE (collect.c's passes). */
    RCGC_ASSERT_EXPENSIVE(gc_list_valid(unreachable, GC_OBJ_UNREACHABLE));
    /* 1. */
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
    /* 1b. */
    out->uncollectable = set_aside(gc, &legacy, old);
    RCGC_ASSERT(gc_list_is_empty(&legacy) &&
                out->uncollectable <= split->unreachable);
    /* 2. */
    int ran = 0; /* user code that may reach the garbage ran */
    if (split->need & GC_NEED_WEAKREFS) {
        ran = handle_weakref_callbacks(gc, unreachable, old);
    }
    GcList final;
    gc_list_init(&final);
    unsigned need;
    /* 3, 4. */
    if ((split->need & GC_NEED_FINALIZE) && finalize_garbage(unreachable)) {
        ran = 1;
    }
    if (ran) {
        /* Redo reachability over the set; the resurrected (and all they
         * reach) go to old with their flag cleared. */
        GcSplit again;
        oa_heap_claim(gc->oa, "gc_collect"); /* as in collect.c */
        gc_reach_split(unreachable, old, &final, NULL, &again);
        oa_heap_release(gc->oa);
        out->collected = again.unreachable;
        need = again.need; /* sees the weakrefs the finalizers made */
    }
    else {
        /* No finalizer and no callback ran, so no user code could reach
         * the set: nothing in it died or came back; only the set aside
         * left it. */
        gc_list_merge(unreachable, &final);
        out->collected = split->unreachable - out->uncollectable;
        need = split->need;
    }
    /* Between 4 and 5: the set moved whole to final (the resurrected to
     * old), still flagged; nothing is left in unreachable. */
    RCGC_ASSERT(gc_list_is_empty(unreachable));
    RCGC_ASSERT_EXPENSIVE(gc_list_valid(&final, GC_OBJ_UNREACHABLE));
    /* 5. */
    if (need & GC_NEED_WEAKREFS) {
        clear_weakrefs(&final);
    }
    /* 6. */
    delete_garbage(gc, &final, old, out->collected);
}
