/* SPDX-License-Identifier: MIT */
/* oom.h - the out-of-memory sweep shared by the tests/oom scenarios.
 *
 * A scenario is a setup (no injection), a run that may meet a failed
 * system request, and a cleanup that releases everything.  oom_sweep()
 * runs it for k = 1, 2, ...: fresh setup, then "fail the k-th system
 * request of the heap" (oa_heap_fail_nth with OA_FAIL_ALL, sticky or
 * not), run, injection off, and checks at each k:
 *   - a run that did not complete reported an error to its caller (the
 *     scenario asserts the NULL / -1 and the message itself) and only when
 *     a request really failed;
 *   - oa_heap_check and gc_check pass;
 *   - the heap keeps working: the same run, injection off, completes;
 *   - cleanup gives every block back (rc_live_total 0, no pool or large
 *     block in use), so that Valgrind and LeakSanitizer see no leak.
 * The sweep stops at the first k whose run completes without any
 * injected failure (the scenario made fewer than k requests).
 *
 * Test objects: OomNode, a 2-slot node (common/slots.h) with a checksummed
 * payload; oom_big_type the same with a payload that needs a large block
 * (over OA_MEDIUM_MAX); oom_leaf_type, not GC.  Their dealloc counts
 * deaths in oom_deaths and checks the payload.
 */
#ifndef RCGC_TESTS_OOM_H
#define RCGC_TESTS_OOM_H

#include "common/slots.h"
#include "common/testutil.h"
#include "cyclegc/cyclegc.h"

#include <stddef.h>
#include <stdint.h>

typedef struct OomNode {
    RcObject *slot[2];
    uint64_t id;
    uint64_t check; /* oom_check_of(id) */
} OomNode;

extern const RcType oom_node_type, oom_big_type, oom_leaf_type;
extern long oom_deaths;

uint64_t oom_check_of(uint64_t id);
/* A new object of type (count 1) with id, or NULL (and then a message in
 * rc_heap_error). */
RcObject *oom_new(RcHeap *rc, const RcType *type, uint64_t id);
OomNode *oom_node(RcObject *op);
/* Asserts that the payload of op is intact. */
void oom_assert_intact(RcObject *op);

typedef struct OomScenario {
    const char *name;
    void *(*setup)(void);       /* build the starting state */
    OaHeap *(*heap)(void *ctx); /* the heap to inject failures in */
    GcHeap *(*gc)(void *ctx);   /* its collector, or NULL */
    int (*run)(void *ctx);      /* 1 completed, 0 reported an error */
    void (*cleanup)(void *ctx); /* release all; asserts all came back */
} OomScenario;

/* Sweep k = 1, 2, ... as described above; returns how many k made the
 * run report an error (so that a test can insist the sweep bit). */
unsigned long oom_sweep(const OomScenario *s, int sticky);

/* Asserts that an objalloc heap has no pool or large block in use. */
void oom_assert_all_back(OaHeap *oa);

#endif /* RCGC_TESTS_OOM_H */
