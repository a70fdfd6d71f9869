/* SPDX-License-Identifier: MIT */
/* addrmap.c - the process-wide map from arena addresses to arenas.
 *
 * Answers "is this pointer inside one of our arenas?" in O(1) without
 * reading any memory the library does not own, for every heap of the
 * process (what CPython's radix tree over address bits answers, for aligned
 * arenas).
 *
 * Data structure: a flat array of one entry per MiB of the 48 significant
 * address bits of x86-64/arm64 user space (2^28 entries of 8 bytes, 2 GiB
 * of address space), reserved by the first arena of the process and never
 * freed.  Bits 47..20 of a pointer index it; bits 19..0 are the offset
 * inside the 1 MiB arena, which is aligned to 1 MiB, so one entry names
 * exactly one arena.  An entry's bit 0 (OA_MAP_MEDIUM) says the arena
 * holds medium spans (internal.h: oa_pool_at).  A lookup is one shift, a
 * compare with oa_map_limit and one load; the two-level radix tree this
 * replaced (a static root, 128 KiB leaves) took two dependent loads and
 * six more instructions on every free.
 *
 * Memory: the reservation is read-only, so it costs no commit charge even
 * under strict overcommit, and a read of an entry no arena ever had lands
 * on the kernel's shared zero page.  Publishing an arena makes the page of
 * its entry writable (mprotect): one page of map per 512 MiB of address
 * space that held arenas (4 KiB pages).
 *
 * Fallback: when the reservation fails (an address-space limit such as
 * `ulimit -v`, which counts reserved ranges), the process keeps the map
 * as a two-level radix tree instead (a static root of 16384 pointers over
 * bits 47..34, 128 KiB leaves over bits 33..20, mapped on first use).
 * The choice is made once, at the first arena, and kept for the life of
 * the process.  The limit then stays 0, so every lookup takes the out of
 * line oa_addrmap_entry_slow (two dependent loads more than the flat
 * map), and the library works as before, only slower to free.
 *
 * Concurrency: readers use atomic acquire loads and take no lock; writers
 * (arena map and unmap, rare) hold one mutex.  oa_map is set before
 * oa_map_limit is published; an entry is published after the arena is
 * initialised, and cleared before it is unmapped.
 *
 * Invariant: oa_map[i] (or the tree's entry for i) == arena | (arena is
 * medium) iff arena->base >> 20 == i, for every mapped arena of every
 * live heap.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "objalloc/internal.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

_Atomic size_t oa_map_limit;
_Atomic uintptr_t *oa_map;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

/* Where the flat map is asked for: 32 TiB, below where Linux puts
 * executables (0x55...) and mappings (0x7f..., top-down) and above
 * ASan's shadow (which ends near 17.6 TiB), so that the reservation
 * leaves the holes between the program's mappings, where the kernel also
 * places arenas, as they were.  Placed among them, it had heaps whose
 * arenas lay on both sides of it spread over 2 GiB, which the
 * pause-bounded pass's address buckets sort poorly.  A hint only: a range
 * in use lets the kernel choose. */
#define MAP_HINT ((uintptr_t)1 << 45)

/* -1 before the first arena, 1 flat map, 0 tree (under map_lock). */
static int map_mode = -1;
static _Atomic bool tree_used; /* map_mode == 0, for lock-free readers */
static bool refuse_flat;       /* tests: act as if the reservation failed */

#define TREE_LEAF_BITS 14
#define TREE_ROOT_BITS (OA_MAP_ADDR_BITS - 20 - TREE_LEAF_BITS) /* 14 */

typedef struct TreeLeaf {
    _Atomic uintptr_t e[1u << TREE_LEAF_BITS];
} TreeLeaf;

static _Atomic(TreeLeaf *) tree_root[1u << TREE_ROOT_BITS];

/* Choose the map on the first arena: reserve the flat one, or fall back
 * to the tree.  Caller holds map_lock. */
static void
choose_map(void)
{
    if (map_mode >= 0) {
        return;
    }
    void *m = MAP_FAILED;
    if (!refuse_flat) {
        m = mmap((void *)MAP_HINT, OA_MAP_ENTRIES * sizeof(uintptr_t),
                 PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                 0);
    }
    if (m == MAP_FAILED) {
        map_mode = 0;
        atomic_store_explicit(&tree_used, true, memory_order_release);
        return;
    }
    oa_map = m; /* zero: every entry 0 */
    atomic_store_explicit(&oa_map_limit, OA_MAP_ENTRIES, memory_order_release);
    map_mode = 1;
}

/* The flat map's slot for entry i, its page made writable; NULL when
 * mprotect fails.  Caller holds map_lock. */
static _Atomic uintptr_t *
flat_slot(size_t i)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t at = (uintptr_t)&oa_map[i] & ~(page - 1);
    if (mprotect((void *)at, page, PROT_READ | PROT_WRITE) != 0) {
        return NULL;
    }
    return &oa_map[i];
}

/* The tree's slot for entry i, its leaf mapped on first use; NULL when
 * that fails.  Caller holds map_lock. */
static _Atomic uintptr_t *
tree_slot(size_t i)
{
    size_t top = i >> TREE_LEAF_BITS;
    TreeLeaf *leaf =
        atomic_load_explicit(&tree_root[top], memory_order_relaxed);
    if (leaf == NULL) {
        void *m = mmap(NULL, sizeof(TreeLeaf), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            return NULL;
        }
        leaf = m; /* zero: every entry 0 */
        atomic_store_explicit(&tree_root[top], leaf, memory_order_release);
    }
    return &leaf->e[i & ((1u << TREE_LEAF_BITS) - 1)];
}

uintptr_t
oa_addrmap_entry_slow(const void *p)
{
    uintptr_t i = (uintptr_t)p >> 20;
    if (!atomic_load_explicit(&tree_used, memory_order_acquire) ||
        i >= OA_MAP_ENTRIES) {
        return 0;
    }
    TreeLeaf *leaf = atomic_load_explicit(&tree_root[i >> TREE_LEAF_BITS],
                                          memory_order_acquire);
    if (leaf == NULL) {
        return 0;
    }
    return atomic_load_explicit(&leaf->e[i & ((1u << TREE_LEAF_BITS) - 1)],
                                memory_order_acquire);
}

/* Publish an arena.  0, or -1 when its address is out of range or the
 * map could not be written. */
int
oa_addrmap_insert(OaArena *arena)
{
    uintptr_t a = (uintptr_t)arena->base;
    if (a >> OA_MAP_ADDR_BITS) {
        return -1;
    }
    RCGC_ASSERT((a & OA_ARENA_MASK) == 0); /* one entry names one arena */
    size_t i = a >> 20;
    pthread_mutex_lock(&map_lock);
    choose_map();
    _Atomic uintptr_t *slot = map_mode == 1 ? flat_slot(i) : tree_slot(i);
    if (slot != NULL) {
        RCGC_ASSERT(atomic_load_explicit(slot, memory_order_relaxed) == 0);
        uintptr_t e = (uintptr_t)arena |
                      (arena->kind == OA_KIND_MEDIUM ? OA_MAP_MEDIUM : 0);
        atomic_store_explicit(slot, e, memory_order_release);
    }
    pthread_mutex_unlock(&map_lock);
    return slot != NULL ? 0 : -1;
}

/* Withdraw an arena before it is unmapped (its slot exists: the arena was
 * published). */
void
oa_addrmap_remove(OaArena *arena)
{
    size_t i = (uintptr_t)arena->base >> 20;
    pthread_mutex_lock(&map_lock);
    _Atomic uintptr_t *slot;
    if (map_mode == 1) {
        slot = &oa_map[i];
    }
    else {
        TreeLeaf *leaf = atomic_load_explicit(&tree_root[i >> TREE_LEAF_BITS],
                                              memory_order_relaxed);
        RCGC_ASSERT(leaf != NULL);
        slot = &leaf->e[i & ((1u << TREE_LEAF_BITS) - 1)];
    }
    RCGC_ASSERT((atomic_load_explicit(slot, memory_order_relaxed) &
                 ~(uintptr_t)OA_MAP_MEDIUM) == (uintptr_t)arena);
    atomic_store_explicit(slot, 0, memory_order_release);
    pthread_mutex_unlock(&map_lock);
}

void
oa_addrmap_prepare(void)
{
    if (atomic_load_explicit(&oa_map_limit, memory_order_acquire) != 0 ||
        atomic_load_explicit(&tree_used, memory_order_acquire)) {
        return;
    }
    pthread_mutex_lock(&map_lock);
    choose_map();
    pthread_mutex_unlock(&map_lock);
}

int
oa_addrmap_mode(void)
{
    pthread_mutex_lock(&map_lock);
    int mode = map_mode;
    pthread_mutex_unlock(&map_lock);
    return mode;
}

void
oa_addrmap_refuse_flat(void)
{
    pthread_mutex_lock(&map_lock);
    refuse_flat = true;
    pthread_mutex_unlock(&map_lock);
}
