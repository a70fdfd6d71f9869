/* SPDX-License-Identifier: MIT */
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
 *      mask); when there is no such arena, take the empty pool another
 *      class keeps if there is one (steal_kept), else map a new arena;
 *      when that arena has no free pool, take the kept pool of a class
 *      that has been idle, if any, rather than carve a never-used pool;
 *   2. take its lowest empty pool (freemap), or carve the next never-used
 *      pool (lazy: an arena's tail is not touched until needed, and a
 *      fresh pool's pages are populated one by one as carving reaches
 *      them: prefault_span);
 *   3. move the arena one bucket down; initialise the pool for c (its
 *      blocks are carved lazily too, a few per refill: carve()) and push
 *      it on the class list.
 * Returning an empty pool (oa_pool_release) is the reverse (except for the
 * only pool of a class, which stays on its list: oa_pool_emptied); an
 * arena whose pools are all free is unmapped unless it is the only such
 * arena (the spare, which spares a mmap/munmap pair when a heap breathes).
 * A class's kept pool pins its arena (the price of no alloc/free thrash
 * at a pool's edge), but it is taken by another class before a new arena
 * is mapped (steal_kept).
 *
 * Medium classes take their 64 KiB spans from arenas of their own kind
 * (16 spans each) the same way: buckets, masks, the spare and the steps
 * above are per kind (heap->bucket[kind]); a medium class may take the
 * kept span of another medium class before an arena is mapped, never a
 * small class's pool (an arena serves one kind for life).
 *
 * Invariants (checked by oa_heap_check): arena->nfree == length of
 * popcount(freemap) + (units - ncarved); the arena is in bucket[kind][nfree - 1]
 * iff nfree > 0; bucket_mask[kind] bit k iff bucket[kind][k] != NULL;
 * bucket[kind][units - 1] holds at most one arena.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "objalloc/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- buckets -------------------------------------------------------- */

static void
bucket_unlink(OaHeap *heap, OaArena *a)
{
    unsigned k = a->nfree - 1;
    RCGC_ASSERT(a->nfree >= 1 && a->nfree <= oa_arena_units(a));
    RCGC_ASSERT(a->prev != NULL || heap->bucket[a->kind][k] == a);
    if (a->prev != NULL) {
        a->prev->next = a->next;
    }
    else {
        heap->bucket[a->kind][k] = a->next;
        if (a->next == NULL) {
            heap->bucket_mask[a->kind] &= ~((uint64_t)1 << k);
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
    RCGC_ASSERT(a->nfree >= 1 && a->nfree <= oa_arena_units(a));
    /* the all-free bucket of a kind holds at most one arena: the spare */
    RCGC_ASSERT(k != oa_arena_units(a) - 1 ||
                heap->bucket[a->kind][k] == NULL);
    a->prev = NULL;
    a->next = heap->bucket[a->kind][k];
    if (a->next != NULL) {
        a->next->prev = a;
    }
    heap->bucket[a->kind][k] = a;
    heap->bucket_mask[a->kind] |= (uint64_t)1 << k;
}

/* ---- mapping -------------------------------------------------------- */

/* Where the next arena is asked for (a hint to mmap, process-wide, for
 * every heap): two slots below the last arena mapped, or the slot of the
 * last arena unmapped.  The kernel places mappings top-down and takes a
 * hint whose range is free, so an arena comes back 1 MiB aligned at the
 * first try; without a hint, one that came back unaligned is re-mapped
 * at twice the size and trimmed (three more system calls).
 * Why a free slot between arenas: adjacent anonymous mappings merge into
 * one VMA, and unmapping an arena from the middle of one splits it.
 * With arenas side by side (hint one slot below), freeing 1M blocks in
 * random order - which unmaps the arenas as they empty - was slower:
 * objalloc-sized 0.63-0.66x pymalloc's time, against 0.40-0.58x with a
 * gap or no hint (rcgc-bench alloc --quick, builds alternating).  The
 * gap costs address space and page-table pages, not memory. */
static _Atomic(uintptr_t) next_hint;

/* 1 MiB of fresh memory aligned to 1 MiB, or NULL. */
static char *
map_aligned(void)
{
    const size_t sz = OA_ARENA_SIZE;
    oa_addrmap_prepare(); /* the map's reservation first */
    char *hint =
        (char *)atomic_load_explicit(&next_hint, memory_order_relaxed);
    char *p = mmap(hint, sz, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    if (((uintptr_t)p & OA_ARENA_MASK) != 0) {
        munmap(p, sz);
        p = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return NULL;
        }
        size_t head =
            (OA_ARENA_SIZE - ((uintptr_t)p & OA_ARENA_MASK)) & OA_ARENA_MASK;
        if (head != 0) {
            munmap(p, head);
        }
        munmap(p + head + sz, sz - head);
        p += head;
    }
    if ((uintptr_t)p >= 2 * sz) {
        atomic_store_explicit(&next_hint, (uintptr_t)p - 2 * sz,
                              memory_order_relaxed);
    }
    return p;
}

static void
unmap_arena(char *base)
{
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(base, OA_ARENA_SIZE);
#endif
    munmap(base, OA_ARENA_SIZE);
    /* The next arena fills this hole rather than open a new one. */
    atomic_store_explicit(&next_hint, (uintptr_t)base, memory_order_relaxed);
}

/* Memcheck/ASan view of a fresh arena: nothing is the program's to touch
 * (the pools' metadata is in the OaArena, in system memory). */
static void
fresh_view(OaArena *a)
{
    oa_mem_hide(a->base, OA_ARENA_SIZE);
}

/* Tie each unit's metadata to its memory (for the arena's life). */
static void
arena_meta_init(OaArena *a)
{
    size_t unit = oa_kind_unit(a->kind);
    for (unsigned i = 0; i < oa_arena_units(a); i++) {
        a->pool[i].mem = a->base + i * unit;
        a->pool[i].arena = a;
    }
}

/* OA_ARENA_SIZE bytes aligned to their size: from the heap's source, or
 * mapped.  NULL (the reason in heap->error) when there are none. */
static char *
arena_get(OaHeap *heap)
{
    if (heap->source == NULL) {
        char *p = map_aligned();
        if (p == NULL) {
            oa_heap_set_error(heap, "the system refused to map an arena");
        }
        return p;
    }
    char *p = heap->source->get(heap->source->ctx);
    if (p == NULL) {
        oa_source_exhausted(heap);
        return NULL;
    }
    if (((uintptr_t)p & OA_ARENA_MASK) != 0) {
        oa_fatal_heap("oa_malloc", heap,
                      "the arena source returned %p, not aligned to %u "
                      "bytes",
                      (void *)p, OA_ARENA_SIZE);
    }
    return p;
}

/* Give an arena back: to its source, or unmapped. */
static void
arena_put(OaHeap *heap, char *base)
{
    if (heap->source == NULL) {
        unmap_arena(base);
        return;
    }
    oa_mem_undefined(base, OA_ARENA_SIZE); /* the caller's again */
    if (heap->source->put != NULL) {
        heap->source->put(heap->source->ctx, base);
    }
}

/* Map and register a new arena of this kind and put it in its last
 * bucket (all units free).  NULL when the system (or the limit, or
 * failure injection, or the arena source) refuses. */
static OaArena *
arena_new(OaHeap *heap, unsigned kind)
{
    /* The bookkeeping first: a slab mapped now cannot land where a freed
     * large block was (memcheck reuses such holes at once; the test
     * mapped/a_freed_block_leaves_the_process_when_the_heap_grows looks
     * there). */
    OaArena *a = oa_arena_meta_new(heap, kind);
    if (a == NULL) {
        oa_heap_set_error(heap, "no memory for an arena's bookkeeping");
        return NULL;
    }
    oa_large_cache_flush(heap); /* the heap grows: freed mappings go first */
    heap->shrink_run = 0;
    if (!oa_sys_allow(heap, OA_FAIL_ARENA, OA_ARENA_SIZE)) {
        oa_arena_meta_free(heap, a);
        return NULL;
    }
    a->base = arena_get(heap);
    if (a->base == NULL) {
        oa_arena_meta_free(heap, a);
        return NULL;
    }
    a->heap = heap;
    a->nfree = oa_arena_units(a);
    arena_meta_init(a);
    if (oa_addrmap_insert(a) != 0) {
        oa_heap_set_error(heap, "no memory for the address map");
        arena_put(heap, a->base);
        oa_arena_meta_free(heap, a);
        return NULL;
    }
    fresh_view(a);
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
    arena_put(heap, a->base);
    heap->narenas--;
    heap->arenas_released++;
    oa_arena_meta_free(heap, a);
}

void
oa_arenas_destroy(OaHeap *heap)
{
    while (heap->arenas != NULL) {
        arena_free(heap, heap->arenas);
    }
    memset(heap->bucket, 0, sizeof heap->bucket);
    memset(heap->bucket_mask, 0, sizeof heap->bucket_mask);
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        heap->cls[c].avail = NULL;
        heap->avail_tail[c] = NULL;
    }
}

/* ---- pools ---------------------------------------------------------- */

/* Fault in fresh pages with a system call (MADV_POPULATE_WRITE, Linux
 * 5.14) just before the first blocks on them are carved, instead of one
 * page fault each when those blocks are first written.  The same pages
 * become resident at the same moment, so peak RSS does not change; the
 * time does: on this 2-core VM a page cost 10.7 us faulted in, 7.9 us
 * populated one at a time (6.4 us four at a time, but that makes up to
 * three untouched pages per partly carved pool resident: +180 KiB peak
 * RSS for CPython's workloads).  CPython's ast workload touches 120 MiB of
 * arenas and spent 7-8% of its time in the kernel, mostly in those
 * faults; json round trips map and unmap 200 arenas.  Only pools in their
 * first use are populated (OaArena.fresh): the pages of a reused pool may
 * be resident.
 * A kernel without MADV_POPULATE_WRITE answers EINVAL once and is not
 * asked again; any other failure is ignored (the pages fault in on use). */
static void
prefault(void *p, size_t n)
{
#if defined(MADV_POPULATE_WRITE)
    static _Atomic int unsupported;
    if (atomic_load_explicit(&unsupported, memory_order_relaxed)) {
        return;
    }
    if (madvise(p, n, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
        atomic_store_explicit(&unsupported, 1, memory_order_relaxed);
    }
#else
    (void)p;
    (void)n;
#endif
}

static uint64_t
pool_bit(const OaArena *a, const OaPool *pool)
{
    return (uint64_t)1 << (pool - a->pool);
}

/* Before carving [from, to) of a pool: populate the pages it starts on
 * (the page holding from - 1 is touched already) if the pool is fresh. */
static void
prefault_span(const OaPool *pool, char *from, char *to)
{
    const uintptr_t page = OA_PAGE_SIZE;
    uintptr_t lo = ((uintptr_t)from + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)to + page - 1) & ~(page - 1);
    if (lo >= hi) {
        return; /* no new page: the common case, no lookup */
    }
    const OaArena *a = oa_pool_arena(pool);
    if ((a->fresh & pool_bit(a, pool)) != 0) {
        prefault((void *)lo, hi - lo);
    }
}

/* Take one available pool out of arena a (nfree > 0). */
static OaPool *
arena_take_pool(OaHeap *heap, OaArena *a)
{
    OaPool *pool = NULL;
    /* nfree == empty pools + uncarved ones, and this arena has one */
    RCGC_ASSERT(a->nfree > 0 &&
                (a->freemap != 0 || a->ncarved < oa_arena_units(a)));
    if (a->freemap != 0) {
        /* the lowest: a heap that refills keeps its blocks in address
         * order (tests/objalloc/locality.c) */
        pool = &a->pool[__builtin_ctzll(a->freemap)];
        uint64_t bit = pool_bit(a, pool);
        a->freemap &= ~bit;
        if (a->released & bit) { /* its pages are untouched again */
            a->released &= ~bit;
            a->fresh |= bit;
            prefault(pool->mem, OA_PAGE_SIZE); /* the first blocks' page */
        }
    }
    else {
        pool = &a->pool[a->ncarved];
        a->ncarved++;
        a->fresh |= pool_bit(a, pool);
        prefault(pool->mem, OA_PAGE_SIZE); /* the first blocks' page */
    }
    bucket_unlink(heap, a);
    a->nfree--;
    if (a->nfree > 0) {
        bucket_link(heap, a);
    }
    return pool;
}

/* Carve the next blocks of a pool (bump <= limit) onto its empty free
 * list: as many as fit in OA_CARVE_BYTES, at least one.  pymalloc carves
 * one block per allocation that finds the list empty; carving a few at
 * once makes the out-of-line refill run once per few fresh blocks instead
 * of for every one, and touches memory at most OA_CARVE_BYTES ahead of
 * use (the blocks are handed out in address order). */
static void
carve(OaPool *pool)
{
    size_t stride = pool->stride;
    char *first = pool->bump;
    RCGC_ASSERT(first <= oa_pool_limit(pool)); /* a block left to carve */
    size_t room = (size_t)(oa_pool_limit(pool) - first) / stride + 1;
    size_t n = OA_CARVE_BYTES / stride;
    if (n == 0) {
        n = 1;
    }
    if (n > room) {
        n = room;
    }
    prefault_span(pool, first, first + n * stride);
    char *b = first;
    for (size_t i = 1; i <= n; i++, b += stride) {
        oa_mem_open(b, sizeof(OaBlock));
        ((OaBlock *)b)->next = i < n ? (OaBlock *)(b + stride) : NULL;
        oa_mem_hide(b, sizeof(OaBlock));
#if OA_CHECKED
        oa_block_set_trailer(pool, b, OA_FRESH_MARK);
#endif
    }
    pool->bump = b;
    pool->free = (OaBlock *)first;
}

/* The empty pool that some class keeps (oa_pool_emptied), taken off its
 * list, or NULL.  Asked before fresh memory is used, because a kept
 * pool's pages are resident already and pymalloc would have given them to
 * any class:
 *   - before an arena is mapped (idle_only false): any kept pool (kept
 *     pools left idle while the heap grew cost the ast workload up to
 *     0.8 MiB of peak RSS);
 *   - before a never-used pool of an arena is carved (idle_only true):
 *     only the pool of a class that allocated nothing since the previous
 *     such ask (heap->kept_seen holds each class's nmalloc then), and not
 *     twice in a row: a never-used pool is carved between two such
 *     steals (steal_credit).  A kept pool of a class that stopped
 *     allocating while the heap grew costs up to 16 KiB of peak RSS each
 *     (about 60 KiB in the compileall workload).  The pool of a class in
 *     use stays, so that classes which breathe in turn (take a batch,
 *     give it back) do not steal each other's pools and re-carve one on
 *     every breath (the LIFO benchmark over every class took 0.70-0.77x
 *     pymalloc's time when any kept pool was taken here; 0.62-0.64x
 *     without); and as a fresh pool is carved between two steals, classes
 *     that take turns cannot pass pools around for ever: every other ask
 *     grows the pools they share, until no class needs to ask.  Not
 *     asked when an arena has a free pool: that one is resident too. */
static OaPool *
steal_kept(OaHeap *heap, unsigned lo, unsigned hi, bool idle_only)
{
    OaPool *found = NULL;
    for (unsigned k = lo; k < hi; k++) {
        OaPool *p = heap->cls[k].avail;
        bool idle = heap->cls[k].nmalloc == heap->kept_seen[k];
        heap->kept_seen[k] = heap->cls[k].nmalloc;
        if (found == NULL && p != NULL && p->nused == 0 && p->next == NULL &&
            (idle || !idle_only)) {
            heap->cls[k].avail = NULL;
            heap->avail_tail[k] = NULL;
            OaArena *a = oa_pool_arena(p);
            a->fresh &= ~pool_bit(a, p); /* carved before: maybe resident */
            found = p;
        }
    }
    return found;
}

/* A pool (or span) for a new use by class c, from an arena of c's kind
 * (steps 1 and 2 of the opening), or NULL. */
static OaPool *
pool_take(OaHeap *heap, size_t c)
{
    unsigned kind = c < OA_NSMALL ? OA_KIND_SMALL : OA_KIND_MEDIUM;
    unsigned lo = kind == OA_KIND_SMALL ? 0 : OA_NSMALL;
    unsigned hi = kind == OA_KIND_SMALL ? OA_NSMALL : OA_NCLASSES;
    OaArena *a = NULL;
    OaPool *pool = NULL;
    if (heap->bucket_mask[kind] != 0) {
        a = heap->bucket[kind][__builtin_ctzll(heap->bucket_mask[kind])];
    }
    /* A stolen pool stays in use: its arena is unchanged.  A medium class
     * takes a span another medium class keeps before it carves a span
     * never used: 48 classes keeping a span each, their touched pages
     * resident, cost the regex trace 1.3 MiB of peak RSS.  (Keeping no
     * span at all made CPython's compiler, which takes and gives back
     * one 8 KiB arena block at a time, map and unmap an arena on every
     * breath: 1.25x pymalloc's time on its trace.) */
    if (a == NULL || (kind == OA_KIND_MEDIUM && a->freemap == 0)) {
        pool = steal_kept(heap, lo, hi, false);
    }
    else if (kind == OA_KIND_SMALL && a->freemap == 0 && heap->steal_credit) {
        pool = steal_kept(heap, lo, hi, true);
        heap->steal_credit = pool == NULL;
    }
    if (pool == NULL) {
        if (a == NULL && (a = arena_new(heap, kind)) == NULL) {
            return NULL;
        }
        heap->steal_credit |= a->freemap == 0; /* a fresh pool */
        pool = arena_take_pool(heap, a);
    }
    return pool;
}

/* Whether pool's free list starts with its first two blocks in address
 * order: the sign of blocks freed in the reverse order of their
 * allocation (the LIFO pattern, which leaves the whole list in order).
 * One block alone would be a weak sign: after frees in random order the
 * first block heads the list once in a pool's worth of blocks (a locality
 * test found it); the second link makes that about once in its square. */
static bool
list_in_order(const OaPool *pool)
{
    char *first = oa_pool_first(pool);
    if ((char *)pool->free != first) {
        return false;
    }
    oa_mem_open(first, sizeof(OaBlock));
    char *next = (char *)((OaBlock *)first)->next;
    oa_mem_hide(first, sizeof(OaBlock));
    return next == NULL || next == first + pool->stride;
}

OaPool *
oa_pool_new(OaHeap *heap, size_t c)
{
    OaPool *pool = pool_take(heap, c);
    if (pool == NULL) {
        return NULL;
    }
    size_t stride = OA_CLASS_SIZE(c) + OA_TRAILER;
    pool->nused = 0;
    pool->heap = heap;
    /* A pool that last served the same class keeps its free list when
     * the list starts in address order (list_in_order: blocks freed in
     * the reverse order of their allocation leave it so): no carving
     * after a breath (LIFO rows of 256..512 B, three pools per batch:
     * 0.95x pymalloc's time, 1.44x when carved again, one block per
     * refill).  Any other list is in the order its blocks were freed:
     * the pool is carved afresh, so that its blocks are handed out in
     * address order again (the list walk of rcgc-bench alloc on a reused
     * heap: 1.24x pymalloc's time with the old list, 0.52x carved
     * afresh). */
    if (pool->stride != stride || !list_in_order(pool)) {
        pool->cls = (uint16_t)c;
        pool->stride = (uint16_t)stride;
        pool->bump = oa_pool_first(pool);
        carve(pool);
    }
    pool->prev = NULL;
    pool->next = heap->cls[c].avail;
    if (pool->next != NULL) {
        pool->next->prev = pool;
    }
    else {
        heap->avail_tail[c] = pool;
    }
    heap->cls[c].avail = pool;
    return pool;
}

void
oa_pool_refill(OaPool *pool)
{
    if (pool->bump <= oa_pool_limit(pool)) {
        carve(pool);
        return;
    }
    /* Full: it is the head of its class list (allocation takes the head). */
    OaHeap *heap = pool->heap;
    RCGC_ASSERT(heap->cls[pool->cls].avail == pool && pool->prev == NULL);
    pool->free = NULL;
    heap->cls[pool->cls].avail = pool->next;
    if (pool->next != NULL) {
        pool->next->prev = NULL;
    }
    else {
        heap->avail_tail[pool->cls] = NULL;
    }
    pool->next = pool->prev = NULL;
}

/* A full pool that gets a block back joins the tail of its class list,
 * not the head (pymalloc's usable_pools order): allocation works through
 * the list from the head, so a pool comes up again only after the pools
 * before it, with every block freed into it meanwhile.  With the head,
 * under churn (a free at random, then a malloc) nearly every free found
 * its pool full and nearly every malloc emptied the head's one free block:
 * a relink and an unlink per step, each writing a neighbour's metadata
 * line (callgrind: 0.80 relinks and 0.87 unlinks per step, 36 of the 129
 * instructions of a step; rcgc-bench alloc's 1..512 B churn 0.80x
 * pymalloc's time, mimalloc 0.56x).  At the tail each relink and unlink
 * serves the several blocks a pool gathers while it waits: 0.25 relinks
 * and 0.31 unlinks per step, 97 instructions; the churn 0.55x, mimalloc
 * 0.57x (mimalloc's page queues work the same way). */
void
oa_pool_relink(OaPool *pool)
{
    OaHeap *heap = pool->heap;
    OaClass *k = &heap->cls[pool->cls];
    /* it was full: on no list, its one free block just pushed */
    RCGC_ASSERT(pool->free != NULL && pool->prev == NULL &&
                pool->next == NULL && k->avail != pool);
    if (k->avail != NULL && k->avail->nused == 0) {
        oa_pool_release(k->avail); /* a kept empty pool is no longer alone */
    }
    OaPool *tail = heap->avail_tail[pool->cls];
    pool->next = NULL;
    pool->prev = tail;
    if (tail != NULL) {
        tail->next = pool;
    }
    else {
        k->avail = pool;
    }
    heap->avail_tail[pool->cls] = pool;
}

/* Relink the free list of the empty pool a class keeps in address order,
 * so that the next blocks it hands out follow each other in memory as on
 * a fresh pool (the list holds every carved block, in the order they were
 * freed).  Skipped when the list starts at the first block: blocks freed
 * in the reverse order of their allocation (the LIFO pattern) already
 * left it in address order, and that pattern empties a pool on every
 * breath.  (A pool that goes back to its arena is carved afresh when it
 * is taken again: oa_pool_new.) */
static void
relink_in_order(OaPool *pool)
{
    char *first = oa_pool_first(pool);
    if (list_in_order(pool)) {
        return;
    }
    size_t stride = pool->stride;
    for (char *b = first; b < pool->bump; b += stride) {
        char *next = b + stride < pool->bump ? b + stride : NULL;
        oa_mem_open(b, sizeof(OaBlock));
        ((OaBlock *)b)->next = (OaBlock *)next;
        oa_mem_hide(b, sizeof(OaBlock));
    }
    pool->free = (OaBlock *)first;
}

void
oa_pool_emptied(OaPool *pool)
{
    if (pool->prev == NULL && pool->next == NULL) {
        relink_in_order(pool);
        return; /* the only pool of its class: keep it */
    }
    oa_pool_release(pool);
}

/* Give the pages of n adjacent empty pools (or spans) lo .. lo + n - 1 of
 * a partly used arena back to the system with one madvise, all of them
 * (their metadata is in the arena's array, so no page of it stays
 * resident).  The pools forget their blocks (stride 0: the next class to
 * take one carves afresh) and are marked released until taken
 * (arena_take_pool).  Not for arenas from a caller's source: their memory
 * is the caller's, whose kind madvise may not suit.  True when pages were
 * given back. */
static bool
decommit_run(OaArena *a, unsigned lo, unsigned n)
{
    size_t unit = oa_kind_unit(a->kind);
    char *mem = a->base + lo * unit;
    size_t len = n * unit;
    RCGC_ASSERT(n >= 1 && lo + n <= oa_arena_units(a));
    if (a->heap->source != NULL) {
        return false;
    }
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(mem, len);
#endif
    int rc = madvise(mem, len, MADV_DONTNEED);
    oa_mem_hide(mem, len);
    if (rc != 0) {
        return false;
    }
    for (unsigned i = lo; i < lo + n; i++) {
        a->pool[i].stride = 0;
        a->pool[i].free = NULL;
        a->released |= (uint64_t)1 << i;
    }
    return true;
}

/* Give back every page of the spare arena (all its pools empty) with one
 * madvise, once OA_SHRINK_RUN arenas were unmapped since the heap last
 * mapped one: the heap shrinks for good, it does not breathe across a few
 * arenas' edge (refaulting the spare's pages each time).  The spare stays
 * mapped (no mmap/munmap pair when the heap grows again) but holds no
 * memory.  RSS kept after freeing the oldest 90% of 2M blocks
 * (rcgc-bench alloc, memory table): 12.75% with the spare resident,
 * 12.07% without it. */
static void
decommit_spare(OaArena *a)
{
    uint64_t todo = a->freemap & ~a->released;
    size_t len = a->ncarved * oa_kind_unit(a->kind);
    RCGC_ASSERT(a->nfree == oa_arena_units(a)); /* every pool empty */
    if (todo == 0 || a->heap->source != NULL) {
        return;
    }
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(a->base, len);
#endif
    int rc = madvise(a->base, len, MADV_DONTNEED);
    oa_mem_hide(a->base, len);
    if (rc != 0) {
        return;
    }
    for (uint64_t m = todo; m != 0; m &= m - 1) {
        OaPool *pool = &a->pool[__builtin_ctzll(m)];
        pool->stride = 0;
        pool->free = NULL;
    }
    a->released |= todo;
}

/* Decommit the empty pools not released yet of every partly used arena (a
 * wholly empty one is the spare, unmapped by the caller), a madvise per
 * run of adjacent ones; with `all` false (a heap that shrinks for good,
 * oa_pool_release), only in arenas with at least a quarter of their pools
 * in use, which are likely to stay mapped.  RSS kept after freeing the
 * oldest 90% of 2M blocks (the memory table of rcgc-bench alloc): 12.1%
 * without this, 11.5-11.6% with it, those frees 14.5 ns each instead of
 * 12.9 (1150 more madvise calls).  Every partly used arena: 10.7%, but
 * that gave back the pools of arenas about to be unmapped too: 2552 more
 * calls there, 15 ns a free (17-20 with a call per pool), and 1332 more
 * over the random-order free of 1M blocks, whose system time went from
 * 9 to 14 ns a free (the quarter: no call more there). */
static bool
decommit_empty_pools(OaHeap *heap, bool all)
{
    bool any = false;
    for (OaArena *a = heap->arenas; a != NULL; a = a->all_next) {
        uint64_t todo = a->freemap & ~a->released;
        if (!all && a->nfree > oa_arena_units(a) / 4 * 3) {
            continue;
        }
        while (todo != 0) {
            unsigned lo = (unsigned)__builtin_ctzll(todo);
            uint64_t rest = ~(todo >> lo); /* its lowest bit: the run's end */
            unsigned n = rest == 0 ? 64 - lo : (unsigned)__builtin_ctzll(rest);
            uint64_t run = (n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1)
                           << lo;
            todo &= ~run;
            any |= decommit_run(a, lo, n);
        }
    }
    return any;
}

/* What the heap keeps for reuse goes back: the freed mappings of large
 * blocks, the pool each class keeps, the spare arenas, and the pages of
 * the empty pools inside partly used arenas (oa_heap_trim, and the first
 * step of oa_make_room under the memory limit or when the system
 * refuses memory). */
bool
oa_trim(OaHeap *heap)
{
    bool any = oa_large_cache_flush(heap);
    for (unsigned c = 0; c < OA_NCLASSES; c++) {
        OaPool *pool = heap->cls[c].avail;
        if (pool != NULL && pool->nused == 0) {
            oa_pool_release(pool);
            any = true;
        }
    }
    static const unsigned last[OA_NKINDS] = {OA_POOLS_PER_ARENA - 1,
                                             OA_SPANS_PER_ARENA - 1};
    for (unsigned kind = 0; kind < OA_NKINDS; kind++) {
        OaArena *spare = heap->bucket[kind][last[kind]];
        if (spare != NULL) {
            bucket_unlink(heap, spare);
            arena_free(heap, spare);
            any = true;
        }
    }
    any |= decommit_empty_pools(heap, true);
    return any;
}

void
oa_heap_trim(OaHeap *heap)
{
    if (heap == NULL) {
        oa_null_heap("oa_heap_trim");
        return;
    }
    OA_ENTER(heap, "oa_heap_trim");
    oa_trim(heap);
    RCGC_ASSERT_EXPENSIVE(oa_heap_check(heap) == 0);
    OA_LEAVE(heap);
}

/* An empty pool leaves its class list and joins its arena's free pools;
 * the arena moves to the bucket of one more free pool, or is freed when it
 * is wholly empty and a spare of its kind is already kept.  Precondition:
 * pool->nused == 0. */
void
oa_pool_release(OaPool *pool)
{
    OaHeap *heap = pool->heap;
    OaArena *a = oa_pool_arena(pool);
    RCGC_ASSERT(pool->nused == 0 && heap != NULL && a != NULL);
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
    else {
        heap->avail_tail[pool->cls] = pool->prev;
    }
    pool->heap = NULL; /* free list, class and bump stay for reuse */
    a->fresh &= ~pool_bit(a, pool);
    pool->prev = pool->next = NULL;
    a->freemap |= pool_bit(a, pool);
    if (a->nfree > 0) {
        bucket_unlink(heap, a);
    }
    a->nfree++;
    unsigned units = oa_arena_units(a);
    OaArena *spare = heap->bucket[a->kind][units - 1];
    if (a->nfree == units && spare != NULL) {
        arena_free(heap, a); /* a spare is already kept */
        if (++heap->shrink_run >= OA_SHRINK_RUN) {
            /* the heap shrinks for good: what it keeps empty goes back */
            decommit_spare(spare);
            decommit_empty_pools(heap, false);
        }
        return;
    }
    bucket_link(heap, a);
}
