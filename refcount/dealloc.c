/* SPDX-License-Identifier: MIT */
/* dealloc.c - what happens when a count reaches zero.
 *
 * rc_decref calls rc_zero(op) when op's count drops to 0.  Deallocating
 * op releases the references it owns, which may bring other counts to
 * zero, and so on: done recursively, freeing the head of a long chain
 * would use stack in proportion to its length (CPython bounds this with
 * its "trashcan", which defers objects past a nesting depth).  rc_zero
 * never nests instead:
 *
 *   rc_zero(op):
 *     1. if the heap is already deallocating (we are inside step 3 or 4
 *        of an outer call), defer op: a GC object is untracked (if it was
 *        tracked), marked RC_OBJ_DEFERRED and pushed on the heap's pending
 *        stack, linked through its RcGcHead's prev word (next stays 0, the
 *        collector's "untracked"); an object of a non-GC type owns no
 *        references, so destroying it at once nests only one level;
 *     2. otherwise set the heap's deallocating flag,
 *     3. destroy(op),
 *     4. pop and destroy pending objects until the stack is empty,
 *     5. clear the flag.
 *   The stack depth is O(1) for any graph: each destroy pushes the
 *   children that die and returns; the pending stack lives in the dead
 *   objects' own heads, so it needs no memory either.
 *
 *   destroy(op): finalize (PEP 442, may resurrect), weakrefs, legacy_del,
 *   untrack, dealloc, counters and the block (steps above destroy).
 *
 * Invariants: while deallocating is set, every object on the pending
 * stack has count 0, RC_OBJ_DEFERRED, and RcGcHead.next == 0; an object
 * is on the stack at most once (its count is 0 and only rc_zero pushes,
 * once per transition to 0).
 */
#include "refcount/internal.h"

static void destroy(RcHeap *heap, RcObject *op);

static void
push_pending(RcHeap *heap, RcObject *op)
{
    RcGcHead *head = rc_gc_head(op);
    /* on the stack at most once: only a transition to 0 pushes */
    RCGC_ASSERT(op->refcnt == 0 && !(op->flags & RC_OBJ_DEFERRED));
    uint32_t flags = op->flags | RC_OBJ_DEFERRED;
    if (head->next != 0 && rc_untrack(heap, op)) {
        flags |= RC_OBJ_WAS_TRACKED;
    }
    op->flags = flags;
    head->prev = (uintptr_t)heap->pending;
    heap->pending = op;
}

static RcObject *
pop_pending(RcHeap *heap)
{
    RcObject *op = heap->pending;
    RcGcHead *head = rc_gc_head(op);
    /* the pending stack's invariant (top of file) */
    RCGC_ASSERT(heap->deallocating && op->refcnt == 0 &&
                (op->flags & RC_OBJ_DEFERRED) && head->next == 0);
    heap->pending = (RcObject *)head->prev;
    head->prev = 0;
    op->flags &= ~RC_OBJ_DEFERRED;
    return op;
}

/* Step 1 of rc_zero: op died while heap deallocates. */
static void
defer(RcHeap *heap, RcObject *op)
{
    if (op->type->flags & RC_TYPE_GC) {
        push_pending(heap, op);
    }
    else {
        destroy(heap, op);
    }
}

void
rc_zero(RcObject *op)
{
    RcHeap *heap = rc_heap_fast(op);
    if (heap->deallocating) {
        defer(heap, op);
        return;
    }
    heap->deallocating = 1;
    destroy(heap, op);
    /* Each destroy pushes the children that die and returns: the loop
     * ends when no death is pending, with O(1) C stack for any graph. */
    while (heap->pending != NULL) {
        destroy(heap, pop_pending(heap));
    }
    RCGC_ASSERT(heap->deallocating && heap->pending == NULL);
    heap->deallocating = 0;
    RCGC_ASSERT_EXPENSIVE(rc_check_counters(heap) == 0);
}

/* A resurrected GC object goes to the collector's youngest generation,
 * whether it was untracked for its deferral (step 1 of rc_zero) or is
 * still tracked in any generation, the permanent one included (it died by
 * a direct decref): one rule, as CPython re-tracks a resurrected object
 * as young (test: freeze.c, resurrected_frozen_object_*). */
static void
track_young(RcHeap *heap, RcObject *op)
{
    int was = (op->flags & RC_OBJ_WAS_TRACKED) != 0;
    op->flags &= ~RC_OBJ_WAS_TRACKED;
    if (!(op->type->flags & RC_TYPE_GC) || !heap->has_hooks) {
        return;
    }
    if (!was) {
        if (rc_gc_head(op)->next == 0) {
            return; /* untracked by its owner: stays so */
        }
        rc_untrack(heap, op);
    }
    if (heap->hooks.track != NULL) {
        heap->hooks.track(heap->hooks.ctx, op);
    }
}

/* Call fn(op) holding a temporary reference; 1 when op came back to life
 * (fn stored a new reference), 0 when the count is back to 0. */
static int
resurrected_by(RcHeap *heap, RcObject *op, void (*fn)(RcObject *))
{
    op->refcnt = 1;
    fn(op);
    if (op->refcnt == RC_IMMORTAL || --op->refcnt != 0) {
        track_young(heap, op);
        return 1;
    }
    return 0;
}

/* The default dealloc's visit: drop one reference owned by an object of
 * heap (arg).  An object references only objects of its own heap (see
 * refcount.h), so a child that dies is deferred without looking its heap
 * up: that lookup was a quarter of the time of freeing a long chain.
 * Debug builds check the rule and keep the total of counts. */
static int
visit_release(RcObject *ref, void *arg)
{
#ifdef RCGC_DEBUG
    if (rc_heap_fast(ref) != arg) {
        rc_fatal("rc_zero", ref,
                 "referenced from an object of another heap (type '%s')",
                 ref->type->name);
    }
    rc_decref(ref);
#else
    uint32_t n = ref->refcnt;
    if (n != RC_IMMORTAL && (ref->refcnt = n - 1) == 0) {
        defer(arg, ref);
    }
#endif
    return 0;
}

/* Step 4 of destroy: rc_untrack's work without its call, once per
 * object freed (most of them freed by a collection, still tracked on its
 * garbage list): the collector's hook unlinks op, else only the mark. */
static inline void
untrack_dying(RcHeap *heap, RcObject *op)
{
    RcGcHead *head = rc_gc_head(op);
    if (head->next == 0) {
        return;
    }
    if (heap->has_hooks && heap->hooks.untrack != NULL) {
        heap->hooks.untrack(heap->hooks.ctx, op);
        RCGC_ASSERT(head->next == 0); /* the collector unlinked it */
    }
    head->next = 0;
}

/* destroy(op), op's count being 0:
 *   1. PEP 442: if the type has finalize and op is not RC_OBJ_FINALIZED,
 *      set the flag, give op a temporary reference, call finalize, take
 *      the reference back; a count still above zero means finalize
 *      stored a new reference: op is resurrected, stays alive (tracked
 *      again if step 1 of rc_zero untracked it), and we stop;
 *   2. weak references are cleared, then their callbacks run (weakref.c);
 *   3. legacy_del (CPython's tp_del) as in step 1, each time the count
 *      reaches zero (CPython's subtype_dealloc order: finalize, clear
 *      weakrefs, tp_del);
 *   4. untrack op if it is tracked;
 *   5. the type's dealloc, or the default: decref every reference that
 *      traverse finds (those decrefs land in step 1 of rc_zero);
 *   6. counters, and the block goes back to objalloc with its size
 *      (oa_free_sized: no ownership lookup). */
static void
destroy(RcHeap *heap, RcObject *op)
{
    const RcType *type = op->type;
    RCGC_ASSERT(op->refcnt == 0 && type->magic == RC_TYPE_MAGIC);
    if (type->finalize != NULL && !(op->flags & RC_OBJ_FINALIZED)) {
        op->flags |= RC_OBJ_FINALIZED;
        if (resurrected_by(heap, op, type->finalize)) {
            return;
        }
    }
    /* Weakrefs go before legacy_del, as in CPython's subtype_dealloc
     * (test_finalization test_legacy_resurrect: "weakrefs are cleared
     * before tp_del is called"), so a legacy_del that resurrects leaves
     * no weakref alive and its callback has run. */
    if (op->flags & RC_OBJ_HAS_WEAKREFS) {
        rc_weakrefs_clear(heap, op);
#ifdef RCGC_DEBUG
        if (op->refcnt != 0) {
            rc_fatal("rc_zero", op,
                     "a weak reference callback took a new reference to "
                     "the dead object (type '%s')",
                     type->name);
        }
#endif
    }
    if (type->legacy_del != NULL &&
        resurrected_by(heap, op, type->legacy_del)) {
        return;
    }
    size_t nbytes = rc_block_size(op);
    if (type->flags & RC_TYPE_GC) {
        untrack_dying(heap, op);
        if (type->dealloc != NULL) {
            type->dealloc(op);
        }
        else {
            type->traverse(op, visit_release, heap);
        }
    }
    else if (type->dealloc != NULL) {
        type->dealloc(op);
    }
    RcTypeStats *st = rc_stats_of(heap, type);
    RCGC_ASSERT(st != NULL && st->live > 0 && heap->live_total > 0);
    st->live--;
    st->freed++;
    heap->live_total--;
    oa_free_sized((char *)op - rc_head_size(type), nbytes);
}
