/* SPDX-License-Identifier: MIT */
/* arenameta.c - the bookkeeping of arenas (an OaArena and its pools'
 * metadata array, internal.h), in slots of 64 KiB slabs the heap takes
 * from the system itself.
 *
 * Data structure: heap->metaslabs, a list of slabs; each slab starts with
 * an OaMetaSlab header (one cache line) followed by OA_META_SLOTS slots of
 * OA_META_SLOT bytes (64-byte aligned, for an arena of either kind), and a
 * bit per slot in its `used` mask.
 *
 * Steps:
 *   1. oa_arena_meta_new: the first slab with a free slot gives its lowest
 *      one (zeroed); with none, a new slab is mapped (mmap, or the system
 *      malloc for a heap whose arenas come from the caller, which may have
 *      no mmap) and linked at the head;
 *   2. oa_arena_meta_free: the slot's bit is cleared; a slab left with no
 *      slot in use goes back to the system.
 * Why not one malloc per arena: that was 4.3 KiB per request, and after
 * glibc's own workload in the same process left its heap full of freed
 * chunks, such requests cost glibc a search each: rcgc-bench alloc's
 * build row ran 1.8-2.3x slower in the round that followed glibc's
 * (100 ns per block before, 180-300 after); a slab is one request per 15
 * arenas, and mmap does not search.
 *
 * Invariants: a slab is on heap->metaslabs iff one of its slots is in use;
 * used has bit i iff slot i holds a live arena's bookkeeping.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "objalloc/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define OA_META_SLAB 65536u
#define OA_META_SLOT                                                          \
    ((sizeof(OaArena) + OA_POOLS_PER_ARENA * sizeof(OaPool) + 63) &           \
     ~(size_t)63)
#define OA_META_SLOTS ((OA_META_SLAB - 64) / OA_META_SLOT)

struct OaMetaSlab {
    OaMetaSlab *next;
    OaMetaSlab *prev;
    uint32_t used; /* bit i: slot i in use */
};

_Static_assert(sizeof(OaMetaSlab) <= 64, "slab header is one line");
_Static_assert(OA_META_SLOTS >= 1 && OA_META_SLOTS <= 32, "slots per slab");

static char *
slot_at(OaMetaSlab *s, unsigned i)
{
    return (char *)s + 64 + i * OA_META_SLOT;
}

/* A new slab, linked at the head of the heap's list, or NULL. */
static OaMetaSlab *
slab_new(OaHeap *heap)
{
    OaMetaSlab *s;
    if (heap->source == NULL) {
        s = mmap(NULL, OA_META_SLAB, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (s == MAP_FAILED) {
            return NULL;
        }
    }
    else if ((s = aligned_alloc(64, OA_META_SLAB)) == NULL) {
        return NULL;
    }
    s->used = 0;
    s->prev = NULL;
    s->next = heap->metaslabs;
    if (s->next != NULL) {
        s->next->prev = s;
    }
    heap->metaslabs = s;
    return s;
}

static void
slab_free(OaHeap *heap, OaMetaSlab *s)
{
    if (s->prev != NULL) {
        s->prev->next = s->next;
    }
    else {
        heap->metaslabs = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    if (heap->source == NULL) {
        munmap(s, OA_META_SLAB);
    }
    else {
        free(s);
    }
}

OaArena *
oa_arena_meta_new(OaHeap *heap, unsigned kind)
{
    const uint32_t full = (uint32_t)((1ull << OA_META_SLOTS) - 1);
    OaMetaSlab *s = heap->metaslabs;
    while (s != NULL && s->used == full) {
        s = s->next;
    }
    if (s == NULL && (s = slab_new(heap)) == NULL) {
        return NULL;
    }
    unsigned i = (unsigned)__builtin_ctz(~s->used);
    s->used |= (uint32_t)1 << i;
    OaArena *a = (OaArena *)slot_at(s, i);
    unsigned units =
        kind == OA_KIND_MEDIUM ? OA_SPANS_PER_ARENA : OA_POOLS_PER_ARENA;
    /* only the lines a medium arena uses: its slot's tail stays untouched
     * (not resident) in a fresh slab */
    memset(a, 0, sizeof(OaArena) + units * sizeof(OaPool));
    a->kind = kind;
    a->slab = s;
    return a;
}

void
oa_arena_meta_free(OaHeap *heap, OaArena *a)
{
    OaMetaSlab *s = a->slab;
    unsigned i = (unsigned)(((char *)a - slot_at(s, 0)) / OA_META_SLOT);
    RCGC_ASSERT((char *)a == slot_at(s, i) && (s->used >> i) & 1);
    s->used &= ~((uint32_t)1 << i);
    if (s->used == 0) {
        slab_free(heap, s);
    }
}

bool
oa_arena_meta_holds(const OaArena *a)
{
    const OaMetaSlab *s = a->slab;
    size_t off = (size_t)((const char *)a - ((const char *)s + 64));
    return off % OA_META_SLOT == 0 && off / OA_META_SLOT < OA_META_SLOTS &&
           ((s->used >> (off / OA_META_SLOT)) & 1);
}

size_t
oa_arena_meta_slots(const OaHeap *heap)
{
    size_t n = 0;
    const OaMetaSlab *prev = NULL;
    for (const OaMetaSlab *s = heap->metaslabs; s != NULL; s = s->next) {
        if (s->prev != prev || s->used == 0 ||
            (s->used >> OA_META_SLOTS) != 0) {
            return (size_t)-1;
        }
        n += (size_t)__builtin_popcount(s->used);
        prev = s;
    }
    return n;
}

size_t
oa_arena_meta_bytes(const OaHeap *heap)
{
    size_t n = 0;
    for (const OaMetaSlab *s = heap->metaslabs; s != NULL; s = s->next) {
        n += OA_META_SLAB;
    }
    return n;
}
