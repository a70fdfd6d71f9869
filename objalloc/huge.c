/* SPDX-License-Identifier: MIT */
/* huge.c - arenas of a large heap in 2 MiB chunks advised MADV_HUGEPAGE.
 *
 * Once a heap has OA_HUGE_FROM arenas mapped, its new arenas (mapped by
 * objalloc, not from a caller's source) come in pairs: a 2 MiB chunk,
 * aligned to 2 MiB, advised MADV_HUGEPAGE, whose lower and upper halves
 * are two ordinary 1 MiB arenas (each its own address map entry, its own
 * OaArena with huge set).  The kernel backs such a chunk with one huge
 * page when it can: one fault instead of 512, one page-table entry (a
 * random access over a large heap walks the page tables far less often),
 * and an unmap that frees one compound page instead of 512 pages (the
 * kernel time of unmapping 4 KiB pages was most of what a random-order
 * free of 256 MiB cost over mimalloc's).
 *
 * A half that holds no arena is idle: mapped, on the heap's idle list
 * (linked through its first 16 bytes: OaHalf), resident when the chunk got
 * a huge page.  Unmapping one half of a huge page would split it, so:
 *   1. a new arena takes an idle half if there is one, else maps a chunk,
 *      takes its lower half and leaves the upper one idle;
 *   2. an arena freed while its buddy (the chunk's other half) is a live
 *      arena becomes an idle half; one freed while its buddy is idle
 *      unmaps the whole chunk;
 *   3. oa_trim unmaps every idle half (splitting its chunk: the buddy
 *      arena stays, huge cleared, and is unmapped alone like any arena).
 * An idle half costs at most the 1 MiB its live buddy pins: the RSS a
 * heap keeps for them is at most that of its arenas in chunks.
 *
 * Invariants (oa_heap_check): every idle half is 1 MiB aligned, unmapped
 * in the address map, and its buddy is a live arena of the heap with huge
 * set; huge arenas + idle halves == 2 * nchunks.
 * Without transparent huge pages (madvise fails, or the system ignores
 * it) all of this still holds; the chunks just get 4 KiB pages.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include "objalloc/internal.h"

#include <stdio.h>
#include <sys/mman.h>

#define CHUNK      ((size_t)2 * OA_ARENA_SIZE)
#define CHUNK_MASK ((uintptr_t)CHUNK - 1)

/* Where the next chunk is asked for (process-wide): two chunks below the
 * last one mapped (a chunk's gap, so that neighbours do not merge into
 * one VMA that an unmap would split), or the place of the last one
 * unmapped.  As for arenas (arena.c: next_hint), the kernel takes a free
 * hint, and an aligned one comes back aligned at the first try. */
static _Atomic(uintptr_t) chunk_hint;

/* An idle half's first 16 bytes (its own memory, hidden from the program
 * between our accesses). */
typedef struct OaHalf {
    struct OaHalf *next;
    struct OaHalf *prev;
    size_t released; /* 1: its pages past the first were given back */
} OaHalf;

static void
half_link(OaHeap *heap, char *base)
{
    OaHalf *h = (OaHalf *)base;
    oa_mem_open(h, sizeof *h);
    h->prev = NULL;
    h->next = heap->idle;
    h->released = 0;
    oa_mem_hide(h, sizeof *h);
    if (heap->idle != NULL) {
        oa_mem_open(heap->idle, sizeof *h);
        heap->idle->prev = h;
        oa_mem_hide(heap->idle, sizeof *h);
    }
    heap->idle = h;
    heap->nidle++;
}

static void
half_unlink(OaHeap *heap, char *base)
{
    OaHalf *h = (OaHalf *)base;
    oa_mem_open(h, sizeof *h);
    OaHalf *next = h->next;
    OaHalf *prev = h->prev;
    oa_mem_hide(h, sizeof *h);
    if (prev != NULL) {
        oa_mem_open(prev, sizeof *h);
        prev->next = next;
        oa_mem_hide(prev, sizeof *h);
    }
    else {
        heap->idle = next;
    }
    if (next != NULL) {
        oa_mem_open(next, sizeof *h);
        next->prev = prev;
        oa_mem_hide(next, sizeof *h);
    }
    heap->nidle--;
}

static void
unmap(char *p, size_t len)
{
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(p, len);
#endif
    munmap(p, len);
}

/* 2 MiB of fresh memory aligned to 2 MiB, advised huge, or NULL. */
static char *
map_chunk(void)
{
    oa_addrmap_prepare(); /* the map's reservation first */
    char *hint =
        (char *)atomic_load_explicit(&chunk_hint, memory_order_relaxed);
    char *p = mmap(hint, CHUNK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    if (((uintptr_t)p & CHUNK_MASK) != 0) {
        munmap(p, CHUNK);
        p = mmap(NULL, 2 * CHUNK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return NULL;
        }
        size_t head = (CHUNK - ((uintptr_t)p & CHUNK_MASK)) & CHUNK_MASK;
        if (head != 0) {
            munmap(p, head);
        }
        munmap(p + head + CHUNK, CHUNK - head);
        p += head;
    }
    if ((uintptr_t)p >= 2 * CHUNK) {
        atomic_store_explicit(&chunk_hint, (uintptr_t)p - 2 * CHUNK,
                              memory_order_relaxed);
    }
#if defined(MADV_HUGEPAGE)
    (void)madvise(p, CHUNK, MADV_HUGEPAGE); /* refused: 4 KiB pages */
#endif
    return p;
}

/* The half of a chunk that base is not. */
static char *
buddy_of(const char *base)
{
    return (char *)((uintptr_t)base ^ (uintptr_t)OA_ARENA_SIZE);
}

char *
oa_huge_take(OaHeap *heap)
{
    if (heap->idle != NULL) {
        char *base = (char *)heap->idle;
        half_unlink(heap, base);
        return base;
    }
    /* a chunk holds one more MiB than the arena the limit allowed */
    if (heap->limit != 0 &&
        oa_held_bytes(heap) + 2 * (size_t)OA_ARENA_SIZE > heap->limit) {
        return NULL;
    }
    char *p = map_chunk();
    if (p == NULL) {
        return NULL;
    }
    heap->nchunks++;
    heap->chunks_mapped++;
    oa_mem_hide(p, CHUNK);
    half_link(heap, p + OA_ARENA_SIZE);
    return p;
}

void
oa_huge_put(OaHeap *heap, char *base)
{
    char *buddy = buddy_of(base);
    OaArena *b = oa_addrmap_lookup(buddy);
    if (b != NULL) {
        /* 2. the buddy is live: this half waits for it */
        RCGC_ASSERT(b->heap == heap && b->huge && b->base == buddy);
        half_link(heap, base);
        return;
    }
    /* the buddy is idle: the chunk goes */
    half_unlink(heap, buddy);
    char *chunk = (char *)((uintptr_t)base & ~CHUNK_MASK);
    unmap(chunk, CHUNK);
    heap->nchunks--;
    atomic_store_explicit(&chunk_hint, (uintptr_t)chunk, memory_order_relaxed);
}

/* The heap shrinks for good (oa_pool_release): give back the pages that
 * a huge page made resident and no block uses, where they are likely to
 * stay mapped: of the idle halves whose buddy stays (all but the first
 * page, which holds the links), and of the uncarved pools of each arena in
 * a chunk.  That splits their huge page.  What matters is the newest
 * chunk, the one the heap grew into: resident whole, though the heap may
 * have carved a few of its pools.  An idle half whose buddy drains stays
 * resident: it goes with the buddy, in one unmap of a whole huge page (a
 * random-order free of 256 MiB). */
static void
decommit(char *p, size_t len)
{
#if defined(RCGC_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(p, len);
#endif
    (void)madvise(p, len, MADV_DONTNEED);
    oa_mem_hide(p, len);
}

/* Will arena b stay mapped?  At least a quarter of it in use, or pools of
 * it never carved: the arena the heap grows into, not one that drains. */
static bool
stays(const OaArena *b)
{
    unsigned units = oa_arena_units(b);
    return b->nfree <= units / 4 * 3 || b->ncarved < units;
}

void
oa_huge_shrink(OaHeap *heap)
{
    for (OaHalf *h = heap->idle; h != NULL;) {
        char *base = (char *)h;
        OaArena *b = oa_addrmap_lookup(buddy_of(base));
        oa_mem_open(h, sizeof *h);
        OaHalf *next = h->next;
        if (!h->released && stays(b)) {
            h->released = 1;
            decommit(base + OA_PAGE_SIZE, OA_ARENA_SIZE - OA_PAGE_SIZE);
        }
        oa_mem_hide(h, sizeof *h);
        h = next;
    }
    for (OaArena *a = heap->arenas; a != NULL; a = a->all_next) {
        size_t unit = oa_kind_unit(a->kind);
        if (a->huge && !a->tail_out && a->ncarved < oa_arena_units(a)) {
            a->tail_out = 1;
            decommit(a->base + a->ncarved * unit,
                     OA_ARENA_SIZE - a->ncarved * unit);
        }
    }
}

bool
oa_huge_trim(OaHeap *heap)
{
    bool any = heap->idle != NULL;
    while (heap->idle != NULL) {
        char *base = (char *)heap->idle;
        half_unlink(heap, base);
        OaArena *b = oa_addrmap_lookup(buddy_of(base));
        RCGC_ASSERT(b != NULL && b->heap == heap && b->huge);
        b->huge = 0; /* an arena of its own from now on */
        unmap(base, OA_ARENA_SIZE);
        heap->nchunks--;
    }
    return any;
}

int
oa_huge_check(const OaHeap *heap, char *why, size_t len)
{
    size_t n = 0;
    size_t in_chunks = 0;
    for (const OaArena *a = heap->arenas; a != NULL; a = a->all_next) {
        in_chunks += a->huge != 0;
    }
    for (const OaHalf *h = heap->idle; h != NULL; n++) {
        const char *base = (const char *)h;
        const OaArena *b = oa_addrmap_lookup(buddy_of(base));
        if (n >= heap->nidle) {
            snprintf(why, len, "idle half list longer than %zu", heap->nidle);
            return -1;
        }
        if (((uintptr_t)base & OA_ARENA_MASK) != 0 ||
            oa_addrmap_lookup(base) != NULL) {
            snprintf(why, len, "idle half %p is not a free arena slot",
                     (const void *)base);
            return -1;
        }
        if (b == NULL || b->heap != heap || !b->huge) {
            snprintf(why, len,
                     "idle half %p: its buddy is no huge arena of the heap",
                     (const void *)base);
            return -1;
        }
        oa_mem_open(h, sizeof *h);
        const OaHalf *next = h->next;
        oa_mem_hide(h, sizeof *h);
        h = next;
    }
    if (n != heap->nidle || in_chunks + n != 2 * heap->nchunks) {
        snprintf(why, len,
                 "%zu idle halves (%zu counted), %zu arenas in chunks, "
                 "%zu chunks",
                 n, heap->nidle, in_chunks, heap->nchunks);
        return -1;
    }
    return 0;
}
