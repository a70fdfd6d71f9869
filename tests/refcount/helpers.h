/* SPDX-License-Identifier: MIT */
/* helpers.h - types and fixtures shared by the refcount tests.
 *
 * Every suite that uses the fixture gets a fresh heap (`heap`, an RcHeap
 * with an objalloc heap of its own) and, at the end of each test, checks
 * that every object died (per-type and total live counts back to 0, total
 * of counts back to 0 in debug builds), that the heap invariants hold and
 * that every objalloc block came back. */
#ifndef RCGC_TESTS_REFCOUNT_HELPERS_H
#define RCGC_TESTS_REFCOUNT_HELPERS_H

#include "common/slots.h"
#include "common/testutil.h"
#include "refcount/refcount.h"

extern RcHeap *heap;
/* What the teardown expects rc_total_refs to be (0 unless a test stored
 * counts directly). */
extern int64_t rc_test_total_offset;

void rc_test_setup(void);
void rc_test_teardown(void);

/* A node with two reference slots (a GC type, default dealloc): a 2-slot
 * node of common/slots.h whose slots are also named a and b. */
typedef struct Pair {
    union {
        RcObject *slot[2];
        struct {
            RcObject *a, *b;
        };
    };
} Pair;
extern const RcType pair_type;
RcObject *new_pair(RcObject *a, RcObject *b); /* steals a and b */

static inline Pair *
pair(RcObject *op)
{
    return (Pair *)rc_payload(op);
}

/* A 16-byte object that owns no references (not GC). */
extern const RcType leaf_type;

/* A variable object: nitems reference slots after the length word. */
typedef struct Vec {
    size_t n;
    RcObject *items[];
} Vec;
extern const RcType vec_type;

/* A fake collector: tracks by setting RcGcHead.next to a marker and
 * counts the hook calls. */
typedef struct FakeGc {
    long created, untracked, tracked, live_tracked;
} FakeGc;
extern FakeGc fake_gc;
void attach_fake_gc(void);
int fake_is_tracked(RcObject *op);

#endif
