/* SPDX-License-Identifier: MIT */
/* backend.h - one interface over rcgc and CPython for the object benches.
 *
 * The refcount, collector, young-generation and memory benches build the
 * same graphs of 2-slot nodes in both runtimes through this interface:
 * rcgc (rc_backend.c: an RcType with two RcObject* slots in a GcHeap) and
 * CPython 3.11 (py_backend.c: a minimal static GC type with two PyObject*
 * slots, in this process's embedded interpreter).  Each backend:
 *   - setup/teardown bracket one measurement (rcgc: a fresh heap; CPython:
 *     its one interpreter, with its startup objects frozen);
 *   - node_new returns a node with count 1 and both slots NULL;
 *   - set_slot stores a new reference (the target is increfed);
 *   - collect(generation) runs an explicit collection and returns the
 *     number of unreachable objects it found;
 *   - pause recording: each collection's generation and duration, timed
 *     by the bench's clock from the backend's start/stop callbacks.
 */
#ifndef RCGC_BENCH_BACKEND_H
#define RCGC_BENCH_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct PauseLog {
    uint64_t *ns;
    uint8_t *gen;
    size_t n, cap;
    uint64_t t0; /* start of the collection in progress */
    int active;
    /* Per generation: objects the collections found unreachable
     * (collected + uncollectable), all of them, even past cap. */
    uint64_t found[3];
} PauseLog;

void pauselog_init(PauseLog *log, size_t cap);
void pauselog_free(PauseLog *log);
static inline void
pauselog_add(PauseLog *log, int gen, uint64_t ns, long found)
{
    if (gen >= 0 && gen < 3 && found > 0) {
        log->found[gen] += (uint64_t)found;
    }
    if (log->n < log->cap) {
        log->ns[log->n] = ns;
        log->gen[log->n] = (uint8_t)gen;
        log->n++;
    }
}

typedef struct Backend {
    const char *name;
    int available;
    char why[160];
    int has_collector; /* collect/pauses work */
    void (*setup)(void);
    void (*teardown)(void);
    void *(*node_new)(void);
    void (*set_slot)(void *node, int i, void *target);
    void (*decref)(void *node);
    long (*collect)(int generation);
    void (*auto_gc)(int on);
    void (*set_threshold)(long t0, long t1, long t2);
    void (*pauses_start)(PauseLog *log);
    void (*pauses_stop)(void);
    /* Bytes of allocator memory per node (block size, with GC header). */
    double (*node_bytes)(void);
    /* Objects of the node type still alive (sanity checks), -1 unknown. */
    long (*live)(void);
    /* Optional: a line about the collections so far from the runtime's
     * own records (rcgc: its event log), to cross-check the pauses. */
    void (*describe)(char *buf, size_t cap);
    /* Optional (rcgc): adaptive pacing on or off (gc_set_pacing), and
     * the bytes of the heap's blocks in use (live and not yet
     * collected). */
    void (*set_pacing)(int adaptive);
    size_t (*heap_bytes)(void);
    /* Optional: a new object of `bytes` bytes of payload (touched), not
     * tracked, count 1: what a node's slot may hold (pause_bench.c). */
    void *(*blob_new)(size_t bytes);
} Backend;

enum { B_CPYTHON, B_RCGC, B_COUNT };
extern Backend backends[B_COUNT];
extern const char *const backend_names[B_COUNT];

/* Prepare both (Py_Initialize for CPython, with the startup objects
 * frozen and automatic collection off). */
void backends_init(void);
/* One of them only (the memory bench's child processes). */
void py_backend_init(Backend *b);
void rc_backend_init(Backend *b);
/* rcgc's pause budget (cyclegc.h) for the heaps setup makes from now on;
 * 0: stop-the-world (the default). */
void rc_backend_pause_budget(uint64_t us);

/* ---- graphs --------------------------------------------------------- */

typedef enum Shape {
    SHAPE_RING2,
    SHAPE_RING10,
    SHAPE_RING1000,
    SHAPE_TREE,
    SHAPE_RANDOM,
    SHAPE_MIXED,
    SHAPE_CHAIN,
    SHAPE_COUNT
} Shape;

/* A graph as indices: node i's slots point at e[2i], e[2i+1] (-1: NULL);
 * roots are the nodes held from outside; ngarbage nodes are unreachable
 * from them. */
typedef struct Graph {
    size_t n;
    int32_t *e;
    uint32_t *roots;
    size_t nroots;
    size_t ngarbage;
} Graph;

void graph_make(Graph *g, Shape shape, size_t n, uint64_t seed);
void graph_free(Graph *g);
const char *shape_name(Shape shape);

/* Build g with backend b: nodes allocated in index order, slots wired,
 * the creation references dropped except for the roots, which are
 * returned in roots[0..g->nroots). */
void graph_build(const Backend *b, const Graph *g, void **nodes, void **roots);
/* Drop the roots' references. */
void graph_drop_roots(const Backend *b, const Graph *g, void **roots);

#if defined(BENCH_HAVE_REFCOUNT)
#include "refcount/refcount.h"
/* rc_backend.c's node type: a GC type whose payload is two RcObject *
 * slots, with a traverse and a clear over both (the heaps table builds its
 * trees from it too). */
extern const RcType rc_backend_node_type;
#endif

#endif /* RCGC_BENCH_BACKEND_H */
