/* SPDX-License-Identifier: MIT */
/* rc_backend.c - rcgc as a benchmark backend.
 *
 * The node type: an RcType of the GC kind with two RcObject* slots
 * (payload 16 bytes), a traverse that visits both, a clear that drops
 * them, and the default dealloc (releases what traverse finds).  Each
 * measurement gets a fresh heap (gc_heap_new(NULL): its own RcHeap and
 * OaHeap), released at teardown, so runs do not inherit each other's
 * fragmentation.  Without the collector layer (BENCH_HAVE_CYCLEGC unset)
 * the backend is a bare RcHeap: objects are untracked and only the
 * refcount benches run.
 * Pauses are recorded with gc_callback_add (start/stop), timed with the
 * same clock as CPython's gc.callbacks; the event log is read for the
 * number of objects examined.
 */
#include "bench/backend.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(BENCH_HAVE_REFCOUNT)
#include "refcount/refcount.h"
#if defined(BENCH_HAVE_CYCLEGC)
#include "cyclegc/cyclegc.h"
#endif

typedef struct RcNode {
    RcObject *slot[2];
} RcNode;

static RcHeap *heap;
static uint64_t pause_budget_us;
#if defined(BENCH_HAVE_CYCLEGC)
static GcHeap *gcheap;
static PauseLog *pause_log;
#endif

static int
node_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    RcNode *n = rc_payload(op);
    for (int i = 0; i < 2; i++) {
        if (n->slot[i] != NULL) {
            int r = visit(n->slot[i], arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

static void
node_clear(RcObject *op)
{
    RcNode *n = rc_payload(op);
    for (int i = 0; i < 2; i++) {
        RcObject *old = n->slot[i];
        n->slot[i] = NULL;
        rc_xdecref(old);
    }
}

const RcType rc_backend_node_type = {
    RC_TYPE_HEAD("bench.node", RC_TYPE_GC),
    .size = sizeof(RcNode),
    .traverse = node_traverse,
    .clear = node_clear,
};

static void *
rc_node_new(void)
{
    RcObject *op = rc_new(heap, &rc_backend_node_type);
    if (op == NULL) {
        fprintf(stderr, "bench: rc_new failed: %s\n", rc_heap_error(heap));
        exit(1);
    }
    return op;
}

static void
rc_set_slot(void *node, int i, void *target)
{
    RcNode *n = rc_payload(node);
    rc_incref(target);
    rc_setref(&n->slot[i], target);
}

static void
rc_decref_node(void *node)
{
    rc_decref(node);
}

static double
rc_node_bytes(void)
{
    OaStats st;
    oa_heap_stats(rc_heap_oa(heap), &st);
    int c =
        oa_size_class(sizeof(RcGcHead) + sizeof(RcObject) + sizeof(RcNode));
    return c < 0 ? 0 : (double)st.classes[c].block_size;
}

/* A blob: a non-GC object with a 64 KiB payload (the per-request
 * payload of pause_bench.c). */
#define BLOB_BYTES 65536
static const RcType blob_type = {
    RC_TYPE_HEAD("bench.blob", 0),
    .size = BLOB_BYTES,
};

static void *
rc_blob_new(size_t bytes)
{
    if (bytes != BLOB_BYTES) {
        fprintf(stderr, "bench: rcgc blobs are of %d bytes, not %zu\n",
                BLOB_BYTES, bytes);
        exit(1);
    }
    RcObject *op = rc_new(heap, &blob_type);
    if (op == NULL) {
        fprintf(stderr, "bench: rc_new(blob) failed: %s\n",
                rc_heap_error(heap));
        exit(1);
    }
    memset(rc_payload(op), 0x5a, bytes);
    return op;
}

void
rc_backend_pause_budget(uint64_t us)
{
    pause_budget_us = us;
}

static long
rc_live(void)
{
    return (long)rc_live_count(heap, &rc_backend_node_type);
}

#if defined(BENCH_HAVE_CYCLEGC)
static void
rc_setup(void)
{
    gcheap = gc_heap_new(NULL);
    if (gcheap == NULL) {
        fprintf(stderr, "bench: gc_heap_new failed\n");
        exit(1);
    }
    heap = gc_heap_rc(gcheap);
    gc_disable(gcheap);
    if (gc_set_pause_budget(gcheap, pause_budget_us) < 0) {
        fprintf(stderr, "bench: %s\n", gc_error(gcheap));
        exit(1);
    }
}

static void
rc_teardown(void)
{
    gc_heap_destroy(gcheap);
    gcheap = NULL;
    heap = NULL;
}

static long
rc_collect(int generation)
{
    return gc_collect(gcheap, generation);
}

static void
rc_auto_gc(int on)
{
    if (on) {
        gc_enable(gcheap);
    }
    else {
        gc_disable(gcheap);
    }
}

static void
rc_set_threshold(long t0, long t1, long t2)
{
    gc_set_threshold(gcheap, t0, t1, t2);
}

static void
pause_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    (void)gc;
    (void)ctx;
    if (pause_log == NULL) {
        return;
    }
    if (phase == GC_PHASE_START) {
        pause_log->t0 = bench_now();
    }
    else {
        uint64_t ns = bench_now() - pause_log->t0;
        pauselog_add(pause_log, info->generation, ns,
                     info->collected + info->uncollectable);
    }
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The event log's view of the generation-0 collections: how many, the
 * median pause and the median number of objects examined. */
static void
rc_describe(char *buf, size_t cap)
{
    static GcEvent ev[GC_EVENT_LOG];
    uint64_t pause[GC_EVENT_LOG], examined[GC_EVENT_LOG];
    size_t n = gc_events(gcheap, ev, GC_EVENT_LOG), k = 0;
    for (size_t i = 0; i < n && i < GC_EVENT_LOG; i++) {
        if (ev[i].generation == 0) {
            pause[k] = ev[i].pause_ns;
            examined[k] = ev[i].examined;
            k++;
        }
    }
    if (k == 0) {
        snprintf(buf, cap, "rcgc event log: no generation-0 collection");
        return;
    }
    qsort(pause, k, sizeof(uint64_t), cmp_u64);
    qsort(examined, k, sizeof(uint64_t), cmp_u64);
    GcIncStats st;
    gc_get_incremental_stats(gcheap, &st);
    if (st.budget_us != 0) {
        snprintf(buf, cap,
                 "rcgc pause-bounded: %llu passes, %llu increments, %llu "
                 "work units, longest increment %.2f ms (wall clock), %llu "
                 "candidates "
                 "confirmed, %llu found unreachable",
                 (unsigned long long)st.passes,
                 (unsigned long long)st.increments,
                 (unsigned long long)st.work, (double)st.max_pause_ns / 1e6,
                 (unsigned long long)st.candidates,
                 (unsigned long long)st.collected);
        return;
    }
    snprintf(buf, cap,
             "rcgc's event log (last %zu collections, %zu of generation "
             "0): gen-0 pause p50 %.1f \u00b5s (wall clock), %llu "
             "objects examined (median)",
             n < GC_EVENT_LOG ? n : (size_t)GC_EVENT_LOG, k,
             (double)pause[k / 2] / 1e3, (unsigned long long)examined[k / 2]);
}

static void
rc_set_pacing(int adaptive)
{
    gc_set_pacing(gcheap, adaptive ? GC_PACING_ADAPTIVE : GC_PACING_FIXED);
}

static size_t
rc_heap_bytes(void)
{
    OaStats st;
    oa_heap_stats(rc_heap_oa(heap), &st);
    return st.bytes_used + st.large_bytes;
}

static void
rc_pauses_start(PauseLog *log)
{
    pause_log = log;
    gc_callback_add(gcheap, pause_callback, NULL);
}

static void
rc_pauses_stop(void)
{
    gc_callback_remove(gcheap, pause_callback, NULL);
    pause_log = NULL;
}
#else
static void
rc_setup(void)
{
    heap = rc_heap_new(NULL);
    if (heap == NULL) {
        fprintf(stderr, "bench: rc_heap_new failed\n");
        exit(1);
    }
}

static void
rc_teardown(void)
{
    rc_heap_destroy(heap);
    heap = NULL;
}
#endif

void
rc_backend_init(Backend *b)
{
    *b = (Backend)
    {
        .name = "rcgc", .available = 1, .setup = rc_setup,
        .teardown = rc_teardown, .node_new = rc_node_new,
        .set_slot = rc_set_slot, .decref = rc_decref_node,
        .node_bytes = rc_node_bytes, .live = rc_live, .blob_new = rc_blob_new,
#if defined(BENCH_HAVE_CYCLEGC)
        .has_collector = 1, .collect = rc_collect, .auto_gc = rc_auto_gc,
        .set_threshold = rc_set_threshold, .pauses_start = rc_pauses_start,
        .pauses_stop = rc_pauses_stop, .describe = rc_describe,
        .set_pacing = rc_set_pacing, .heap_bytes = rc_heap_bytes,
#endif
    };
#if !defined(BENCH_HAVE_CYCLEGC)
    snprintf(b->why, sizeof b->why, "cyclegc not built yet");
#endif
}

#else /* no refcount layer yet */

void
rc_backend_pause_budget(uint64_t us)
{
    (void)us; /* no collector to set it on */
}

void
rc_backend_init(Backend *b)
{
    *b = (Backend){.name = "rcgc"};
    snprintf(b->why, sizeof b->why, "refcount layer not built yet");
}
#endif

Backend backends[B_COUNT];
const char *const backend_names[B_COUNT] = {"CPython", "rcgc"};

void
backends_init(void)
{
    static int done;
    if (!done) {
        done = 1;
        py_backend_init(&backends[B_CPYTHON]);
        rc_backend_init(&backends[B_RCGC]);
    }
}
