/* SPDX-License-Identifier: MIT */
/* gcutil.h - types and fixtures shared by the cyclegc behaviour suite.
 *
 * Every test runs against a fresh collector with heaps of its own
 * (gt_setup).  The teardown (gt_teardown) empties the garbage list, runs a
 * full collection and then checks that the collector's, refcount's and
 * objalloc's invariants hold, that every object died (rc_live_total == 0)
 * and that every objalloc block came back (blocks_used == 0).
 *
 * Test objects: GtNode, a GT_SLOTS-slot node (common/slots.h) with an id
 * and data words whose checksum (sum) proves the payload intact.  One
 * payload layout, several types:
 *     gt_node_type       GC type, plain;
 *     gt_fin_type        + finalize: counts, checks that the object and
 *                        what it refers to are intact, calls gt_fin_hook;
 *     gt_lazarus_type    + finalize that resurrects (stores a reference
 *                        in gt_saved);
 *     gt_legacy_type     + legacy_del (uncollectable in a cycle);
 *     gt_untracked_type  GC type created untracked;
 *     gt_leaf_type       not a GC type (slots unused).
 * Every type's dealloc counts the death, checks the payload and that the
 * object is untracked, and records the death by id (gt_dead).
 * GtLink is a 1-slot node for the ten-million-object tests. */
#ifndef RCGC_TESTS_CYCLEGC_GCUTIL_H
#define RCGC_TESTS_CYCLEGC_GCUTIL_H

#include "common/slots.h"
#include "common/testutil.h"
#include "cyclegc/cyclegc.h"

#include <stddef.h>
#include <stdint.h>

#define GT_SLOTS 4 /* k of the GtNode types: 1, 2 or 4 (common/slots.h) */

typedef struct GtNode {
    RcObject *slot[GT_SLOTS];
    uint64_t id;
    uint64_t sum; /* gt_checksum(id, data) */
    uint64_t data[2];
} GtNode;

typedef struct GtLink {
    RcObject *next;
    uint64_t id;
} GtLink;

extern GcHeap *gt_gc;
extern RcHeap *gt_rc;

extern const RcType gt_node_type;
extern const RcType gt_fin_type;
extern const RcType gt_lazarus_type;
extern const RcType gt_legacy_type;
extern const RcType gt_untracked_type;
extern const RcType gt_leaf_type;
extern const RcType gt_link_type;

/* What the test types saw. */
typedef struct GtCounters {
    long created;       /* gt_new calls */
    long deallocs;      /* GtNode deaths (every GtNode type) */
    long finalizes;     /* finalize calls (fin and lazarus types) */
    long resurrections; /* lazarus finalize calls */
    long legacy_dels;   /* legacy_del calls */
    long corrupt;       /* payload or referent found damaged, tracked at
                           dealloc, finalize run twice */
    long link_deallocs; /* GtLink deaths */
} GtCounters;
extern GtCounters gt_count;

/* Per id (0 .. gt_next_id-1): deaths and finalize calls seen. */
extern unsigned char *gt_dead;
extern unsigned char *gt_finals;
extern uint64_t gt_next_id;

/* Called by gt_fin_type's finalize (after the counting), if set. */
extern void (*gt_fin_hook)(RcObject *op);

/* Where gt_lazarus_type resurrects objects (a strong reference each). */
#define GT_SAVED_MAX 256
extern RcObject *gt_saved[GT_SAVED_MAX];
extern size_t gt_nsaved;
void gt_save(RcObject *op); /* takes a new reference */
void gt_saved_clear(void);  /* drops them all */

void gt_setup(void);
void gt_teardown(void);
/* Every invariant now: gc_check, rc_heap_check, oa_heap_check. */
void gt_check(void);

/* A new GtNode of one of the node types, id assigned, payload filled. */
RcObject *gt_new(const RcType *type);
/* 1 when op is on gt_gc's garbage list. */
int gt_in_garbage(const RcObject *op);
GtNode *gt_node(RcObject *op);
/* Store a new reference to `to` (may be NULL) in from's slot k (tc_link,
 * which asserts 0 <= k < GT_SLOTS). */
void gt_link(RcObject *from, int k, RcObject *to);
/* A ring of n new nodes of `type` (slot 0 -> next), returned with one
 * reference held by the caller (to the first node). */
RcObject *gt_ring(const RcType *type, int n);
/* Payload unchanged since gt_new? */
int gt_intact(RcObject *op);
uint64_t gt_checksum(uint64_t id, const uint64_t data[2]);

/* Is op among buf[0..n)? */
int gt_in(RcObject *const *buf, size_t n, const RcObject *op);
/* All tracked objects of generation g (-1: all) in a malloc'd array. */
size_t gt_objects(int generation, RcObject ***out);
int gt_in_generation(int generation, const RcObject *op);

/* Statistics shortcuts. */
GcGenStats gt_stats(int generation);
long gt_count_of(int generation);

#endif
