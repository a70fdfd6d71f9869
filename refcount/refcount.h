/* SPDX-License-Identifier: MIT */
/* refcount.h - reference-counted objects in objalloc blocks (public API).
 *
 * An object is a 16-byte header (RcObject: count, flags, type) followed by
 * its payload, 16-byte aligned.  Objects of a type that holds references
 * (RC_TYPE_GC) have two more words before the header, an RcGcHead, that
 * the cycle collector (cyclegc) links into its generation lists:
 *
 *     block:  [ RcGcHead (GC types only) ][ RcObject ][ payload ... ]
 *                                           ^ RcObject * points here
 *
 * Life of an object: rc_new() returns it with count 1 and a zeroed
 * payload; rc_incref/rc_decref change the count; when it reaches zero the
 * object is finalized (once, PEP 442; it may resurrect), its weak
 * references are cleared (callbacks run), it is untracked, its type's
 * dealloc releases what it owns, and its block goes back to objalloc.
 * Deallocation never recurses: objects whose count drops to zero while
 * another object is being deallocated are queued and destroyed by the
 * outermost call, so freeing a 10-million-long chain uses O(1) stack.
 *
 * Contract for types: a type that owns references to other objects sets
 * RC_TYPE_GC and a traverse that visits every one of them; a type without
 * RC_TYPE_GC owns no references (its dealloc may free other memory).
 * An object owns references only to objects of its own heap (heaps are
 * independent; debug builds check this when the default dealloc releases
 * them and when a full collection meets them; release builds trust it).  A variable object's length word is never changed after rc_new.
 *
 * Threads: as objalloc - a heap and its objects are used by one thread at
 * a time.
 *
 * Checks in every build: type descriptors are validated by rc_new (magic,
 * size, flags) and bad ones are refused with a message (rc_heap_error);
 * a NULL heap is refused with a message (RCGC_ERROR_MISUSE, objalloc.h)
 * and the call's error value (NULL, 0 or -1).
 * Debug builds (RCGC_DEBUG) also abort with a message naming the object
 * and the check on: decref of an object whose count is already zero,
 * incref/decref of a freed object (its fill pattern), an object whose type
 * pointer is not a type descriptor.
 */
#ifndef RCGC_REFCOUNT_H
#define RCGC_REFCOUNT_H

#include "objalloc/objalloc.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct RcHeap RcHeap;
typedef struct RcType RcType;

/* The object header: 16 bytes. */
typedef struct RcObject {
    uint32_t refcnt;    /* RC_IMMORTAL: saturated, never changes */
    uint32_t flags;     /* RC_OBJ_* bits */
    const RcType *type; /* its type descriptor */
} RcObject;

#define RC_IMMORTAL UINT32_MAX

/* Per-object flag bits.  Bits 16..31 belong to the collector. */
#define RC_OBJ_FINALIZED    (1u << 0) /* finalize has run (it never reruns) */
#define RC_OBJ_HAS_WEAKREFS (1u << 1) /* weak references point at it */
#define RC_OBJ_DEFERRED     (1u << 2) /* dead, queued for deallocation */
/* Watched by the collector (which sets and clears it: cyclegc's
 * pause-bounded mode, while it confirms garbage over several steps):
 * rc_setref storing or overwriting a reference to it, and
 * rc_weakref_get returning it, tell the collector (RcGcHooks.watched). */
#define RC_OBJ_WATCHED (1u << 4)
/* Bits 3 and 5..15 are refcount's own (internal). */
#define RC_OBJ_GC_SHIFT 16

/* Two words before each object of an RC_TYPE_GC type.  The collector
 * gives them meaning, with one rule that refcount relies on: next == 0
 * exactly when the object is not tracked. */
typedef struct RcGcHead {
    uintptr_t next;
    uintptr_t prev;
} RcGcHead;

/* ---- types ---------------------------------------------------------- */

/* visit is called with each reference an object owns (never NULL);
 * a nonzero return stops the traversal and is returned by traverse. */
typedef int (*RcVisitFn)(RcObject *ref, void *arg);
typedef int (*RcTraverseFn)(RcObject *op, RcVisitFn visit, void *arg);

#define RC_TYPE_MAGIC 0x52635479u /* "RcTy" */

/* Type flags. */
#define RC_TYPE_GC                                                            \
    (1u << 0)                       /* owns references: has an RcGcHead,
                                       needs traverse and clear */
#define RC_TYPE_UNTRACKED (1u << 1) /* GC type not tracked at creation */

struct RcType {
    uint32_t magic;   /* RC_TYPE_MAGIC (RC_TYPE_HEAD sets it) */
    uint32_t flags;   /* RC_TYPE_* */
    const char *name; /* for messages and statistics */
    size_t size;      /* payload bytes; > 0 */
    size_t itemsize;  /* > 0: a variable type, see rc_new_var */
    /* Visit every reference the object owns.  Required for GC types. */
    RcTraverseFn traverse;
    /* Drop every reference the object owns (store NULL, then decref), to
     * break a cycle; the object stays valid.  Required for GC types. */
    void (*clear)(RcObject *op);
    /* PEP 442 finalizer: runs at most once per object, before it dies,
     * with the object still intact; it may resurrect the object by
     * storing a new reference to it (then, if tracked, it is tracked
     * again in the collector's generation 0, even if it was frozen).
     * Optional. */
    void (*finalize)(RcObject *op);
    /* Legacy finalizer (CPython's tp_del): runs each time the count
     * reaches zero, after finalize and after the object's weak references
     * were cleared (their callbacks have run), as CPython's
     * subtype_dealloc; it may resurrect the object.  An object with one
     * that is part of cyclic garbage is uncollectable and goes to the
     * collector's garbage list. Optional. */
    void (*legacy_del)(RcObject *op);
    /* Release what the object owns; the block itself is freed by
     * refcount after it returns.  NULL: release every reference found by
     * traverse (the default, enough for most types). */
    void (*dealloc)(RcObject *op);
};

/* Start a type descriptor: RcType t = {RC_TYPE_HEAD("pair", flags), ...} */
#define RC_TYPE_HEAD(tname, tflags)                                           \
    .magic = RC_TYPE_MAGIC, .flags = (tflags), .name = (tname)

/* The largest block an object may take (headers and payload): what the
 * system allocator behind objalloc can be asked for.  rc_type_check and
 * rc_new_var refuse anything larger. */
#define RC_BLOCK_MAX ((size_t)PTRDIFF_MAX)

/* Check a type descriptor as rc_new does; 0 if good, else -1 and *why
 * (a static string).  Rules: magic RC_TYPE_MAGIC, a name, known flags,
 * 0 < size <= RC_BLOCK_MAX - 32, a variable type (itemsize > 0) has
 * size >= sizeof(size_t), a GC type has traverse and clear, a non-GC
 * type has no traverse, RC_TYPE_UNTRACKED only with RC_TYPE_GC.
 * rc_new checks a type the first time a heap sees it. */
RCGC_API int rc_type_check(const RcType *type, const char **why);

/* ---- heaps ---------------------------------------------------------- */

/* A heap of objects in `oa`, or in a heap of its own when oa is NULL.
 * NULL when out of memory (or oa already has an RcHeap). */
RCGC_API RcHeap *rc_heap_new(OaHeap *oa);

/* Release the heap.  Live objects are not finalized; with a heap of its
 * own their memory is released too, with a borrowed oa it stays there.
 * Refused (a message, RCGC_ERROR_MISUSE, and the heap stays) while
 * rc_decref deallocates objects of the heap, that is from a finalizer,
 * weakref callback or dealloc it runs: destroy it after that returns. */
RCGC_API void rc_heap_destroy(RcHeap *heap);

/* 1 while rc_decref deallocates objects of the heap (its finalizers,
 * weakref callbacks and deallocs are running), else 0. */
RCGC_API int rc_heap_busy(const RcHeap *heap);

RCGC_API OaHeap *rc_heap_oa(const RcHeap *heap);

/* The heap an object lives in. */
RCGC_API RcHeap *rc_heap_of(const RcObject *op);

/* The message of the last failed call on this heap, or NULL (for a NULL
 * heap, a message saying so). */
RCGC_API const char *rc_heap_error(const RcHeap *heap);

/* Verify the heap's invariants (counters add up, weak reference lists
 * consistent, no deallocation in progress) and objalloc's (oa_heap_check).
 * 0 when all hold; otherwise prints what failed to stderr and returns -1. */
RCGC_API int rc_heap_check(const RcHeap *heap);

/* ---- objects -------------------------------------------------------- */

/* A new object with count 1 and a zeroed payload of type->size bytes; a
 * GC type is tracked (when a collector is attached) unless the type says
 * RC_TYPE_UNTRACKED.  NULL on a bad type or out of memory (see
 * rc_heap_error). */
RCGC_API RcObject *rc_new(RcHeap *heap, const RcType *type);

/* A variable object: payload of type->size + nitems * type->itemsize
 * bytes (overflow checked); the first payload word (a size_t) holds
 * nitems, so type->size must be at least sizeof(size_t). */
RCGC_API RcObject *rc_new_var(RcHeap *heap, const RcType *type, size_t nitems);

static inline void *
rc_payload(RcObject *op)
{
    return (void *)(op + 1);
}

/* Item count of a variable object. */
static inline size_t
rc_var_len(const RcObject *op)
{
    return *(const size_t *)(const void *)(op + 1);
}

static inline RcGcHead *
rc_gc_head(RcObject *op)
{
    return (RcGcHead *)(void *)op - 1;
}

static inline int
rc_is_gc(const RcObject *op)
{
    return (op->type->flags & RC_TYPE_GC) != 0;
}

/* Called when a count reaches zero; not for direct use. */
RCGC_API void rc_zero(RcObject *op);
/* Checked forms used by the inline functions in debug builds. */
RCGC_API void rc_incref_checked(RcObject *op);
RCGC_API void rc_decref_checked(RcObject *op);

static inline void
rc_incref(RcObject *op)
{
#ifdef RCGC_DEBUG
    rc_incref_checked(op);
#else
    /* A count that would pass RC_IMMORTAL saturates there. */
    uint32_t n = op->refcnt + 1;
    if (n != 0) {
        op->refcnt = n;
    }
#endif
}

static inline void
rc_decref(RcObject *op)
{
#ifdef RCGC_DEBUG
    rc_decref_checked(op);
#else
    if (op->refcnt != RC_IMMORTAL && --op->refcnt == 0) {
        rc_zero(op);
    }
#endif
}

static inline void
rc_xincref(RcObject *op)
{
    if (op != NULL) {
        rc_incref(op);
    }
}

static inline void
rc_xdecref(RcObject *op)
{
    if (op != NULL) {
        rc_decref(op);
    }
}

/* Return-the-object forms. */
static inline RcObject *
rc_newref(RcObject *op)
{
    rc_incref(op);
    return op;
}

static inline RcObject *
rc_xnewref(RcObject *op)
{
    rc_xincref(op);
    return op;
}

/* The write barrier of rc_setref: old or value (either may be NULL) is
 * RC_OBJ_WATCHED; calls the watched hook of its heap for each that is. */
RCGC_API void rc_write_watched(RcObject *old, RcObject *value);

/* Replace *slot with value (a new reference, may be NULL) and release the
 * old one after the store, so that dealloc never sees a stale slot.  This
 * is the write barrier of cyclegc's pause-bounded mode: in that mode every
 * slot of a tracked object is written with it (cyclegc.h). */
static inline void
rc_setref(RcObject **slot, RcObject *value)
{
    RcObject *old = *slot;
    if ((old != NULL && (old->flags & RC_OBJ_WATCHED)) ||
        (value != NULL && (value->flags & RC_OBJ_WATCHED))) {
        rc_write_watched(old, value);
    }
    *slot = value;
    rc_xdecref(old);
}

static inline uint32_t
rc_refcnt(const RcObject *op)
{
    return op->refcnt;
}

/* Immortal objects: the count saturates and incref/decref leave it. */
RCGC_API void rc_set_immortal(RcObject *op);

static inline int
rc_is_immortal(const RcObject *op)
{
    return op->refcnt == RC_IMMORTAL;
}

/* ---- weak references ------------------------------------------------ */

/* Called after the target died: wr is the weak reference (already
 * cleared, so rc_weakref_get returns NULL), ctx the caller's word.
 * Callbacks of an object's weakrefs run newest first. */
typedef void (*RcWeakCallback)(RcObject *wr, void *ctx);
/* Called once when the weak reference itself is deallocated, to release
 * ctx; optional. */
typedef void (*RcWeakRelease)(void *ctx);

/* The type of weak reference objects (a GC type). */
RCGC_API extern const RcType rc_weakref_type;

/* A new weak reference to target (count 1), with an optional callback.
 * NULL (with rc_heap_error) on out of memory, an immortal target, a
 * target of another heap, or a pointer that is not an object (not in any
 * heap's memory, or no type descriptor); debug builds abort with a
 * message on a freed target. */
RCGC_API RcObject *rc_weakref_new(RcHeap *heap, RcObject *target,
                                  RcWeakCallback cb, void *ctx,
                                  RcWeakRelease release);

/* The target (borrowed), or NULL once it is gone or cleared. */
RCGC_API RcObject *rc_weakref_get(const RcObject *wr);

/* Weak references pointing at op. */
RCGC_API size_t rc_weakref_count(const RcObject *op);

/* For the collector: walk op's weak references (newest first), detach one
 * without calling back, and call one's callback.  rc_weakref_detach
 * leaves wr cleared; rc_weakref_call runs its callback once at most.
 * rc_weakref_next is NULL for a cleared weakref.  A weakref whose own
 * count is 0 (dead, queued for destruction while another object is
 * deallocated) has no callback for rc_weakref_has_callback and is never
 * called back: do not incref it. */
RCGC_API RcObject *rc_weakref_first(const RcObject *op);
RCGC_API RcObject *rc_weakref_next(const RcObject *wr);
RCGC_API void rc_weakref_detach(RcObject *wr);
RCGC_API int rc_weakref_has_callback(const RcObject *wr);
RCGC_API void rc_weakref_call(RcObject *wr);

/* ---- the collector's hooks ------------------------------------------ */

/* A collector attaches to a heap with these hooks (cyclegc does).
 * created: a new object of a GC type without RC_TYPE_UNTRACKED exists
 *          (count 1, payload zeroed); the collector tracks it and may
 *          collect.
 * untrack: a tracked object is about to be deallocated; the collector
 *          unlinks it (afterwards next == 0).
 * track:   an object on its way to deallocation was resurrected by its
 *          finalizer (or legacy_del); refcount untracked it (if it was
 *          still tracked) and the collector tracks it again in its
 *          youngest generation, whatever generation held it before.
 * watched: (optional) a reference to op, which has RC_OBJ_WATCHED, was
 *          stored or overwritten by rc_setref, or returned by
 *          rc_weakref_get; the hook runs no user code. */
typedef struct RcGcHooks {
    void *ctx;
    void (*created)(void *ctx, RcObject *op);
    void (*untrack)(void *ctx, RcObject *op);
    void (*track)(void *ctx, RcObject *op);
    void (*watched)(void *ctx, RcObject *op);
} RcGcHooks;

RCGC_API void rc_heap_set_gc_hooks(RcHeap *heap, const RcGcHooks *hooks);
RCGC_API void *rc_heap_gc_ctx(const RcHeap *heap);

/* ---- counters ------------------------------------------------------- */

typedef struct RcTypeStats {
    const RcType *type;
    size_t live;      /* objects alive now */
    uint64_t created; /* ever */
    uint64_t freed;   /* ever */
} RcTypeStats;

/* Live objects of one type (0 for a type never seen). */
RCGC_API size_t rc_live_count(const RcHeap *heap, const RcType *type);
/* Live objects of every type. */
RCGC_API size_t rc_live_total(const RcHeap *heap);
/* Per-type counters: fills up to max entries, returns how many types. */
RCGC_API size_t rc_type_stats(const RcHeap *heap, RcTypeStats *out,
                              size_t max);
/* Debug builds: the sum of all reference counts of live non-immortal
 * objects; -1 in release builds. */
RCGC_API int64_t rc_total_refs(const RcHeap *heap);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_REFCOUNT_H */
