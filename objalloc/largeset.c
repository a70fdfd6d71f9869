/* SPDX-License-Identifier: MIT */
/* largeset.c - the process-wide set of live large-block addresses.
 *
 * oa_free(p) without a size must tell a large block of ours (system malloc
 * memory with an OaLarge header in front) from a foreign pointer, and may
 * not read memory in front of a foreign pointer to do so.  This set holds
 * the user address of every live large block of every heap.
 *
 * Data structure: base.h's RcgcMap (key: the address, value: 1) with its
 * slots from the system calloc, kept under one half full.  One mutex
 * guards it: large blocks already cost a system malloc, and small blocks
 * never come here.
 *
 * An empty set is answered without the lock: `live` is written under the
 * lock but read atomically first.  A block whose address a caller holds
 * was added before the caller got it (and so before the read), so a zero
 * count proves the address absent; a process that never made a large
 * block pays one load per foreign pointer.
 *
 * Invariant: live == map.count; p is a key iff p is a live large block.
 */
#include "objalloc/internal.h"

#include <pthread.h>
#include <stdlib.h>

static struct {
    pthread_mutex_t lock;
    RcgcMap map;
    _Atomic size_t live; /* == map.count, readable without the lock */
} set = {PTHREAD_MUTEX_INITIALIZER, {NULL, 0, 0}, 0};

/* Room for one more address.  Caller holds the lock.  0 or -1. */
static int
reserve_one(void)
{
    size_t cap = rcgc_map_wanted(&set.map, 1);
    if (cap == 0) {
        return -1;
    }
    if (cap == set.map.cap) {
        return 0;
    }
    RcgcMapEntry *slots = calloc(cap, sizeof *slots);
    if (slots == NULL) {
        return -1;
    }
    free(rcgc_map_rehash(&set.map, slots, cap));
    return 0;
}

int
oa_largeset_add(const void *p)
{
    pthread_mutex_lock(&set.lock);
    int rc = reserve_one();
    if (rc == 0) {
        RCGC_ASSERT(rcgc_map_get(&set.map, (uintptr_t)p) == 0); /* once */
        rcgc_map_put(&set.map, (uintptr_t)p, 1);
        atomic_store_explicit(&set.live, set.map.count, memory_order_relaxed);
    }
    RCGC_ASSERT_EXPENSIVE(rcgc_map_valid(&set.map));
    pthread_mutex_unlock(&set.lock);
    return rc;
}

bool
oa_largeset_remove(const void *p)
{
    if (atomic_load_explicit(&set.live, memory_order_relaxed) == 0) {
        return false;
    }
    pthread_mutex_lock(&set.lock);
    bool found = rcgc_map_remove(&set.map, (uintptr_t)p) != 0;
    atomic_store_explicit(&set.live, set.map.count, memory_order_relaxed);
    pthread_mutex_unlock(&set.lock);
    return found;
}

#if OA_DEBUG
/* Debug builds: every live block is looked at (O(live large blocks)), on
 * the path of a pointer that is not ours, which is rare. */
const void *
oa_largeset_containing(const void *p)
{
    const char *q = p;
    const void *found = NULL;
    pthread_mutex_lock(&set.lock);
    /* Live blocks do not overlap: at most one contains q. */
    for (size_t i = 0; i < set.map.cap && found == NULL; i++) {
        const char *b = (const char *)set.map.slots[i].key;
        if (b != NULL && b < q && q < b + oa_large_read(b).nbytes) {
            found = b;
        }
    }
    pthread_mutex_unlock(&set.lock);
    return found;
}
#endif

bool
oa_largeset_has(const void *p)
{
    if (atomic_load_explicit(&set.live, memory_order_relaxed) == 0) {
        return false;
    }
    pthread_mutex_lock(&set.lock);
    bool found = rcgc_map_get(&set.map, (uintptr_t)p) != 0;
    pthread_mutex_unlock(&set.lock);
    return found;
}
