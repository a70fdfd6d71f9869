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
 * space that held arenas (4 KiB pages).  When the reservation fails (an
 * address-space limit), the limit stays 0: every lookup answers "not
 * ours" and no arena can be published, so the heap reports the failure as
 * it reports any mapping that fails.
 *
 * Concurrency: readers use atomic acquire loads and take no lock; writers
 * (arena map and unmap, rare) hold one mutex.  oa_map is set before
 * oa_map_limit is published; an entry is published after the arena is
 * initialised, and cleared before it is unmapped.
 *
 * Invariant: oa_map[i] == arena | (arena is medium) iff arena->base >> 20
 * == i, for every mapped arena of every live heap.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "objalloc/internal.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

_Atomic size_t oa_map_limit;
_Atomic uintptr_t *oa_map;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

/* Reserve the map on first use.  Caller holds map_lock. */
static bool
map_reserved(void)
{
    if (oa_map != NULL) {
        return true;
    }
    void *m = mmap(NULL, OA_MAP_ENTRIES * sizeof(uintptr_t), PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        return false;
    }
    oa_map = m; /* zero: every entry 0 */
    atomic_store_explicit(&oa_map_limit, OA_MAP_ENTRIES, memory_order_release);
    return true;
}

/* Make the map page holding entry i writable.  Caller holds map_lock. */
static bool
entry_writable(size_t i)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t at = (uintptr_t)&oa_map[i] & ~(page - 1);
    return mprotect((void *)at, page, PROT_READ | PROT_WRITE) == 0;
}

/* Publish an arena.  0, or -1 when its address is out of range or the
 * map could not be reserved or written. */
int
oa_addrmap_insert(OaArena *arena)
{
    uintptr_t a = (uintptr_t)arena->base;
    if (a >> OA_MAP_ADDR_BITS) {
        return -1;
    }
    RCGC_ASSERT((a & OA_ARENA_MASK) == 0); /* one entry names one arena */
    size_t i = a >> 20;
    int r = -1;
    pthread_mutex_lock(&map_lock);
    if (map_reserved() && entry_writable(i)) {
        RCGC_ASSERT(atomic_load_explicit(&oa_map[i], memory_order_relaxed) ==
                    0);
        uintptr_t e = (uintptr_t)arena |
                      (arena->kind == OA_KIND_MEDIUM ? OA_MAP_MEDIUM : 0);
        atomic_store_explicit(&oa_map[i], e, memory_order_release);
        r = 0;
    }
    pthread_mutex_unlock(&map_lock);
    return r;
}

/* Withdraw an arena before it is unmapped (its entry's page is writable:
 * the arena was published). */
void
oa_addrmap_remove(OaArena *arena)
{
    size_t i = (uintptr_t)arena->base >> 20;
    pthread_mutex_lock(&map_lock);
    RCGC_ASSERT(i < oa_map_limit &&
                (atomic_load_explicit(&oa_map[i], memory_order_relaxed) &
                 ~(uintptr_t)OA_MAP_MEDIUM) == (uintptr_t)arena);
    atomic_store_explicit(&oa_map[i], 0, memory_order_release);
    pthread_mutex_unlock(&map_lock);
}
