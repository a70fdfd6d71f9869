/* SPDX-License-Identifier: MIT */
/* gcutil.c - the fixture and test types of the cyclegc suite.
 *
 * Data: one collector per test (gt_gc, with its own refcount and objalloc
 * heaps), counters of what the test types' callbacks saw (gt_count), and
 * two byte maps indexed by object id (gt_dead, gt_finals) that the
 * differential test and the resurrection tests read.
 *
 * Steps of a test: gt_setup makes the heap; the test builds objects with
 * gt_new/gt_link/gt_ring, drops its references and collects; gt_teardown
 * drops what the fixture holds (gt_saved, the garbage list), collects
 * everything and checks that the heap is empty and consistent.
 *
 * Invariants the types check on every call (a violation counts in
 * gt_count.corrupt, which the teardown requires to be 0): a payload is
 * intact whenever finalize or dealloc sees it; finalize sees its referents
 * intact (no clear before every finalizer ran, PEP 442); an object is
 * finalized at most once and deallocated at most once, untracked when
 * deallocated. */
#include "cyclegc/gcutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

GcHeap *gt_gc;
RcHeap *gt_rc;
GtCounters gt_count;
unsigned char *gt_dead;
unsigned char *gt_finals;
uint64_t gt_next_id;
static uint64_t map_cap;
void (*gt_fin_hook)(RcObject *op);
RcObject *gt_saved[GT_SAVED_MAX];
size_t gt_nsaved;

/* ---- payload -------------------------------------------------------- */

static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t
gt_checksum(uint64_t id, const uint64_t data[2])
{
    return mix(id ^ mix(data[0]) ^ (data[1] << 1));
}

GtNode *
gt_node(RcObject *op)
{
    return (GtNode *)rc_payload(op);
}

static int
is_node_type(const RcType *t)
{
    return t == &gt_node_type || t == &gt_fin_type || t == &gt_lazarus_type ||
           t == &gt_legacy_type || t == &gt_untracked_type ||
           t == &gt_leaf_type;
}

int
gt_intact(RcObject *op)
{
    if (!is_node_type(op->type)) {
        return 1;
    }
    GtNode *n = gt_node(op);
    return n->sum == gt_checksum(n->id, n->data) && n->data[0] == mix(n->id) &&
           n->data[1] == ~n->id;
}

/* ---- type callbacks ------------------------------------------------- */

static void
node_dealloc(RcObject *op)
{
    GtNode *n = gt_node(op);
    if (!gt_intact(op) || (rc_is_gc(op) && gc_is_tracked(op))) {
        gt_count.corrupt++;
    }
    if (n->id < map_cap) {
        if (gt_dead[n->id] != 0) {
            gt_count.corrupt++;
        }
        gt_dead[n->id]++;
    }
    gt_count.deallocs++;
    tc_clear4(op);
}

/* Count a finalize call and check what PEP 442 promises it. */
static void
finalize_seen(RcObject *op)
{
    GtNode *n = gt_node(op);
    if (!gt_intact(op)) {
        gt_count.corrupt++;
    }
    for (int k = 0; k < GT_SLOTS; k++) {
        if (n->slot[k] != NULL && !gt_intact(n->slot[k])) {
            gt_count.corrupt++;
        }
    }
    if (n->id < map_cap) {
        if (gt_finals[n->id] != 0) {
            gt_count.corrupt++;
        }
        gt_finals[n->id]++;
    }
    gt_count.finalizes++;
}

static void
fin_finalize(RcObject *op)
{
    finalize_seen(op);
    if (gt_fin_hook != NULL) {
        gt_fin_hook(op);
    }
}

static void
lazarus_finalize(RcObject *op)
{
    finalize_seen(op);
    gt_count.resurrections++;
    gt_save(op);
}

static void
legacy_del(RcObject *op)
{
    (void)op;
    gt_count.legacy_dels++;
}

const RcType gt_node_type = {
    TC_NODE_TYPE("gt_node", RC_TYPE_GC, sizeof(GtNode), GT_SLOTS),
    .dealloc = node_dealloc,
};

const RcType gt_fin_type = {
    TC_NODE_TYPE("gt_fin", RC_TYPE_GC, sizeof(GtNode), GT_SLOTS),
    .finalize = fin_finalize,
    .dealloc = node_dealloc,
};

const RcType gt_lazarus_type = {
    TC_NODE_TYPE("gt_lazarus", RC_TYPE_GC, sizeof(GtNode), GT_SLOTS),
    .finalize = lazarus_finalize,
    .dealloc = node_dealloc,
};

const RcType gt_legacy_type = {
    TC_NODE_TYPE("gt_legacy", RC_TYPE_GC, sizeof(GtNode), GT_SLOTS),
    .legacy_del = legacy_del,
    .dealloc = node_dealloc,
};

const RcType gt_untracked_type = {
    TC_NODE_TYPE("gt_untracked", RC_TYPE_GC | RC_TYPE_UNTRACKED,
                 sizeof(GtNode), GT_SLOTS),
    .dealloc = node_dealloc,
};

const RcType gt_leaf_type = {
    RC_TYPE_HEAD("gt_leaf", 0),
    .size = sizeof(GtNode),
    .dealloc = node_dealloc,
};

static void
link_dealloc(RcObject *op)
{
    gt_count.link_deallocs++;
    tc_clear1(op);
}

const RcType gt_link_type = {
    TC_NODE_TYPE("gt_link", RC_TYPE_GC, sizeof(GtLink), 1),
    .dealloc = link_dealloc,
};

/* ---- objects -------------------------------------------------------- */

/* Make room in the id maps for one more id.  Done before rc_new, which
 * may collect and so record deaths. */
static void
grow_maps(void)
{
    if (gt_next_id < map_cap) {
        return;
    }
    uint64_t cap = map_cap == 0 ? 1024 : map_cap * 2;
    unsigned char *d = realloc(gt_dead, cap);
    cr_assert_not_null(d);
    gt_dead = d;
    unsigned char *f = realloc(gt_finals, cap);
    cr_assert_not_null(f);
    gt_finals = f;
    memset(gt_dead + map_cap, 0, cap - map_cap);
    memset(gt_finals + map_cap, 0, cap - map_cap);
    map_cap = cap;
}

RcObject *
gt_new(const RcType *type)
{
    cr_assert(is_node_type(type), "gt_new: not a GtNode type");
    grow_maps();
    RcObject *op = tc_new(gt_rc, type);
    GtNode *n = gt_node(op);
    n->id = gt_next_id++;
    n->data[0] = mix(n->id);
    n->data[1] = ~n->id;
    n->sum = gt_checksum(n->id, n->data);
    gt_count.created++;
    return op;
}

void
gt_link(RcObject *from, int k, RcObject *to)
{
    tc_link(from, (size_t)k, to); /* a negative k fails its bound check */
}

RcObject *
gt_ring(const RcType *type, int n)
{
    RcObject *first = gt_new(type);
    RcObject *prev = first;
    for (int i = 1; i < n; i++) {
        RcObject *op = gt_new(type);
        gt_node(prev)->slot[0] = op; /* steals the new reference */
        prev = op;
    }
    gt_link(prev, 0, first);
    return first;
}

void
gt_save(RcObject *op)
{
    if (gt_nsaved < GT_SAVED_MAX) {
        gt_saved[gt_nsaved++] = rc_newref(op);
    }
    else {
        gt_count.corrupt++;
    }
}

void
gt_saved_clear(void)
{
    while (gt_nsaved > 0) {
        RcObject *op = gt_saved[--gt_nsaved];
        gt_saved[gt_nsaved] = NULL;
        rc_decref(op);
    }
}

/* ---- queries -------------------------------------------------------- */

int
gt_in(RcObject *const *buf, size_t n, const RcObject *op)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == op) {
            return 1;
        }
    }
    return 0;
}

size_t
gt_objects(int generation, RcObject ***out)
{
    size_t n = gc_get_objects(gt_gc, generation, NULL, 0);
    cr_assert_neq(n, (size_t)-1, "gc_get_objects(%d) failed", generation);
    RcObject **buf = malloc((n + 1) * sizeof(*buf));
    cr_assert_not_null(buf);
    size_t m = gc_get_objects(gt_gc, generation, buf, n);
    cr_assert_eq(m, n, "gc_get_objects(%d): %zu then %zu", generation, n, m);
    *out = buf;
    return n;
}

int
gt_in_generation(int generation, const RcObject *op)
{
    RcObject **buf;
    size_t n = gt_objects(generation, &buf);
    int found = gt_in(buf, n, op);
    free(buf);
    return found;
}

GcGenStats
gt_stats(int generation)
{
    GcGenStats s[GC_NGENERATIONS];
    gc_get_stats(gt_gc, s);
    return s[generation];
}

long
gt_count_of(int generation)
{
    long c[GC_NGENERATIONS];
    gc_get_count(gt_gc, c);
    return c[generation];
}

/* ---- fixture -------------------------------------------------------- */

void
gt_check(void)
{
    cr_assert_eq(gc_check(gt_gc), 0, "gc_check failed (see stderr)");
    cr_assert_eq(rc_heap_check(gt_rc), 0, "rc_heap_check failed");
    cr_assert_eq(oa_heap_check(rc_heap_oa(gt_rc)), 0, "oa_heap_check");
    cr_assert_eq(gt_count.corrupt, 0,
                 "a test type saw damage (payload, order, double call)");
}

void
gt_setup(void)
{
    memset(&gt_count, 0, sizeof(gt_count));
    gt_fin_hook = NULL;
    gt_nsaved = 0;
    gt_next_id = 0;
    map_cap = 0;
    gt_dead = NULL;
    gt_finals = NULL;
    gt_gc = gc_heap_new(NULL);
    cr_assert_not_null(gt_gc, "gc_heap_new(NULL)");
    gt_rc = gc_heap_rc(gt_gc);
    cr_assert_not_null(gt_rc);
    gt_check();
}

void
gt_teardown(void)
{
    if (gt_gc == NULL) {
        return;
    }
    gt_fin_hook = NULL;
    gt_saved_clear();
    gc_set_debug(gt_gc, 0, NULL);
    gc_unfreeze(gt_gc);
    gc_garbage_clear(gt_gc);
    long r = gc_collect(gt_gc, 2);
    cr_expect_geq(r, 0, "final gc_collect(2) returned %ld", r);
    cr_expect_eq(gc_garbage_count(gt_gc), 0, "garbage left: %zu",
                 gc_garbage_count(gt_gc));
    cr_expect_eq(gc_check(gt_gc), 0, "gc_check at teardown");
    cr_expect_eq(rc_heap_check(gt_rc), 0, "rc_heap_check at teardown");
    RcTypeStats st[32];
    size_t nt = rc_type_stats(gt_rc, st, 32);
    for (size_t i = 0; i < nt && i < 32; i++) {
        cr_expect_eq(st[i].live, 0, "type '%s': %zu objects still live",
                     st[i].type->name, st[i].live);
    }
    cr_expect_eq(rc_live_total(gt_rc), 0, "%zu objects still live",
                 rc_live_total(gt_rc));
#ifdef RCGC_DEBUG
    cr_expect_eq(rc_total_refs(gt_rc), 0, "total refs %lld",
                 (long long)rc_total_refs(gt_rc));
#endif
    cr_expect_eq(gt_count.corrupt, 0, "a test type saw damage");
    OaHeap *oa = rc_heap_oa(gt_rc);
    cr_expect_eq(oa_heap_check(oa), 0, "oa_heap_check at teardown");
    OaStats os;
    oa_heap_stats(oa, &os);
    cr_expect_eq(os.blocks_used, 0, "%zu blocks not returned", os.blocks_used);
    cr_expect_eq(os.large_blocks, 0, "%zu large blocks not returned",
                 os.large_blocks);
    gc_heap_destroy(gt_gc);
    gt_gc = NULL;
    gt_rc = NULL;
    free(gt_dead);
    free(gt_finals);
    gt_dead = NULL;
    gt_finals = NULL;
    map_cap = 0;
}

int
gt_in_garbage(const RcObject *op)
{
    for (size_t i = 0; i < gc_garbage_count(gt_gc); i++) {
        if (gc_garbage_get(gt_gc, i) == op) {
            return 1;
        }
    }
    return 0;
}
