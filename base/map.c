/* SPDX-License-Identifier: MIT */
/* map.c - RcgcMap, the one hash map of the library (pointer -> word).
 *
 * Users: objalloc's process-wide set of large-block addresses (largeset.c,
 * slots from the system malloc) and refcount's per-heap maps object ->
 * newest weakref and type -> counters (ptrmap.c, slots from
 * oa_meta_malloc).  Keys are addresses of 8- or 16-byte aligned memory,
 * never 0.
 *
 * Data structure: open addressing with linear probing over a power-of-two
 * array of (key, value) slots; key 0 marks an empty slot.  A key's home
 * slot is a multiplicative (Fibonacci) hash of its address.
 *
 * Algorithm:
 *   lookup  1. start at the home slot;  2. step forward (wrapping) until
 *           the key or an empty slot is found.
 *   insert  the same walk; the empty slot found takes the key.  The owner
 *           doubles the table (rcgc_map_wanted, rcgc_map_rehash) before
 *           the load passes 1/2, so runs stay short.
 *   delete  backward shift: empty the slot, then walk the run after it
 *           and move back every key whose home slot is not inside the
 *           gap..key stretch (cyclically).  No tombstones, so lookups of
 *           absent keys stay short and never degrade.
 *
 * Invariant: for every key, all slots from its home slot to its slot are
 * full (that is what lets a lookup stop at the first empty slot).
 */
#include "base/base.h"

static size_t
home_slot(const RcgcMap *map, uintptr_t key)
{
    uint64_t h = (uint64_t)(key >> 3) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h ^ (h >> 32)) & (map->cap - 1);
}

static RcgcMapEntry *
find_slot(const RcgcMap *map, uintptr_t key)
{
    size_t mask = map->cap - 1;
    size_t i = home_slot(map, key);
    /* The run from the home slot holds key if the map does (invariant);
     * the load <= 1/2 guarantees an empty slot ends it. */
    while (map->slots[i].key != 0 && map->slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return &map->slots[i];
}

size_t
rcgc_map_wanted(const RcgcMap *map, size_t extra)
{
    size_t need = map->count + extra;
    size_t cap = map->cap ? map->cap : 8;
    if (need < map->count) {
        return 0;
    }
    while (need > cap / 2) {
        if (cap > SIZE_MAX / 2 / sizeof(RcgcMapEntry)) {
            return 0;
        }
        cap *= 2;
    }
    return cap;
}

RcgcMapEntry *
rcgc_map_rehash(RcgcMap *map, RcgcMapEntry *slots, size_t cap)
{
    RcgcMap bigger = {slots, cap, map->count};
    RCGC_ASSERT(cap != 0 && (cap & (cap - 1)) == 0 && map->count <= cap / 2);
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].key != 0) {
            *find_slot(&bigger, map->slots[i].key) = map->slots[i];
        }
    }
    RcgcMapEntry *old = map->slots;
    *map = bigger;
    RCGC_ASSERT_EXPENSIVE(rcgc_map_valid(map));
    return old;
}

uintptr_t
rcgc_map_get(const RcgcMap *map, uintptr_t key)
{
    if (map->cap == 0) {
        return 0;
    }
    return find_slot(map, key)->val;
}

void
rcgc_map_put(RcgcMap *map, uintptr_t key, uintptr_t val)
{
    RCGC_ASSERT(key != 0 && map->cap != 0);
    RcgcMapEntry *e = find_slot(map, key);
    if (e->key == 0) {
        RCGC_ASSERT(map->count < map->cap / 2 + 1); /* room was made */
        e->key = key;
        map->count++;
    }
    e->val = val;
}

/* Is slot i cyclically inside (gap, j]?  Then a key at j whose home is i
 * may not move back to gap. */
static int
in_range(size_t gap, size_t i, size_t j)
{
    return gap <= j ? (gap < i && i <= j) : (gap < i || i <= j);
}

/* Delete key by backward shift (top of file): the run after its slot
 * moves back over the hole wherever a key's home allows. */
uintptr_t
rcgc_map_remove(RcgcMap *map, uintptr_t key)
{
    if (map->cap == 0) {
        return 0;
    }
    size_t mask = map->cap - 1;
    RcgcMapEntry *e = find_slot(map, key);
    if (e->key == 0) {
        return 0;
    }
    uintptr_t val = e->val;
    size_t gap = (size_t)(e - map->slots);
    size_t j = gap;
    /* Loop invariant: slot gap is empty, and every key of the run other
     * than the one removed is still reachable from its home slot without
     * crossing gap (the keys moved so far are). */
    for (;;) {
        j = (j + 1) & mask;
        if (map->slots[j].key == 0) {
            break;
        }
        size_t home = home_slot(map, map->slots[j].key);
        if (!in_range(gap, home, j)) {
            map->slots[gap] = map->slots[j];
            gap = j;
        }
    }
    map->slots[gap].key = 0;
    map->slots[gap].val = 0;
    map->count--;
    return val;
}

int
rcgc_map_valid(const RcgcMap *map)
{
    if (map->cap == 0) {
        return map->slots == NULL && map->count == 0;
    }
    if ((map->cap & (map->cap - 1)) != 0) {
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].key == 0) {
            continue;
        }
        n++;
        /* every slot from the home slot to i is full */
        for (size_t k = home_slot(map, map->slots[i].key); k != i;
             k = (k + 1) & (map->cap - 1)) {
            if (map->slots[k].key == 0) {
                return 0;
            }
        }
    }
    return n == map->count;
}
