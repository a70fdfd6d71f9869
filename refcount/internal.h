/* SPDX-License-Identifier: MIT */
/* internal.h - refcount's private structures and cross-file helpers.
 *
 * Nothing here is exported: the functions carry no RCGC_API, so the shared
 * library hides them.  Files of the layer:
 *
 *   heap.c     RcHeap: creation, errors, hooks, counters, rc_heap_check
 *   ptrmap.c   RcPtrMap: base.h's hash map on oa_meta_malloc memory
 *   object.c   type checks, rc_new / rc_new_var, immortals
 *   dealloc.c  rc_zero: the deallocation loop, finalizers, default dealloc
 *   weakref.c  weak references and their callbacks
 *   check.c    rc_incref_checked / rc_decref_checked, fatal messages
 */
#ifndef RCGC_REFCOUNT_INTERNAL_H
#define RCGC_REFCOUNT_INTERNAL_H

#include "base/base.h"
#include "refcount/refcount.h"

#include <stdint.h>

/* ---- pointer map ------------------------------------------------------
 *
 * base.h's RcgcMap (pointer -> word; key 0 never used), with its slots in
 * oa_meta_malloc memory (ptrmap.c), so that failure injection and the
 * heap's limit apply. */
typedef RcgcMap RcPtrMap;

/* Make room for `extra` more keys.  0, or -1 when out of memory (the map
 * is unchanged). */
int rc_map_reserve(OaHeap *oa, RcPtrMap *map, size_t extra);
void rc_map_free(OaHeap *oa, RcPtrMap *map);
#define rc_map_get    rcgc_map_get
#define rc_map_put    rcgc_map_put
#define rc_map_remove rcgc_map_remove

/* ---- the heap ---------------------------------------------------------
 *
 * Invariants (checked by rc_heap_check):
 * - live_total == sum of stats[i].live, and for each type
 *   live == created - freed;
 * - outside rc_zero: deallocating == 0 and pending == NULL;
 * - pending lists dead GC objects (count 0, RC_OBJ_DEFERRED, untracked:
 *   RcGcHead.next == 0) linked through RcGcHead.prev;
 * - weakrefs maps each object with RC_OBJ_HAS_WEAKREFS to its newest weak
 *   reference, and only those objects; see weakref.c for the lists. */
struct RcHeap {
    OaHeap *oa;
    int own_oa;         /* oa was created by rc_heap_new */
    int deallocating;   /* rc_zero's loop is running */
    RcObject *pending;  /* dead objects waiting for destroy */
    int has_hooks;      /* a collector is attached */
    RcGcHooks hooks;    /* its hooks (valid when has_hooks) */
    RcPtrMap weakrefs;  /* object -> newest weak reference */
    RcPtrMap typeidx;   /* type -> 1 + index into stats */
    RcTypeStats *stats; /* per-type counters, nstats used */
    size_t nstats, stats_cap;
    const RcType *last_type; /* one-entry cache in front of typeidx */
    RcTypeStats *last_stats;
    size_t live_total;  /* objects alive now */
    int64_t total_refs; /* debug builds: sum of mortal counts */
    int has_error;
    char error[256]; /* last failure, for rc_heap_error */
#if RCGC_EXPENSIVE
    size_t check_calls;  /* calls since the last whole check (base.h) */
    size_t check_budget; /* calls between whole checks */
#endif
};

/* Internal object flag (one of the bits 0..15 that refcount owns): the
 * object was tracked when rc_zero queued it and untracked it; a
 * resurrection tracks it again. */
#define RC_OBJ_WAS_TRACKED (1u << 3)

/* heap.c: the counters add up (per type and in total); 0, else a report
 * and -1.  O(types): the expensive level runs it after each deallocation
 * loop. */
int rc_check_counters(const RcHeap *heap);

/* The checkpoint that ends each mutating call in checked builds
 * (base.h): counted always, the counters and the weakref lists checked
 * when due and no deallocation loop runs; a failure names fn and aborts.
 * Other builds: nothing. */
#if RCGC_EXPENSIVE
void rc_checkpoint(RcHeap *heap, const char *fn);
#define RC_CHECKPOINT(heap, fn) rc_checkpoint((heap), (fn))
#else
#define RC_CHECKPOINT(heap, fn) ((void)sizeof(heap), (void)sizeof(fn))
#endif

/* Counters of a type already seen by this heap (NULL when never seen). */
RcTypeStats *rc_stats_find(RcHeap *heap, const RcType *type);
/* The same, adding a zeroed entry when missing; NULL when out of memory. */
RcTypeStats *rc_stats_add(RcHeap *heap, const RcType *type);

static inline RcTypeStats *
rc_stats_of(RcHeap *heap, const RcType *type)
{
    if (type == heap->last_type) {
        return heap->last_stats;
    }
    return rc_stats_find(heap, type);
}

/* Record a failure message (printf format) for rc_heap_error. */
void rc_set_error(RcHeap *heap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks 1-3 of check.c on op (NULL, freed fill, type magic): abort with
 * a message naming fn when one fails. */
void rc_check_object(const char *fn, const RcObject *op);

/* The objalloc heap whose block holds op's header, or NULL (op is not in
 * any heap's memory: a stack, static or malloc'd pointer).  O(1), reads
 * no memory the library does not own. */
OaHeap *rc_block_owner(const RcObject *op);

/* Print "refcount: <fn>: object <op>: <what>" and abort. */
void rc_fatal(const char *fn, const RcObject *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* ---- blocks -------------------------------------------------------- */

/* Bytes in front of the RcObject: the RcGcHead of GC types. */
static inline size_t
rc_head_size(const RcType *type)
{
    return (type->flags & RC_TYPE_GC) ? sizeof(RcGcHead) : 0;
}

static inline void *
rc_block_of(const RcObject *op)
{
    return (char *)(uintptr_t)op - rc_head_size(op->type);
}

/* The size the block was requested with (for oa_free_sized). */
static inline size_t
rc_block_size(const RcObject *op)
{
    const RcType *type = op->type;
    size_t n = rc_head_size(type) + sizeof(RcObject) + type->size;
    if (type->itemsize != 0) {
        n += rc_var_len(op) * type->itemsize;
    }
    return n;
}

static inline RcHeap *
rc_heap_fast(const RcObject *op)
{
    return (RcHeap *)oa_heap_user(oa_block_heap(rc_block_of(op)));
}

/* Untrack a tracked GC object through the hooks; returns 1 when it was
 * tracked.  Afterwards RcGcHead.next == 0. */
int rc_untrack(RcHeap *heap, RcObject *op);

/* weakref.c: clear op's weak references and run their callbacks (op is
 * dying, count 0, RC_OBJ_HAS_WEAKREFS set). */
void rc_weakrefs_clear(RcHeap *heap, RcObject *op);
/* weakref.c: check the weak reference lists (for rc_heap_check). */
int rc_weakrefs_check(const RcHeap *heap);

#endif /* RCGC_REFCOUNT_INTERNAL_H */
