/* SPDX-License-Identifier: MIT */
/* world.h - a collector with heaps of its own plus the references a test
 * holds, for the tests/oom scenarios (world.c). */
#ifndef RCGC_TESTS_OOM_WORLD_H
#define RCGC_TESTS_OOM_WORLD_H

#include "oom.h"

typedef struct World {
    GcHeap *gc;
    RcHeap *rc;
    OaHeap *oa;
    RcObject **held; /* external references */
    size_t nheld, cap;
    uint64_t next_id;
    size_t param; /* scenario-specific size */
} World;

World *world_new(size_t cap, size_t param);
/* Keep op (a reference the caller owns) in the world. */
void world_hold(World *w, RcObject *op);
/* Drop held[i] (the last entry moves there). */
void world_drop(World *w, size_t i);
/* Drop everything, collect, assert all objects died and all blocks came
 * back, destroy. */
void world_free(World *w);

OaHeap *world_oa(void *ctx);
GcHeap *world_gc(void *ctx);
void world_cleanup(void *ctx);

#endif
