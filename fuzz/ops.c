/* SPDX-License-Identifier: MIT */
/* ops.c - decode the input bytes into operations and run them.
 *
 * The input is a sequence of operations: one opcode byte (taken modulo
 * the number of operations), then the argument bytes that operation
 * reads; a missing byte reads as 0, so every input is valid.  Operands
 * are chosen among the external references the harness holds (held[]),
 * so an operation only ever touches objects that are reachable, hence
 * alive.  Each operation updates the model (model.c) before the library
 * call that can release a reference, and checks what the library
 * returns against the model right away when that is cheap; the deep
 * comparison is oracle.c's, after full collections.
 *
 * Operations: create node / finalizer node / leaf, set and clear a slot,
 * drop and duplicate an external reference, weak reference, collect(gen)
 * (including invalid generations), freeze / unfreeze, thresholds
 * (including negative ones), enable / disable and the pacing, raw
 * objalloc blocks (blocks.c), failure injection and memory limits, heap
 * checks, a full oracle check, a chain or ring built in one go,
 * gc_why_alive, get_referents / get_referrers, untrack / track,
 * immortal, statistics, debug output, callback registration churn.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

unsigned
fz_byte(void)
{
    return fz->pos < fz->len ? fz->in[fz->pos++] : 0;
}

unsigned
fz_u16(void)
{
    unsigned lo = fz_byte();
    return lo | fz_byte() << 8;
}

/* An index into held[], or -1 when nothing is held. */
static int
pick_held(void)
{
    unsigned b = fz_u16();
    return fz->nheld == 0 ? -1 : (int)(b % (unsigned)fz->nheld);
}

static int
pick_heap(void)
{
    return (int)(fz_byte() % FZ_GC_HEAPS);
}

static int
is_gc_kind(int kind)
{
    return kind == FZ_NODE || kind == FZ_FIN || kind == FZ_WEAK;
}

static void
op_new(void)
{
    int heap = pick_heap();
    unsigned kind = fz_byte() % 3;
    unsigned nslots = fz_byte() % (FZ_MAXSLOTS + 1);
    unsigned b = fz_byte();
    unsigned ndata = b < 224 ? b % 6 : b % (FZ_MAXDATA + 1);
    int action = (int)(fz_byte() % FZ_NACT);
    fz_new_object(heap, (int)kind, nslots, ndata, action);
}

static void
op_set_slot(int clear)
{
    int a = pick_held();
    unsigned i = fz_byte();
    int b = pick_held();
    if (a < 0) {
        return;
    }
    int id = fz->held[a];
    FzObj *o = &fz->obj[id];
    if (o->nslots == 0) {
        return;
    }
    i %= o->nslots;
    int target = clear ? -1 : fz->held[b];
    if (target >= 0 && fz->obj[target].heap != o->heap) {
        target = id; /* no references across heaps: a self-loop instead */
    }
    if (target >= 0) {
        rc_incref(fz->obj[target].op);
    }
    fz_set_slot(id, i, target);
}

static void
op_drop(void)
{
    int a = pick_held();
    if (a >= 0) {
        fz_drop_held((size_t)a);
    }
}

/* Take one more external reference: to a held object, or to what one of
 * its slots names (reachable, so alive). */
static void
op_dup(void)
{
    int a = pick_held();
    unsigned b = fz_byte();
    if (a < 0 || fz->nheld >= FZ_MAXHELD) {
        return;
    }
    int id = fz->held[a];
    FzObj *o = &fz->obj[id];
    if ((b & 1) && o->nslots > 0 && o->slots[(b >> 1) % o->nslots] >= 0) {
        id = o->slots[(b >> 1) % o->nslots];
    }
    FZ_CHECK(fz->obj[id].alive, "object %d reachable but dead", id);
    rc_incref(fz->obj[id].op);
    fz_hold(id);
}

static void
op_weakref(void)
{
    int a = pick_held();
    unsigned b = fz_byte();
    if (a < 0) {
        return;
    }
    int target = fz->held[a];
    int action = (int)((b >> 1) % FZ_NACT);
    if (action == FZ_ACT_RESURRECT) {
        action = FZ_ACT_NONE;
    }
    fz_new_weakref(fz->obj[target].heap, target, (int)(b & 1), action);
}

static void
op_collect(void)
{
    int heap = pick_heap();
    int gen = (int)(fz_byte() % 5) - 1;
    long r = gc_collect(fz->gc[heap], gen);
    if (gen < 0 || gen > 2) {
        FZ_CHECK(r == -1, "gc_collect(%d) returned %ld, want -1", gen, r);
        FZ_CHECK(gc_error(fz->gc[heap]) != NULL,
                 "gc_collect(%d): no error message", gen);
    }
    else {
        FZ_CHECK(r >= 0, "gc_collect(%d) returned %ld", gen, r);
    }
}

/* The pause-bounded mode (cyclegc.h): a work cap of 1..64 (0 turns the
 * mode off), then one increment; the automatic trigger runs increments
 * too while the cap is set.  The oracle's checks after each op and after
 * full collections cover it. */
static void
op_increment(void)
{
    int heap = pick_heap();
    GcHeap *gc = fz->gc[heap];
    unsigned b = fz_byte();
    gc_set_increment_work(gc, (b & 63) == 63 ? 0 : 1 + (b & 63));
    long r = gc_collect_increment(gc);
    FZ_CHECK(r >= 0, "gc_collect_increment returned %ld", r);
}

static size_t
alive_tracked(int heap)
{
    size_t n = 0;
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *o = &fz->obj[id];
        n += o->alive && o->heap == heap && is_gc_kind(o->kind);
    }
    return n;
}

static void
op_freeze(void)
{
    int heap = pick_heap();
    GcHeap *gc = fz->gc[heap];
    if (fz_byte() & 1) {
        gc_freeze(gc);
        fz->frozen[heap] = 1;
        FZ_CHECK(gc_get_freeze_count(gc) == alive_tracked(heap),
                 "freeze count %zu, %zu objects tracked",
                 gc_get_freeze_count(gc), alive_tracked(heap));
    }
    else {
        gc_unfreeze(gc);
        fz->frozen[heap] = 0;
        FZ_CHECK(gc_get_freeze_count(gc) == 0,
                 "freeze count %zu after "
                 "unfreeze",
                 gc_get_freeze_count(gc));
    }
}

static long
threshold_arg(void)
{
    unsigned b = fz_byte();
    if (b < 64) {
        return b % 16;
    }
    if (b < 72) {
        return -1 - (long)(b % 3);
    }
    if (b < 200) {
        return 1 + b % 40;
    }
    return 2000;
}

static void
op_threshold(void)
{
    int heap = pick_heap();
    GcHeap *gc = fz->gc[heap];
    long t0 = threshold_arg(), t1 = threshold_arg() % 12;
    long t2 = threshold_arg() % 12;
    long before[GC_NGENERATIONS], after[GC_NGENERATIONS];
    gc_get_threshold(gc, before);
    int r = gc_set_threshold(gc, t0, t1, t2);
    gc_get_threshold(gc, after);
    if (t0 < 0 || t1 < 0 || t2 < 0) {
        FZ_CHECK(r == -1, "negative threshold accepted");
        FZ_CHECK(gc_error(gc) != NULL, "negative threshold: no message");
        FZ_CHECK(memcmp(before, after, sizeof before) == 0,
                 "refused thresholds changed the thresholds");
    }
    else {
        FZ_CHECK(r == 0, "gc_set_threshold(%ld, %ld, %ld) failed", t0, t1, t2);
        FZ_CHECK(after[0] == t0 && after[1] == t1 && after[2] == t2,
                 "thresholds read back differ");
    }
}

/* gc_enable / gc_disable; and, by the byte's bits 1-2, the pacing
 * adaptive (its skips move generation 0 on unexamined) or fixed. */
static void
op_enable(void)
{
    int heap = pick_heap();
    unsigned b = fz_byte();
    if ((b >> 1 & 3) < 2) {
        GcPacing mode =
            (b >> 1 & 3) == 0 ? GC_PACING_ADAPTIVE : GC_PACING_FIXED;
        FZ_CHECK(gc_set_pacing(fz->gc[heap], mode) == 0,
                 "gc_set_pacing(%d) failed", (int)mode);
    }
    if (b & 1) {
        gc_enable(fz->gc[heap]);
        FZ_CHECK(gc_isenabled(fz->gc[heap]), "enable did not enable");
    }
    else {
        gc_disable(fz->gc[heap]);
        FZ_CHECK(!gc_isenabled(fz->gc[heap]), "disable did not disable");
    }
}

static void
op_fail_nth(void)
{
    int h = (int)(fz_byte() % FZ_OA_HEAPS);
    unsigned kinds = 1 + fz_byte() % 7;
    unsigned k = fz_byte() % 32;
    int sticky = (int)(fz_byte() & 1);
    oa_heap_fail_nth(fz->oa[h], kinds, k, sticky);
    fz->inject[h] = k != 0;
    fz->oom[h] = fz->inject[h] || fz->limit[h];
}

static void
op_limit(void)
{
    int h = (int)(fz_byte() % FZ_OA_HEAPS);
    unsigned b = fz_byte();
    if (b < 64) {
        oa_heap_set_limit(fz->oa[h], 0);
        fz->limit[h] = 0;
    }
    else {
        OaStats st;
        oa_heap_stats(fz->oa[h], &st);
        size_t lim = st.bytes_mapped + st.large_bytes + st.meta_bytes +
                     (size_t)(b - 64) * 4096;
        oa_heap_set_limit(fz->oa[h], lim);
        FZ_CHECK(oa_heap_limit(fz->oa[h]) == lim, "limit read back differs");
        fz->limit[h] = 1;
    }
    fz->oom[h] = fz->inject[h] || fz->limit[h];
}

/* A chain (or ring) of n nodes in one heap, head held; with the low bit
 * of the mode byte clear the head is dropped again, so a long chain dies
 * by reference counting (or, as a ring, waits for the collector). */
static void
op_chain(void)
{
    int heap = pick_heap();
    unsigned n = 2 + fz_byte() * 2;
    unsigned mode = fz_byte();
    if (n > FZ_CHAIN) {
        n = FZ_CHAIN;
    }
    if (fz->nobj + (int)n + 1 >= FZ_MAXOBJ) {
        return;
    }
    int kind = (mode & 4) ? FZ_FIN : FZ_NODE;
    if (fz_new_object(heap, kind, 1, mode % 3, FZ_ACT_NONE) == NULL) {
        return;
    }
    int first = fz->held[fz->nheld - 1];
    int prev = first;
    for (unsigned i = 1; i < n; i++) {
        if (fz_new_object(heap, kind, 1, 1, FZ_ACT_NONE) == NULL) {
            break;
        }
        int id = fz->held[fz->nheld - 1];
        rc_incref(fz->obj[id].op);
        fz_set_slot(prev, 0, id);
        fz_drop_held((size_t)fz->nheld - 1);
        prev = id;
    }
    if (mode & 2) {
        rc_incref(fz->obj[first].op);
        fz_set_slot(prev, 0, first); /* a ring */
    }
    if (!(mode & 1)) {
        for (int i = fz->nheld - 1; i >= 0; i--) {
            if (fz->held[i] == first) {
                fz_drop_held((size_t)i);
                break;
            }
        }
    }
}

/* Shortest distance from the roots to each object (BFS), for why_alive. */
static void
distances(int heap, int *dist)
{
    static int queue[FZ_MAXOBJ];
    int head = 0, tail = 0;
    for (int id = 0; id < fz->nobj; id++) {
        FzObj *o = &fz->obj[id];
        dist[id] = -1;
        if (o->alive && o->heap == heap && (o->ext > 0 || o->immortal)) {
            dist[id] = 0;
            queue[tail++] = id;
        }
    }
    while (head < tail) {
        FzObj *o = &fz->obj[queue[head]];
        int d = dist[queue[head++]];
        for (unsigned i = 0; i < o->nslots; i++) {
            int t = o->slots[i];
            if (t >= 0 && dist[t] < 0) {
                dist[t] = d + 1;
                queue[tail++] = t;
            }
        }
    }
}

/* FUZZ_SKIP_WHY=1 in the environment turns gc_why_alive off, to look
 * for other bugs while a known one in it is open. */
static int
skip_why(void)
{
    static int skip = -1;
    if (skip < 0) {
        const char *e = getenv("FUZZ_SKIP_WHY");
        skip = e != NULL && *e == '1';
    }
    return skip;
}

static void
op_why_alive(void)
{
    static int dist[FZ_MAXOBJ];
    RcObject *path[16];
    int heap = pick_heap();
    unsigned b = fz_u16();
    if (fz->nobj == 0 || fz->frozen[heap] || skip_why()) {
        return;
    }
    int id = (int)(b % (unsigned)fz->nobj);
    FzObj *o = &fz->obj[id];
    if (!o->alive || o->heap != heap) {
        return;
    }
    size_t n = gc_why_alive(fz->gc[heap], o->op, path, 16);
    if (n == (size_t)-1) {
        FZ_CHECK(o->kind == FZ_LEAF || fz->oom[heap],
                 "gc_why_alive failed on tracked object %d: %s", id,
                 gc_error(fz->gc[heap]) ? gc_error(fz->gc[heap]) : "?");
        return;
    }
    FZ_CHECK(o->kind != FZ_LEAF, "gc_why_alive accepted untracked leaf");
    distances(heap, dist);
    FZ_CHECK(n == (size_t)(dist[id] + 1),
             "gc_why_alive(%d): path of %zu, shortest is %d", id, n,
             dist[id] + 1);
    for (size_t i = 0; i < n && i < 16; i++) {
        int pid = fz_lookup(path[i]);
        FZ_CHECK(pid >= 0, "gc_why_alive: path[%zu] is not an object", i);
        FZ_CHECK(dist[pid] == (int)i,
                 "gc_why_alive: path[%zu] at distance "
                 "%d",
                 i, dist[pid]);
        if (i > 0) {
            int prev = fz_lookup(path[i - 1]), edge = 0;
            for (unsigned k = 0; k < fz->obj[prev].nslots; k++) {
                edge |= fz->obj[prev].slots[k] == pid;
            }
            FZ_CHECK(edge,
                     "gc_why_alive: path[%zu] -> path[%zu] is no "
                     "reference",
                     i - 1, i);
        }
    }
    if (n >= 1 && n <= 16) {
        FZ_CHECK(path[n - 1] == o->op, "gc_why_alive: path does not end at "
                                       "the target");
    }
}

static void
op_referents(void)
{
    RcObject *buf[FZ_MAXSLOTS + 1];
    int a = pick_held();
    if (a < 0) {
        return;
    }
    int id = fz->held[a];
    FzObj *o = &fz->obj[id];
    size_t n = gc_get_referents(&o->op, 1, buf, FZ_MAXSLOTS + 1);
    size_t want = 0;
    for (unsigned i = 0; i < o->nslots; i++) {
        want += o->slots[i] >= 0;
    }
    FZ_CHECK(n == want, "gc_get_referents(%d): %zu, model %zu", id, n, want);
    for (size_t k = 0; k < n; k++) {
        int found = 0;
        for (unsigned i = 0; i < o->nslots; i++) {
            found |= o->slots[i] >= 0 && fz->obj[o->slots[i]].op == buf[k];
        }
        FZ_CHECK(found, "gc_get_referents(%d): stranger %p", id,
                 (void *)buf[k]);
    }
    if (fz->frozen[o->heap]) {
        return;
    }
    static RcObject *refs[FZ_MAXOBJ];
    size_t m = gc_get_referrers(fz->gc[o->heap], &o->op, 1, refs, FZ_MAXOBJ);
    size_t expect = 0;
    for (int j = 0; j < fz->nobj; j++) {
        FzObj *q = &fz->obj[j];
        int names = 0;
        for (unsigned i = 0; q->alive && i < q->nslots; i++) {
            names |= q->slots[i] == id;
        }
        expect += names;
    }
    FZ_CHECK(m == expect, "gc_get_referrers(%d): %zu, model %zu", id, m,
             expect);
}

static void
op_track(void)
{
    int a = pick_held();
    if (a < 0) {
        return;
    }
    int id = fz->held[a];
    RcObject *op = fz->obj[id].op;
    if (!is_gc_kind(fz->obj[id].kind)) {
        FZ_CHECK(gc_track(op) == -1 && gc_untrack(op) == -1,
                 "track/untrack accepted a non-GC object");
        FZ_CHECK(!gc_is_tracked(op), "leaf is tracked");
        return;
    }
    FZ_CHECK(gc_is_tracked(op), "object %d not tracked", id);
    FZ_CHECK(gc_track(op) == -1, "tracking twice accepted");
    FZ_CHECK(gc_untrack(op) == 0, "untrack failed");
    FZ_CHECK(!gc_is_tracked(op), "untracked object still tracked");
    FZ_CHECK(gc_untrack(op) == -1, "untracking twice accepted");
    FZ_CHECK(gc_track(op) == 0, "track failed");
    FZ_CHECK(gc_is_tracked(op), "object %d not tracked again", id);
}

static void
op_immortal(void)
{
    int a = pick_held();
    unsigned b = fz_byte();
    if (a < 0 || b < 240) {
        return; /* rare: immortals stay until the heap goes */
    }
    int id = fz->held[a];
    rc_set_immortal(fz->obj[id].op);
    FZ_CHECK(rc_is_immortal(fz->obj[id].op), "rc_set_immortal failed");
    fz->obj[id].immortal = 1;
    fz->epoch++;
}

static void
op_stats(void)
{
    int heap = pick_heap();
    GcHeap *gc = fz->gc[heap];
    long count[GC_NGENERATIONS];
    GcGenStats st[GC_NGENERATIONS];
    GcEvent ev[4];
    gc_get_count(gc, count);
    gc_get_stats(gc, st);
    size_t ne = gc_events(gc, ev, 4);
    FZ_CHECK(ne <= GC_EVENT_LOG, "event log of %zu", ne);
    for (size_t i = 1; i < ne && i < 4; i++) {
        FZ_CHECK(ev[i].seq == ev[i - 1].seq + 1, "event log out of order");
    }
    size_t alive = 0;
    for (int id = 0; id < fz->nobj; id++) {
        alive += fz->obj[id].alive && fz->obj[id].heap == heap;
    }
    FZ_CHECK(rc_live_total(fz->rc[heap]) == alive,
             "rc_live_total %zu, model %zu", rc_live_total(fz->rc[heap]),
             alive);
    OaStats os;
    oa_heap_stats(fz->oa[heap], &os);
}

static void
op_debug(void)
{
    static FILE *devnull;
    int heap = pick_heap();
    unsigned b = fz_byte();
    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
    }
    if (devnull == NULL) {
        return;
    }
    int flags = (int)(b & (GC_DEBUG_STATS | GC_DEBUG_COLLECTABLE |
                           GC_DEBUG_UNCOLLECTABLE));
    gc_set_debug(fz->gc[heap], flags, devnull);
    FZ_CHECK(gc_get_debug(fz->gc[heap]) == flags, "debug flags differ");
}

static void
dummy_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)phase;
    (void)info;
    (void)ctx;
}

static void
op_callbacks(void)
{
    int heap = pick_heap();
    GcHeap *gc = fz->gc[heap];
    int r = gc_callback_add(gc, dummy_callback, NULL);
    FZ_CHECK(r == 0 || fz->oom[heap], "gc_callback_add failed");
    int r2 = gc_callback_remove(gc, dummy_callback, NULL);
    FZ_CHECK(r2 == r, "gc_callback_remove returned %d after add %d", r2, r);
    FZ_CHECK(gc_callback_remove(gc, dummy_callback, NULL) == -1,
             "removing an unregistered callback succeeded");
}

enum {
    OP_NEW,
    OP_NEW2,
    OP_SET,
    OP_SET2,
    OP_CLEAR,
    OP_DROP,
    OP_DROP2,
    OP_DUP,
    OP_WEAK,
    OP_COLLECT,
    OP_FREEZE,
    OP_THRESHOLD,
    OP_ENABLE,
    OP_BLOCK,
    OP_BLOCK2,
    OP_FAILNTH,
    OP_LIMIT,
    OP_CHECK,
    OP_FULL,
    OP_CHAIN,
    OP_WHY,
    OP_REFS,
    OP_TRACK,
    OP_IMMORTAL,
    OP_STATS,
    OP_DEBUG,
    OP_CALLBACKS,
    OP_INCREMENT,
    OP_COUNT
};

void
fz_run_ops(void)
{
    while (fz->pos < fz->len) {
        unsigned code = fz_byte() % OP_COUNT;
        fz->ops++;
        switch (code) {
            case OP_NEW:
            case OP_NEW2:
                op_new();
                break;
            case OP_SET:
            case OP_SET2:
                op_set_slot(0);
                break;
            case OP_CLEAR:
                op_set_slot(1);
                break;
            case OP_DROP:
            case OP_DROP2:
                op_drop();
                break;
            case OP_DUP:
                op_dup();
                break;
            case OP_WEAK:
                op_weakref();
                break;
            case OP_COLLECT:
                op_collect();
                break;
            case OP_FREEZE:
                op_freeze();
                break;
            case OP_THRESHOLD:
                op_threshold();
                break;
            case OP_ENABLE:
                op_enable();
                break;
            case OP_BLOCK:
            case OP_BLOCK2:
                fz_block_op(fz_byte());
                break;
            case OP_FAILNTH:
                op_fail_nth();
                break;
            case OP_LIMIT:
                op_limit();
                break;
            case OP_CHECK:
                fz_heap_checks();
                break;
            case OP_FULL:
                fz_full_check(pick_heap());
                break;
            case OP_CHAIN:
                op_chain();
                break;
            case OP_WHY:
                op_why_alive();
                break;
            case OP_REFS:
                op_referents();
                break;
            case OP_TRACK:
                op_track();
                break;
            case OP_IMMORTAL:
                op_immortal();
                break;
            case OP_STATS:
                op_stats();
                break;
            case OP_DEBUG:
                op_debug();
                break;
            case OP_CALLBACKS:
                op_callbacks();
                break;
            case OP_INCREMENT:
                op_increment();
                break;
            default:
                break;
        }
        if ((fz->ops & 63) == 0) {
            fz_heap_checks();
        }
    }
}
