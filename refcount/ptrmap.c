/* SPDX-License-Identifier: MIT */
/* ptrmap.c - refcount's pointer maps: base.h's RcgcMap with its slot
 * array in oa_meta_malloc memory.
 *
 * refcount keeps two per heap: object -> newest weak reference, and type
 * -> index of its counters.  The map itself (hashing, probing, backward-
 * shift deletion) is base/map.c; this file only gets and frees the slot
 * arrays, so that the heap's limit and failure injection reach them.
 */
#include "refcount/internal.h"

#include <string.h>

int
rc_map_reserve(OaHeap *oa, RcPtrMap *map, size_t extra)
{
    size_t cap = rcgc_map_wanted(map, extra);
    if (cap == 0) {
        return -1;
    }
    if (cap == map->cap) {
        return 0;
    }
    size_t nbytes = cap * sizeof(RcgcMapEntry);
    RcgcMapEntry *slots = oa_meta_malloc(oa, nbytes);
    if (slots == NULL) {
        return -1;
    }
    memset(slots, 0, nbytes);
    size_t old_cap = map->cap;
    RcgcMapEntry *old = rcgc_map_rehash(map, slots, cap);
    if (old != NULL) {
        oa_meta_free(oa, old, old_cap * sizeof(RcgcMapEntry));
    }
    return 0;
}

void
rc_map_free(OaHeap *oa, RcPtrMap *map)
{
    if (map->slots != NULL) {
        oa_meta_free(oa, map->slots, map->cap * sizeof(RcgcMapEntry));
    }
    map->slots = NULL;
    map->cap = 0;
    map->count = 0;
}
