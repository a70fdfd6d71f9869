/* SPDX-License-Identifier: MIT */
/* node.c - rcgc nodes and their Python handles (rcgc.Node).
 *
 * The rcgc side: two RcTypes, node_type and legacy_node_type, variable
 * objects whose payload is a NodeData (internal.h): the slot count, the
 * payload size, a pointer to the node's NodeExtra (Python state, or NULL),
 * the slots, then the payload bytes.  traverse visits the non-empty
 * slots; clear empties them; dealloc empties them and hands the Python
 * state back to the heap (parked, dropped when rcgc returns).  A node's
 * payload bytes are accounted to the collector (gc_bytes_acquire) from
 * node_new to dealloc, so big payloads advance its pacing.
 * node_type's finalize (PEP 442, at most once) and legacy_node_type's
 * legacy_del (each time the count reaches zero; makes cyclic garbage
 * uncollectable) call the node's Python finalizer.
 *
 * The Python side: a Node handle holds one count of its node (`owns`) and
 * a strong reference to its Heap.  The node's NodeExtra caches the handle
 * (borrowed), so each node has at most one handle and identity follows the
 * node.  The finalizer trampoline:
 *   1. takes the cached handle, or makes a borrowing one (no count: the
 *      node may be dying with count 0 and must not be decref'd again);
 *   2. calls finalizer(handle); an exception goes to sys.unraisablehook;
 *   3. if the handle is borrowing and now referenced elsewhere, the
 *      finalizer stored it: take a count (the node is resurrected);
 *   4. drops our reference to the handle (a borrowing handle that nobody
 *      kept dies without touching the node's count).
 * Invariant: a borrowing handle exists only while its finalizer call
 * runs; a handle given out by node_handle() always owns.
 */
#include "pyext/internal.h"

#include <string.h>

/* ---- the rcgc type -------------------------------------------------- */

static int
node_traverse(RcObject *op, RcVisitFn visit, void *arg)
{
    NodeData *d = node_data(op);
    for (uint32_t i = 0; i < d->nslots; i++) {
        if (d->slots[i] != NULL) {
            int rc = visit(d->slots[i], arg);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

static void
node_clear(RcObject *op)
{
    NodeData *d = node_data(op);
    for (uint32_t i = 0; i < d->nslots; i++) {
        rc_setref(&d->slots[i], NULL);
    }
}

static void call_finalizer(RcObject *op);

static void
node_finalize(RcObject *op)
{
    call_finalizer(op);
}

static void
node_legacy_del(RcObject *op)
{
    call_finalizer(op);
}

static void
extra_unlink(NodeExtra *x)
{
    HeapObject *heap = x->heap;
    if (x->prev != NULL) {
        x->prev->next = x->next;
    }
    else {
        heap->extras = x->next;
    }
    if (x->next != NULL) {
        x->next->prev = x->prev;
    }
    node_data(x->node)->extra = NULL;
    PyMem_Free(x);
}

static void
node_dealloc(RcObject *op)
{
    node_clear(op);
    /* The payload's bytes were accounted at node_new (cannot fail: they
     * are still accounted). */
    (void)gc_bytes_release(op, node_data(op)->payload);
    NodeExtra *x = node_data(op)->extra;
    if (x != NULL) {
        HeapObject *heap = x->heap;
        if (x->handle != NULL) {
            /* Only a parked borrowing handle can be left: it dies dead. */
            x->handle->node = NULL;
            x->handle->owns = 0;
        }
        PyObject *fin = x->finalizer, *val = x->value;
        extra_unlink(x);
        heap_release(heap, fin);
        heap_release(heap, val);
    }
}

const RcType node_type = {
    RC_TYPE_HEAD("rcgc.Node", RC_TYPE_GC),
    .size = sizeof(NodeData),
    .itemsize = 1,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .dealloc = node_dealloc,
};

const RcType legacy_node_type = {
    RC_TYPE_HEAD("rcgc.LegacyNode", RC_TYPE_GC),
    .size = sizeof(NodeData),
    .itemsize = 1,
    .traverse = node_traverse,
    .clear = node_clear,
    .legacy_del = node_legacy_del,
    .dealloc = node_dealloc,
};

RcObject *
node_new(HeapObject *heap, uint32_t nslots, uint32_t payload, int legacy)
{
    size_t nitems = (size_t)nslots * sizeof(RcObject *) + payload;
    heap_enter(heap);
    RcObject *op =
        rc_new_var(heap->rc, legacy ? &legacy_node_type : &node_type, nitems);
    heap_leave(heap);
    if (op == NULL) {
        const char *why = rc_heap_error(heap->rc);
        PyErr_Format(PyExc_MemoryError, "rcgc: cannot allocate a node: %s",
                     why != NULL ? why : "out of memory");
        return NULL;
    }
    NodeData *d = node_data(op);
    d->nslots = nslots;
    d->payload = payload;
    /* The payload counts toward the collector's pacing by its bytes
     * (issue 17): a cycle of nodes with big payloads is collected as
     * soon as their bytes, not their number, call for it. */
    (void)gc_bytes_acquire(op, payload);
    return op;
}

NodeExtra *
node_extra(HeapObject *heap, RcObject *op)
{
    NodeData *d = node_data(op);
    if (d->extra != NULL) {
        return d->extra;
    }
    NodeExtra *x = PyMem_Calloc(1, sizeof *x);
    if (x == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    x->node = op;
    x->heap = heap;
    x->next = heap->extras;
    if (heap->extras != NULL) {
        heap->extras->prev = x;
    }
    heap->extras = x;
    d->extra = x;
    return x;
}

void
extra_maybe_free(NodeExtra *x)
{
    if (x->handle == NULL && x->finalizer == NULL && x->value == NULL) {
        extra_unlink(x);
    }
}

int
extra_owned_by_handle(const NodeExtra *x)
{
    return x->handle != NULL && x->handle->owns && x->handle->node != NULL &&
           rc_refcnt(x->node) == 1;
}

/* A handle object for op, not cached yet, borrowing (no count). */
static NodeObject *
handle_alloc(HeapObject *heap, RcObject *op)
{
    NodeExtra *x = node_extra(heap, op);
    if (x == NULL) {
        return NULL;
    }
    NodeObject *h = PyObject_GC_New(NodeObject, &Node_Type);
    if (h == NULL) {
        extra_maybe_free(x);
        return NULL;
    }
    Py_INCREF(heap);
    h->heap = heap;
    h->node = op;
    h->owns = 0;
    x->handle = h;
    PyObject_GC_Track(h);
    return h;
}

PyObject *
node_handle(HeapObject *heap, RcObject *op)
{
    NodeExtra *x = node_data(op)->extra;
    NodeObject *h;
    if (x != NULL && x->handle != NULL) {
        h = x->handle;
        Py_INCREF(h);
    }
    else if ((h = handle_alloc(heap, op)) == NULL) {
        return NULL;
    }
    if (!h->owns) {
        rc_incref(op);
        h->owns = 1;
    }
    return (PyObject *)h;
}

PyObject *
node_list(HeapObject *heap, RcObject *const *ops, size_t n)
{
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_node(ops[i])) {
            continue;
        }
        PyObject *h = node_handle(heap, ops[i]);
        if (h == NULL || PyList_Append(list, h) < 0) {
            Py_XDECREF(h);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(h);
    }
    return list;
}

RcObject *
handle_node(NodeObject *h)
{
    if (h->node == NULL) {
        if (h->heap->gc == NULL) {
            PyErr_SetString(HeapError, "the node's heap has been destroyed");
        }
        else {
            PyErr_SetString(HeapError, "the node has been released");
        }
        return NULL;
    }
    return h->node;
}

RcObject *
node_arg(HeapObject *heap, PyObject *arg)
{
    if (!PyObject_TypeCheck(arg, &Node_Type)) {
        PyErr_Format(PyExc_TypeError, "expected an rcgc.Node, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    NodeObject *h = (NodeObject *)arg;
    RcObject *op = handle_node(h);
    if (op == NULL) {
        return NULL;
    }
    if (h->heap != heap) {
        PyErr_SetString(PyExc_ValueError,
                        "the node belongs to another rcgc heap");
        return NULL;
    }
    return op;
}

/* The rcgc finalize of a Node: calls its Python finalizer with a handle
 * (the existing one, or a borrowing one made for the call).  A borrowing
 * handle still referenced after the call resurrects the node: it takes a
 * count and owns it.  Errors are reported as unraisable; the caller's
 * pending exception is kept. */
static void
call_finalizer(RcObject *op)
{
    NodeExtra *x = node_data(op)->extra;
    if (x == NULL || x->finalizer == NULL) {
        return;
    }
    HeapObject *heap = x->heap;
    PyObject *fn = x->finalizer;
    ExcState st;
    exc_save(&st);
    Py_INCREF(heap);
    Py_INCREF(fn);
    NodeObject *h = x->handle;
    if (h != NULL) {
        Py_INCREF(h);
    }
    else {
        h = handle_alloc(heap, op); /* borrowing */
    }
    if (h == NULL) {
        PyErr_WriteUnraisable(fn);
    }
    else {
        PyObject *r = PyObject_CallOneArg(fn, (PyObject *)h);
        if (r == NULL) {
            PyErr_WriteUnraisable(fn);
        }
        Py_XDECREF(r);
        if (!h->owns && h->node != NULL && Py_REFCNT(h) > 1) {
            rc_incref(op); /* stored somewhere: resurrected */
            h->owns = 1;
        }
        /* Drop our reference now, not at the end of the rcgc call: a
         * parked handle would hold a count of op through the collector's
         * resurrection check and keep op alive for one more collection
         * (test_finalizer_inspects_the_heap_during_a_collection).  Safe:
         * a borrowing handle's death touches no count, and an owning one
         * leaves at least the temporary count that refcount and cyclegc
         * hold on op around finalize. */
        Py_DECREF(h);
    }
    heap_release(heap, fn);
    exc_restore(&st);
    Py_DECREF(heap); /* never the last: whoever called rcgc holds it */
}

void
extras_detach_all(HeapObject *heap)
{
    while (heap->extras != NULL) {
        NodeExtra *x = heap->extras;
        if (x->handle != NULL) {
            x->handle->node = NULL;
            x->handle->owns = 0;
        }
        PyObject *fin = x->finalizer, *val = x->value;
        node_data(x->node)->extra = NULL; /* the node may outlive us */
        heap->extras = x->next;
        if (heap->extras != NULL) {
            heap->extras->prev = NULL;
        }
        PyMem_Free(x);
        heap_release(heap, fin);
        heap_release(heap, val);
    }
}

/* ---- the Python handle type ----------------------------------------- */

/* Let go of the node: uncache, and drop the count if we own one. */
static void
handle_detach(NodeObject *h)
{
    RcObject *op = h->node;
    if (op == NULL) {
        return;
    }
    int owns = h->owns;
    h->node = NULL;
    h->owns = 0;
    NodeExtra *x = node_data(op)->extra;
    if (x != NULL && x->handle == h) {
        x->handle = NULL;
        extra_maybe_free(x);
    }
    if (owns) {
        HeapObject *heap = h->heap;
        heap_enter(heap);
        rc_decref(op);
        heap_leave(heap);
    }
}

static void
Node_dealloc(NodeObject *h)
{
    PyObject_GC_UnTrack(h);
    handle_detach(h);
    Py_CLEAR(h->heap);
    PyObject_GC_Del(h);
}

static int
Node_traverse(NodeObject *h, visitproc visit, void *arg)
{
    Py_VISIT(h->heap);
    if (h->node != NULL) {
        NodeExtra *x = node_data(h->node)->extra;
        if (x != NULL && x->handle == h && extra_owned_by_handle(x)) {
            Py_VISIT(x->finalizer);
            Py_VISIT(x->value);
        }
    }
    return 0;
}

static int
Node_clear(NodeObject *h)
{
    /* In a CPython-gc cycle: release the node (which may then die and
     * drop its Python state); the handle stays as a dead one. */
    if (h->heap != NULL) {
        HeapObject *heap = h->heap;
        Py_INCREF(heap);
        handle_detach(h);
        Py_DECREF(heap);
    }
    return 0;
}

static PyObject *
Node_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)type;
    (void)args;
    (void)kw;
    PyErr_SetString(PyExc_TypeError,
                    "rcgc.Node cannot be created directly: use Heap.node()");
    return NULL;
}

static Py_ssize_t
Node_len(NodeObject *h)
{
    RcObject *op = handle_node(h);
    return op == NULL ? -1 : (Py_ssize_t)node_data(op)->nslots;
}

static int
slot_index(RcObject *op, Py_ssize_t i, Py_ssize_t *out)
{
    /* The sequence protocol already added len() to a negative index. */
    Py_ssize_t n = node_data(op)->nslots;
    if (i < 0 || i >= n) {
        PyErr_Format(PyExc_IndexError,
                     "slot index out of range (node has %zd slots)", n);
        return -1;
    }
    *out = i;
    return 0;
}

static PyObject *
Node_getitem(NodeObject *h, Py_ssize_t i)
{
    RcObject *op = handle_node(h);
    if (op == NULL || slot_index(op, i, &i) < 0) {
        return NULL;
    }
    RcObject *ref = node_data(op)->slots[i];
    if (ref == NULL) {
        Py_RETURN_NONE;
    }
    return node_handle(h->heap, ref);
}

static int
Node_setitem(NodeObject *h, Py_ssize_t i, PyObject *v)
{
    RcObject *op = handle_node(h);
    if (op == NULL || slot_index(op, i, &i) < 0) {
        return -1;
    }
    RcObject *ref = NULL;
    if (v != NULL && v != Py_None) {
        ref = node_arg(h->heap, v);
        if (ref == NULL) {
            return -1;
        }
    }
    rc_xincref(ref);
    heap_enter(h->heap);
    rc_setref(&node_data(op)->slots[i], ref);
    heap_leave(h->heap);
    return 0;
}

static PySequenceMethods Node_as_sequence = {
    .sq_length = (lenfunc)Node_len,
    .sq_item = (ssizeargfunc)Node_getitem,
    .sq_ass_item = (ssizeobjargproc)Node_setitem,
};

static PyObject *
Node_repr(NodeObject *h)
{
    if (h->node == NULL) {
        return PyUnicode_FromFormat("<rcgc.Node (released) at %p>", h);
    }
    NodeData *d = node_data(h->node);
    return PyUnicode_FromFormat(
        "<rcgc.Node%s at %p: %u slots, %u bytes, "
        "refcount %u>",
        h->node->type == &legacy_node_type ? " (legacy)" : "", (void *)h->node,
        d->nslots, d->payload, rc_refcnt(h->node));
}

/* ---- attributes ----------------------------------------------------- */

#define NODE_OR_NULL(h)                                                       \
    RcObject *op = handle_node(h);                                            \
    if (op == NULL) {                                                         \
        return NULL;                                                          \
    }

static PyObject *
Node_get_refcount(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyLong_FromUnsignedLong(rc_refcnt(op));
}

static PyObject *
Node_get_tracked(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyBool_FromLong(gc_is_tracked(op));
}

static PyObject *
Node_get_finalized(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyBool_FromLong(gc_is_finalized(op));
}

static PyObject *
Node_get_legacy(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyBool_FromLong(op->type == &legacy_node_type);
}

static PyObject *
Node_get_payload_size(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyLong_FromUnsignedLong(node_data(op)->payload);
}

static PyObject *
Node_get_alive(NodeObject *h, void *c)
{
    (void)c;
    return PyBool_FromLong(h->node != NULL);
}

static PyObject *
Node_get_heap(NodeObject *h, void *c)
{
    (void)c;
    return Py_NewRef((PyObject *)h->heap);
}

static PyObject *
Node_get_address(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyLong_FromVoidPtr(op);
}

static PyObject *
Node_get_weakref_count(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    return PyLong_FromSize_t(rc_weakref_count(op));
}

/* Node.generation: None if untracked, else the generation whose objects
 * include the node (cyclegc has no per-object query), GC_NGENERATIONS for
 * the permanent one. */
static PyObject *
Node_get_generation(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    if (!gc_is_tracked(op)) {
        Py_RETURN_NONE;
    }
    /* cyclegc has no per-object query: look in each generation. */
    GcHeap *gc = h->heap->gc;
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        size_t n = gc_get_objects(gc, g, NULL, 0);
        if (n == 0 || n == (size_t)-1) {
            continue;
        }
        RcObject **buf = PyMem_Malloc(n * sizeof *buf);
        if (buf == NULL) {
            return PyErr_NoMemory();
        }
        size_t m = gc_get_objects(gc, g, buf, n);
        int found = 0;
        for (size_t i = 0; i < m && i < n; i++) {
            if (buf[i] == op) {
                found = 1;
                break;
            }
        }
        PyMem_Free(buf);
        if (found) {
            return PyLong_FromLong(g);
        }
    }
    return PyLong_FromLong(GC_NGENERATIONS); /* the permanent generation */
}

/* Python state: finalizer and value. */
static PyObject *
get_pyfield(NodeObject *h, int which)
{
    NODE_OR_NULL(h);
    NodeExtra *x = node_data(op)->extra;
    PyObject *v = x == NULL ? NULL : which == 0 ? x->finalizer : x->value;
    return Py_NewRef(v != NULL ? v : Py_None);
}

static int
set_pyfield(NodeObject *h, int which, PyObject *v)
{
    RcObject *op = handle_node(h);
    if (op == NULL) {
        return -1;
    }
    if (v == Py_None) {
        v = NULL;
    }
    if (which == 0 && v != NULL && !PyCallable_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "a finalizer must be callable");
        return -1;
    }
    NodeExtra *x = node_extra(h->heap, op);
    if (x == NULL) {
        return -1;
    }
    PyObject **field = which == 0 ? &x->finalizer : &x->value;
    PyObject *old = *field;
    *field = Py_XNewRef(v);
    Py_XDECREF(old);
    return 0;
}

static PyObject *
Node_get_finalizer(NodeObject *h, void *c)
{
    (void)c;
    return get_pyfield(h, 0);
}

static int
Node_set_finalizer(NodeObject *h, PyObject *v, void *c)
{
    (void)c;
    return set_pyfield(h, 0, v == NULL ? Py_None : v);
}

static PyObject *
Node_get_value(NodeObject *h, void *c)
{
    (void)c;
    return get_pyfield(h, 1);
}

static int
Node_set_value(NodeObject *h, PyObject *v, void *c)
{
    (void)c;
    return set_pyfield(h, 1, v == NULL ? Py_None : v);
}

static PyObject *
Node_get_payload(NodeObject *h, void *c)
{
    (void)c;
    NODE_OR_NULL(h);
    NodeData *d = node_data(op);
    return PyBytes_FromStringAndSize((const char *)(d->slots + d->nslots),
                                     d->payload);
}

/* Node.payload = bytes-like: copied into the payload and zero-padded;
 * ValueError if longer than the payload.  Deleting zeroes it. */
static int
Node_set_payload(NodeObject *h, PyObject *v, void *c)
{
    (void)c;
    RcObject *op = handle_node(h);
    if (op == NULL) {
        return -1;
    }
    NodeData *d = node_data(op);
    Py_buffer view;
    if (v == NULL) {
        memset(d->slots + d->nslots, 0, d->payload);
        return 0;
    }
    if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if ((size_t)view.len > d->payload) {
        PyErr_Format(PyExc_ValueError,
                     "%zd bytes do not fit a payload of %u bytes", view.len,
                     d->payload);
        PyBuffer_Release(&view);
        return -1;
    }
    char *dst = (char *)(d->slots + d->nslots);
    memcpy(dst, view.buf, (size_t)view.len);
    memset(dst + view.len, 0, d->payload - (size_t)view.len);
    PyBuffer_Release(&view);
    return 0;
}

static PyGetSetDef Node_getset[] = {
    {"refcount", (getter)Node_get_refcount, NULL,
     "The node's reference count, including the count this handle holds.",
     NULL},
    {"tracked", (getter)Node_get_tracked, NULL,
     "True when the collector tracks the node (Heap.is_tracked).", NULL},
    {"finalized", (getter)Node_get_finalized, NULL,
     "True once the node's PEP 442 finalizer step has run "
     "(Heap.is_finalized).",
     NULL},
    {"generation", (getter)Node_get_generation, NULL,
     "The generation holding the node: 0, 1 or 2, 3 for the permanent\n"
     "(frozen) generation, None when untracked.  O(heap size).",
     NULL},
    {"legacy", (getter)Node_get_legacy, NULL,
     "True for a node with a legacy finalizer (CPython's tp_del): in\n"
     "cyclic garbage it is uncollectable and goes to Heap.garbage.",
     NULL},
    {"finalizer", (getter)Node_get_finalizer, (setter)Node_set_finalizer,
     "Callable called as finalizer(node) before the node dies (once, or\n"
     "each time its count reaches zero for a legacy node); it may\n"
     "resurrect the node by storing it.  None for no finalizer.  Its\n"
     "exceptions go to sys.unraisablehook.",
     NULL},
    {"value", (getter)Node_get_value, (setter)Node_set_value,
     "Any Python object the node holds (a label, say); None by default.\n"
     "Released when the node dies or its heap is destroyed.",
     NULL},
    {"payload", (getter)Node_get_payload, (setter)Node_set_payload,
     "The payload bytes (a copy); assign bytes-like of at most\n"
     "payload_size bytes (the rest is zeroed).",
     NULL},
    {"payload_size", (getter)Node_get_payload_size, NULL,
     "Payload bytes given at creation.", NULL},
    {"alive", (getter)Node_get_alive, NULL,
     "False once the handle was released (its heap destroyed).", NULL},
    {"heap", (getter)Node_get_heap, NULL, "The Heap the node lives in.", NULL},
    {"address", (getter)Node_get_address, NULL,
     "The node's address in the rcgc heap (for layout experiments).", NULL},
    {"weakref_count", (getter)Node_get_weakref_count, NULL,
     "How many rcgc weak references point at the node.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Node_weakref_doc,
             "weakref($self, /, callback=None)\n--\n\n-> WeakRef\n\n"
             "A weak reference to this node.  callback(wr) is called after "
             "the\nnode died, if the WeakRef itself is still alive.");

static PyObject *
Node_weakref(NodeObject *h, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"callback", NULL};
    PyObject *cb = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:weakref", kwlist, &cb)) {
        return NULL;
    }
    RcObject *op = handle_node(h);
    if (op == NULL) {
        return NULL;
    }
    return weakref_new(h->heap, op, cb);
}

PyDoc_STRVAR(Node_slots_doc, "slots($self, /)\n--\n\n-> list\n\nThe slots' "
                             "contents, a Node or None each.");

static PyObject *
Node_slots(NodeObject *h, PyObject *unused)
{
    (void)unused;
    NODE_OR_NULL(h);
    NodeData *d = node_data(op);
    PyObject *list = PyList_New(d->nslots);
    if (list == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < d->nslots; i++) {
        PyObject *v = d->slots[i] == NULL ? Py_NewRef(Py_None)
                                          : node_handle(h->heap, d->slots[i]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

static PyMethodDef Node_methods[] = {
    {"weakref", (PyCFunction)(void (*)(void))Node_weakref,
     METH_VARARGS | METH_KEYWORDS, Node_weakref_doc},
    {"slots", (PyCFunction)Node_slots, METH_NOARGS, Node_slots_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Node_doc,
             "A node of an rcgc heap, seen from Python (make one with "
             "Heap.node()).\n"
             "\n"
             "The handle holds one reference count of the node: the node "
             "lives at\n"
             "least as long as the handle.  A node has a fixed number of "
             "reference\n"
             "slots, read and written by index (node[i], None when empty, "
             "negative\n"
             "indices count from the end, del node[i] empties a slot), and "
             "a\n"
             "payload of raw bytes.  There is one handle per node at a "
             "time, so\n"
             "`is`, == and hash() follow the node.  Once its heap is "
             "destroyed, any\n"
             "use of a handle raises HeapError.");

PyTypeObject Node_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rcgc.Node",
    .tp_basicsize = sizeof(NodeObject),
    .tp_dealloc = (destructor)Node_dealloc,
    .tp_repr = (reprfunc)Node_repr,
    .tp_as_sequence = &Node_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = Node_doc,
    .tp_traverse = (traverseproc)Node_traverse,
    .tp_clear = (inquiry)Node_clear,
    .tp_methods = Node_methods,
    .tp_getset = Node_getset,
    .tp_new = Node_new,
};
