/* SPDX-License-Identifier: MIT */
/* demo.h - the workload `make demo` runs, shared by its two halves.
 *
 * The shape of an interpreter's heap: modules hold long-lived records;
 * each step calls a "function" that creates a frame (an environment with
 * k slots), fills it with strings (byte buffers) and closures (a pair of
 * code and the captured environment - a cycle frame -> closure -> frame),
 * links a few records to each other (more cycles), stores some results in
 * the module table (they live long) and drops the frame (cyclic garbage).
 * Both halves follow the same script from the same seed: demo.c on rcgc,
 * demo_cpython.c on CPython's own objects (lists, tuples, bytes).
 */
#ifndef RCGC_DEMO_H
#define RCGC_DEMO_H

#include <stdint.h>

#define DEMO_MODULE_SLOTS 4096 /* long-lived table */
#define DEMO_FRAME_MAX    12   /* slots of one frame: 4..12 */
#define DEMO_STRING_MAX   96   /* bytes of one string: 8..96 */

/* xorshift64*: the same sequence in both halves. */
static inline uint64_t
demo_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* One step's decisions, drawn identically by both halves. */
typedef struct DemoStep {
    unsigned nslots;         /* frame size */
    unsigned nstrings;       /* strings stored in the frame */
    unsigned strlen_;        /* their length */
    unsigned nclosures;      /* closures capturing the frame */
    unsigned keep_slot;      /* module slot that receives a closure */
    int keep;                /* whether this step keeps one (1 in 4) */
    unsigned link_a, link_b; /* module slots linked to each other */
} DemoStep;

static inline void
demo_draw(uint64_t *seed, DemoStep *st)
{
    uint64_t r = demo_rand(seed);
    st->nslots = 4 + (unsigned)(r % (DEMO_FRAME_MAX - 3));
    st->nstrings = 1 + (unsigned)((r >> 8) % 3);
    st->strlen_ = 8 + (unsigned)((r >> 16) % (DEMO_STRING_MAX - 7));
    st->nclosures = 1 + (unsigned)((r >> 24) % 2);
    st->keep = ((r >> 32) & 3) == 0;
    st->keep_slot = (unsigned)((r >> 34) % DEMO_MODULE_SLOTS);
    r = demo_rand(seed);
    st->link_a = (unsigned)(r % DEMO_MODULE_SLOTS);
    st->link_b = (unsigned)((r >> 20) % DEMO_MODULE_SLOTS);
}

/* The CPython half (demo_cpython.c): runs `steps` steps and returns the
 * seconds it took, or a negative value when CPython is not available. */
double demo_cpython_run(uint64_t seed, long steps, long *collections);

#endif
