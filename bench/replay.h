/* SPDX-License-Identifier: MIT */
/* replay.h - replaying an allocation trace against one allocator.
 *
 * replay_calls() makes the trace's calls in order, each block's pointer
 * kept in slot[its slot]; replay_drain() then frees what is left (the
 * blocks the program never freed), so that every replay ends with an
 * empty heap and slot[] all NULL.  Both are always_inline over a
 * ReplayFns of constant functions, so that every allocator is called
 * directly (as WITH_ALLOC does in alloc_bench.c).
 *
 * What a replayed call does besides the call: a new or moved block of at
 * least 8 bytes gets one word written at its start (a program writes its
 * object header there: the allocator's choice of address shows in the
 * cache misses), realloc to 0 bytes asks for 1 (CPython's domains never
 * free on realloc), and when `sized` is set the request of every live
 * block is kept in size[] for a free that is told the size.
 */
#ifndef RCGC_BENCH_REPLAY_H
#define RCGC_BENCH_REPLAY_H

#include "bench/trace_io.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct ReplayFns {
    void *(*malloc)(size_t n);
    void *(*calloc)(size_t n); /* n zeroed bytes */
    void (*free)(void *p, size_t n);
    void *(*realloc)(void *p, size_t old, size_t n);
} ReplayFns;

#define REPLAY_INLINE static inline __attribute__((always_inline))

REPLAY_INLINE void
replay_touch(void *p, size_t n, size_t i)
{
    if (n >= sizeof(size_t)) {
        *(size_t *)p = i;
    }
}

/* Make calls [from, to) of t.  0, or -1 when an allocation failed (the
 * calls before it made; slot[] consistent). */
REPLAY_INLINE int
replay_calls(ReplayFns fn, const Trace *t, size_t from, size_t to, void **slot,
             uint32_t *size, const int sized)
{
    for (size_t i = from; i < to; i++) {
        TraceEv e = t->ev[i];
        size_t n = trace_nbytes(e);
        void *p;
        switch (trace_op(e)) {
            case TR_MALLOC:
                p = fn.malloc(n);
                if (p == NULL) {
                    return -1;
                }
                replay_touch(p, n, i);
                break;
            case TR_CALLOC:
                p = fn.calloc(n);
                if (p == NULL) {
                    return -1;
                }
                break;
            case TR_REALLOC:
                n += n == 0;
                p = fn.realloc(slot[e.slot], sized ? size[e.slot] : 0, n);
                if (p == NULL) {
                    return -1;
                }
                replay_touch(p, n, i);
                break;
            default:
                fn.free(slot[e.slot], sized ? size[e.slot] : 0);
                p = NULL;
                break;
        }
        slot[e.slot] = p;
        if (sized) {
            size[e.slot] = (uint32_t)n;
        }
    }
    return 0;
}

/* Free every block still in slot[0 .. nslots). */
REPLAY_INLINE void
replay_drain(ReplayFns fn, uint32_t nslots, void **slot, uint32_t *size,
             const int sized)
{
    for (uint32_t s = 0; s < nslots; s++) {
        if (slot[s] != NULL) {
            fn.free(slot[s], sized ? size[s] : 0);
            slot[s] = NULL;
        }
    }
}

#endif /* RCGC_BENCH_REPLAY_H */
