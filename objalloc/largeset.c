/* largeset.c - the process-wide set of live large-block addresses.
 *
 * oa_free(p) without a size must tell a large block of ours (system malloc
 * memory with an OaLarge header in front) from a foreign pointer, and may
 * not read memory in front of a foreign pointer to do so.  This set holds
 * the user address of every live large block of every heap.
 *
 * Data structure: an open-addressing hash table of addresses with linear
 * probing and backward-shift deletion (no tombstones), grown to keep the
 * load under one half.  One mutex guards it: large blocks already cost a
 * system malloc, and small blocks never come here.
 *
 * Invariants: count < cap / 2 (or cap == 0); every key sits in the probe
 * run that starts at its hash slot, with no empty slot in between.
 *
 * An empty set is answered without the lock: count is written under the
 * lock but read atomically first.  A block whose address a caller holds
 * was added before the caller got it (and so before the read), so a zero
 * count proves the address absent; a process that never made a large
 * block pays one load per foreign pointer.
 */
#include "objalloc/internal.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *slots;     /* 0 = empty */
static size_t cap;           /* power of two, or 0 */
static _Atomic size_t count; /* written under set_lock */

static size_t
hash(uintptr_t a)
{
    uint64_t h = (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20);
}

static void
put(uintptr_t *tab, size_t n, uintptr_t a)
{
    size_t i = hash(a) & (n - 1);
    while (tab[i] != 0) {
        i = (i + 1) & (n - 1);
    }
    tab[i] = a;
}

/* Double the table.  Caller holds set_lock.  0 or -1. */
static int
grow(void)
{
    size_t ncap = cap ? cap * 2 : 64;
    uintptr_t *tab = calloc(ncap, sizeof *tab);
    if (tab == NULL) {
        return -1;
    }
    for (size_t i = 0; i < cap; i++) {
        if (slots[i] != 0) {
            put(tab, ncap, slots[i]);
        }
    }
    free(slots);
    slots = tab;
    cap = ncap;
    return 0;
}

/* Slot of a, or cap when absent.  Caller holds set_lock. */
static size_t
find(uintptr_t a)
{
    if (cap == 0) {
        return 0;
    }
    size_t i = hash(a) & (cap - 1);
    while (slots[i] != 0) {
        if (slots[i] == a) {
            return i;
        }
        i = (i + 1) & (cap - 1);
    }
    return cap;
}

int
oa_largeset_add(const void *p)
{
    int rc = 0;
    pthread_mutex_lock(&set_lock);
    size_t n = atomic_load_explicit(&count, memory_order_relaxed);
    if (2 * (n + 1) > cap) {
        rc = grow();
    }
    if (rc == 0) {
        put(slots, cap, (uintptr_t)p);
        atomic_store_explicit(&count, n + 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&set_lock);
    return rc;
}

/* Backward-shift deletion: pull later members of the run into the hole
 * when their home slot does not lie (cyclically) between hole and them. */
bool
oa_largeset_remove(const void *p)
{
    if (atomic_load_explicit(&count, memory_order_relaxed) == 0) {
        return false;
    }
    pthread_mutex_lock(&set_lock);
    size_t i = find((uintptr_t)p);
    bool found = cap != 0 && i < cap;
    if (found) {
        size_t hole = i;
        size_t j = i;
        for (;;) {
            j = (j + 1) & (cap - 1);
            if (slots[j] == 0) {
                break;
            }
            size_t home = hash(slots[j]) & (cap - 1);
            /* slots[j] may move to hole iff home is not in (hole, j]. */
            bool stays = hole <= j ? (hole < home && home <= j)
                                   : (hole < home || home <= j);
            if (!stays) {
                slots[hole] = slots[j];
                hole = j;
            }
        }
        slots[hole] = 0;
        atomic_store_explicit(
            &count, atomic_load_explicit(&count, memory_order_relaxed) - 1,
            memory_order_relaxed);
    }
    pthread_mutex_unlock(&set_lock);
    return found;
}

bool
oa_largeset_has(const void *p)
{
    if (atomic_load_explicit(&count, memory_order_relaxed) == 0) {
        return false;
    }
    pthread_mutex_lock(&set_lock);
    size_t i = find((uintptr_t)p);
    bool found = cap != 0 && i < cap;
    pthread_mutex_unlock(&set_lock);
    return found;
}
