/* arena.c - arenas and the pools carved from them.
 *
 * Data structures (internal.h): OaArena, one per mapped 1 MiB arena, kept
 * in system memory; the heap's buckets, one list per count of available
 * pools, and a 64-bit mask of the nonempty buckets.
 *
 *   bucket[0]  arenas with 1 available pool   <- new pools come from here
 *   bucket[1]  arenas with 2 available pools     (fullest first)
 *   ...
 *   bucket[63] arenas with 64 (all pools free) <- at most one: the spare
 *
 * A fully used arena is in no bucket.  Moving an arena when its count
 * changes by one is an unlink and a link: O(1), like CPython's
 * nfp2lasta[] entry pointers into its sorted usable_arenas list.
 *
 * Getting a pool for class c (oa_pool_new):
 *   1. take the first arena of the lowest nonempty bucket (ctz of the
 *      mask); map a new arena when there is none;
 *   2. take a pool from its freepools list, or carve the next never-used
 *      pool (lazy: an arena's tail is not touched until needed);
 *   3. move the arena one bucket down; initialise the pool for c (its
 *      blocks are carved lazily too, one per refill) and push it on the
 *      class list.
 * Returning an empty pool (oa_pool_release) is the reverse (except for the
 * only pool of a class, which stays on its list: oa_pool_emptied); an
 * arena whose
 * pools are all free is unmapped unless it is the only such arena (the
 * spare, which spares a mmap/munmap pair when a heap breathes).
 *
 * Invariants (checked by oa_heap_check): arena->nfree == length of
 * freepools + (64 - ncarved); the arena is in bucket[nfree - 1] iff
 * nfree > 0; bucket_mask bit k iff bucket[k] != NULL; bucket[63] holds at
 * most one arena.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "objalloc/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- buckets -------------------------------------------------------- */

static void
bucket_unlink(OaHeap *heap, OaArena *a)
{
    unsigned k = a->nfree - 1;
    if (a->prev != NULL) {
        a->prev->next = a->next;
    }
    else {
        heap->bucket[k] = a->next;
        if (a->next == NULL) {
            heap->bucket_mask &= ~((uint64_t)1 << k);
        }
    }
    if (a->next != NULL) {
        a->next->prev = a->prev;
    }
    a->next = a->prev = NULL;
}

static void
bucket_link(OaHeap *heap, OaArena *a)
{
    unsigned k = a->nfree - 1;
    a->prev = NULL;
    a->next = heap->bucket[k];
    if (a->next != NULL) {
        a->next->prev = a;
    }
    heap->bucket[k] = a;
    heap->bucket_mask |= (uint64_t)1 << k;
}

/* ---- mapping -------------------------------------------------------- */

/* 1 MiB of fresh memory aligned to 1 MiB, or NULL. */
static char *
map_aligned(void)
{
    const size_t sz = OA_ARENA_SIZE;
    char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    if (((uintptr_t)p & OA_ARENA_MASK) == 0) {
        return p;
    }
    munmap(p, sz);
    p = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    size_t head =
        (OA_ARENA_SIZE - ((uintptr_t)p & OA_ARENA_MASK)) & OA_ARENA_MASK;
    if (head != 0) {
        munmap(p, head);
    }
    munmap(p + head + sz, sz - head);
    return p + head;
}

static void
unmap_arena(char *base)
{
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(base, OA_ARENA_SIZE);
#endif
    munmap(base, OA_ARENA_SIZE);
}

/* Map and register a new arena and put it in bucket 63.  NULL when the
 * system (or the limit, or failure injection) refuses. */
static OaArena *
arena_new(OaHeap *heap)
{
    if (!oa_sys_allow(heap, OA_FAIL_ARENA, OA_ARENA_SIZE)) {
        return NULL;
    }
    OaArena *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return NULL;
    }
    a->base = map_aligned();
    if (a->base == NULL) {
        free(a);
        return NULL;
    }
    a->heap = heap;
    a->nfree = OA_POOLS_PER_ARENA;
    if (oa_addrmap_insert(a) != 0) {
        unmap_arena(a->base);
        free(a);
        return NULL;
    }
    /* Memcheck/ASan: nothing of the arena is the program's to touch. */
    oa_mem_hide(a->base, OA_ARENA_SIZE);
    for (unsigned i = 0; i < OA_POOLS_PER_ARENA; i++) {
        oa_mem_open(a->base + (size_t)i * OA_POOL_SIZE, OA_POOL_HDR);
    }
    a->all_next = heap->arenas;
    if (heap->arenas != NULL) {
        heap->arenas->all_prev = a;
    }
    heap->arenas = a;
    heap->narenas++;
    heap->arenas_allocated++;
    if (heap->narenas > heap->narenas_high) {
        heap->narenas_high = heap->narenas;
    }
    bucket_link(heap, a);
    return a;
}

static void
arena_free(OaHeap *heap, OaArena *a)
{
    oa_addrmap_remove(a);
    if (a->all_prev != NULL) {
        a->all_prev->all_next = a->all_next;
    }
    else {
        heap->arenas = a->all_next;
    }
    if (a->all_next != NULL) {
        a->all_next->all_prev = a->all_prev;
    }
    unmap_arena(a->base);
    heap->narenas--;
    heap->arenas_released++;
    free(a);
}

void
oa_arenas_destroy(OaHeap *heap)
{
    while (heap->arenas != NULL) {
        arena_free(heap, heap->arenas);
    }
    memset(heap->bucket, 0, sizeof heap->bucket);
    heap->bucket_mask = 0;
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        heap->cls[c].avail = NULL;
    }
}

/* ---- pools ---------------------------------------------------------- */

/* Take one available pool out of arena a (nfree > 0). */
static OaPool *
arena_take_pool(OaHeap *heap, OaArena *a)
{
    OaPool *pool = a->freepools;
    if (pool != NULL) {
        a->freepools = pool->next;
    }
    else {
        pool = (OaPool *)(a->base + (size_t)a->ncarved * OA_POOL_SIZE);
        a->ncarved++;
        pool->arena = a;
    }
    bucket_unlink(heap, a);
    a->nfree--;
    if (a->nfree > 0) {
        bucket_link(heap, a);
    }
    return pool;
}

OaPool *
oa_pool_new(OaHeap *heap, size_t c)
{
    OaArena *a;
    if (heap->bucket_mask != 0) {
        a = heap->bucket[__builtin_ctzll(heap->bucket_mask)];
    }
    else {
        a = arena_new(heap);
        if (a == NULL) {
            return NULL;
        }
    }
    OaPool *pool = arena_take_pool(heap, a);
    size_t stride = OA_CLASS_SIZE(c) + OA_TRAILER;
    pool->nused = 0;
    pool->heap = heap;
    /* A pool that last served the same class keeps its free list and
     * carved blocks (as pymalloc does): no re-carving after a breath. */
    if (pool->stride != stride || pool->free == NULL) {
        char *first = oa_pool_first(pool);
        pool->cls = (uint16_t)c;
        pool->stride = (uint16_t)stride;
        pool->limit = (char *)pool + OA_POOL_SIZE - stride;
        pool->bump = first + stride;
        pool->free = (OaBlock *)first;
        oa_mem_open(first, sizeof(OaBlock));
        pool->free->next = NULL;
        oa_mem_hide(first, sizeof(OaBlock));
#if OA_CHECKED
        oa_block_set_trailer(pool, first, OA_FRESH_MARK);
#endif
    }
    pool->prev = NULL;
    pool->next = heap->cls[c].avail;
    if (pool->next != NULL) {
        pool->next->prev = pool;
    }
    heap->cls[c].avail = pool;
    return pool;
}

void
oa_pool_refill(OaPool *pool)
{
    if (pool->bump <= pool->limit) {
        OaBlock *b = (OaBlock *)pool->bump;
        pool->bump += pool->stride;
        oa_mem_open(b, sizeof(OaBlock));
        b->next = NULL;
        oa_mem_hide(b, sizeof(OaBlock));
#if OA_CHECKED
        oa_block_set_trailer(pool, (char *)b, OA_FRESH_MARK);
#endif
        pool->free = b;
        return;
    }
    /* Full: it is the head of its class list (allocation takes the head). */
    OaHeap *heap = pool->heap;
    pool->free = NULL;
    heap->cls[pool->cls].avail = pool->next;
    if (pool->next != NULL) {
        pool->next->prev = NULL;
    }
    pool->next = pool->prev = NULL;
}

void
oa_pool_relink(OaPool *pool)
{
    OaClass *k = &pool->heap->cls[pool->cls];
    if (k->avail != NULL && k->avail->nused == 0) {
        oa_pool_release(k->avail); /* a kept empty pool is no longer alone */
    }
    pool->prev = NULL;
    pool->next = k->avail;
    if (pool->next != NULL) {
        pool->next->prev = pool;
    }
    k->avail = pool;
}

void
oa_pool_emptied(OaPool *pool)
{
    if (pool->prev == NULL && pool->next == NULL) {
        return; /* the only pool of its class: keep it */
    }
    oa_pool_release(pool);
}

bool
oa_trim(OaHeap *heap)
{
    bool any = false;
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        OaPool *pool = heap->cls[c].avail;
        if (pool != NULL && pool->nused == 0) {
            oa_pool_release(pool);
            any = true;
        }
    }
    OaArena *spare = heap->bucket[OA_POOLS_PER_ARENA - 1];
    if (spare != NULL) {
        bucket_unlink(heap, spare);
        arena_free(heap, spare);
        any = true;
    }
    return any;
}

void
oa_heap_trim(OaHeap *heap)
{
    OA_ENTER(heap, "oa_heap_trim");
    oa_trim(heap);
    OA_LEAVE(heap);
}

void
oa_pool_release(OaPool *pool)
{
    OaHeap *heap = pool->heap;
    OaArena *a = pool->arena;
    /* Off the class list (an empty pool is never full, so it is on it). */
    if (pool->prev != NULL) {
        pool->prev->next = pool->next;
    }
    else {
        heap->cls[pool->cls].avail = pool->next;
    }
    if (pool->next != NULL) {
        pool->next->prev = pool->prev;
    }
    pool->heap = NULL; /* free list, class and bump stay for reuse */
    pool->prev = NULL;
    pool->next = a->freepools;
    a->freepools = pool;
    if (a->nfree > 0) {
        bucket_unlink(heap, a);
    }
    a->nfree++;
    if (a->nfree == OA_POOLS_PER_ARENA && heap->bucket[63] != NULL) {
        arena_free(heap, a); /* a spare is already kept */
        return;
    }
    bucket_link(heap, a);
}
