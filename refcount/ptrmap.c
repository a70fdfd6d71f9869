/* ptrmap.c - a small hash map from pointers to words.
 *
 * refcount keeps two: object -> newest weak reference, and type ->
 * index of its counters.  Both are keyed by pointers to 16-byte aligned
 * (objects) or 8-byte aligned (types) memory, never 0.
 *
 * Data structure: open addressing with linear probing over a power-of-two
 * array of (key, value) slots; key 0 marks an empty slot.  The home slot
 * of a key is a multiplicative (Fibonacci) hash of its address.
 *
 * Algorithm:
 *   lookup  1. start at the home slot;  2. step forward (wrapping) until
 *           the key or an empty slot is found.
 *   insert  the same walk; the empty slot found takes the key.  The table
 *           doubles (rehashing every key) before the load passes 1/2, so
 *           runs stay short; memory comes from oa_meta_malloc, counted
 *           against the heap's limit and hit by failure injection.
 *   delete  backward-shift: empty the slot, then walk the run after it
 *           and move back every key whose home slot is not inside the
 *           gap..key stretch (cyclically).  No tombstones, so lookups of
 *           absent keys stay short and never degrade.
 *
 * Invariant: for every key, all slots from its home slot to its slot are
 * full (that is what lets a lookup stop at the first empty slot).
 */
#include "refcount/internal.h"

#include <string.h>

static size_t
home_slot(const RcPtrMap *map, uintptr_t key)
{
    uint64_t h = (uint64_t)(key >> 3) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h ^ (h >> 32)) & (map->cap - 1);
}

static RcPtrEntry *
find_slot(const RcPtrMap *map, uintptr_t key)
{
    size_t mask = map->cap - 1;
    size_t i = home_slot(map, key);
    while (map->slots[i].key != 0 && map->slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return &map->slots[i];
}

static int
grow(OaHeap *oa, RcPtrMap *map, size_t cap)
{
    RcPtrMap bigger = {NULL, cap, 0};
    size_t nbytes = cap * sizeof(RcPtrEntry);
    bigger.slots = oa_meta_malloc(oa, nbytes);
    if (bigger.slots == NULL) {
        return -1;
    }
    memset(bigger.slots, 0, nbytes);
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].key != 0) {
            *find_slot(&bigger, map->slots[i].key) = map->slots[i];
        }
    }
    bigger.count = map->count;
    rc_map_free(oa, map);
    *map = bigger;
    return 0;
}

int
rc_map_reserve(OaHeap *oa, RcPtrMap *map, size_t extra)
{
    size_t need = map->count + extra;
    size_t cap = map->cap ? map->cap : 8;
    if (need < map->count) {
        return -1;
    }
    while (need > cap / 2) {
        if (cap > SIZE_MAX / 2 / sizeof(RcPtrEntry)) {
            return -1;
        }
        cap *= 2;
    }
    return cap == map->cap ? 0 : grow(oa, map, cap);
}

uintptr_t
rc_map_get(const RcPtrMap *map, uintptr_t key)
{
    if (map->cap == 0) {
        return 0;
    }
    return find_slot(map, key)->val;
}

void
rc_map_put(RcPtrMap *map, uintptr_t key, uintptr_t val)
{
    RcPtrEntry *e = find_slot(map, key);
    if (e->key == 0) {
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

uintptr_t
rc_map_remove(RcPtrMap *map, uintptr_t key)
{
    if (map->cap == 0) {
        return 0;
    }
    size_t mask = map->cap - 1;
    RcPtrEntry *e = find_slot(map, key);
    if (e->key == 0) {
        return 0;
    }
    uintptr_t val = e->val;
    size_t gap = (size_t)(e - map->slots);
    size_t j = gap;
    /* Loop invariant: slot gap is empty and every key between home and
     * its slot, other than at gap, is still reachable. */
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

void
rc_map_free(OaHeap *oa, RcPtrMap *map)
{
    if (map->slots != NULL) {
        oa_meta_free(oa, map->slots, map->cap * sizeof(RcPtrEntry));
    }
    map->slots = NULL;
    map->cap = 0;
    map->count = 0;
}
