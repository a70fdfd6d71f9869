/* SPDX-License-Identifier: MIT */
/* slots.h - the k-slot node the refcount, cyclegc and oom suites build
 * their object graphs from (tests/common/slots.c).
 *
 * A k-slot node is an object whose payload begins with k reference slots:
 *
 *     typedef struct Node {
 *         RcObject *slot[2];   (k = 1, 2 or 4)
 *         ...                  the suite's own fields: ids, checksums
 *     } Node;
 *     const RcType node_type = {
 *         TC_NODE_TYPE("node", RC_TYPE_GC, sizeof(Node), 2),
 *         ...                  the suite's own finalize, dealloc
 *     };
 *
 * traverse visits the slots that are not NULL in order and stops at the
 * first nonzero return (returned); clear stores NULL in every slot, then
 * drops the reference it held (rc_setref).  Each suite keeps its payload
 * and its types (names, finalizers, deallocs); the slots are handled here
 * once. */
#ifndef RCGC_TESTS_COMMON_SLOTS_H
#define RCGC_TESTS_COMMON_SLOTS_H

#include "refcount/refcount.h"

#include <stddef.h>

/* The slot walks, for any array of k slots (a variable object's items). */
int tc_slots_traverse(RcObject *const *slot, size_t k, RcVisitFn visit,
                      void *arg);
void tc_slots_clear(RcObject **slot, size_t k);

/* The head of a k-slot node type's descriptor (as RC_TYPE_HEAD): name,
 * flags, payload size and the slot callbacks of k = 1, 2 or 4 (a macro
 * that expands to one of them is fine). */
#define TC_NODE_TYPE(tname, tflags, tsize, k)                                 \
    TC_NODE_TYPE_K(tname, tflags, tsize, k)
#define TC_NODE_TYPE_K(tname, tflags, tsize, k)                               \
    RC_TYPE_HEAD(tname, tflags), .size = (tsize), .traverse = tc_traverse##k, \
                                 .clear = tc_clear##k

/* traverse and clear of a k-slot node, k = 1, 2, 4. */
int tc_traverse1(RcObject *op, RcVisitFn visit, void *arg);
int tc_traverse2(RcObject *op, RcVisitFn visit, void *arg);
int tc_traverse4(RcObject *op, RcVisitFn visit, void *arg);
void tc_clear1(RcObject *op);
void tc_clear2(RcObject *op);
void tc_clear4(RcObject *op);

/* k for a k-slot node type (its traverse is tc_traverse<k>), else 0. */
size_t tc_nslots(const RcType *type);

/* rc_new that asserts it succeeded (the message names the type and says
 * rc_heap_error). */
RcObject *tc_new(RcHeap *heap, const RcType *type);
/* Store a new reference to `to` (may be NULL) in slot i of the k-slot
 * node `from`, dropping the one there; asserts i < k. */
void tc_link(RcObject *from, size_t i, RcObject *to);

#endif
