/* SPDX-License-Identifier: MIT */
/* pytrace.c - the recording allocator hooks behind RCGC_TRACE.
 *
 * Data structures: one static Recorder (CPython's allocator table is
 * process-wide): the trace writer, the previous allocator per domain, a
 * hash table from live block address to its slot (open addressing,
 * linear probing, backward-shift deletion, from the RAW allocator), and a
 * stack of free slots (the last slot freed is reused first, so that slot
 * numbers stay as dense as the live set).
 *
 * Per call (GIL held, as for any MEM/OBJ hook):
 *   malloc/calloc -> prev; on success a new slot, recorded;
 *   realloc(p, n) -> prev; on success p's slot moves to the new address
 *                    (a p unknown to the table is recorded as a malloc,
 *                    realloc(NULL, n) too); a failed realloc records
 *                    nothing;
 *   free(p)       -> recorded if p is known, then prev.
 * Invariant: the table holds exactly the blocks allocated through the
 * hooks since recording began and not yet freed, each with its own slot.
 */
#include "launcher/pytrace.h"

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trace_io.h"

typedef struct Entry {
    uintptr_t key; /* block address; 0 = empty */
    uint32_t slot;
} Entry;

typedef struct Recorder {
    TraceWriter w;
    int on; /* recording (cleared at exit and in forked children) */
    PyMemAllocatorEx prev[2];
    Entry *tab; /* cap entries, a power of two, at most half full */
    size_t cap, count;
    uint32_t *freeslots; /* stack of empty slots */
    size_t nfree, freecap;
    uint32_t nslots; /* slots handed out so far */
} Recorder;

static Recorder rec;

/* ---- the address table ---------------------------------------------- */

static size_t
hash(uintptr_t k)
{
    return (size_t)((k >> 4) * 0x9E3779B97F4A7C15ull);
}

static int
grow(void)
{
    size_t cap = rec.cap ? rec.cap * 2 : (1u << 16);
    Entry *t = calloc(cap, sizeof *t);
    if (t == NULL) {
        return -1;
    }
    for (size_t i = 0; i < rec.cap; i++) {
        if (rec.tab[i].key != 0) {
            size_t j = hash(rec.tab[i].key) & (cap - 1);
            while (t[j].key != 0) {
                j = (j + 1) & (cap - 1);
            }
            t[j] = rec.tab[i];
        }
    }
    free(rec.tab);
    rec.tab = t;
    rec.cap = cap;
    return 0;
}

static int
put(uintptr_t k, uint32_t slot)
{
    if (2 * (rec.count + 1) > rec.cap && grow() < 0) {
        return -1;
    }
    size_t j = hash(k) & (rec.cap - 1);
    while (rec.tab[j].key != 0) {
        j = (j + 1) & (rec.cap - 1);
    }
    rec.tab[j] = (Entry){k, slot};
    rec.count++;
    return 0;
}

/* Remove k; its slot in *slot, or -1 when k is not in the table. */
static int
take(uintptr_t k, uint32_t *slot)
{
    if (rec.cap == 0) {
        return -1;
    }
    size_t mask = rec.cap - 1, j = hash(k) & mask;
    while (rec.tab[j].key != k) {
        if (rec.tab[j].key == 0) {
            return -1;
        }
        j = (j + 1) & mask;
    }
    *slot = rec.tab[j].slot;
    /* Backward shift: move later entries of the run into the hole when
     * their home is not between the hole and them. */
    size_t hole = j;
    for (size_t i = (j + 1) & mask; rec.tab[i].key != 0; i = (i + 1) & mask) {
        size_t home = hash(rec.tab[i].key) & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            rec.tab[hole] = rec.tab[i];
            hole = i;
        }
    }
    rec.tab[hole].key = 0;
    rec.count--;
    return 0;
}

/* ---- slots ---------------------------------------------------------- */

static uint32_t
slot_new(void)
{
    if (rec.nfree > 0) {
        return rec.freeslots[--rec.nfree];
    }
    return rec.nslots++;
}

static void
slot_drop(uint32_t slot)
{
    if (rec.nfree == rec.freecap) {
        size_t cap = rec.freecap ? rec.freecap * 2 : 4096;
        uint32_t *s = realloc(rec.freeslots, cap * sizeof *s);
        if (s == NULL) {
            return; /* the slot is lost: the trace stays valid */
        }
        rec.freeslots = s;
        rec.freecap = cap;
    }
    rec.freeslots[rec.nfree++] = slot;
}

/* ---- recording ------------------------------------------------------ */

/* A new block p (from malloc, calloc, or a realloc of an unknown block). */
static void
record_new(unsigned op, unsigned dom, void *p, size_t nbytes)
{
    uint32_t slot = slot_new();
    if (put((uintptr_t)p, slot) < 0) {
        fprintf(stderr, "rcgc-python: RCGC_TRACE: out of memory; "
                        "recording stops\n");
        rec.on = 0;
        return;
    }
    trace_writer_event(&rec.w, op, dom, slot, nbytes);
}

static unsigned
dom_of(void *ctx)
{
    return (PyMemAllocatorEx *)ctx == &rec.prev[1] ? 1u : 0u;
}

static void *
rec_malloc(void *ctx, size_t nbytes)
{
    PyMemAllocatorEx *prev = ctx;
    void *p = prev->malloc(prev->ctx, nbytes);
    if (p != NULL && rec.on) {
        record_new(TR_MALLOC, dom_of(ctx), p, nbytes);
    }
    return p;
}

static void *
rec_calloc(void *ctx, size_t n, size_t size)
{
    PyMemAllocatorEx *prev = ctx;
    void *p = prev->calloc(prev->ctx, n, size);
    if (p != NULL && rec.on) {
        record_new(TR_CALLOC, dom_of(ctx), p, n * size); /* no overflow:
                                                            it succeeded */
    }
    return p;
}

static void *
rec_realloc(void *ctx, void *p, size_t nbytes)
{
    PyMemAllocatorEx *prev = ctx;
    void *q = prev->realloc(prev->ctx, p, nbytes);
    if (q == NULL || !rec.on) {
        return q;
    }
    uint32_t slot;
    if (p != NULL && take((uintptr_t)p, &slot) == 0) {
        if (put((uintptr_t)q, slot) < 0) {
            rec.on = 0;
            return q;
        }
        trace_writer_event(&rec.w, TR_REALLOC, dom_of(ctx), slot, nbytes);
    }
    else {
        record_new(TR_MALLOC, dom_of(ctx), q, nbytes);
    }
    return q;
}

static void
rec_free(void *ctx, void *p)
{
    PyMemAllocatorEx *prev = ctx;
    uint32_t slot;
    if (p != NULL && rec.on && take((uintptr_t)p, &slot) == 0) {
        trace_writer_event(&rec.w, TR_FREE, dom_of(ctx), slot, 0);
        slot_drop(slot);
    }
    prev->free(prev->ctx, p);
}

/* ---- start and stop ------------------------------------------------- */

static void
finish(void)
{
    if (!rec.on) {
        return;
    }
    rec.on = 0;
    if (trace_writer_close(&rec.w) != 0) {
        perror("rcgc-python: RCGC_TRACE: writing the trace");
    }
}

static void
forked_child(void)
{
    if (rec.on) {
        rec.on = 0;
        trace_writer_abandon(&rec.w);
    }
}

/* Starts recording allocation calls to the file at `path`: opens the
 * writer, drops RCGC_TRACE so child processes do not record, registers the
 * exit and fork handlers, then hooks both PyMem domains above the
 * allocator they had.  -1 with a message on stderr if a step fails. */
int
pytrace_start(const char *path)
{
    if (trace_writer_open(&rec.w, path) != 0) {
        fprintf(stderr, "rcgc-python: RCGC_TRACE: cannot create %s: %s\n",
                path, strerror(errno));
        return -1;
    }
    unsetenv("RCGC_TRACE"); /* children run without recording */
    if (atexit(finish) != 0 || pthread_atfork(NULL, NULL, forked_child) != 0) {
        fprintf(stderr, "rcgc-python: RCGC_TRACE: cannot register the "
                        "exit handler\n");
        trace_writer_abandon(&rec.w);
        return -1;
    }
    static const PyMemAllocatorDomain ids[2] = {PYMEM_DOMAIN_MEM,
                                                PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 2; i++) {
        PyMem_GetAllocator(ids[i], &rec.prev[i]);
        PyMemAllocatorEx hook = {.ctx = &rec.prev[i],
                                 .malloc = rec_malloc,
                                 .calloc = rec_calloc,
                                 .realloc = rec_realloc,
                                 .free = rec_free};
        PyMem_SetAllocator(ids[i], &hook);
    }
    rec.on = 1;
    return 0;
}
