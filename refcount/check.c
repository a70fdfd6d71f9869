/* SPDX-License-Identifier: MIT */
/* check.c - the checked incref/decref of debug builds, fatal messages.
 *
 * With RCGC_DEBUG, rc_incref/rc_decref (inline in refcount.h) call these
 * instead of touching the count directly.  Each validates the object
 * before it changes the count, and stops the process with a message that
 * names the object, the check and (when it can be read) the type:
 *
 *   refcount: rc_decref: object 0x...: count is already 0 (type 'pair')
 *
 * Checks, in order (the first that fails aborts):
 *   1. op is not NULL;
 *   2. op is not a freed block: objalloc's debug build fills freed blocks
 *      with 0xDD, so a count, flags word or type pointer made of that
 *      byte means use after free;
 *   3. op->type points to a type descriptor (its magic);
 *   4. decref only: the count is not already 0 (a dead object, or one
 *      more decref than increfs).
 * Then the count changes as in release builds (saturating at
 * RC_IMMORTAL) and the heap's total of counts (rc_total_refs) follows.
 Checked builds end both with the heap's checkpoint (base.h).
 *
 * Release builds do not call these (the inline forms are unchecked); they
 * stay exported so that a debug-built program can link a release
 * library and still be checked.
 */
#include "refcount/internal.h"

#include <stdarg.h>
#include <stdio.h>

#define FREED_BYTE ((unsigned)RCGC_FILL_FREE)
#define FREED_U32  (FREED_BYTE * 0x01010101u)
#define FREED_PTR  ((uintptr_t)FREED_U32 << 32 | FREED_U32)

void
rc_fatal(const char *fn, const RcObject *op, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rcgc_fatal("refcount: %s: object %p: %s", fn, (const void *)op, what);
}

void
rc_check_object(const char *fn, const RcObject *op)
{
    if (op == NULL) {
        rc_fatal(fn, op, "NULL object");
    }
    uintptr_t type = (uintptr_t)op->type;
    if (op->refcnt == FREED_U32 || op->flags == FREED_U32 ||
        type == FREED_PTR) {
        rc_fatal(fn, op,
                 "use of a freed object (count 0x%08x, type pointer "
                 "0x%016llx: objalloc's freed-block fill 0x%02x)",
                 (unsigned)op->refcnt, (unsigned long long)type, FREED_BYTE);
    }
    if (type == 0 || type % sizeof(void *) != 0 ||
        op->type->magic != RC_TYPE_MAGIC) {
        rc_fatal(fn, op,
                 "type pointer %p is not a type descriptor (bad magic)",
                 (const void *)op->type);
    }
}

/* op's header lies in a block: at the block's start (a non-GC object),
 * 16 bytes in (a GC object in a pool: oa_owner takes any address of a
 * carved block), or 16 bytes in a large block (its exact address). */
OaHeap *
rc_block_owner(const RcObject *op)
{
    OaHeap *oa = oa_owner(op);
    if (oa == NULL) {
        oa = oa_owner((const char *)op - sizeof(RcGcHead));
    }
    return oa;
}

void
rc_incref_checked(RcObject *op)
{
    rc_check_object("rc_incref", op);
    uint32_t n = op->refcnt;
    if (n == RC_IMMORTAL) {
        return;
    }
#ifdef RCGC_DEBUG
    RcHeap *heap = rc_heap_fast(op);
    if (n + 1 == RC_IMMORTAL) {
        heap->total_refs -= n; /* saturated: immortal now */
    }
    else {
        heap->total_refs++;
    }
    op->refcnt = n + 1;
    RC_CHECKPOINT(heap, "rc_incref");
#else
    op->refcnt = n + 1;
#endif
}

void
rc_decref_checked(RcObject *op)
{
    rc_check_object("rc_decref", op);
    uint32_t n = op->refcnt;
    if (n == RC_IMMORTAL) {
        return;
    }
    if (n == 0) {
        rc_fatal("rc_decref", op, "count is already 0 (type '%s')",
                 op->type->name);
    }
#ifdef RCGC_DEBUG
    RcHeap *heap = rc_heap_fast(op); /* outlives rc_zero: no destroy in it */
    heap->total_refs--;
    op->refcnt = n - 1;
    if (n == 1) {
        rc_zero(op);
    }
    RC_CHECKPOINT(heap, "rc_decref");
#else
    op->refcnt = n - 1;
    if (n == 1) {
        rc_zero(op);
    }
#endif
}
