/* SPDX-License-Identifier: MIT */
/* heap.c - the GcHeap: creation, refcount's hooks, objalloc's pressure
 * callback, and the small parts of the gc-module API (enable, thresholds,
 * counts, stats, callbacks, freeze, garbage list, debug flags, events).
 *
 * Data: a GcHeap (internal.h) lives in bookkeeping memory of its objalloc
 * heap (oa_meta_malloc, so limits and failure injection apply).  It holds
 * four lists (generations 0..2 and the permanent generation), counters,
 * and growable arrays for callbacks and the garbage list.
 *
 * Hooks (refcount.h):
 *   created  gen-0 count + 1, maybe collect (before tracking, as CPython
 *            collects in the allocator before the type tracks the object),
 *            then track in generation 0;
 *   untrack  unlink (valid at any time: lists are real doubly-linked lists
 *            whenever refcount can run), gen-0 count - 1;
 *   track    a resurrected object goes back to generation 0.
 * Pressure: an allocation about to fail runs a full collection, unless a
 * collection is already running (its own allocations must not recurse).
 */
#include "cyclegc/internal.h"

#include <stdarg.h>
#include <string.h>

/* ---- lists ---------------------------------------------------------- */

void
gc_hints_clear(GcHeap *gc)
{
    for (size_t i = 0; i < gc->nhints; i++) {
        gc_obj(gc->hints[i])->flags &= ~GC_OBJ_HINT;
    }
    gc->nhints = 0;
}

/* Out of line: inlined, it gave the untrack hook a register to save on
 * every call (rcgc-bench young, perf: on_untrack 0.33 % of the samples
 * at 6f1ae32, 0.46 % with it inlined). */
__attribute__((noinline)) void
gc_hint_forget(GcHeap *gc, RcGcHead *g, RcGcHead *prev)
{
    RcGcHead *end = &gc->gens[GC_NGENERATIONS - 1].list.head;
    for (size_t i = 0; i < gc->nhints; i++) {
        if (gc->hints[i] != g) {
            continue;
        }
        gc_obj(g)->flags &= ~GC_OBJ_HINT;
        /* g was in generation 2 (the starts' invariant), after prev.
         * (Back to prev, not on to the object after g: a chain of objects
         * that dies front to back, each taking the next with it, would
         * drag a start along through all of them.) */
        if (prev == end || (i > 0 && gc->hints[i - 1] == prev)) {
            memmove(&gc->hints[i], &gc->hints[i + 1],
                    (gc->nhints - i - 1) * sizeof(gc->hints[0]));
            gc->nhints--;
        }
        else {
            gc->hints[i] = prev;
            gc_obj(prev)->flags |= GC_OBJ_HINT;
        }
        return;
    }
    /* none of them: an untracked weakref linked on a list of callbacks
     * (GC_OBJ_WR_UNTRACKED, the same bit) */
}

void
gc_hint_note(GcHeap *gc, RcGcHead *g)
{
    if (gc->nhints == GC_HINTS) {
        return;
    }
    gc->hints[gc->nhints++] = g;
    gc_obj(g)->flags |= GC_OBJ_HINT;
}

void
gc_list_merge(GcList *from, GcList *to)
{
    RCGC_ASSERT(from != to);
    if (gc_list_is_empty(from)) {
        return;
    }
    RcGcHead *first = gc_next(&from->head);
    RcGcHead *last = gc_prev(&from->head);
    RcGcHead *tail = gc_prev(&to->head);
    if (tail != &to->head && (uintptr_t)first < (uintptr_t)tail) {
        to->backsteps++;
        to->descents += gc_descends(tail, first);
    }
    tail->next = (uintptr_t)first;
    first->prev = (uintptr_t)tail;
    last->next = (uintptr_t)&to->head;
    to->head.prev = (uintptr_t)last;
    to->descents += from->descents;
    to->backsteps += from->backsteps;
    to->size_ub += from->size_ub;
    to->lo = from->lo < to->lo ? from->lo : to->lo;
    to->hi = from->hi > to->hi ? from->hi : to->hi;
    gc_list_init(from);
}

size_t
gc_list_size(GcList *l)
{
    size_t n = 0;
    for (RcGcHead *g = gc_list_first(l); g != &l->head; g = gc_next(g)) {
        n++;
    }
    return n;
}

/* ---- errors --------------------------------------------------------- */

void
gc_set_error(GcHeap *gc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gc->error, sizeof(gc->error), fmt, ap);
    va_end(ap);
    gc->has_error = 1;
}

const char *
gc_error(const GcHeap *gc)
{
    return gc != NULL && gc->has_error ? gc->error : NULL;
}

FILE *
gc_stream(const GcHeap *gc)
{
    return gc->stream != NULL ? gc->stream : stderr;
}

/* ---- hooks ---------------------------------------------------------- */

/* Debug builds: the hooks that relink an object check, as objalloc does,
 * that no other thread holds the heap (a collection of another thread
 * in its reachability passes, where the lists are packed). */
#if defined(RCGC_DEBUG) && RCGC_DEBUG
#define HOOK_ENTER(gc, fn) oa_heap_claim((gc)->oa, (fn))
#define HOOK_LEAVE(gc)     oa_heap_release((gc)->oa)
#else
#define HOOK_ENTER(gc, fn) ((void)(gc), (void)(fn))
#define HOOK_LEAVE(gc)     ((void)(gc))
#endif

static void
on_created(void *ctx, RcObject *op)
{
    GcHeap *gc = ctx;
    gc->gens[0].count++;
    if ((gc->gens[0].count > gc->gens[0].threshold || gc_bytes_due(gc)) &&
        gc->enabled && gc->gens[0].threshold != 0 && !gc->collecting) {
        gc_maybe_collect(gc);
    }
    RCGC_ASSERT(gc_head(op)->next == 0); /* new: not tracked yet */
    gc_gen0_join(gc, op);
    GC_CHECKPOINT(gc, "rc_new", op);
}

static void
on_untrack(void *ctx, RcObject *op)
{
    GcHeap *gc = ctx;
    HOOK_ENTER(gc, "rc_decref (untrack)");
    RcGcHead *g = gc_head(op);
    RCGC_ASSERT(g->next != 0); /* rc_untrack calls only for tracked ones */
    gc_inc_forget(gc, g);
    RcGcHead *prev = gc_prev(g);
    int hint = gc_hint_maybe(g);
    gc_list_remove(g);
    g->next = 0;
    g->prev = 0;
    if (gc->gens[0].count > 0) {
        gc->gens[0].count--;
    }
    HOOK_LEAVE(gc);
    if (hint) {
        gc_hint_forget(gc, g, prev);
    }
}

static void
on_track(void *ctx, RcObject *op)
{
    GcHeap *gc = ctx;
    HOOK_ENTER(gc, "gc_track");
    RCGC_ASSERT(gc_head(op)->next == 0); /* refcount untracked it */
    gc_gen0_join(gc, op);
    HOOK_LEAVE(gc);
    GC_CHECKPOINT(gc, "gc_track", op);
}

static int
on_pressure(OaHeap *oa, size_t nbytes, void *ctx)
{
    (void)oa;
    (void)nbytes;
    GcHeap *gc = ctx;
    if (gc->collecting) {
        return 0;
    }
    return gc_collect_reason(gc, GC_NGENERATIONS - 1, GC_REASON_PRESSURE) > 0;
}

/* ---- creation ------------------------------------------------------- */

/* A collector on rc (or on a heap of its own): lists, CPython's
 * thresholds, refcount's hooks and objalloc's pressure callback.  No
 * process-wide state: several heaps never see each other. */
GcHeap *
gc_heap_new(RcHeap *rc)
{
    int own = 0;
    if (rc == NULL) {
        rc = rc_heap_new(NULL);
        if (rc == NULL) {
            return NULL;
        }
        own = 1;
    }
    else if (rc_heap_gc_ctx(rc) != NULL) {
        return NULL;
    }
    OaHeap *oa = rc_heap_oa(rc);
    GcHeap *gc = oa_meta_malloc(oa, sizeof(GcHeap));
    if (gc == NULL) {
        if (own) {
            rc_heap_destroy(rc);
        }
        return NULL;
    }
    memset(gc, 0, sizeof(*gc));
    gc->rc = rc;
    gc->oa = oa;
    gc->own_rc = own;
    static const long thresholds[GC_NGENERATIONS] = {2000, 10, 10};
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        gc_list_init(&gc->gens[i].list);
        gc->gens[i].threshold = thresholds[i];
        gc->gens[i].base = thresholds[i];
    }
    gc_list_init(&gc->permanent);
    gc_gen0_filter_reset(gc);
    gc_gen1_reset(gc);
    gc_inc_init(gc);
    gc->enabled = 1;
    gc_bytes_rearm(gc);
    RcGcHooks hooks = {.ctx = gc,
                       .created = on_created,
                       .untrack = on_untrack,
                       .track = on_track,
                       .watched = gc_inc_watched};
    rc_heap_set_gc_hooks(rc, &hooks);
    oa_heap_set_pressure(oa, on_pressure, gc);
    return gc;
}

/* Forget every list (objects become untracked), for a borrowed heap. */
static void
untrack_all(GcList *l)
{
    RcGcHead *g = gc_list_first(l);
    while (g != &l->head) {
        RcGcHead *next = gc_next(g);
        g->next = 0;
        g->prev = 0;
        g = next;
    }
    gc_list_init(l);
}

/* Is destroying gc now a use after free for a caller up the stack?  Then
 * say why (RCGC_ERROR_MISUSE, and in gc_error) and return 1. */
static int
destroy_refused(GcHeap *gc)
{
    const char *why = NULL;
    if (gc->collecting) {
        why = "a collection of this heap is running (the call came from a "
              "finalizer, a weakref callback or a gc callback); destroy it "
              "after gc_collect returns";
    }
    else if (rc_heap_busy(gc->rc)) {
        why = "rc_decref is deallocating objects of this heap (the call "
              "came from a finalizer, a weakref callback or a dealloc); "
              "destroy it after that rc_decref returns";
    }
    if (why == NULL) {
        return 0;
    }
    rcgc_report(RCGC_ERROR_MISUSE,
                "cyclegc: gc_heap_destroy: heap %p: refused: %s", (void *)gc,
                why);
    gc_set_error(gc, "gc_heap_destroy: refused: %s", why);
    return 1;
}

void
gc_heap_destroy(GcHeap *gc)
{
    if (gc == NULL || destroy_refused(gc)) {
        return;
    }
    RcHeap *rc = gc->rc;
    OaHeap *oa = gc->oa;
    if (!gc->own_rc) {
        gc_garbage_clear(gc);
        gc_inc_abandon(gc); /* its lists back into generation 2 */
        gc_hints_clear(gc);
        for (int i = 0; i < GC_NGENERATIONS; i++) {
            untrack_all(&gc->gens[i].list);
        }
        untrack_all(&gc->permanent);
    }
    rc_heap_set_gc_hooks(rc, NULL);
    oa_heap_set_pressure(oa, NULL, NULL);
    oa_meta_free(oa, gc->callbacks,
                 gc->callbacks_cap * sizeof(GcCallbackEntry));
    oa_meta_free(oa, gc->garbage, gc->garbage_cap * sizeof(RcObject *));
    int own = gc->own_rc;
    oa_meta_free(oa, gc, sizeof(GcHeap));
    if (own) {
        rc_heap_destroy(rc);
    }
}

/* "cyclegc: <fn>: heap is NULL" (RCGC_ERROR_MISUSE). */
void
gc_null_heap(const char *fn)
{
    rcgc_report(RCGC_ERROR_MISUSE, "cyclegc: %s: heap is NULL", fn);
}

RcHeap *
gc_heap_rc(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_heap_rc");
        return NULL;
    }
    return gc->rc;
}

GcHeap *
gc_heap_of(const RcObject *op)
{
    if (op == NULL) {
        return NULL;
    }
    return rc_heap_gc_ctx(rc_heap_of(op));
}

/* ---- switches, thresholds, counts, stats ---------------------------- */

void
gc_enable(GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_enable");
        return;
    }
    gc->enabled = 1;
}

void
gc_disable(GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_disable");
        return;
    }
    gc->enabled = 0;
}

int
gc_isenabled(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_isenabled");
        return 0;
    }
    return gc->enabled;
}

void
gc_get_count(const GcHeap *gc, long count[GC_NGENERATIONS])
{
    if (gc == NULL) {
        gc_null_heap("gc_get_count");
        return;
    }
    if (count == NULL) {
        rcgc_report(RCGC_ERROR_MISUSE,
                    "cyclegc: gc_get_count: count array is NULL");
        return;
    }
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        count[i] = gc->gens[i].count;
    }
}

void
gc_get_threshold(const GcHeap *gc, long threshold[GC_NGENERATIONS])
{
    if (gc == NULL) {
        gc_null_heap("gc_get_threshold");
        return;
    }
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        threshold[i] = gc->gens[i].base;
    }
}

int
gc_set_threshold(GcHeap *gc, long t0, long t1, long t2)
{
    if (gc == NULL) {
        gc_null_heap("gc_set_threshold");
        return -1;
    }
    if (t0 < 0 || t1 < 0 || t2 < 0) {
        gc_set_error(gc,
                     "gc_set_threshold: thresholds must be >= 0 (got %ld, "
                     "%ld, %ld)",
                     t0, t1, t2);
        return -1;
    }
    long t[GC_NGENERATIONS] = {t0, t1, t2};
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        gc->gens[i].base = t[i];
        gc->gens[i].threshold = t[i];
    }
    gc_bytes_rearm(gc);
    GC_CHECKPOINT(gc, "gc_set_threshold", NULL);
    return 0;
}

void
gc_get_stats(const GcHeap *gc, GcGenStats stats[GC_NGENERATIONS])
{
    if (gc == NULL) {
        gc_null_heap("gc_get_stats");
        return;
    }
    memcpy(stats, gc->stats, sizeof(gc->stats));
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        stats[i].threshold = gc->gens[i].threshold;
        stats[i].bytes = gc->bytes;
    }
}

/* ---- callbacks ------------------------------------------------------ */

int
gc_callback_add(GcHeap *gc, GcCallback cb, void *ctx)
{
    if (gc == NULL) {
        gc_null_heap("gc_callback_add");
        return -1;
    }
    if (cb == NULL) {
        gc_set_error(gc, "gc_callback_add: callback is NULL");
        return -1;
    }
    if (gc->ncallbacks == gc->callbacks_cap) {
        size_t cap = gc->callbacks_cap ? gc->callbacks_cap * 2 : 4;
        size_t esz = sizeof(GcCallbackEntry);
        void *p = oa_meta_realloc(gc->oa, gc->callbacks,
                                  gc->callbacks_cap * esz, cap * esz);
        if (p == NULL) {
            gc_set_error(gc, "gc_callback_add: out of memory");
            return -1;
        }
        gc->callbacks = p;
        gc->callbacks_cap = cap;
    }
    gc->callbacks[gc->ncallbacks].cb = cb;
    gc->callbacks[gc->ncallbacks].ctx = ctx;
    gc->ncallbacks++;
    GC_CHECKPOINT(gc, "gc_callback_add", NULL);
    return 0;
}

int
gc_callback_remove(GcHeap *gc, GcCallback cb, void *ctx)
{
    if (gc == NULL) {
        gc_null_heap("gc_callback_remove");
        return -1;
    }
    for (size_t i = 0; i < gc->ncallbacks; i++) {
        if (gc->callbacks[i].cb == cb && gc->callbacks[i].ctx == ctx) {
            memmove(&gc->callbacks[i], &gc->callbacks[i + 1],
                    (gc->ncallbacks - i - 1) * sizeof(GcCallbackEntry));
            gc->ncallbacks--;
            GC_CHECKPOINT(gc, "gc_callback_remove", NULL);
            return 0;
        }
    }
    gc_set_error(gc, "gc_callback_remove: callback not registered");
    return -1;
}

/* ---- freeze --------------------------------------------------------- */

void
gc_freeze(GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_freeze");
        return;
    }
    gc_inc_abandon(gc); /* the pass set is generation 2's */
    /* generations 0 and 1's marks (internal.h) stay behind */
    gc_list_clear_young(&gc->gens[0].list);
    gc_list_clear_young(&gc->gens[1].list);
    gc->young_stale = 0;
    gc_hints_clear(gc);
    for (int i = 0; i < GC_NGENERATIONS; i++) {
        gc_list_merge(&gc->gens[i].list, &gc->permanent);
        gc->gens[i].count = 0; /* all three, as CPython's gc.freeze() */
        RCGC_ASSERT(gc_list_is_empty(&gc->gens[i].list));
    }
    gc_gen0_filter_reset(gc);
    gc_gen1_reset(gc);
    if (gc->collecting) {
        /* frozen from a finalizer or a callback: the garbage's handling
         * may still move objects, unmarked, into generation 1 */
        gc->gen1_young = 0;
        gc->gen1_filter_on = 0;
    }
    RCGC_ASSERT_EXPENSIVE(rc_heap_busy(gc->rc) || gc_check(gc) == 0);
    GC_CHECKPOINT(gc, "gc_freeze", NULL);
}

void
gc_unfreeze(GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_unfreeze");
        return;
    }
    gc_list_merge(&gc->permanent, &gc->gens[GC_NGENERATIONS - 1].list);
    RCGC_ASSERT_EXPENSIVE(rc_heap_busy(gc->rc) || gc_check(gc) == 0);
    GC_CHECKPOINT(gc, "gc_unfreeze", NULL);
}

size_t
gc_get_freeze_count(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_freeze_count");
        return 0;
    }
    return gc_list_size((GcList *)(uintptr_t)&gc->permanent);
}

/* ---- garbage -------------------------------------------------------- */

int
gc_garbage_append(GcHeap *gc, RcObject *op)
{
    if (gc->ngarbage == gc->garbage_cap) {
        size_t cap = gc->garbage_cap ? gc->garbage_cap * 2 : 16;
        size_t esz = sizeof(RcObject *);
        void *p = oa_meta_realloc(gc->oa, gc->garbage, gc->garbage_cap * esz,
                                  cap * esz);
        if (p == NULL) {
            gc_set_error(gc, "garbage list: out of memory");
            return -1;
        }
        gc->garbage = p;
        gc->garbage_cap = cap;
    }
    RCGC_ASSERT(gc->ngarbage < gc->garbage_cap);
    rc_incref(op);
    gc->garbage[gc->ngarbage++] = op;
    return 0;
}

size_t
gc_garbage_count(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_garbage_count");
        return 0;
    }
    return gc->ngarbage;
}

RcObject *
gc_garbage_get(const GcHeap *gc, size_t i)
{
    if (gc == NULL) {
        gc_null_heap("gc_garbage_get");
        return NULL;
    }
    return i < gc->ngarbage ? gc->garbage[i] : NULL;
}

void
gc_garbage_clear(GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_garbage_clear");
        return;
    }
    /* Take the list first: the decrefs run user code, which may collect
     * and append to a fresh list. */
    RcObject **items = gc->garbage;
    size_t n = gc->ngarbage, cap = gc->garbage_cap;
    gc->garbage = NULL;
    gc->ngarbage = 0;
    gc->garbage_cap = 0;
    for (size_t i = 0; i < n; i++) {
        rc_decref(items[i]);
    }
    oa_meta_free(gc->oa, items, cap * sizeof(RcObject *));
    GC_CHECKPOINT(gc, "gc_garbage_clear", NULL);
}

/* ---- debug and events ----------------------------------------------- */

void
gc_set_debug(GcHeap *gc, int flags, FILE *stream)
{
    if (gc == NULL) {
        gc_null_heap("gc_set_debug");
        return;
    }
    gc->debug = flags;
    gc->stream = stream;
}

int
gc_get_debug(const GcHeap *gc)
{
    if (gc == NULL) {
        gc_null_heap("gc_get_debug");
        return 0;
    }
    return gc->debug;
}

size_t
gc_events(const GcHeap *gc, GcEvent *buf, size_t cap)
{
    if (gc == NULL) {
        gc_null_heap("gc_events");
        return 0;
    }
    size_t kept = gc->nevents < GC_EVENT_LOG ? (size_t)gc->nevents
                                             : (size_t)GC_EVENT_LOG;
    uint64_t first = gc->nevents - kept;
    for (size_t i = 0; i < kept && i < cap; i++) {
        buf[i] = gc->events[(first + i) % GC_EVENT_LOG];
    }
    return kept;
}
