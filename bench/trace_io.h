/* SPDX-License-Identifier: MIT */
/* trace_io.h - allocation traces: the file format, a writer, a reader.
 *
 * A trace is the sequence of allocation calls a program made (malloc,
 * calloc, realloc, free, with sizes and CPython's domain), recorded by
 * rcgc-python with RCGC_TRACE=<file> (launcher/pytrace.c) and replayed
 * against every allocator by rcgc-bench trace (bench/trace_bench.c).
 *
 * Blocks are named by slots, not addresses: a malloc or calloc puts its
 * block into a slot that is not live (the recorder reuses the slot freed
 * last, so slots stay dense: nslots is the most blocks live at once, give
 * or take), a realloc keeps its slot, a free empties it.  The replayer
 * keeps one pointer per slot.
 *
 * File format (little-endian varints: 7 bits a byte, high bit = more):
 *
 *   "RCGCTRC1"                         8-byte magic and version
 *   record*                            one per call
 *   0xFF nevents nslots                end record, then end of file
 *
 *   record := tag slot [nbytes]
 *   tag    := op | domain << 2         op: 0 malloc, 1 calloc (nbytes is
 *                                      n * size), 2 realloc, 3 free (no
 *                                      nbytes); domain: 0 PyMem, 1
 *                                      PyObject
 *
 * A call of the program that the trace cannot name (free or realloc of a
 * block allocated before recording started) is not recorded; a realloc of
 * such a block is recorded as a malloc of its new size.  Typical cost:
 * 4-5 bytes per call.
 */
#ifndef RCGC_BENCH_TRACE_IO_H
#define RCGC_BENCH_TRACE_IO_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_MAGIC     "RCGCTRC1"
#define TRACE_END       0xFFu
#define TRACE_MAX_BYTES ((1u << 30) - 1) /* largest request replayed */

enum { TR_MALLOC, TR_CALLOC, TR_REALLOC, TR_FREE };

/* ---- writing -------------------------------------------------------- */

typedef struct TraceWriter {
    int fd;
    unsigned char *buf; /* TRACE_WBUF bytes, flushed when nearly full */
    size_t len;
    uint64_t nevents;
    uint32_t nslots; /* highest slot written + 1 */
    int error;       /* errno of the first failed write, or 0 */
} TraceWriter;

/* Create (truncate) path and write the magic; 0, or -1 with errno set.
 * The buffer comes from the system malloc. */
int trace_writer_open(TraceWriter *w, const char *path);
/* Append one call (no check of the slot rules: the recorder keeps them;
 * nbytes is ignored for TR_FREE). */
void trace_writer_event(TraceWriter *w, unsigned op, unsigned domain,
                        uint32_t slot, uint64_t nbytes);
/* Write the end record, flush, close; 0, or -1 with errno of the first
 * error of any write. */
int trace_writer_close(TraceWriter *w);
/* Drop the writer without writing (a forked child's copy). */
void trace_writer_abandon(TraceWriter *w);

/* ---- reading -------------------------------------------------------- */

/* One decoded call: word = nbytes << 2 | op (nbytes <= TRACE_MAX_BYTES). */
typedef struct TraceEv {
    uint32_t slot;
    uint32_t word;
} TraceEv;

static inline unsigned
trace_op(TraceEv e)
{
    return e.word & 3u;
}

static inline size_t
trace_nbytes(TraceEv e)
{
    return e.word >> 2;
}

typedef struct Trace {
    TraceEv *ev; /* n calls, from the system malloc */
    size_t n;
    uint32_t nslots;
    uint64_t count[4];  /* calls per op */
    uint64_t nmedium;   /* malloc/calloc/realloc of 513 B .. 32 KiB */
    uint64_t nlarge;    /* ... over 32 KiB */
    uint64_t maxlive;   /* most slots live at once */
    uint64_t leftover;  /* blocks still live at the end */
    uint64_t obj_calls; /* calls in the PyObject domain */
} Trace;

/* Read and check a whole trace: magic, every record, the slot rules
 * (malloc/calloc into a slot that is not live, realloc/free of a live
 * one), the end record's counts, nothing after it.  0 on success; -1 with
 * a message naming the file and what was wrong (and the call's index) in
 * err, and *t empty. */
int trace_load(const char *path, Trace *t, char *err, size_t errlen);
void trace_release(Trace *t);

#endif /* RCGC_BENCH_TRACE_IO_H */
