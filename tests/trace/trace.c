/* SPDX-License-Identifier: MIT */
/* trace.c - the allocation trace format round-trips, the reader rejects
 * broken traces with a message naming the fault, and a replay (bench/
 * replay.h) gives every block back. */
#define _POSIX_C_SOURCE 200809L /* mkstemp (-std=c11) */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/replay.h"
#include "bench/trace_io.h"
#include "objalloc/objalloc.h"

static char path[] = "/tmp/rcgc-trace-test-XXXXXX";

static void
make_path(void)
{
    strcpy(path, "/tmp/rcgc-trace-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
}

static void
remove_path(void)
{
    unlink(path);
}

TestSuite(trace, .init = make_path, .fini = remove_path);

typedef struct Call {
    unsigned op, dom;
    uint32_t slot;
    uint64_t nbytes;
} Call;

static void
write_calls(const Call *c, size_t n)
{
    TraceWriter w;
    cr_assert_eq(trace_writer_open(&w, path), 0);
    for (size_t i = 0; i < n; i++) {
        trace_writer_event(&w, c[i].op, c[i].dom, c[i].slot, c[i].nbytes);
    }
    cr_assert_eq(trace_writer_close(&w), 0);
}

Test(trace, every_call_round_trips)
{
    static const Call c[] = {
        {TR_MALLOC, 0, 0, 0},           {TR_CALLOC, 1, 1, 48},
        {TR_MALLOC, 1, 300000, 127},    {TR_REALLOC, 0, 1, 128},
        {TR_REALLOC, 1, 300000, 16383}, {TR_FREE, 0, 0, 0},
        {TR_MALLOC, 0, 0, (1u << 29)},  {TR_FREE, 1, 1, 0},
    };
    size_t n = sizeof c / sizeof c[0];
    write_calls(c, n);
    Trace t;
    char err[256];
    cr_assert_eq(trace_load(path, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.n, n);
    cr_assert_eq(t.nslots, 300001);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(t.ev[i].slot, c[i].slot, "call %zu", i);
        cr_assert_eq(trace_op(t.ev[i]), c[i].op, "call %zu", i);
        if (c[i].op != TR_FREE) {
            cr_assert_eq(trace_nbytes(t.ev[i]), c[i].nbytes, "call %zu", i);
        }
    }
    cr_assert_eq(t.count[TR_MALLOC], 3);
    cr_assert_eq(t.count[TR_CALLOC], 1);
    cr_assert_eq(t.count[TR_REALLOC], 2);
    cr_assert_eq(t.count[TR_FREE], 2);
    cr_assert_eq(t.obj_calls, 4);
    cr_assert_eq(t.maxlive, 3);
    cr_assert_eq(t.leftover, 2);
    cr_assert_eq(t.nmedium, 1); /* 16383 */
    cr_assert_eq(t.nlarge, 1);  /* 512 MiB */
    trace_release(&t);
}

/* Load a file holding `bytes`; the error must mention `what`. */
static void
expect_rejected(const void *bytes, size_t len, const char *what)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    Trace t;
    char err[256];
    cr_assert_eq(trace_load(path, &t, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, what), "message '%s' lacks '%s'", err,
                       what);
    cr_assert_not_null(strstr(err, path), "message '%s' lacks the path", err);
    cr_assert_null(t.ev);
}

Test(trace, broken_traces_are_rejected_with_the_reason)
{
    expect_rejected("RCGCTRX1", 8, "not a trace");
    /* free of an empty slot, malloc into a live one */
    expect_rejected("RCGCTRC1\x03\x05", 10,
                    "free into slot 5, which is "
                    "empty");
    expect_rejected("RCGCTRC1\x00\x01\x10\x00\x01\x10", 14,
                    "call 1: malloc into slot 1, which is live");
    expect_rejected("RCGCTRC1\x00\x01\x10", 11, "no end record");
    expect_rejected("RCGCTRC1\x00\x01", 10, "truncated record");
    expect_rejected("RCGCTRC1\x00\x01\x10\xff\x02\x02", 14,
                    "end record says 2 calls");
    expect_rejected("RCGCTRC1\x00\x01\x10\xff\x01\x02\x00", 15,
                    "after the end record");
    expect_rejected("RCGCTRC1\x00\x01\xff\xff\xff\xff\x0f", 15,
                    "over the replay limit");
}

Test(trace, a_missing_file_is_named)
{
    Trace t;
    char err[256];
    cr_assert_eq(trace_load("/nonexistent/x.trc", &t, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "/nonexistent/x.trc: cannot read"), "%s",
                       err);
}

/* ---- replay --------------------------------------------------------- */

static OaHeap *heap;

static void *
t_malloc(size_t n)
{
    return oa_malloc(heap, n);
}
static void *
t_calloc(size_t n)
{
    return oa_calloc(heap, 1, n);
}
static void
t_free(void *p, size_t n)
{
    (void)n;
    oa_free(p);
}
static void
t_free_sized(void *p, size_t n)
{
    oa_free_sized(p, n);
}
static void *
t_realloc(void *p, size_t old, size_t n)
{
    (void)old;
    return oa_realloc(heap, p, n);
}

static uint64_t rs = 88172645463325252ull;

static uint64_t
rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static uint64_t
rnd_size(void)
{
    unsigned r = (unsigned)(rnd() % 100);
    return r < 80 ? rnd() % 513 : r < 97 ? rnd() % 40000 : rnd() % 3000000;
}

/* A random valid trace of n calls over at most nslots blocks, written to
 * path; some blocks stay live at the end, as in a real program. */
static void
write_random(size_t n, uint32_t nslots)
{
    uint8_t *live = calloc(nslots, 1);
    TraceWriter w;
    cr_assert_eq(trace_writer_open(&w, path), 0);
    for (size_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)(rnd() % nslots);
        unsigned op = live[s] ? (rnd() % 4 == 0 ? TR_REALLOC : TR_FREE)
                              : (rnd() % 5 == 0 ? TR_CALLOC : TR_MALLOC);
        trace_writer_event(&w, op, (unsigned)(rnd() & 1), s, rnd_size());
        live[s] = op != TR_FREE;
    }
    cr_assert_eq(trace_writer_close(&w), 0);
    free(live);
}

static void
replay_and_check(int sized)
{
    write_random(200000, 5000);
    Trace t;
    char err[256];
    cr_assert_eq(trace_load(path, &t, err, sizeof err), 0, "%s", err);
    cr_assert_gt(t.leftover, 0);
    void **slot = calloc(t.nslots, sizeof *slot);
    uint32_t *size = calloc(t.nslots, sizeof *size);
    heap = oa_heap_new();
    cr_assert_not_null(heap);
    ReplayFns fn = {t_malloc, t_calloc, sized ? t_free_sized : t_free,
                    t_realloc};
    /* in two halves, with the heap checked between */
    cr_assert_eq(replay_calls(fn, &t, 0, t.n / 2, slot, size, sized), 0);
    cr_assert_eq(oa_heap_check(heap), 0);
    cr_assert_eq(replay_calls(fn, &t, t.n / 2, t.n, slot, size, sized), 0);
    OaStats st;
    oa_heap_stats(heap, &st);
    cr_assert_eq(st.blocks_used + st.large_blocks, t.leftover);
    replay_drain(fn, t.nslots, slot, size, sized);
    for (uint32_t s = 0; s < t.nslots; s++) {
        cr_assert_null(slot[s], "slot %u not freed", s);
    }
    oa_heap_stats(heap, &st);
    cr_assert_eq(oa_heap_check(heap), 0);
    cr_assert_eq(st.blocks_used, 0);
    cr_assert_eq(st.large_blocks, 0);
    cr_assert_eq(st.ncalloc, t.count[TR_CALLOC]);
    cr_assert_eq(st.nfree, st.nmalloc);
    oa_heap_destroy(heap);
    free(slot);
    free(size);
    trace_release(&t);
}

Test(trace, replay_frees_every_block)
{
    replay_and_check(0);
}

Test(trace, replay_with_sized_free_frees_every_block)
{
    replay_and_check(1);
}
