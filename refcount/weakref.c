/* SPDX-License-Identifier: MIT */
/* weakref.c - weak references, their callbacks, and clearing on death.
 *
 * A weak reference is an object of rc_weakref_type (a GC type, so that
 * the collector can tell garbage weakrefs from live ones); its payload:
 *
 *     target   the referent (borrowed) or NULL once cleared
 *     cb, ctx  the callback and the caller's word; cb is taken (set NULL)
 *              just before it runs, so it runs at most once
 *     release  called with ctx when the weakref itself is deallocated
 *     prev, next  links in the target's list, newest first
 *
 * The objects themselves carry no field for weak references: the heap's
 * map `weakrefs` takes an object to its newest weakref, and the flag
 * RC_OBJ_HAS_WEAKREFS says it has an entry, so a dying object without
 * weakrefs pays one bit test.
 *
 * Clearing when the target dies (destroy step 3, rc_weakrefs_clear):
 *   1. take the list out of the map and drop the flag;
 *   2. clear every weakref (target = NULL, unlinked); those that have a
 *      callback and are themselves alive get a temporary reference and go
 *      on a private list, in the same (newest first) order, through their
 *      now unused next link;
 *   3. run each callback with its cleared weakref, then drop the
 *      temporary reference: a callback may drop the last reference of its
 *      own weakref, or of any other, without freeing memory we still
 *      read (decrefs inside are deferred by rc_zero's loop).
 * Weakrefs that are themselves dead (count 0, waiting on the pending
 * stack) are cleared without a callback, as CPython does.
 *
 * Invariants (rc_weakrefs_check): for each map entry (obj -> wr), obj has
 * RC_OBJ_HAS_WEAKREFS, wr heads a prev/next list whose every element has
 * target == obj; a cleared weakref has target == NULL and no links.
 */
#include "refcount/internal.h"

#include <stdio.h>

typedef struct WeakRef {
    RcObject *target;      /* borrowed; NULL when cleared */
    RcWeakCallback cb;     /* NULL: none, or already run */
    void *ctx;             /* the caller's word */
    RcWeakRelease release; /* releases ctx at dealloc; may be NULL */
    RcObject *prev;        /* newer weakref of target, or NULL */
    RcObject *next;        /* older weakref of target, or NULL */
} WeakRef;

static WeakRef *
wref(const RcObject *wr)
{
    return (WeakRef *)rc_payload((RcObject *)(uintptr_t)wr);
}

static int
is_weakref(const RcObject *op)
{
    return op != NULL && op->type == &rc_weakref_type;
}

/* Unlink wr from its target's list; wr ends cleared. */
static void
detach(RcHeap *heap, RcObject *wr)
{
    WeakRef *w = wref(wr);
    RcObject *target = w->target;
    if (target == NULL) {
        return;
    }
    /* the list invariant (top of file), around wr */
    RCGC_ASSERT(target->flags & RC_OBJ_HAS_WEAKREFS);
    RCGC_ASSERT(w->prev != NULL ||
                rc_map_get(&heap->weakrefs, (uintptr_t)target) ==
                    (uintptr_t)wr);
    RCGC_ASSERT(w->prev == NULL || wref(w->prev)->next == wr);
    RCGC_ASSERT(w->next == NULL || wref(w->next)->prev == wr);
    if (w->prev != NULL) {
        wref(w->prev)->next = w->next;
    }
    else if (w->next != NULL) {
        rc_map_put(&heap->weakrefs, (uintptr_t)target, (uintptr_t)w->next);
    }
    else {
        rc_map_remove(&heap->weakrefs, (uintptr_t)target);
        target->flags &= ~RC_OBJ_HAS_WEAKREFS;
    }
    if (w->next != NULL) {
        wref(w->next)->prev = w->prev;
    }
    w->target = NULL;
    w->prev = NULL;
    w->next = NULL;
}

static int
weakref_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    /* The target is borrowed and ctx is not an object. */
    (void)op;
    (void)visit;
    (void)arg;
    return 0;
}

static void
weakref_clear(RcObject *op)
{
    detach(rc_heap_fast(op), op);
    wref(op)->cb = NULL;
}

static void
weakref_dealloc(RcObject *op)
{
    WeakRef *w = wref(op);
    detach(rc_heap_fast(op), op);
    if (w->release != NULL) {
        w->release(w->ctx);
    }
}

RCGC_API const RcType rc_weakref_type = {
    RC_TYPE_HEAD("weakref", RC_TYPE_GC), .size = sizeof(WeakRef),
    .traverse = weakref_traverse,        .clear = weakref_clear,
    .dealloc = weakref_dealloc,
};

static RcObject *
refuse(RcHeap *heap, const char *why)
{
    rc_set_error(heap, "refcount: rc_weakref_new: %s", why);
    return NULL;
}

/* Validate the target before reading it (ours, of this heap, alive,
 * mortal), then link the new weakref at the head of its list. */
RcObject *
rc_weakref_new(RcHeap *heap, RcObject *target, RcWeakCallback cb, void *ctx,
               RcWeakRelease release)
{
    if (heap == NULL) {
        rcgc_report(RCGC_ERROR_MISUSE,
                    "refcount: rc_weakref_new: heap is NULL");
        return NULL;
    }
    if (target == NULL) {
        return refuse(heap, "target is NULL");
    }
    OaHeap *owner = rc_block_owner(target);
    if (owner == NULL) {
        rc_set_error(heap,
                     "refcount: rc_weakref_new: target %p is not an object "
                     "(no block of any heap holds it)",
                     (void *)target);
        return NULL;
    }
    if (owner != heap->oa) {
        return refuse(heap, "target lives in another heap");
    }
#ifdef RCGC_DEBUG
    rc_check_object("rc_weakref_new", target); /* a freed one aborts */
#endif
    if (target->type == NULL || target->type->magic != RC_TYPE_MAGIC) {
        return refuse(heap, "target is not an object");
    }
    if (rc_is_immortal(target)) {
        return refuse(heap, "target is immortal");
    }
    if (target->refcnt == 0) {
        return refuse(heap, "target is dead");
    }
    RcObject *wr = rc_new(heap, &rc_weakref_type);
    if (wr == NULL) {
        return NULL;
    }
    if (rc_map_reserve(heap->oa, &heap->weakrefs, 1) != 0) {
        rc_decref(wr); /* nothing to release: ctx stays the caller's */
        return refuse(heap, "out of memory");
    }
    WeakRef *w = wref(wr);
    w->cb = cb;
    w->ctx = ctx;
    w->release = release;
    w->target = target;
    if (target->flags & RC_OBJ_HAS_WEAKREFS) {
        w->next = (RcObject *)rc_map_get(&heap->weakrefs, (uintptr_t)target);
        wref(w->next)->prev = wr;
    }
    rc_map_put(&heap->weakrefs, (uintptr_t)target, (uintptr_t)wr);
    target->flags |= RC_OBJ_HAS_WEAKREFS;
    /* the map names target's newest weakref, the list hangs from it */
    RCGC_ASSERT(rc_map_get(&heap->weakrefs, (uintptr_t)target) ==
                (uintptr_t)wr);
    RC_CHECKPOINT(heap, "rc_weakref_new");
    return wr;
}

RcObject *
rc_weakref_get(const RcObject *wr)
{
    if (!is_weakref(wr)) {
        return NULL;
    }
    RcObject *target = wref(wr)->target;
    /* A target whose count is 0 is dead, waiting on the pending stack. */
    if (target == NULL || target->refcnt == 0) {
        return NULL;
    }
    if (target->flags & RC_OBJ_WATCHED) {
        rc_write_watched(NULL, target); /* the collector's barrier */
    }
    return target;
}

RcObject *
rc_weakref_first(const RcObject *op)
{
    if (!(op->flags & RC_OBJ_HAS_WEAKREFS)) {
        return NULL;
    }
    return (RcObject *)rc_map_get(&rc_heap_fast(op)->weakrefs, (uintptr_t)op);
}

RcObject *
rc_weakref_next(const RcObject *wr)
{
    const WeakRef *w = wref(wr);
    return w->target != NULL ? w->next : NULL;
}

size_t
rc_weakref_count(const RcObject *op)
{
    size_t n = 0;
    for (RcObject *wr = rc_weakref_first(op); wr != NULL;
         wr = rc_weakref_next(wr)) {
        n++;
    }
    return n;
}

void
rc_weakref_detach(RcObject *wr)
{
    if (is_weakref(wr)) {
        RcHeap *heap = rc_heap_fast(wr);
        detach(heap, wr);
        RC_CHECKPOINT(heap, "rc_weakref_detach");
    }
}

int
rc_weakref_has_callback(const RcObject *wr)
{
    /* A dead weakref (count 0, queued for destruction) never calls back:
     * taking a reference to it would queue it twice. */
    return is_weakref(wr) && wref(wr)->cb != NULL && wr->refcnt != 0;
}

/* Run wr's callback (once at most) holding a reference to wr. */
static void
call_back(RcObject *wr)
{
    WeakRef *w = wref(wr);
    RcWeakCallback cb = w->cb;
    w->cb = NULL;
    if (cb != NULL) {
        cb(wr, w->ctx);
    }
}

void
rc_weakref_call(RcObject *wr)
{
    if (!is_weakref(wr) || wref(wr)->cb == NULL || wr->refcnt == 0) {
        return;
    }
    RcHeap *heap = rc_heap_fast(wr);
    detach(heap, wr);
    rc_incref(wr);
    call_back(wr);
    rc_decref(wr);
    RC_CHECKPOINT(heap, "rc_weakref_call");
}

/* Detach every weakref of op first (targets cleared), then call the
 * callbacks newest first: a callback sees a consistent heap. */
void
rc_weakrefs_clear(RcHeap *heap, RcObject *op)
{
    /* Step 1. */
    RcObject *wr = (RcObject *)rc_map_remove(&heap->weakrefs, (uintptr_t)op);
    op->flags &= ~RC_OBJ_HAS_WEAKREFS;
    /* Step 2. */
    RcObject *calls = NULL, *tail = NULL;
    while (wr != NULL) {
        WeakRef *w = wref(wr);
        RcObject *next = w->next;
        w->target = NULL;
        w->prev = NULL;
        w->next = NULL;
        if (w->cb != NULL && wr->refcnt != 0) {
            rc_incref(wr);
            if (tail != NULL) {
                wref(tail)->next = wr;
            }
            else {
                calls = wr;
            }
            tail = wr;
        }
        wr = next;
    }
    /* Step 3.  The private list is read before each call, and a callback
     * that looks at a cleared weakref's links sees NULL (rc_weakref_next
     * answers NULL for cleared weakrefs). */
    while (calls != NULL) {
        RcObject *next = wref(calls)->next;
        wref(calls)->next = NULL;
        call_back(calls);
        rc_decref(calls);
        calls = next;
    }
}

/* Every key of the map has the flag, and its list is a consistent
 * doubly-linked list of weakrefs to that key. */
int
rc_weakrefs_check(const RcHeap *heap)
{
    const RcPtrMap *map = &heap->weakrefs;
    for (size_t i = 0; i < map->cap; i++) {
        RcObject *op = (RcObject *)map->slots[i].key;
        if (op == NULL) {
            continue;
        }
        if (!(op->flags & RC_OBJ_HAS_WEAKREFS)) {
            rcgc_report(RCGC_ERROR_CHECK,
                        "refcount: rc_heap_check: object %p has weakrefs but "
                        "no RC_OBJ_HAS_WEAKREFS flag",
                        (void *)op);
            return -1;
        }
        RcObject *prev = NULL;
        for (RcObject *wr = (RcObject *)map->slots[i].val; wr != NULL;
             wr = wref(wr)->next) {
            if (!is_weakref(wr) || wref(wr)->target != op ||
                wref(wr)->prev != prev) {
                rcgc_report(RCGC_ERROR_CHECK,
                            "refcount: rc_heap_check: weakref list of object "
                            "%p broken at %p",
                            (void *)op, (void *)wr);
                return -1;
            }
            prev = wr;
        }
    }
    return 0;
}
