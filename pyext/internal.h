/* SPDX-License-Identifier: MIT */
/* internal.h - the rcgc Python extension's shared structures.
 *
 * Files of the extension (module rcgc._rcgc, wrapped by the package rcgc):
 *
 *   rcgcmodule.c  module init, exceptions, constants, shared helpers
 *   heap.c        the Heap type: life, destroy, CPython-gc support,
 *                 the collector callback trampoline
 *   gcapi.c       Heap methods named after Python's gc module
 *   labapi.c      Heap methods beyond gc: statistics, events, why_alive
 *   node.c        the rcgc node type (RcType) and the Node handle type
 *   weakref.c     the WeakRef handle type
 *   builders.c    graph builders in C: chain, rings, tree, random_graph
 *
 * Three worlds of ownership meet here (the rules, also in docs/python.md):
 *
 *   Python handle ──strong (1 rc count)──► rcgc node
 *   rcgc node ──strong (slot)──► rcgc node
 *   rcgc node ──strong (NodeExtra)──► Python finalizer / value
 *   Python handle, WeakRef ──strong──► Heap (Python object)
 *   NodeExtra ──borrowed──► its cached Python handle
 *
 * 1. A handle owns one count of its node (`owns`), except the handle a
 *    finalizer receives when the node had none: it borrows, and becomes
 *    owning when the finalizer stored it somewhere (resurrection).
 * 2. One handle per node at a time (cached in the node's NodeExtra), so
 *    `is`, `==` and hash follow the node.
 * 3. Python objects held by nodes (finalizer, value) are reported to
 *    CPython's gc by exactly one container: by the node's handle when the
 *    handle's count is the node's only one (then the handle really owns
 *    them), otherwise by the Heap.  A cycle that goes through Python and
 *    back through several rcgc nodes is invisible to both collectors;
 *    it lives until the heap is destroyed (destroy() or the Heap's death).
 * 4. Python code runs inside rcgc calls (finalizers, weakref and collector
 *    callbacks).  Every call into rcgc is bracketed by heap_enter/leave;
 *    while `busy` > 0, destroy() refuses, and Python references that rcgc
 *    drops are parked on `release` and dropped by the outermost leave, so
 *    no Python deallocator runs in the middle of an rcgc algorithm.
 */
#ifndef RCGC_PYEXT_INTERNAL_H
#define RCGC_PYEXT_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "cyclegc/cyclegc.h"

/* Older CPython (3.8, 3.9): the few newer API functions we use. */
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
rcgc_newref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
static inline PyObject *
rcgc_xnewref(PyObject *o)
{
    Py_XINCREF(o);
    return o;
}
#define Py_NewRef(o)  rcgc_newref((PyObject *)(o))
#define Py_XNewRef(o) rcgc_xnewref((PyObject *)(o))
#endif
#if PY_VERSION_HEX < 0x03090000
#define PyObject_CallOneArg(f, a) PyObject_CallFunctionObjArgs((f), (a), NULL)
#endif

typedef struct HeapObject HeapObject;
typedef struct NodeObject NodeObject;
typedef struct WeakRefObject WeakRefObject;
typedef struct NodeExtra NodeExtra;

/* Python state of one node, allocated when first needed and freed when
 * all of it is NULL again.  Linked in its heap's list `extras`. */
struct NodeExtra {
    RcObject *node;      /* the node (borrowed: the node owns us) */
    HeapObject *heap;    /* borrowed: a node never outlives its heap */
    NodeObject *handle;  /* the cached handle (borrowed) or NULL */
    PyObject *finalizer; /* strong or NULL */
    PyObject *value;     /* strong or NULL */
    NodeExtra *prev, *next;
};

/* The payload of an rcgc node:
 *     [ nitems | extra | nslots payload ][ slots ... ][ payload bytes ]
 * nitems (rc_new_var's word) = nslots * sizeof(RcObject *) + payload. */
typedef struct NodeData {
    size_t nitems;
    NodeExtra *extra;
    uint32_t nslots;
    uint32_t payload;
    RcObject *slots[];
} NodeData;

#define NODE_MAX_SLOTS   (1u << 24)
#define NODE_MAX_PAYLOAD (1u << 30)

struct HeapObject {
    PyObject_HEAD GcHeap *gc; /* NULL once destroyed */
    RcHeap *rc;               /* gc's RcHeap */
    PyObject *callbacks;      /* list of callables, or NULL after tp_clear */
    PyObject *release;        /* list: Python references to drop at busy 0 */
    PyObject *garbage;        /* list: Heap.garbage (handles), or NULL */
    NodeExtra *extras;        /* nodes that hold Python state */
    WeakRefObject *weakrefs;  /* live WeakRef handles */
    long busy;                /* nesting of rcgc calls in progress */
    PyObject *weakreflist;
};

struct NodeObject {
    PyObject_HEAD HeapObject *heap; /* strong */
    RcObject *node;                 /* NULL when the heap was destroyed */
    int owns;                       /* holds one count of node */
};

struct WeakRefObject {
    PyObject_HEAD HeapObject *heap; /* strong */
    RcObject *wr;       /* the rcgc weak reference (one count), or NULL */
    PyObject *callback; /* strong or NULL */
    WeakRefObject *prev, *next; /* the heap's list */
};

extern PyTypeObject Heap_Type;
extern PyTypeObject Node_Type;
extern PyTypeObject WeakRef_Type;
extern PyObject *HeapError;

/* ---- rcgcmodule.c: helpers ------------------------------------------ */

/* Bracket every call into rcgc.  heap_leave drops the parked references
 * when the outermost call returns. */
void heap_enter(HeapObject *heap);
void heap_leave(HeapObject *heap);
/* Drop a Python reference now, or park it while rcgc is busy.  Steals. */
void heap_release(HeapObject *heap, PyObject *obj);
/* 0 when the heap is alive, else -1 with HeapError set. */
int heap_check_alive(HeapObject *heap);

/* Save and restore the exception state around Python code run from
 * inside rcgc (a finalizer or callback must not see or clobber it). */
typedef struct ExcState {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc;
#else
    PyObject *type, *value, *tb;
#endif
} ExcState;
void exc_save(ExcState *st);
void exc_restore(ExcState *st);

/* ---- node.c --------------------------------------------------------- */

extern const RcType node_type;
extern const RcType legacy_node_type;

static inline int
is_node(const RcObject *op)
{
    return op->type == &node_type || op->type == &legacy_node_type;
}

static inline NodeData *
node_data(RcObject *op)
{
    return (NodeData *)rc_payload(op);
}

/* A new node with nslots empty slots and payload zero bytes (count 1),
 * or NULL with an exception set.  May run a collection. */
RcObject *node_new(HeapObject *heap, uint32_t nslots, uint32_t payload,
                   int legacy);
/* The node's extra, created when missing; NULL with MemoryError. */
NodeExtra *node_extra(HeapObject *heap, RcObject *op);
/* Free the extra when nothing is left in it. */
void extra_maybe_free(NodeExtra *x);
/* The handle of a node (new reference): the cached one, made owning if
 * it was borrowed, or a new owning one.  NULL with an exception set. */
PyObject *node_handle(HeapObject *heap, RcObject *op);
/* A list of handles for ops[0..n), skipping objects that are not nodes. */
PyObject *node_list(HeapObject *heap, RcObject *const *ops, size_t n);
/* The node of a handle argument, checked: a live Node of this heap.
 * NULL with TypeError / ValueError / HeapError set. */
RcObject *node_arg(HeapObject *heap, PyObject *arg);
/* The node of a live handle, else NULL with HeapError. */
RcObject *handle_node(NodeObject *h);
/* Destroy support: detach every handle and Python object of the heap. */
void extras_detach_all(HeapObject *heap);
/* CPython gc support: does the handle (rather than the heap) report the
 * Python objects of x? */
int extra_owned_by_handle(const NodeExtra *x);

/* ---- gcapi.c -------------------------------------------------------- */

/* Move the collector's garbage list into Heap.garbage (handles); 0, or -1
 * with an exception set and both lists unchanged. */
int garbage_sync(HeapObject *self);

/* ---- weakref.c ------------------------------------------------------ */

PyObject *weakref_new(HeapObject *heap, RcObject *target, PyObject *callback);
void weakrefs_detach_all(HeapObject *heap);

/* ---- method tables spread over files -------------------------------- */

/* heap.c: gather them into Heap_Type (before PyType_Ready). */
int heap_type_init(void);

/* switch.c: the interpreter's object domain on objalloc (module level). */
PyObject *rcgc_use_objalloc(PyObject *module, PyObject *noargs);
PyObject *rcgc_stop_objalloc(PyObject *module, PyObject *noargs);
PyObject *rcgc_objalloc_status(PyObject *module, PyObject *noargs);

extern PyMethodDef heap_gc_methods[];
extern PyMethodDef heap_lab_methods[];
extern PyMethodDef heap_builder_methods[];
extern PyGetSetDef heap_gc_getset[];
extern PyGetSetDef heap_lab_getset[];

#endif /* RCGC_PYEXT_INTERNAL_H */
