/* SPDX-License-Identifier: MIT */
/* addrmap.c - the process-wide map from arena addresses to arenas.
 *
 * Answers "is this pointer inside one of our arenas?" in O(1) without
 * reading any memory the library does not own, for every heap of the
 * process (CPython's radix tree over address bits, specialised to aligned
 * arenas).
 *
 * Data structure: a two-level radix tree over the 48 significant address
 * bits of x86-64/arm64 user space.  Bits 47..34 index the static root
 * (16384 pointers), bits 33..20 index a leaf (16384 arena pointers, 128
 * KiB, mmap'd on first use and never freed).  Bits 19..0 are the offset
 * inside the 1 MiB arena, which is aligned to 1 MiB, so one entry names
 * exactly one arena.  An entry's bit 0 (OA_MAP_MEDIUM) says the arena
 * holds medium spans (internal.h: oa_pool_at).
 *
 * Concurrency: readers use atomic acquire loads and take no lock; writers
 * (arena map and unmap, rare) hold one mutex.  An entry is published after
 * the arena is initialised, and cleared before it is unmapped.
 *
 * Invariant: oa_map_root[i]->e[j] == arena | (arena is medium) iff
 * arena->base has those index bits, for every mapped arena of every live
 * heap.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "objalloc/internal.h"

#include <pthread.h>
#include <sys/mman.h>

_Atomic(OaMapLeaf *) oa_map_root[1u << OA_MAP_ROOT_BITS];
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
root_index(uintptr_t a)
{
    return a >> (20 + OA_MAP_LEAF_BITS);
}

static size_t
leaf_index(uintptr_t a)
{
    return (a >> 20) & ((1u << OA_MAP_LEAF_BITS) - 1);
}

/* The leaf for address a, mapped on first use.  Caller holds map_lock. */
static OaMapLeaf *
leaf_for(uintptr_t a)
{
    OaMapLeaf *leaf = atomic_load_explicit(&oa_map_root[root_index(a)],
                                           memory_order_relaxed);
    if (leaf != NULL) {
        return leaf;
    }
    void *m = mmap(NULL, sizeof(OaMapLeaf), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        return NULL;
    }
    leaf = m; /* mmap memory is zero: every entry NULL */
    atomic_store_explicit(&oa_map_root[root_index(a)], leaf,
                          memory_order_release);
    return leaf;
}

/* Publish an arena.  0, or -1 when its address is out of range or no leaf
 * could be mapped. */
int
oa_addrmap_insert(OaArena *arena)
{
    uintptr_t a = (uintptr_t)arena->base;
    if (a >> OA_MAP_ADDR_BITS) {
        return -1;
    }
    RCGC_ASSERT((a & OA_ARENA_MASK) == 0); /* one entry names one arena */
    pthread_mutex_lock(&map_lock);
    OaMapLeaf *leaf = leaf_for(a);
    if (leaf != NULL) {
        RCGC_ASSERT(atomic_load_explicit(&leaf->e[leaf_index(a)],
                                         memory_order_relaxed) == 0);
        uintptr_t e = (uintptr_t)arena |
                      (arena->kind == OA_KIND_MEDIUM ? OA_MAP_MEDIUM : 0);
        atomic_store_explicit(&leaf->e[leaf_index(a)], e,
                              memory_order_release);
    }
    pthread_mutex_unlock(&map_lock);
    return leaf != NULL ? 0 : -1;
}

/* Withdraw an arena before it is unmapped. */
void
oa_addrmap_remove(OaArena *arena)
{
    uintptr_t a = (uintptr_t)arena->base;
    pthread_mutex_lock(&map_lock);
    OaMapLeaf *leaf = atomic_load_explicit(&oa_map_root[root_index(a)],
                                           memory_order_relaxed);
    if (leaf != NULL) {
        RCGC_ASSERT((atomic_load_explicit(&leaf->e[leaf_index(a)],
                                          memory_order_relaxed) &
                     ~(uintptr_t)OA_MAP_MEDIUM) == (uintptr_t)arena);
        atomic_store_explicit(&leaf->e[leaf_index(a)], 0,
                              memory_order_release);
    }
    pthread_mutex_unlock(&map_lock);
}
