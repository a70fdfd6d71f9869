/* SPDX-License-Identifier: MIT */
/* object.c - type descriptors, object creation, immortal objects.
 *
 * Block layout (see refcount.h):
 *
 *     [ RcGcHead (GC types) ][ RcObject: refcnt flags type ][ payload ]
 *
 * rc_new / rc_new_var, in steps:
 *   1. find the type's counters in the heap; a type seen for the first
 *      time is validated (rc_type_check) and given an entry, so the
 *      checks cost one compare for every later object of the type;
 *   2. compute the block size (overflow checked for variable objects);
 *   3. take a block from objalloc and zero the head and payload;
 *   4. count 1, counters updated;
 *   5. a GC type without RC_TYPE_UNTRACKED is announced to the collector
 *      (hooks.created), which tracks it and may collect.
 * Failures leave a message in rc_heap_error and return NULL.
 *
 * Sizes: a block is at most RC_BLOCK_MAX bytes (the most the system
 * allocator behind objalloc can be asked for), which bounds type->size,
 * and nitems * itemsize is checked against the room that is left before
 * multiplying.
 */
#include "refcount/internal.h"

#include <string.h>

#define HEADERS_MAX (sizeof(RcGcHead) + sizeof(RcObject))
#define KNOWN_FLAGS (RC_TYPE_GC | RC_TYPE_UNTRACKED)

/* Every rule a type descriptor must follow (refcount.h), in order; the
 * first broken one is named in *why. */
int
rc_type_check(const RcType *type, const char **why)
{
    const char *bad = NULL;
    if (type == NULL) {
        bad = "type is NULL";
    }
    else if (type->magic != RC_TYPE_MAGIC) {
        bad = "bad magic: not a type descriptor (use RC_TYPE_HEAD)";
    }
    else if (type->name == NULL) {
        bad = "type has no name";
    }
    else if ((type->flags & ~KNOWN_FLAGS) != 0) {
        bad = "unknown type flags";
    }
    else if (type->size == 0) {
        bad = "size is 0 (must be > 0)";
    }
    else if (type->size > RC_BLOCK_MAX - HEADERS_MAX) {
        bad = "size is larger than the allocator can give";
    }
    else if (type->itemsize > RC_BLOCK_MAX) {
        bad = "itemsize is larger than the allocator can give";
    }
    else if (type->itemsize != 0 && type->size < sizeof(size_t)) {
        bad = "variable type needs size >= sizeof(size_t) for nitems";
    }
    else if ((type->flags & RC_TYPE_GC) &&
             (type->traverse == NULL || type->clear == NULL)) {
        bad = "GC type needs traverse and clear";
    }
    else if (!(type->flags & RC_TYPE_GC) && type->traverse != NULL) {
        bad = "type with traverse must set RC_TYPE_GC";
    }
    else if (!(type->flags & RC_TYPE_GC) &&
             (type->flags & RC_TYPE_UNTRACKED)) {
        bad = "RC_TYPE_UNTRACKED without RC_TYPE_GC";
    }
    if (why != NULL) {
        *why = bad;
    }
    return bad == NULL ? 0 : -1;
}

/* Step 1: the type's counters, validating a type new to this heap. */
static RcTypeStats *
type_entry(RcHeap *heap, const RcType *type, const char *fn)
{
    if (type != NULL && type == heap->last_type) {
        return heap->last_stats;
    }
    const char *why;
    if (rc_type_check(type, &why) != 0) {
        int named =
            type != NULL && type->magic == RC_TYPE_MAGIC && type->name != NULL;
        rc_set_error(heap, "refcount: %s: type '%s' (%p): %s", fn,
                     named ? type->name : "?", (const void *)type, why);
        return NULL;
    }
    RcTypeStats *st = rc_stats_add(heap, type);
    if (st == NULL) {
        rc_set_error(heap, "refcount: %s: type '%s': out of memory", fn,
                     type->name);
    }
    return st;
}

/* Steps 3-5 for a block of nbytes. */
static RcObject *
make(RcHeap *heap, const RcType *type, RcTypeStats *st, size_t nbytes,
     const char *fn)
{
    char *block = oa_malloc(heap->oa, nbytes);
    if (block == NULL) {
        rc_set_error(heap,
                     "refcount: %s: type '%s': out of memory (%zu bytes)", fn,
                     type->name, nbytes);
        return NULL;
    }
    memset(block, 0, nbytes);
    RcObject *op = (RcObject *)(void *)(block + rc_head_size(type));
    op->refcnt = 1;
    op->type = type;
    st->live++;
    st->created++;
    heap->live_total++;
#ifdef RCGC_DEBUG
    heap->total_refs++;
#endif
    return op;
}

static void
announce(RcHeap *heap, RcObject *op)
{
    const RcType *type = op->type;
    if ((type->flags & (RC_TYPE_GC | RC_TYPE_UNTRACKED)) == RC_TYPE_GC &&
        heap->has_hooks && heap->hooks.created != NULL) {
        heap->hooks.created(heap->hooks.ctx, op);
    }
}

/* Steps 1-5; var: called as rc_new_var (the type must be variable). */
static RcObject *
new_object(RcHeap *heap, const RcType *type, size_t nitems, int var,
           const char *fn)
{
    if (heap == NULL) {
        rcgc_report(RCGC_ERROR_MISUSE, "refcount: %s: heap is NULL", fn);
        return NULL;
    }
    RcTypeStats *st = type_entry(heap, type, fn);
    if (st == NULL) {
        return NULL;
    }
    size_t nbytes = rc_head_size(type) + sizeof(RcObject) + type->size;
    if (type->itemsize != 0) {
        /* nbytes <= RC_BLOCK_MAX by rc_type_check: the room left bounds
         * nitems before the multiplication. */
        if (nitems > (RC_BLOCK_MAX - nbytes) / type->itemsize) {
            rc_set_error(heap,
                         "refcount: %s: type '%s': %zu items of %zu bytes "
                         "are larger than the allocator can give",
                         fn, type->name, nitems, type->itemsize);
            return NULL;
        }
        nbytes += nitems * type->itemsize;
    }
    else if (var) {
        rc_set_error(heap,
                     "refcount: %s: type '%s': not a variable type "
                     "(itemsize is 0)",
                     fn, type->name);
        return NULL;
    }
    RcObject *op = make(heap, type, st, nbytes, fn);
    if (op == NULL) {
        return NULL;
    }
    if (type->itemsize != 0) {
        *(size_t *)rc_payload(op) = nitems;
    }
    RCGC_ASSERT(op->refcnt == 1 && op->flags == 0 &&
                rc_block_size(op) == nbytes);
    announce(heap, op);
    RC_CHECKPOINT(heap, fn);
    return op;
}

RcObject *
rc_new(RcHeap *heap, const RcType *type)
{
    return new_object(heap, type, 0, 0, "rc_new");
}

RcObject *
rc_new_var(RcHeap *heap, const RcType *type, size_t nitems)
{
    return new_object(heap, type, nitems, 1, "rc_new_var");
}

void
rc_set_immortal(RcObject *op)
{
#ifdef RCGC_DEBUG
    rc_check_object("rc_set_immortal", op);
    if (op->refcnt != RC_IMMORTAL) {
        rc_heap_fast(op)->total_refs -= op->refcnt;
    }
#endif
    op->refcnt = RC_IMMORTAL;
    RC_CHECKPOINT(rc_heap_fast(op), "rc_set_immortal");
}
