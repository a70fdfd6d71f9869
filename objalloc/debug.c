/* SPDX-License-Identifier: MIT */
/* debug.c - error reports, the block trailer of checked builds, the debug
 * checks on free, and the thread guard.
 *
 * Trailer (OA_CHECKED builds; see internal.h): 16 bytes after the class
 * size of every block; the last word is the request n of a live block or
 * OA_FREED_MARK for a free one; bytes n .. class size + 8 are guard bytes
 * (0xFD in debug builds).  Only the n user bytes of a live block are
 * accessible under memcheck/ASan; the trailer is opened around our own
 * accesses and closed again.
 *
 * On handing a block out again (debug), its 0xDD fill must be intact, else
 * the program wrote to it after freeing it.
 *
 * Checks on a pointer p given to oa_free/oa_free_sized/oa_realloc (debug):
 *   1. its pool serves a class (else it points into an empty pool);
 *   2. the pool metadata is sane (class, stride, arena);
 *   3. p is at or after the first block and below the carved limit;
 *   4. p is the start of a block (else it is an interior pointer);
 *   5. the block is live (trailer is not the freed mark: double free);
 *   6. its guard bytes are intact.
 * Each failure reports "objalloc: <fn>: pointer 0x...: <what>" (base.h's
 * error path) and aborts.
 *
 * Thread guard (debug): every call that touches a heap swaps its owner
 * word from 0 to a per-thread token and back; finding another thread's
 * token there means two threads use the heap at once.  Checked builds end
 * the outermost call there with the heap's checkpoint (base.h).
 */
#include "objalloc/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Noreturn void
oa_fatal(const char *fn, const void *p, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rcgc_fatal("objalloc: %s: pointer %p: %s", fn, p, what);
}

_Noreturn void
oa_fatal_heap(const char *fn, const OaHeap *heap, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rcgc_fatal("objalloc: %s: heap %p: %s", fn, (const void *)heap, what);
}

void *
oa_null_heap(const char *fn)
{
    rcgc_report(RCGC_ERROR_MISUSE, "objalloc: %s: heap is NULL", fn);
    return NULL;
}

#if OA_CHECKED

static size_t *
trailer_word(const OaPool *pool, const char *b)
{
    return (size_t *)(b + pool->stride - sizeof(size_t));
}

size_t
oa_block_trailer(const OaPool *pool, const char *b)
{
    size_t *w = trailer_word(pool, b);
    oa_mem_open(w, sizeof *w);
    size_t v = *w;
    oa_mem_hide(w, sizeof *w);
    return v;
}

void
oa_block_set_trailer(const OaPool *pool, char *b, size_t v)
{
    size_t *w = trailer_word(pool, b);
    oa_mem_open(w, sizeof *w);
    *w = v;
    oa_mem_hide(w, sizeof *w);
}

size_t
oa_block_requested(const OaPool *pool, const char *b)
{
    return oa_block_trailer(pool, b);
}

/* Guard bytes run from n to the trailer word. */
long
oa_block_bad_guard(const OaPool *pool, const char *b, size_t n)
{
#if OA_DEBUG
    size_t end = pool->stride - sizeof(size_t);
    long bad = -1;
    oa_mem_open(b + n, end - n);
    for (size_t i = n; i < end; i++) {
        if ((unsigned char)b[i] != OA_FILL_GUARD) {
            bad = (long)i;
            break;
        }
    }
    oa_mem_hide(b + n, end - n);
    return bad;
#else
    (void)pool;
    (void)b;
    (void)n;
    return -1;
#endif
}

/* First byte after the link of a freed block that lost its 0xDD, or -1. */
long
oa_block_bad_fill(const OaPool *pool, const char *b)
{
#if OA_DEBUG
    size_t end = pool->stride - sizeof(size_t);
    long bad = -1;
    oa_mem_open(b, end);
    for (size_t i = sizeof(OaBlock); i < end; i++) {
        if ((unsigned char)b[i] != OA_FILL_FREE) {
            bad = (long)i;
            break;
        }
    }
    oa_mem_hide(b, end);
    return bad;
#else
    (void)pool;
    (void)b;
    return -1;
#endif
}

#if OA_DEBUG
/* The O(1) part of the checkpoint (base.h) for the pool a block was just
 * taken from: its header, its count, and the head of its free list, which
 * the next allocation pops (a link written through a stale pointer is
 * caught here, before it is followed). */
static void
check_pool_touched(const OaHeap *heap, const OaPool *pool)
{
    const char *fn = heap->fn != NULL ? heap->fn : "oa_malloc";
    if (pool->heap != heap || pool->cls >= OA_NCLASSES ||
        pool->stride != OA_CLASS_SIZE(pool->cls) + OA_TRAILER ||
        pool->bump < oa_pool_first(pool) ||
        pool->bump > oa_pool_limit(pool) + pool->stride) {
        oa_fatal_heap(fn, heap, "pool %p: header damaged", (void *)pool);
    }
    size_t carved = (size_t)(pool->bump - oa_pool_first(pool)) / pool->stride;
    if (pool->nused > carved) {
        oa_fatal_heap(fn, heap,
                      "pool %p: header damaged (%u blocks in use, %zu "
                      "carved)",
                      (void *)pool, pool->nused, carved);
    }
    const char *next = (const char *)pool->free;
    if (next != NULL &&
        (next < oa_pool_first(pool) || next >= pool->bump ||
         (size_t)(next - oa_pool_first(pool)) % pool->stride != 0 ||
         !OA_IS_FREE_MARK(oa_block_trailer(pool, next)))) {
        oa_fatal_heap(fn, heap,
                      "pool %p: free list damaged: its head %p is not a "
                      "free block of the pool (a freed block's link was "
                      "overwritten)",
                      (void *)pool, (const void *)next);
    }
}
#endif

/* A block leaves the free list for a request of n: (debug) its pool must
 * be sane and its freed fill intact, then fill, guard, trailer and
 * checker hooks. */
void
oa_block_handout(OaHeap *heap, OaPool *pool, char *b, size_t n)
{
    (void)heap;
    size_t stride = pool->stride;
#if OA_DEBUG
    check_pool_touched(heap, pool);
    if (oa_block_trailer(pool, b) == OA_FREED_MARK) {
        long bad = oa_block_bad_fill(pool, b);
        if (bad >= 0) {
            oa_fatal("oa_malloc", b,
                     "the block was written after it was freed (byte %ld "
                     "is no longer 0x%02x)",
                     bad, OA_FILL_FREE);
        }
    }
#endif
    oa_mem_open(b, stride);
#if OA_DEBUG
    memset(b, OA_FILL_NEW, n);
    memset(b + n, OA_FILL_GUARD, stride - sizeof(size_t) - n);
#endif
    *trailer_word(pool, b) = n;
    oa_mem_hide(b, stride);
#if defined(RCGC_VALGRIND)
    VALGRIND_MEMPOOL_ALLOC(heap, b, n);
#endif
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(b, n);
#endif
}

void
oa_block_takeback(OaHeap *heap, OaPool *pool, char *b)
{
    (void)heap;
    size_t stride = pool->stride;
#if defined(RCGC_VALGRIND)
    VALGRIND_MEMPOOL_FREE(heap, b);
#endif
    oa_mem_open(b, stride);
#if OA_DEBUG
    memset(b, OA_FILL_FREE, stride - sizeof(size_t));
#endif
    *trailer_word(pool, b) = OA_FREED_MARK;
    oa_mem_hide(b, stride);
}

void
oa_block_resize(OaHeap *heap, OaPool *pool, char *b, size_t n)
{
    (void)heap;
    size_t old = oa_block_requested(pool, b);
    size_t stride = pool->stride;
    oa_mem_open(b + old, stride - old);
#if OA_DEBUG
    if (n > old) {
        memset(b + old, OA_FILL_NEW, n - old);
    }
    memset(b + n, OA_FILL_GUARD, stride - sizeof(size_t) - n);
#endif
    *trailer_word(pool, b) = n;
#if defined(RCGC_VALGRIND)
    VALGRIND_MEMPOOL_CHANGE(heap, b, b, n);
    if (n > old) {
        VALGRIND_MAKE_MEM_UNDEFINED(b + old, n - old);
    }
#endif
    oa_mem_close_tail(b, n, stride);
}

#endif /* OA_CHECKED */

#if OA_DEBUG

/* Checks 1-6 of the file opening, in order; the first that fails
 * aborts with a message naming fn, p and the check. */
void
oa_debug_check_small(const char *fn, OaArena *arena, const void *p)
{
    OaPool *pool = oa_arena_pool(arena, p);
    const char *q = p;
    if (pool->heap == NULL) {
        oa_fatal(fn, p,
                 "not allocated: it points into a pool that serves no size "
                 "class");
    }
    if (!oa_pool_in(pool, arena) || pool->heap != arena->heap ||
        pool->cls >= OA_NCLASSES ||
        (pool->cls >= OA_NSMALL) != (arena->kind == OA_KIND_MEDIUM) ||
        pool->stride != OA_CLASS_SIZE(pool->cls) + OA_TRAILER) {
        oa_fatal(fn, p, "pool metadata at %p is damaged", (void *)pool);
    }
    if (q < oa_pool_first(pool)) {
        oa_fatal(fn, p,
                 "not a block: it points before the first block of its "
                 "pool");
    }
    if (q >= pool->bump) {
        oa_fatal(fn, p,
                 "never allocated: it lies beyond the blocks carved from "
                 "its pool");
    }
    size_t off = (size_t)(q - oa_pool_first(pool)) % pool->stride;
    if (off != 0) {
        oa_fatal(fn, p,
                 "interior pointer: %zu bytes into a block of %zu bytes", off,
                 OA_CLASS_SIZE(pool->cls));
    }
    size_t n = oa_block_trailer(pool, q);
    if (n == OA_FREED_MARK) {
        oa_fatal(fn, p, "double free: the block is already free");
    }
    if (n == OA_FRESH_MARK) {
        oa_fatal(fn, p, "never allocated: the block was never handed out");
    }
    if (n > OA_CLASS_SIZE(pool->cls)) {
        oa_fatal(fn, p, "block trailer damaged (request of %zu bytes)", n);
    }
    long bad = oa_block_bad_guard(pool, q, n);
    if (bad >= 0) {
        oa_mem_open(q + bad, 1);
        unsigned v = (unsigned char)q[bad];
        oa_mem_hide(q + bad, 1);
        oa_fatal(fn, p,
                 "guard bytes after the requested %zu bytes are damaged "
                 "(byte %ld is 0x%02x)",
                 n, bad, v);
    }
}

static _Thread_local char thread_token;

void
oa_guard_enter(OaHeap *heap, const char *fn)
{
    uintptr_t me = (uintptr_t)&thread_token;
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong(&heap->owner, &expected, me)) {
        heap->fn = fn;
        return;
    }
    if (expected == me) {
        heap->depth++; /* nested: a pressure callback of this thread */
        return;
    }
    oa_fatal_heap(fn, heap,
                  "used by two threads at once (a heap is used by one "
                  "thread at a time)");
}

#if RCGC_EXPENSIVE
/* The whole check of the checkpoint (base.h), when due; the owner thread
 * still holds the heap. */
static void
checkpoint(OaHeap *heap)
{
    if (!rcgc_check_due(&heap->check_calls, heap->check_budget)) {
        return;
    }
    size_t work = 0;
    if (oa_heap_walk(heap, &work) != 0) {
        oa_fatal_heap(heap->fn, heap,
                      "the heap is broken at the end of this call (checked "
                      "build: oa_heap_check failed, the message before "
                      "says what; memory was written through a stray or "
                      "freed pointer)");
    }
    rcgc_check_done(&heap->check_calls, &heap->check_budget, work);
}
#endif

void
oa_guard_leave(OaHeap *heap)
{
    /* only the thread that entered leaves */
    RCGC_ASSERT(atomic_load(&heap->owner) == (uintptr_t)&thread_token);
    if (heap->depth > 0) {
        heap->depth--;
        return;
    }
#if RCGC_EXPENSIVE
    checkpoint(heap);
#endif
    heap->fn = NULL;
    atomic_store(&heap->owner, 0);
}

#endif /* OA_DEBUG */
