/* SPDX-License-Identifier: MIT */
/* alloc.c - the public allocation calls: malloc, calloc, realloc, free,
 * sized free, usable size, ownership.
 *
 * Fast paths (release builds: no lock, no atomic, no debug work):
 *   oa_malloc(n), n in 1..512:
 *     1. c = (n - 1) >> 4 (n == 0 wraps and takes the slow path);
 *     2. pool = heap->cls[c].avail (one load); NULL -> oa_pool_new;
 *     3. pop pool->free (never NULL on a used pool) and prefetch the new
 *        head (the class's next pop reads its link); if that emptied the
 *        list, oa_pool_refill carves a few more blocks or retires the pool
 *        as full.
 *   oa_malloc(n), n in 513..32768: the same (out of line) with the
 *   medium class of n (oa_medium_class: a count of leading zeros) and
 *   its 64 KiB spans.
 *   oa_free(p), oa_free_sized(p, n <= 32768):
 *     1. e = the address-map entry of p's arena (one load of the flat
 *        map, after a compare with its limit);
 *        pool = the arena's metadata line of p's pool, indexed by p's
 *        offset in the arena (oa_pool_at: 16 KiB units, 64 KiB in a
 *        medium arena: a branch on the entry's kind bit);
 *     2. push p on pool->free; a pool that was full goes back to the tail
 *        of its class list; a pool whose count drops to 0 goes back to its
 *        arena.
 *   A pointer outside our arenas is a large block of ours (large set) or
 *   foreign (system free); the sized free takes that path by its size.
 *   oa_free_if_owned(heap, p): the same lookup, then p's pool must belong
 *   to heap; anything else is left to the caller (0), and a heap without
 *   large blocks answers for a pointer outside the arenas without the
 *   large set.
 *
 * Checked builds (OA_CHECKED) add, through debug.c: the trailer with the
 * request, fill bytes and guards (RCGC_DEBUG), and the memcheck/ASan
 * hooks that make only the requested bytes of a live block accessible.
 */
#include "objalloc/internal.h"

#include <stdlib.h>
#include <string.h>

int
oa_size_class(size_t nbytes)
{
    if (nbytes > OA_MEDIUM_MAX) {
        return -1;
    }
    if (nbytes > OA_SMALL_MAX) {
        return (int)oa_medium_class(nbytes);
    }
    return nbytes == 0 ? 0 : (int)((nbytes - 1) >> OA_ALIGN_SHIFT);
}

/* ---- small blocks --------------------------------------------------- */

/* The pool's free list ran dry handing out b: refill it (out of line, as
 * a tail call, so the fast path saves no registers). */
static __attribute__((noinline)) void *
refill_and_hand(OaHeap *heap, OaPool *pool, OaBlock *b, size_t nbytes)
{
    (void)heap;
    (void)nbytes;
    oa_pool_refill(pool);
#if OA_CHECKED
    oa_block_handout(heap, pool, (char *)b, nbytes);
#endif
    return b;
}

static inline void *
pool_alloc(OaHeap *heap, OaPool *pool, size_t c, size_t nbytes)
{
    OaBlock *b = pool->free;
    /* a used pool: of class c, owned, with a block to give (internal.h) */
    RCGC_ASSERT(pool->cls == c && pool->heap == heap && b != NULL);
    oa_mem_open(b, sizeof(OaBlock));
    OaBlock *next = b->next;
    pool->nused++;
    heap->cls[c].nmalloc++;
    heap->cls[c].requested += nbytes;
    pool->free = next;
    /* The next malloc of this class pops next and reads its link: under
     * churn that block was freed at random long before, and its line is
     * the step's one cold load on the dependent chain (avail -> pool ->
     * block -> link).  Ask for it now, while the caller uses b (a hint:
     * no fault on NULL, and a no-op when the line is cached, as in LIFO
     * batches). */
    __builtin_prefetch(next, 0, 3);
    if (OA_UNLIKELY(next == NULL)) {
        return refill_and_hand(heap, pool, b, nbytes);
    }
#if OA_CHECKED
    oa_block_handout(heap, pool, (char *)b, nbytes);
#endif
    return b;
}

/* No used pool for class c: get a new one (mapping an arena when needed);
 * when that fails, make room (oa_make_room) and retry. */
static __attribute__((noinline)) void *
small_slow(OaHeap *heap, size_t c, size_t nbytes)
{
    OaPool *pool = oa_pool_new(heap, c);
    int stage = 0;
    while (pool == NULL && oa_make_room(heap, nbytes, &stage)) {
        pool = heap->cls[c].avail; /* the callback may have freed blocks */
        if (pool == NULL) {
            pool = oa_pool_new(heap, c);
        }
    }
    if (pool == NULL) {
        heap->nfail++;
        return NULL;
    }
    return pool_alloc(heap, pool, c, nbytes);
}

static inline void *
small_malloc(OaHeap *heap, size_t c, size_t nbytes)
{
    OaPool *pool = heap->cls[c].avail;
    if (OA_UNLIKELY(pool == NULL)) {
        return small_slow(heap, c, nbytes);
    }
    return pool_alloc(heap, pool, c, nbytes);
}

/* A free changed the pool's state (out of line, tail calls): it was full
 * (back on its class list; and empty too when it holds one block, as a
 * span of 32 KiB blocks does), or it is now empty (back to its arena). */
static __attribute__((noinline)) void
pool_was_full(OaPool *pool)
{
    oa_pool_relink(pool);
    if (pool->nused == 0) {
        oa_pool_emptied(pool);
    }
}

static __attribute__((noinline)) void
pool_now_empty(OaPool *pool)
{
    oa_pool_emptied(pool);
}

static inline void
pool_free(OaPool *pool, OaBlock *b)
{
#if OA_CHECKED
    oa_block_takeback(pool->heap, pool, (char *)b);
#endif
    OaBlock *old = pool->free;
    RCGC_ASSERT(pool->nused > 0 && pool->heap != NULL);
    oa_mem_open(b, sizeof(OaBlock));
    b->next = old;
    oa_mem_hide(b, sizeof(OaBlock));
    pool->free = b;
    uint32_t nused = --pool->nused;
    if (OA_UNLIKELY(old == NULL)) {
        pool_was_full(pool);
    }
    else if (OA_UNLIKELY(nused == 0)) {
        pool_now_empty(pool);
    }
}

/* ---- malloc / calloc ------------------------------------------------ */

/* Not a small class: 0 bytes (class 0), a medium class, or large. */
static __attribute__((noinline)) void *
malloc_other(OaHeap *heap, size_t nbytes)
{
    if (nbytes == 0) {
        return small_malloc(heap, 0, 0);
    }
    if (nbytes <= OA_MEDIUM_MAX) {
        return small_malloc(heap, oa_medium_class(nbytes), nbytes);
    }
    return oa_large_malloc(heap, nbytes);
}

void *
oa_malloc(OaHeap *heap, size_t nbytes)
{
    size_t c = (nbytes - 1) >> OA_ALIGN_SHIFT;
    void *p;
    if (OA_UNLIKELY(heap == NULL)) {
        return oa_null_heap("oa_malloc");
    }
    OA_ENTER(heap, "oa_malloc");
    if (OA_LIKELY(c < OA_NSMALL)) {
        p = small_malloc(heap, c, nbytes);
    }
    else {
        p = malloc_other(heap, nbytes);
    }
    OA_LEAVE(heap);
    return p;
}

/* Zero the first nbytes of a new block.  Release builds zero the request
 * rounded up to 16 bytes (the block is at least that big), with constant
 * sizes up to 80 bytes so that the compiler writes a few vector stores
 * instead of calling memset (larger constants become `rep stos`, slower
 * than memset for these sizes): most callocs are small (compileall: 2.9 M
 * of its 3.2 M are 48-63 bytes).  Checked builds zero exactly nbytes (guard
 * bytes follow). */
static inline void
zero_new(void *p, size_t nbytes)
{
#if OA_CHECKED
    memset(p, 0, nbytes);
#else
    switch ((nbytes + 15) >> OA_ALIGN_SHIFT) {
        case 0:
            return;
        case 1:
            memset(p, 0, 16);
            return;
        case 2:
            memset(p, 0, 32);
            return;
        case 3:
            memset(p, 0, 48);
            return;
        case 4:
            memset(p, 0, 64);
            return;
        case 5:
            memset(p, 0, 80);
            return;
        default:
            memset(p, 0, nbytes);
            return;
    }
#endif
}

void *
oa_calloc(OaHeap *heap, size_t n, size_t size)
{
    if (heap == NULL) {
        return oa_null_heap("oa_calloc");
    }
    heap->ncalloc++;
    size_t nbytes;
    if (__builtin_mul_overflow(n, size, &nbytes)) { /* no division */
        heap->nfail++;
        return NULL;
    }
    if (nbytes > OA_MEDIUM_MAX) {
        return oa_large_calloc(heap, nbytes);
    }
    void *p = oa_malloc(heap, nbytes);
    if (p != NULL) {
        zero_new(p, nbytes);
    }
    return p;
}

/* ---- free ----------------------------------------------------------- */

/* p is in no arena: NULL (a no-op), a large block, or foreign. */
static __attribute__((noinline)) void
free_outside(void *p, const char *fn)
{
    if (p == NULL) {
        return;
    }
    if (oa_largeset_remove(p)) {
        oa_large_free(oa_large_hdr(p), fn);
    }
    else {
#if OA_DEBUG
        oa_large_check_foreign(fn, p); /* a large double or interior free */
#endif
        free(p); /* foreign: the system allocator's */
    }
}

/* Push p, a live block of `pool`, back (no checks). */
static inline void
free_small(OaPool *pool, void *p, const char *fn)
{
    (void)fn;
    OA_ENTER(pool->heap, fn);
#if OA_DEBUG
    OaHeap *heap = pool->heap;
    pool_free(pool, p);
    OA_LEAVE(heap);
#else
    pool_free(pool, p);
#endif
}

/* p lies in the arena whose map entry is e. */
static inline void
free_in_arena(uintptr_t e, void *p, const char *fn)
{
#if OA_DEBUG
    oa_debug_check_small(fn, oa_entry_arena(e), p);
#endif
    free_small(oa_pool_at(e, p), p, fn);
}

/* NULL is in no arena (no arena starts at address 0): it is tested on
 * the way out only, not on the fast path. */
void
oa_free(void *p)
{
    uintptr_t e = oa_addrmap_entry(p);
    if (OA_LIKELY(e != 0)) {
        free_in_arena(e, p, "oa_free");
        return;
    }
    free_outside(p, "oa_free");
}

/* Is p, inside the arena of map entry e, a block of `heap`?  Release
 * builds read the owner of p's pool only (an arena serves one heap for
 * life, and a pool that serves no class has no owner); debug builds
 * verify p completely (and abort on misuse) when the arena is the
 * heap's. */
static inline bool
small_owned(const OaHeap *heap, uintptr_t e, const void *p, const char *fn)
{
    (void)fn;
#if OA_DEBUG
    OaArena *arena = oa_entry_arena(e);
    if (arena->heap != heap) {
        return false;
    }
    oa_debug_check_small(fn, arena, p);
    return true;
#else
    return oa_pool_at(e, p)->heap == heap;
#endif
}

/* Is p, outside every arena, a large block of `heap`?  A heap without
 * large blocks answers without the process-wide set. */
static bool
large_owned(const OaHeap *heap, const void *p)
{
    return heap->nlarge != 0 && oa_largeset_has(p) &&
           oa_large_read(p).heap == heap;
}

/* oa_free_if_owned for p outside every arena: a large block of heap? */
static __attribute__((noinline, cold)) int
free_large_if_owned(OaHeap *heap, void *p)
{
    if (!large_owned(heap, p)) {
        return 0;
    }
    oa_largeset_remove(p);
    oa_large_free(oa_large_hdr(p), "oa_free_if_owned");
    return 1;
}

/* The fast path both ownership frees share: 1 freed (a block of heap's,
 * or NULL), 0 not heap's, -1 outside every arena in a heap that has
 * large blocks (ask the large set).  NULL is in no arena (no arena starts
 * at address 0), so it is tested only on the way out.  A heap without
 * large blocks (CPython's hooks) answers 0 for a pointer outside the
 * arenas without a call. */
static inline int
free_small_if_owned(OaHeap *heap, void *p, const char *fn)
{
    uintptr_t e = oa_addrmap_entry(p);
    if (OA_LIKELY(e != 0)) {
        if (OA_UNLIKELY(!small_owned(heap, e, p, fn))) {
            return 0;
        }
        free_small(oa_pool_at(e, p), p, fn);
        return 1;
    }
    if (p == NULL) {
        return 1;
    }
    return heap->nlarge != 0 ? -1 : 0;
}

int
oa_free_if_owned(OaHeap *heap, void *p)
{
    int r = free_small_if_owned(heap, p, "oa_free_if_owned");
    return r >= 0 ? r : free_large_if_owned(heap, p);
}

static __attribute__((noinline, cold)) void
free_large_or(OaHeap *heap, void *p, OaFreeFn other, void *ctx)
{
    if (!free_large_if_owned(heap, p)) {
        other(ctx, p);
    }
}

void
oa_free_or(OaHeap *heap, void *p, OaFreeFn other, void *ctx)
{
    int r = free_small_if_owned(heap, p, "oa_free_or");
    if (OA_LIKELY(r > 0)) {
        return;
    }
    if (r < 0) {
        free_large_or(heap, p, other, ctx);
        return;
    }
    other(ctx, p);
}

/* oa_free_sized of p, given a small or medium size, outside every arena:
 * NULL (a no-op), or not ours after all (release builds pass it on as
 * oa_free does; debug builds abort). */
static __attribute__((noinline, cold)) void
sized_outside(void *p)
{
#if OA_DEBUG
    if (p != NULL) {
        oa_fatal("oa_free_sized", p,
                 "not a block of any heap (a small size was given for "
                 "a pointer outside every arena)");
    }
#else
    free_outside(p, "oa_free_sized");
#endif
}

/* oa_free_sized of p given a large size (out of line: the fast path
 * then saves no register for this one's calls). */
static __attribute__((noinline)) void
sized_large(void *p, size_t nbytes)
{
    (void)nbytes;
    if (p == NULL) {
        return;
    }
#if OA_DEBUG
    if (oa_addrmap_lookup(p) != NULL) {
        oa_fatal("oa_free_sized", p,
                 "size %zu is large but the pointer is a pool block", nbytes);
    }
#endif
    if (!oa_largeset_remove(p)) {
#if OA_DEBUG
        oa_large_check_foreign("oa_free_sized", p);
        oa_fatal("oa_free_sized", p,
                 "not a block of any heap (no large block at this address; "
                 "double free or foreign pointer)");
#else
        free(p);
        return;
#endif
    }
    oa_large_free(oa_large_hdr(p), "oa_free_sized");
}

/* Frees p given its requested size, which picks the path without a map
 * lookup: a pool or span block goes back to its pool; a large block leaves
 * the large set and is freed; a pointer not in it is passed to free() in
 * release builds.  Debug builds abort with a message when p is not a live
 * block whose request was nbytes (or a large block for a large size). */
void
oa_free_sized(void *p, size_t nbytes)
{
    if (OA_LIKELY(nbytes <= OA_MEDIUM_MAX)) {
        /* The pool's metadata is in its arena's array: one map lookup
         * (one load, of a line every free shares) finds it.  NULL is in no
         * arena: it is tested only on the way out, as in oa_free. */
        uintptr_t e = oa_addrmap_entry(p);
        if (OA_UNLIKELY(e == 0)) {
            sized_outside(p);
            return;
        }
#if OA_DEBUG
        OaArena *arena = oa_entry_arena(e);
        oa_debug_check_small("oa_free_sized", arena, p);
#endif
        /* the size gives the unit (16 KiB pools, 64 KiB spans): a shift
         * by a constant, known before the map entry is (a small size
         * names an arena of pools, whose entry has no kind bit to mask) */
        OaPool *pool = nbytes <= OA_SMALL_MAX ? oa_pool_small(e, p)
                                              : oa_pool_in_arena(e, p, 2);
#if OA_DEBUG
        size_t asked = oa_block_requested(oa_arena_pool(arena, p), p);
        if (asked != nbytes) {
            oa_fatal("oa_free_sized", p,
                     "size %zu does not match the block's request of %zu "
                     "bytes",
                     nbytes, asked);
        }
#endif
        OA_ENTER(pool->heap, "oa_free_sized");
#if OA_DEBUG
        OaHeap *heap = pool->heap;
        pool_free(pool, p);
        OA_LEAVE(heap);
#else
        pool_free(pool, p);
#endif
        return;
    }
    sized_large(p, nbytes);
}

/* ---- sizes and owners ----------------------------------------------- */

size_t
oa_usable_size(const void *p)
{
    if (p == NULL) {
        return 0;
    }
    uintptr_t e = oa_addrmap_entry(p);
    if (e != 0) {
        OaPool *pool = oa_pool_at(e, p);
#if OA_CHECKED
        return oa_block_requested(pool, p);
#else
        return OA_CLASS_SIZE(pool->cls);
#endif
    }
    if (oa_largeset_has(p)) {
        return oa_large_read(p).nbytes;
    }
    return 0;
}

OaHeap *
oa_owner(const void *p)
{
    if (p == NULL) {
        return NULL;
    }
    uintptr_t e = oa_addrmap_entry(p);
    if (e != 0) {
        OaPool *pool = oa_pool_at(e, p);
        const char *q = p;
        if (pool->heap == NULL || q < oa_pool_first(pool) || q >= pool->bump) {
            return NULL;
        }
        return pool->heap;
    }
    if (oa_largeset_has(p)) {
        return oa_large_read(p).heap;
    }
    return NULL;
}

OaHeap *
oa_block_heap(const void *p)
{
    uintptr_t e = oa_addrmap_entry(p);
    if (OA_LIKELY(e != 0)) {
        return oa_pool_at(e, p)->heap;
    }
    return oa_large_read(p).heap;
}

/* ---- realloc -------------------------------------------------------- */

/* A block stays when the new size has its class, or shrinks by less than
 * a quarter (moving would save little), but never across the small/medium
 * line: oa_free_sized finds the pool from the size (a medium block of 640
 * bytes resized to 500 moves to a small pool). */
static bool
fits_in_place(size_t cls, size_t nbytes)
{
    size_t size = OA_CLASS_SIZE(cls);
    if (nbytes > size || (cls < OA_NSMALL) != (nbytes <= OA_SMALL_MAX)) {
        return false;
    }
    return (size_t)oa_size_class(nbytes) == cls || 4 * nbytes > 3 * size;
}

static void *
move_block(OaHeap *heap, void *p, size_t old_nbytes, size_t nbytes)
{
    void *q = oa_malloc(heap, nbytes);
    if (q == NULL) {
        return NULL;
    }
    memcpy(q, p, old_nbytes < nbytes ? old_nbytes : nbytes);
    oa_free(p);
    return q;
}

/* Resize p, a live block of `pool` (already checked in debug builds). */
static void *
realloc_small(OaPool *pool, void *p, size_t nbytes)
{
    OaHeap *owner = pool->heap;
    owner->nrealloc++;
    if (fits_in_place(pool->cls, nbytes)) {
#if OA_CHECKED
        OA_ENTER(owner, "oa_realloc");
        oa_block_resize(owner, pool, p, nbytes);
        OA_LEAVE(owner);
#endif
        return p;
    }
#if OA_CHECKED
    size_t old = oa_block_requested(pool, p);
#else
    size_t old = OA_CLASS_SIZE(pool->cls);
#endif
    return move_block(owner, p, old, nbytes);
}

/* Resize p, a live large block. */
static void *
realloc_large(void *p, size_t nbytes)
{
    OaLarge h = oa_large_read(p);
    h.heap->nrealloc++;
    if (nbytes > OA_MEDIUM_MAX) {
        return oa_large_realloc(p, nbytes);
    }
    return move_block(h.heap, p, h.nbytes, nbytes);
}

void *
oa_realloc(OaHeap *heap, void *p, size_t nbytes)
{
    if (p == NULL) {
        if (heap == NULL) {
            return oa_null_heap("oa_realloc");
        }
        heap->nrealloc++;
        return oa_malloc(heap, nbytes);
    }
    uintptr_t e = oa_addrmap_entry(p);
    if (e != 0) {
#if OA_DEBUG
        oa_debug_check_small("oa_realloc", oa_entry_arena(e), p);
#endif
        return realloc_small(oa_pool_at(e, p), p, nbytes);
    }
    if (oa_largeset_has(p)) {
        return realloc_large(p, nbytes);
    }
    if (heap != NULL) {
        heap->nrealloc++;
    }
#if OA_DEBUG
    oa_large_check_foreign("oa_realloc", p);
#endif
    return realloc(p, nbytes); /* foreign */
}

void *
oa_realloc_if_owned(OaHeap *heap, void *p, size_t nbytes, int *owned)
{
    *owned = 1;
    if (p == NULL) {
        heap->nrealloc++;
        return oa_malloc(heap, nbytes);
    }
    uintptr_t e = oa_addrmap_entry(p);
    if (OA_LIKELY(e != 0)) {
        if (OA_LIKELY(small_owned(heap, e, p, "oa_realloc_if_owned"))) {
            return realloc_small(oa_pool_at(e, p), p, nbytes);
        }
    }
    else if (large_owned(heap, p)) {
        return realloc_large(p, nbytes);
    }
    *owned = 0;
    return NULL;
}
