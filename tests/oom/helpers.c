/* SPDX-License-Identifier: MIT */
/* helpers.c - test objects and the sweep loop of tests/oom (see oom.h).
 *
 * The sweep, for k = 1, 2, ...:
 *   1. ctx = setup() with no injection;
 *   2. oa_heap_fail_nth(heap, OA_FAIL_ALL, k, sticky); ok = run(ctx);
 *      fired = the heap made at least k requests (so the k-th failed);
 *   3. injection off; heap and collector checks;
 *   4. a run that failed must have met a failure (fired), and the same
 *      run must now complete; cleanup(ctx) (which asserts every block
 *      came back);
 *   5. stop when the run completed and nothing fired.
 * A bound (OOM_MAX_K) stops a scenario that would never complete.
 */
#include "oom.h"

#include <criterion/criterion.h>

#define OOM_MAX_K 20000

long oom_deaths;

uint64_t
oom_check_of(uint64_t id)
{
    return id * 0x9E3779B97F4A7C15ULL ^ 0xA5A5A5A5DEADBEEFULL;
}

OomNode *
oom_node(RcObject *op)
{
    return (OomNode *)rc_payload(op);
}

void
oom_assert_intact(RcObject *op)
{
    OomNode *n = oom_node(op);
    cr_assert_eq(n->check, oom_check_of(n->id), "object %llu damaged",
                 (unsigned long long)n->id);
}

RcObject *
oom_new(RcHeap *rc, const RcType *type, uint64_t id)
{
    RcObject *op = rc_new(rc, type);
    if (op == NULL) {
        cr_assert_not_null(rc_heap_error(rc),
                           "rc_new failed without a message");
        return NULL;
    }
    OomNode *n = oom_node(op);
    n->id = id;
    n->check = oom_check_of(id);
    return op;
}

static void
node_dealloc(RcObject *op)
{
    oom_assert_intact(op);
    oom_deaths++;
    if (rc_is_gc(op)) {
        tc_clear2(op);
    }
}

const RcType oom_node_type = {
    TC_NODE_TYPE("oom_node", RC_TYPE_GC, sizeof(OomNode), 2),
    .dealloc = node_dealloc,
};

const RcType oom_big_type = {
    TC_NODE_TYPE("oom_big", RC_TYPE_GC, 40000, 2), /* a large block */
    .dealloc = node_dealloc,
};

const RcType oom_leaf_type = {
    RC_TYPE_HEAD("oom_leaf", 0),
    .size = sizeof(OomNode),
    .dealloc = node_dealloc,
};

void
oom_assert_all_back(OaHeap *oa)
{
    OaStats st;
    oa_heap_stats(oa, &st);
    cr_assert_eq(st.blocks_used, 0, "%zu pool blocks still in use",
                 st.blocks_used);
    cr_assert_eq(st.large_blocks, 0, "%zu large blocks still in use",
                 st.large_blocks);
}

unsigned long
oom_sweep(const OomScenario *s, int sticky)
{
    unsigned long errors = 0;
    uint64_t k;
    for (k = 1; k <= OOM_MAX_K; k++) {
        void *ctx = s->setup();
        OaHeap *oa = s->heap(ctx);
        GcHeap *gc = s->gc(ctx);
        oa_heap_fail_nth(oa, OA_FAIL_ALL, k, sticky);
        int ok = s->run(ctx);
        int fired = oa_heap_sys_requests(oa) >= k;
        oa_heap_fail_nth(oa, OA_FAIL_ALL, 0, 0);
        cr_assert_eq(oa_heap_check(oa), 0, "%s, k=%llu: heap check", s->name,
                     (unsigned long long)k);
        if (gc != NULL) {
            cr_assert_eq(gc_check(gc), 0, "%s, k=%llu: gc check", s->name,
                         (unsigned long long)k);
        }
        if (!ok) {
            errors++;
            cr_assert(fired, "%s, k=%llu: error reported with no failure",
                      s->name, (unsigned long long)k);
            cr_assert(s->run(ctx),
                      "%s, k=%llu: does not work again after "
                      "the failure",
                      s->name, (unsigned long long)k);
        }
        s->cleanup(ctx);
        if (ok && !fired) {
            break;
        }
    }
    cr_assert_leq(k, OOM_MAX_K, "%s: never completed", s->name);
    return errors;
}
