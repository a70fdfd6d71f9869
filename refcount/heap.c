/* SPDX-License-Identifier: MIT */
/* heap.c - the RcHeap: creation, errors, collector hooks, counters, check.
 *
 * An RcHeap is the refcount state of one objalloc heap; it lives in
 * oa_meta_malloc memory and is found from any object through
 * oa_block_heap(block) -> oa_heap_user(), so rc_decref needs no heap
 * argument.
 *
 * Counters: per type, a RcTypeStats entry (live, created, freed) in a
 * growable array; a pointer map gives type -> 1 + index, and a one-entry
 * cache (last_type, last_stats) in front of the map makes the common case
 * (many objects of one type created or freed in a row) a compare.  The
 * cache is refreshed whenever the array moves, so it never dangles.
 *
 * Invariants: see struct RcHeap in internal.h; rc_heap_check verifies
 * them and objalloc's own.
 */
#include "refcount/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* "refcount: <fn>: heap is NULL" (RCGC_ERROR_MISUSE): the calls that
 * take a heap refuse NULL and return their error value. */
static void
null_heap(const char *fn)
{
    rcgc_report(RCGC_ERROR_MISUSE, "refcount: %s: heap is NULL", fn);
}

RcHeap *
rc_heap_new(OaHeap *oa)
{
    int own = oa == NULL;
    if (own) {
        oa = oa_heap_new();
        if (oa == NULL) {
            return NULL;
        }
    }
    else if (oa_heap_user(oa) != NULL) {
        return NULL;
    }
    RcHeap *heap = oa_meta_malloc(oa, sizeof(RcHeap));
    if (heap == NULL) {
        if (own) {
            oa_heap_destroy(oa);
        }
        return NULL;
    }
    memset(heap, 0, sizeof(*heap));
    heap->oa = oa;
    heap->own_oa = own;
    oa_heap_set_user(oa, heap);
    return heap;
}

/* Refused while rc_zero runs on this heap (a caller up the stack is
 * using it); otherwise the maps, counters, the RcHeap and an own oa. */
void
rc_heap_destroy(RcHeap *heap)
{
    if (heap == NULL) {
        return;
    }
    if (heap->deallocating) {
        rcgc_report(RCGC_ERROR_MISUSE,
                    "refcount: rc_heap_destroy: heap %p: refused: rc_decref "
                    "is deallocating its objects (the call came from a "
                    "finalizer, a weakref callback or a dealloc); destroy it "
                    "after that rc_decref returns",
                    (void *)heap);
        rc_set_error(heap, "refcount: rc_heap_destroy: refused during "
                           "deallocation");
        return;
    }
    OaHeap *oa = heap->oa;
    int own = heap->own_oa;
    RCGC_ASSERT(heap->pending == NULL); /* outside rc_zero (internal.h) */
    rc_map_free(oa, &heap->weakrefs);
    rc_map_free(oa, &heap->typeidx);
    if (heap->stats != NULL) {
        oa_meta_free(oa, heap->stats, heap->stats_cap * sizeof(RcTypeStats));
    }
    oa_heap_set_user(oa, NULL);
    oa_meta_free(oa, heap, sizeof(RcHeap));
    if (own) {
        oa_heap_destroy(oa);
    }
}

OaHeap *
rc_heap_oa(const RcHeap *heap)
{
    if (heap == NULL) {
        null_heap("rc_heap_oa");
        return NULL;
    }
    return heap->oa;
}

RcHeap *
rc_heap_of(const RcObject *op)
{
    return rc_heap_fast(op);
}

const char *
rc_heap_error(const RcHeap *heap)
{
    if (heap == NULL) {
        return "refcount: rc_heap_error: heap is NULL";
    }
    return heap->has_error ? heap->error : NULL;
}

int
rc_heap_busy(const RcHeap *heap)
{
    return heap != NULL && heap->deallocating;
}

void
rc_set_error(RcHeap *heap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(heap->error, sizeof(heap->error), fmt, ap);
    va_end(ap);
    heap->has_error = 1;
}

/* ---- collector hooks ------------------------------------------------ */

void
rc_heap_set_gc_hooks(RcHeap *heap, const RcGcHooks *hooks)
{
    if (heap == NULL) {
        null_heap("rc_heap_set_gc_hooks");
        return;
    }
    if (hooks == NULL) {
        memset(&heap->hooks, 0, sizeof(heap->hooks));
        heap->has_hooks = 0;
        return;
    }
    heap->hooks = *hooks;
    heap->has_hooks = 1;
}

static void
tell_watched(RcObject *op)
{
    RcHeap *heap = rc_heap_fast(op);
    if (heap->has_hooks && heap->hooks.watched != NULL) {
        heap->hooks.watched(heap->hooks.ctx, op);
    }
}

void
rc_write_watched(RcObject *old, RcObject *value)
{
    if (old != NULL && (old->flags & RC_OBJ_WATCHED)) {
        tell_watched(old);
    }
    if (value != NULL && (value->flags & RC_OBJ_WATCHED)) {
        tell_watched(value);
    }
}

void *
rc_heap_gc_ctx(const RcHeap *heap)
{
    if (heap == NULL) {
        null_heap("rc_heap_gc_ctx");
        return NULL;
    }
    return heap->has_hooks ? heap->hooks.ctx : NULL;
}

int
rc_untrack(RcHeap *heap, RcObject *op)
{
    RcGcHead *head = rc_gc_head(op);
    if (head->next == 0) {
        return 0;
    }
    if (heap->has_hooks && heap->hooks.untrack != NULL) {
        heap->hooks.untrack(heap->hooks.ctx, op);
        RCGC_ASSERT(head->next == 0); /* the collector unlinked it */
    }
    /* Without a collector (detached while objects were tracked) there is
     * no list to unlink from: just mark the object untracked. */
    head->next = 0;
    return 1;
}

/* ---- counters ------------------------------------------------------- */

RcTypeStats *
rc_stats_find(RcHeap *heap, const RcType *type)
{
    uintptr_t idx = rc_map_get(&heap->typeidx, (uintptr_t)type);
    if (idx == 0) {
        return NULL;
    }
    heap->last_type = type;
    heap->last_stats = &heap->stats[idx - 1];
    return heap->last_stats;
}

/* The counters of type, adding an entry (map slot first, then array
 * room, so that a failure leaves both unchanged). */
RcTypeStats *
rc_stats_add(RcHeap *heap, const RcType *type)
{
    RcTypeStats *st = rc_stats_find(heap, type);
    if (st != NULL) {
        return st;
    }
    if (rc_map_reserve(heap->oa, &heap->typeidx, 1) != 0) {
        return NULL;
    }
    if (heap->nstats == heap->stats_cap) {
        size_t cap = heap->stats_cap ? 2 * heap->stats_cap : 8;
        size_t esz = sizeof(RcTypeStats);
        RcTypeStats *bigger = oa_meta_realloc(
            heap->oa, heap->stats, heap->stats_cap * esz, cap * esz);
        if (bigger == NULL) {
            return NULL;
        }
        heap->stats = bigger;
        heap->stats_cap = cap;
    }
    RCGC_ASSERT(heap->nstats < heap->stats_cap);
    st = &heap->stats[heap->nstats++];
    memset(st, 0, sizeof(*st));
    st->type = type;
    rc_map_put(&heap->typeidx, (uintptr_t)type, heap->nstats);
    heap->last_type = type;
    heap->last_stats = st;
    return st;
}

size_t
rc_live_count(const RcHeap *heap, const RcType *type)
{
    if (heap == NULL) {
        null_heap("rc_live_count");
        return 0;
    }
    uintptr_t idx = rc_map_get(&heap->typeidx, (uintptr_t)type);
    return idx == 0 ? 0 : heap->stats[idx - 1].live;
}

size_t
rc_live_total(const RcHeap *heap)
{
    if (heap == NULL) {
        null_heap("rc_live_total");
        return 0;
    }
    return heap->live_total;
}

size_t
rc_type_stats(const RcHeap *heap, RcTypeStats *out, size_t max)
{
    if (heap == NULL) {
        null_heap("rc_type_stats");
        return 0;
    }
    for (size_t i = 0; i < heap->nstats && i < max; i++) {
        out[i] = heap->stats[i];
    }
    return heap->nstats;
}

int64_t
rc_total_refs(const RcHeap *heap)
{
    if (heap == NULL) {
        null_heap("rc_total_refs");
        return -1;
    }
#ifdef RCGC_DEBUG
    return heap->total_refs;
#else
    (void)heap;
    return -1;
#endif
}

/* ---- check ---------------------------------------------------------- */

/* created - freed == live per type, the index maps each type to its
 * entry, and the live total is the sum. */
int
rc_check_counters(const RcHeap *heap)
{
    size_t live = 0;
    for (size_t i = 0; i < heap->nstats; i++) {
        const RcTypeStats *st = &heap->stats[i];
        if (st->created - st->freed != st->live) {
            rcgc_report(RCGC_ERROR_CHECK,
                        "refcount: rc_heap_check: type '%s': created %llu - "
                        "freed %llu != live %zu",
                        st->type->name, (unsigned long long)st->created,
                        (unsigned long long)st->freed, st->live);
            return -1;
        }
        if (rc_map_get(&heap->typeidx, (uintptr_t)st->type) != i + 1) {
            rcgc_report(RCGC_ERROR_CHECK,
                        "refcount: rc_heap_check: type index broken");
            return -1;
        }
        live += st->live;
    }
    if (live != heap->live_total) {
        rcgc_report(RCGC_ERROR_CHECK,
                    "refcount: rc_heap_check: live total %zu != sum over "
                    "types %zu",
                    heap->live_total, live);
        return -1;
    }
    return 0;
}

#if RCGC_EXPENSIVE
void
rc_checkpoint(RcHeap *heap, const char *fn)
{
    if (!rcgc_check_due(&heap->check_calls, heap->check_budget) ||
        heap->deallocating) {
        return;
    }
    if (rc_check_counters(heap) != 0 || rc_weakrefs_check(heap) != 0) {
        rcgc_fatal("refcount: %s: heap %p: the heap is broken at the end of "
                   "this call (checked build: rc_heap_check failed, the "
                   "message before says what)",
                   fn, (void *)heap);
    }
    rcgc_check_done(&heap->check_calls, &heap->check_budget,
                    heap->nstats + heap->typeidx.cap + heap->weakrefs.cap);
}
#endif

int
rc_heap_check(const RcHeap *heap)
{
    if (heap == NULL) {
        rcgc_report(RCGC_ERROR_MISUSE,
                    "refcount: rc_heap_check: heap is NULL");
        return -1;
    }
    if (heap->deallocating || heap->pending != NULL) {
        rcgc_report(RCGC_ERROR_CHECK, "refcount: rc_heap_check: called "
                                      "during deallocation (pending objects)");
        return -1;
    }
    if (rc_check_counters(heap) != 0 || rc_weakrefs_check(heap) != 0) {
        return -1;
    }
    return oa_heap_check(heap->oa);
}
