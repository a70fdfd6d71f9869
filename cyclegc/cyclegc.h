/* SPDX-License-Identifier: MIT */
/* cyclegc.h - the three-generation cycle collector (public API).
 *
 * A GcHeap attaches to an RcHeap and tracks every object of an RC_TYPE_GC
 * type in generation 0.  A collection of generation g (and the younger
 * ones merged into it) finds the objects kept alive only by references
 * from inside the collected set: gc_refs starts as each object's count,
 * every internal reference (found with traverse) is subtracted, and what
 * is still referenced from outside survives together with everything it
 * reaches; the rest is cyclic garbage, which is finalized (once, PEP 442),
 * checked for resurrection, cleared and freed.  The API mirrors Python's
 * gc module; the names follow it.
 *
 * Weak references to the garbage, in CPython 3.14's order: those with a
 * callback are cleared, and the callbacks of those that are not garbage
 * themselves run, before any finalizer; those without a callback still
 * return their object while the finalizers run, and are cleared after
 * them (if the object stays garbage), with every weakref a finalizer made
 * and every weakref that is garbage, before any garbage is cleared; none
 * of these calls back.  Differences from CPython, and why:
 * docs/cpython-differences.md.
 *
 * Generations 0, 1, 2 with thresholds (2000, 10, 10) as CPython 3.13+,
 * and a permanent generation for frozen objects.  Creating a tracked
 * object may start a collection of the oldest generation over its
 * threshold; a full collection also waits until the long-lived pending
 * objects exceed a quarter of the long-lived total.  External bytes that
 * objects account for advance the collector too, and an adaptive pacing
 * mode follows the yield of the collections ("pacing" below, and
 * docs/collector-pacing.md).
 *
 * Memory: a collection allocates nothing in proportion to the heap (it
 * sorts a generation in place, with 24 KiB of bucket tables, filters
 * young references with a 32 KiB bitmap and generation 1's with an 8 KiB
 * one, records the order of sets of up to 8192 objects in a 64 KiB array
 * and the addresses generation 0's collections promote in a 32 KiB one,
 * all allocated with the GcHeap);
 * only what it finds may need bookkeeping memory (the garbage list,
 * weak-reference callbacks).
 *
 * Threads: a GcHeap is used by one thread at a time, like its RcHeap.
 * Errors: functions that can fail return -1 (or NULL) and leave a message
 * in gc_error(); a NULL heap is refused with a message (RCGC_ERROR_MISUSE,
 * objalloc.h) and the error value.  Nothing aborts on bad input except
 * what would corrupt memory, in debug builds (RCGC_DEBUG): a freed object
 * that a traverse reports (a missing rc_incref) aborts the collection with
 * a message naming it and its referrer, and so does a collection that
 * finds more references to an object among the collected objects than its
 * count ("cyclegc: gc_collect: object 0x...: refcount is too small: count
 * N, ... (type '...')"); release builds trust the count, and such an
 * object may be freed while referenced.
 */
#ifndef RCGC_CYCLEGC_H
#define RCGC_CYCLEGC_H

#include "refcount/refcount.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct GcHeap GcHeap;

#define GC_NGENERATIONS 3

/* Debug flags, with the values of Python's gc module. */
#define GC_DEBUG_STATS         (1 << 0)
#define GC_DEBUG_COLLECTABLE   (1 << 1)
#define GC_DEBUG_UNCOLLECTABLE (1 << 2)
#define GC_DEBUG_SAVEALL       (1 << 5)
#define GC_DEBUG_LEAK                                                         \
    (GC_DEBUG_COLLECTABLE | GC_DEBUG_UNCOLLECTABLE | GC_DEBUG_SAVEALL)

/* ---- heaps ---------------------------------------------------------- */

/* A collector for `rc`, or for a heap of its own (and an objalloc heap of
 * its own) when rc is NULL.  It registers as objalloc's pressure callback
 * (an allocation about to fail first collects everything).  NULL when out
 * of memory or rc already has a collector. */
RCGC_API GcHeap *gc_heap_new(RcHeap *rc);

/* Detach and release the collector; with a heap of its own, release the
 * heaps too (objects are not finalized).  Refused (a message,
 * RCGC_ERROR_MISUSE and gc_error, and nothing is released) while the heap
 * is in use up the stack: during its collection (from a finalizer, a
 * weakref callback or a gc callback) or while rc_decref deallocates its
 * objects; destroy it after that call returns. */
RCGC_API void gc_heap_destroy(GcHeap *gc);

RCGC_API RcHeap *gc_heap_rc(const GcHeap *gc);
/* The collector of the heap an object lives in, or NULL. */
RCGC_API GcHeap *gc_heap_of(const RcObject *op);

/* The message of the last failed call, or NULL. */
RCGC_API const char *gc_error(const GcHeap *gc);

/* ---- gc module API -------------------------------------------------- */

RCGC_API void gc_enable(GcHeap *gc);
RCGC_API void gc_disable(GcHeap *gc);
RCGC_API int gc_isenabled(const GcHeap *gc);

/* Collect generation 0..2 (2 is a full collection).  Returns the number
 * of unreachable objects found (collected + uncollectable; objects that a
 * finalizer resurrected are not counted), 0 when called during a
 * collection of this heap (nothing is done), -1 for an invalid generation
 * or when called on this thread during a collection of another heap. */
RCGC_API long gc_collect(GcHeap *gc, int generation);

/* Allocations minus deallocations since generation 0 was collected, and
 * collections of the younger generation since g was collected. */
RCGC_API void gc_get_count(const GcHeap *gc, long count[GC_NGENERATIONS]);

RCGC_API void gc_get_threshold(const GcHeap *gc,
                               long threshold[GC_NGENERATIONS]);
/* The base thresholds (as set; under adaptive pacing the thresholds in
 * force are in gc_get_stats).  Setting them also puts the thresholds in
 * force back to the base.  Negative values are refused (-1); threshold 0
 * for generation 0 turns automatic collection off. */
RCGC_API int gc_set_threshold(GcHeap *gc, long t0, long t1, long t2);

typedef struct GcGenStats {
    uint64_t collections;
    uint64_t collected;
    uint64_t uncollectable;
    long threshold;   /* in force now (adaptive pacing moves it; see
                       "pacing" below), gc_get_threshold gives the base */
    uint64_t bytes;   /* external bytes accounted and not released
                       (gc_bytes_acquire), heap-wide: the same in each */
    uint64_t skipped; /* generation 0: times it was due and adaptive
                         pacing moved it to generation 1 unexamined */
} GcGenStats;

RCGC_API void gc_get_stats(const GcHeap *gc,
                           GcGenStats stats[GC_NGENERATIONS]);

/* Callbacks around each collection ("start" and "stop" in Python). */
typedef enum GcPhase { GC_PHASE_START, GC_PHASE_STOP } GcPhase;
typedef struct GcInfo {
    int generation;
    long collected;     /* at stop */
    long uncollectable; /* at stop */
} GcInfo;
typedef void (*GcCallback)(GcHeap *gc, GcPhase phase, const GcInfo *info,
                           void *ctx);

/* Register (-1 when out of memory) and remove (-1 when not registered). */
RCGC_API int gc_callback_add(GcHeap *gc, GcCallback cb, void *ctx);
RCGC_API int gc_callback_remove(GcHeap *gc, GcCallback cb, void *ctx);

/* Move every tracked object to the permanent generation (ignored by
 * collections) and set every generation's count to 0, as gc.freeze();
 * unfreeze moves them back into the oldest generation.  A frozen object
 * that dies and is resurrected by its finalizer leaves the permanent
 * generation for generation 0, however it died (one rule: see
 * RcType.finalize). */
RCGC_API void gc_freeze(GcHeap *gc);
RCGC_API void gc_unfreeze(GcHeap *gc);
RCGC_API size_t gc_get_freeze_count(const GcHeap *gc);

/* Tracked objects of one generation (0..2), or of all when generation is
 * -1: fills buf with up to cap borrowed pointers and returns how many
 * there are; (size_t)-1 for an invalid generation. */
RCGC_API size_t gc_get_objects(GcHeap *gc, int generation, RcObject **buf,
                               size_t cap);

/* Tracked objects that refer to any of targets[0..n): as above. */
RCGC_API size_t gc_get_referrers(GcHeap *gc, RcObject *const *targets,
                                 size_t n, RcObject **buf, size_t cap);

/* Objects that objs[0..n) refer to (through traverse): as above;
 * (size_t)-1 with a message when objs (n > 0) or buf (cap > 0) is NULL. */
RCGC_API size_t gc_get_referents(RcObject *const *objs, size_t n,
                                 RcObject **buf, size_t cap);

RCGC_API int gc_is_tracked(const RcObject *op);
RCGC_API int gc_is_finalized(const RcObject *op);

/* Track or untrack one object of a GC type: -1 (with a message) when the
 * object is not of a GC type, already tracked / not tracked. */
RCGC_API int gc_track(RcObject *op);
RCGC_API int gc_untrack(RcObject *op);

/* The garbage list: uncollectable objects (and with DEBUG_SAVEALL every
 * unreachable one), each held by a strong reference.  Uncollectable are
 * the unreachable objects whose type has legacy_del and every unreachable
 * object they reach; all are counted (gc_collect, stats, callbacks), but
 * only those whose type has legacy_del are listed, as in CPython (with
 * DEBUG_SAVEALL all of them).  They are put on the list before any
 * garbage is finalized or cleared, so clearing a referrer cannot free
 * them.  Out of memory while listing one: it is still counted as
 * uncollectable (stats, event, callbacks), stays tracked in the generation
 * the survivors went to, gc_error says "garbage list: out of memory", and
 * the next collection of that generation lists it. */
RCGC_API size_t gc_garbage_count(const GcHeap *gc);
RCGC_API RcObject *gc_garbage_get(const GcHeap *gc, size_t i);
/* Drop the list's references (objects may then die or be collected). */
RCGC_API void gc_garbage_clear(GcHeap *gc);

/* Debug flags (GC_DEBUG_*) and the stream their lines go to (stderr when
 * NULL): "gc: collecting generation N...", "gc: done, N unreachable,
 * M uncollectable, T s elapsed", one line per collectable/uncollectable
 * object with DEBUG_COLLECTABLE/UNCOLLECTABLE. */
RCGC_API void gc_set_debug(GcHeap *gc, int flags, FILE *stream);
RCGC_API int gc_get_debug(const GcHeap *gc);

/* ---- beyond CPython ------------------------------------------------- */

typedef enum GcReason {
    GC_REASON_THRESHOLD, /* an allocation passed a threshold */
    GC_REASON_EXPLICIT,  /* gc_collect */
    GC_REASON_PRESSURE,  /* objalloc was about to fail an allocation */
    GC_REASON_BYTES      /* accounted bytes doubled since the last full
                            collection (see "pacing") */
} GcReason;

/* One collection, as recorded in the event log. */
typedef struct GcEvent {
    uint64_t seq; /* 1 for the heap's first collection */
    int generation;
    GcReason reason;
    uint64_t examined; /* objects in the collected generations */
    uint64_t collected;
    uint64_t uncollectable;
    uint64_t pause_ns;   /* wall time of the collection */
    uint64_t visits;     /* objects visited by the reachability passes'
                            walks of the list (examined x passes, 2 to 4):
                            the collection's work, free of timing noise */
    long threshold;      /* the collected generation's threshold in force
                            when the collection started */
    long next_threshold; /* ... and after it (adaptive pacing's decision;
                            the same under fixed pacing) */
    uint64_t bytes;      /* external bytes accounted after it */
    uint64_t skipped;    /* generation-0 passes adaptive pacing moved on
                            unexamined since the previous event */
    int increment;       /* 1: one increment of an old-generation pass
                            (pause-bounded mode); generation is then 2 */
    uint64_t work;       /* increments: work units done (objects visited
                            plus references followed) */
} GcEvent;

/* The most recent collections, oldest first: fills up to cap and returns
 * how many are kept (the log keeps the last GC_EVENT_LOG of them). */
#define GC_EVENT_LOG 1024
RCGC_API size_t gc_events(const GcHeap *gc, GcEvent *buf, size_t cap);

/* ---- pacing: when to collect --------------------------------------
 *
 * Count: generation 0's count is tracked allocations minus deallocations
 * plus the external bytes accounted since its last collection, one count
 * per GC_BYTES_PER_COUNT bytes (released bytes take counts back).  So a
 * cycle that holds a 1 MiB buffer weighs as 16384 small objects and is
 * collected soon after it dies, instead of after threshold0 more
 * objects (CPython gh-98801: such cycles pile up).  A cycle that was
 * still in use when generation 0 was collected has moved on to an older
 * generation; for those, a tracked allocation also starts a full
 * collection (reason GC_REASON_BYTES) once the accounted bytes reach
 * twice those alive after the last full collection, and at least
 * threshold0 * GC_BYTES_PER_COUNT more.  Memory bound: the accounted
 * bytes alive stay below 2 L + threshold0 * GC_BYTES_PER_COUNT + what
 * one object acquires, L being those alive after the last full
 * collection, as long as tracked objects are being allocated (the
 * trigger runs there, as CPython's).
 *
 * GC_PACING_FIXED (the default): the thresholds are those set.
 * GC_PACING_ADAPTIVE: the pacing follows the yield y = unreachable /
 * examined of the collections (why not the default: bench "pacing"
 * measures it against fixed; it does not win on every workload):
 *   generation 0: after a collection of generation 0 with y < 1/8 (its
 *     young objects mostly survive, so examining them was mostly
 *     wasted), the next GC_PACING_MAX_SKIPS times generation 0 is due
 *     it is moved into generation 1 unexamined, as a collection that
 *     found only survivors would do (counted in GcGenStats.skipped and
 *     GcEvent.skipped); then it is collected again and its yield read
 *     anew.  The generation-1 collection examines the skipped objects.
 *   generation 2: after a full collection, its threshold doubles when
 *     y < 1/8 and halves when y > 1/2, within [base, 8 base].
 * base being what gc_set_threshold set; generation 1 keeps its base.
 * Memory bound: cyclic garbage that a skip moved on waits for the next
 * generation-1 collection, at most threshold1 passes of generation 0
 * later, as garbage that outlived a generation-0 collection does under
 * fixed pacing; skips follow only a collection that found under 1/8 of
 * generation 0 unreachable, at most 3 in a row.  Cyclic garbage in
 * generation 2 waits at most 8x as many generation-1 collections as
 * under fixed pacing; the long-lived brake of full collections and the
 * bytes bound above are unchanged.  The event log records each decision
 * (GcEvent.threshold, next_threshold, skipped). */
#define GC_BYTES_PER_COUNT   64
#define GC_PACING_MAX_FACTOR 8
#define GC_PACING_MAX_SKIPS  3

typedef enum GcPacing { GC_PACING_FIXED, GC_PACING_ADAPTIVE } GcPacing;

/* -1 (with a message) for an unknown mode.  Switching resets the
 * thresholds in force to the base. */
RCGC_API int gc_set_pacing(GcHeap *gc, GcPacing mode);
RCGC_API GcPacing gc_get_pacing(const GcHeap *gc);

/* op now owns nbytes more of memory outside the heap (a buffer), or
 * gives back nbytes it accounted: the collector counts them toward
 * generation 0 (see above).  Call release before the memory is freed,
 * at the latest from op's dealloc or clear.  0 on success, and when op's
 * heap has no collector (nothing to pace); -1 when op is NULL, and -1
 * with a message in gc_error() when release names more bytes than are
 * accounted in op's heap (nothing changes). */
RCGC_API int gc_bytes_acquire(RcObject *op, size_t nbytes);
RCGC_API int gc_bytes_release(RcObject *op, size_t nbytes);

/* "Why is this alive?": a shortest path of references root -> ... ->
 * target, where the root is a tracked object referenced from outside the
 * tracked graph (path length 1 when target itself is).  Fills up to cap
 * pointers and returns the path length; 0 when no such path exists (the
 * target is cyclic garbage); (size_t)-1 on error (untracked target, out
 * of memory for its side tables: 3 words per tracked object, or called
 * during a collection).  Frozen objects take part.  O(tracked objects). */
RCGC_API size_t gc_why_alive(GcHeap *gc, RcObject *target, RcObject **path,
                             size_t cap);

/* ---- pause-bounded mode (incremental old generation) ---------------
 *
 * Off by default (stop-the-world: a full collection walks the whole old
 * generation in one pause).  With a pause budget set, the automatic
 * trigger never runs a full collection: when one would be due it collects
 * generation 1 (so every tracked object is in generation 2) and starts a
 * *pass* over generation 2, and each later young collection that the
 * trigger runs is followed by one increment of the pass, given what is
 * left of the budget after the young collection (none when less than a
 * quarter is left, but never twice in a row).  Young collections keep their semantics;
 * gc_collect(gc, 2) still runs a complete stop-the-world collection (it
 * abandons a running pass,
 * as do gc_freeze, gc_why_alive and the pressure callback).
 *
 * A pass, in increments of bounded work, with the program running in
 * between: it marks the pass set (generation 2 when it began; sorted by
 * address over a few increments when it is far from address order, so
 * that the next walks stream through memory), counts the references
 * each member receives from the others, then propagates reachability
 * from the members that have more references than that; what was never
 * reached is a candidate set U.  Counts go stale when the program
 * rewrites references during a pass, which leaves live objects in U, so
 * a large U is searched again in confirmation rounds (in increments
 * too) during which the collector watches U's objects; a round the
 * program left alone proves U is garbage.  Few candidates (up to 1024),
 * a round disturbed eight times, or garbage that needs finalizers or
 * weakref work are confirmed in one step with exact trial deletion
 * restricted to U (sound for any U: it frees only what nothing outside U
 * refers to), then finalized, weakrefs cleared and freed on the path of
 * a full collection (same order, same callbacks).
 *
 * The write barrier (the rule of this mode): every reference stored in
 * or removed from a slot of a tracked object goes through rc_setref
 * (refcount.h), and weak references are read with rc_weakref_get; those
 * tell the collector when the object is one it watches.  Debug builds
 * recount what a round confirmed and stop with a message naming an
 * object whose reference was stored past the barrier.
 *
 * Guarantees.  Pause: each increment stops when its budget is used
 * (checked every 64 work units; sorting one bucket of at most 8192
 * objects is one step), except a one-step confirmation, which costs
 * O(|U| + references from U) plus the finalizers it runs: at most 1024
 * candidates, or garbage that needs finalizers or weakref work, or a
 * set the program disturbed in eight rounds in a row.  Large garbage
 * confirmed by a round is handed over in O(1) and freed by the next
 * increments within their budget, before the next pass begins.  The
 * young collections the trigger runs are not split: the pause the
 * program sees is a young collection plus an increment.
 * Freed: a garbage cycle whose objects are all in generation 2 when a
 * pass begins is found by the end of that pass (and freed then, or by
 * the increments that follow it before the next pass), provided none of its
 * objects receives 2^11 - 1 or more references from the pass set (such
 * an object is taken as referenced from outside; gc_collect(gc, 2)
 * frees it); a cycle that becomes garbage during a pass, or whose objects
 * reach generation 2 later, is freed by the next pass.  Passes start as
 * full collections would (thresholds and the long-lived brake).
 * Memory: none beyond the object headers and 48 KiB of bucket lists in
 * the heap. */

/* The pause budget in microseconds (0: stop-the-world mode, the default).
 * -1 (gc_error) for more than 10 s. */
RCGC_API int gc_set_pause_budget(GcHeap *gc, uint64_t budget_us);
RCGC_API uint64_t gc_get_pause_budget(const GcHeap *gc);

/* A cap on the work of one increment (objects visited plus references
 * followed; 0: none, the default).  Either limit ends an increment; a
 * cap alone also turns the mode on (deterministic increments, for
 * tests). */
RCGC_API void gc_set_increment_work(GcHeap *gc, size_t work);
RCGC_API size_t gc_get_increment_work(const GcHeap *gc);

/* Run one increment now (a program's idle time), starting a pass over
 * generation 2 when none runs; with neither limit set, it runs a whole
 * pass.  Returns the unreachable objects the increment found (only the
 * confirming step finds any), 0 during a collection of this heap, -1
 * when another heap of this thread is collecting. */
RCGC_API long gc_collect_increment(GcHeap *gc);

typedef struct GcIncStats {
    uint64_t budget_us; /* the mode: 0 and work_limit 0 = stop-world */
    uint64_t work_limit;
    int pass_running; /* a pass is under way */
    int phase; /* 0 idle, 1 mark set, 4 sort, 2 count, 3 reach, 5 sweep */
    uint64_t passes;    /* passes completed */
    uint64_t abandoned; /* passes given up for a full collection */
    uint64_t increments;
    uint64_t work;         /* work units over all increments */
    uint64_t max_pause_ns; /* longest increment */
    uint64_t candidates;   /* objects confirmed (all passes) */
    uint64_t collected;    /* of them, unreachable */
    uint64_t refinements;  /* confirmation rounds (searches rerun on a
                              pass's candidates) */
} GcIncStats;
RCGC_API void gc_get_incremental_stats(const GcHeap *gc, GcIncStats *st);

/* Walk every list and verify every invariant of the collector; 0 when all
 * hold, else a message on stderr and -1. */
RCGC_API int gc_check(const GcHeap *gc);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_CYCLEGC_H */
