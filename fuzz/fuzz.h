/* SPDX-License-Identifier: MIT */
/* fuzz.h - the differential fuzzer's model of an rcgc heap (private).
 *
 * The harness (entry.c) turns the input bytes into operations (ops.c) on
 * FZ_GC_HEAPS complete stacks (cyclegc -> refcount -> objalloc) and one
 * bare objalloc heap.  Next to the library it keeps a mirror of the
 * object graph (model.c): every object ever created has an id and an
 * FzObj that records its kind, its slots (ids), the references the
 * harness holds on it ("external" references), how many times it was
 * finalized, cleared and deallocated.  The oracle (oracle.c) compares the
 * two after every full collection.
 *
 * Invariants of the mirror (between library calls):
 * - obj[id].alive == 0 exactly after the library deallocated it (type
 *   dealloc for nodes and leaves, the release hook for weakrefs);
 * - slots of an alive object name alive objects of the same heap, and
 *   equal the pointers stored in the object's payload;
 * - indeg counts the slots of alive objects that name the object;
 * - ext counts the entries of `held` that name the object, and each of
 *   them is one reference the library counts;
 * - an object is "reachable" when a path of slots leads to it from an
 *   object with ext > 0 or immortal; only reachable objects may be used
 *   by operations, and a reachable object must never be finalized by
 *   the collector, cleared or deallocated.
 */
#ifndef RCGC_FUZZ_H
#define RCGC_FUZZ_H

#include "cyclegc/cyclegc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FZ_GC_HEAPS 2    /* complete stacks */
#define FZ_OA_HEAPS 3    /* their objalloc heaps + one bare heap */
#define FZ_MAXOBJ   768  /* objects created per input, at most */
#define FZ_MAXHELD  512  /* external references held at once */
#define FZ_MAXSLOTS 8    /* reference slots of a node */
#define FZ_MAXDATA  80   /* payload words of a node (80: a large block) */
#define FZ_MAXBLK   48   /* raw objalloc blocks at once */
#define FZ_CHAIN    512  /* longest chain built by one operation */
#define FZ_MAPSIZE  2048 /* pointer -> id table, a power of two */

enum fz_kind {
    FZ_NODE, /* GC type with slots, no finalizer */
    FZ_FIN,  /* GC type with slots and a PEP 442 finalizer */
    FZ_LEAF, /* non-GC type: payload only */
    FZ_WEAK  /* rc_weakref_type */
};

/* What a finalizer or weakref callback does besides recording. */
enum fz_action {
    FZ_ACT_NONE,
    FZ_ACT_RESURRECT, /* finalizer: store a new reference to itself */
    FZ_ACT_CREATE,    /* create a node, held externally */
    FZ_ACT_COLLECT,   /* gc_collect(gc, 2): 0 when inside a collection */
    FZ_ACT_FREEZE,    /* gc_freeze(gc) (inside a collection too) */
    FZ_NACT
};

typedef struct FzObj {
    RcObject *op; /* the library's object; NULL when dead */
    int heap;     /* 0..FZ_GC_HEAPS-1 */
    int kind;     /* enum fz_kind */
    int alive;
    int immortal;
    unsigned ext;      /* external references held */
    unsigned indeg;    /* slots of alive objects naming it */
    unsigned deallocs; /* type dealloc / weakref release calls */
    unsigned finalized, cleared;
    int action; /* enum fz_action for its finalizer / callback */
    /* nodes and leaves */
    unsigned nslots, ndata;
    int slots[FZ_MAXSLOTS]; /* ids, -1 for NULL */
    uint64_t seed;          /* payload word j is fz_mix(seed, j) */
    /* weak references */
    int target; /* id of the referent */
    int has_cb; /* created with a callback */
    unsigned cbcalls;
    int excused; /* cleared while its target lived (resurrection) */
    int dying;   /* its finalizer or a weakref callback of it ran */
} FzObj;

typedef struct FzBlock {
    unsigned char *p; /* NULL: free entry */
    size_t n;         /* bytes requested */
    unsigned char fill;
    int heap; /* 0..FZ_OA_HEAPS-1 */
} FzBlock;

typedef struct Fz {
    GcHeap *gc[FZ_GC_HEAPS];
    RcHeap *rc[FZ_GC_HEAPS];
    OaHeap *oa[FZ_OA_HEAPS];
    int oom[FZ_OA_HEAPS];   /* injection or a limit may be active */
    int depth[FZ_GC_HEAPS]; /* collections running (START - STOP) */
    unsigned long long seq[FZ_GC_HEAPS]; /* collections started */
    int resurrected[FZ_GC_HEAPS];        /* in the running collection */
    int frozen[FZ_GC_HEAPS];             /* a freeze may be in effect */
    int inject[FZ_OA_HEAPS], limit[FZ_OA_HEAPS];
    int in_hook; /* > 0 while a type hook or callback runs */
    int nobj;
    int nheld;
    FzBlock blk[FZ_MAXBLK];
    /* reachability, recomputed lazily */
    unsigned long epoch, reach_epoch;
    /* input */
    const uint8_t *in;
    size_t len, pos;
    unsigned long long ops;
    /* Not cleared between inputs (entries are set up when created): */
    int held[FZ_MAXHELD]; /* ids, one per external reference */
    unsigned char reach[FZ_MAXOBJ];
    unsigned char reach_start[FZ_MAXOBJ]; /* at the running collection's
                                              start, ids < nobj_start */
    int nobj_start;
    struct {
        RcObject *op;
        int id;
    } map[FZ_MAPSIZE]; /* op -> id, open addressing; stale keys allowed */
    FzObj obj[FZ_MAXOBJ];
} Fz;

/* The state of the running input (one at a time per process). */
extern Fz *fz;
/* Operations executed in this process, over all inputs. */
extern unsigned long long fz_total_ops;

/* Report a disagreement with the model and abort (libFuzzer keeps the
 * input). */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));
#define FZ_CHECK(cond, ...)                                                   \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fz_fail(__VA_ARGS__);                                             \
        }                                                                     \
    } while (0)

uint64_t fz_mix(uint64_t seed, uint64_t j);

/* model.c: the object types and the mirror. */
extern const RcType fz_node_type, fz_fin_type, fz_leaf_type;
RcObject *fz_new_object(int heap, int kind, unsigned nslots, unsigned ndata,
                        int action);
RcObject *fz_new_weakref(int heap, int target, int with_cb, int action);
RcObject **fz_slot_ptr(int id, unsigned i);
void fz_hold(int id);          /* record a new external reference */
void fz_drop_held(size_t idx); /* release held[idx] */
void fz_set_slot(int id, unsigned i, int target);
void fz_reach_update(void);
int fz_reachable(int id);
void fz_check_payload(int id, const char *when);
int fz_id_of(const RcObject *op);
/* The id of a live object, or -1. */
int fz_lookup(const RcObject *op);
void fz_map_put(RcObject *op, int id);

/* ops.c */
void fz_run_ops(void);
/* blocks.c */
void fz_block_op(unsigned code);
void fz_blocks_check(void);
void fz_blocks_free_all(void);
/* oracle.c */
void fz_full_check(int heap);
void fz_heap_checks(void);
void fz_gc_event(int heap, GcPhase phase, const GcInfo *info);

/* input.c-ish helpers in ops.c */
unsigned fz_byte(void);
unsigned fz_u16(void);

#endif /* RCGC_FUZZ_H */
