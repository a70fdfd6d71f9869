/* SPDX-License-Identifier: MIT */
/* heap.c - rcgc.Heap: life and death of a heap, CPython-gc support, and
 * the trampoline that runs Python collector callbacks.
 *
 * Data: a HeapObject owns a GcHeap made with gc_heap_new(NULL), so the
 * collector owns its RcHeap and OaHeap; see internal.h for the fields.
 *
 * Life:
 *   Heap()          gc_heap_new, then one C callback (gc_callback_add)
 *                   whose ctx is the HeapObject: it calls the Python
 *                   list `callbacks`.
 *   destroy()       refused while busy (rcgc code runs further up the
 *                   stack); else: detach every node handle and WeakRef
 *                   (they raise HeapError from then on), park the Python
 *                   objects nodes held, gc_heap_destroy (no finalizers
 *                   run: rcgc's contract), drop the parked objects.
 *   tp_dealloc      destroy() when still alive.  Every handle holds a
 *                   strong reference to its Heap, so no handle can see a
 *                   freed heap.
 * CPython gc: tp_traverse reports the callbacks list, the release list,
 * and the Python objects of nodes that no handle reports (internal.h,
 * rule 3); tp_clear drops them (the heap is unreachable from Python then,
 * so nobody can observe it).
 */
#include "pyext/internal.h"

/* The rcgc callback of a Heap: at a stop with garbage, syncs Heap.garbage;
 * then calls each Python callback (a copy of the list, so callbacks may
 * change it) with the phase and an info dict.  Errors are reported as
 * unraisable; the caller's pending exception is kept. */
static void
py_gc_callback(GcHeap *gc, GcPhase phase, const GcInfo *info, void *ctx)
{
    HeapObject *heap = ctx;
    /* Heap.garbage gets this collection's garbage before the stop
     * callbacks run, as gc.garbage does. */
    if (phase == GC_PHASE_STOP && gc_garbage_count(gc) > 0) {
        ExcState st;
        exc_save(&st);
        if (garbage_sync(heap) < 0) {
            PyErr_WriteUnraisable((PyObject *)heap);
        }
        exc_restore(&st);
    }
    if (heap->callbacks == NULL || PyList_GET_SIZE(heap->callbacks) == 0) {
        return;
    }
    ExcState st;
    exc_save(&st);
    Py_INCREF(heap);
    PyObject *cbs =
        PyList_GetSlice(heap->callbacks, 0, PyList_GET_SIZE(heap->callbacks));
    PyObject *d = Py_BuildValue(
        "{s:i,s:l,s:l}", "generation", info->generation, "collected",
        phase == GC_PHASE_STOP ? info->collected : 0, "uncollectable",
        phase == GC_PHASE_STOP ? info->uncollectable : 0);
    if (cbs == NULL || d == NULL) {
        PyErr_WriteUnraisable((PyObject *)heap);
    }
    else {
        const char *ph = phase == GC_PHASE_START ? "start" : "stop";
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cbs); i++) {
            PyObject *cb = PyList_GET_ITEM(cbs, i);
            PyObject *r = PyObject_CallFunction(cb, "sO", ph, d);
            if (r == NULL) {
                PyErr_WriteUnraisable(cb);
            }
            Py_XDECREF(r);
        }
    }
    heap_release(heap, cbs);
    heap_release(heap, d);
    exc_restore(&st);
    Py_DECREF(heap); /* never the last: the rcgc caller holds it */
}

static PyObject *
Heap_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    if (!PyArg_ParseTupleAndKeywords(args, kw, ":Heap", (char *[]){NULL})) {
        return NULL;
    }
    HeapObject *self = (HeapObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->callbacks = PyList_New(0);
    self->release = PyList_New(0);
    if (self->callbacks == NULL || self->release == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->gc = gc_heap_new(NULL);
    if (self->gc == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->rc = gc_heap_rc(self->gc);
    if (gc_callback_add(self->gc, py_gc_callback, self) < 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void
heap_destroy(HeapObject *self)
{
    if (self->gc == NULL) {
        return;
    }
    /* Count as busy: parked objects are dropped after the C heap is gone,
     * when no handle can reach it any more. */
    heap_enter(self);
    extras_detach_all(self);
    weakrefs_detach_all(self);
    GcHeap *gc = self->gc;
    self->gc = NULL;
    self->rc = NULL;
    gc_heap_destroy(gc);
    heap_leave(self);
    /* Its handles are detached now; the list keeps none of them. */
    if (self->garbage != NULL) {
        PyObject *old = self->garbage;
        self->garbage = NULL;
        Py_DECREF(old);
    }
}

static void
Heap_dealloc(HeapObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    heap_destroy(self);
    Py_CLEAR(self->callbacks);
    Py_CLEAR(self->garbage);
    Py_CLEAR(self->release);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Heap_traverse(HeapObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->callbacks);
    Py_VISIT(self->release);
    Py_VISIT(self->garbage);
    for (NodeExtra *x = self->extras; x != NULL; x = x->next) {
        if (!extra_owned_by_handle(x)) {
            Py_VISIT(x->finalizer);
            Py_VISIT(x->value);
        }
    }
    return 0;
}

static int
Heap_clear(HeapObject *self)
{
    Py_CLEAR(self->callbacks);
    heap_release(self, self->garbage);
    self->garbage = NULL;
    for (NodeExtra *x = self->extras; x != NULL; x = x->next) {
        heap_release(self, x->finalizer);
        heap_release(self, x->value);
        x->finalizer = NULL;
        x->value = NULL;
    }
    return 0;
}

PyDoc_STRVAR(destroy_doc,
             "destroy($self, /)\n--\n\n"
             "Release the heap now: every node, live or not, without "
             "running\n"
             "finalizers.  Handles and weak references of the heap raise\n"
             "HeapError afterwards; Python objects the nodes held are "
             "released.\n"
             "Raises HeapError when called from a finalizer or callback "
             "running\n"
             "inside this heap.  Destroying twice is a no-op.");

static PyObject *
Heap_destroy(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (self->busy > 0) {
        PyErr_SetString(HeapError,
                        "cannot destroy a heap from code running inside it "
                        "(a finalizer or callback)");
        return NULL;
    }
    heap_destroy(self);
    Py_RETURN_NONE;
}

static PyObject *
Heap_enter(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (heap_check_alive(self) < 0) {
        return NULL;
    }
    return Py_NewRef((PyObject *)self);
}

static PyObject *
Heap_exit(HeapObject *self, PyObject *args)
{
    (void)args;
    return Heap_destroy(self, NULL);
}

static PyObject *
Heap_get_callbacks(HeapObject *self, void *c)
{
    (void)c;
    if (self->callbacks == NULL) {
        self->callbacks = PyList_New(0);
        if (self->callbacks == NULL) {
            return NULL;
        }
    }
    return Py_NewRef(self->callbacks);
}

static PyObject *
Heap_get_destroyed(HeapObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->gc == NULL);
}

static PyObject *
Heap_get_busy(HeapObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->busy > 0);
}

static PyObject *
Heap_repr(HeapObject *self)
{
    if (self->gc == NULL) {
        return PyUnicode_FromFormat("<rcgc.Heap at %p (destroyed)>", self);
    }
    return PyUnicode_FromFormat("<rcgc.Heap at %p: %zu live objects>", self,
                                rc_live_total(self->rc));
}

static PyGetSetDef own_getset[] = {
    {"callbacks", (getter)Heap_get_callbacks, NULL,
     "A list of callables called as cb(phase, info) around every\n"
     "collection, like gc.callbacks: phase is \"start\" or \"stop\", info "
     "a dict\n"
     "with generation, collected and uncollectable.  Exceptions go to\n"
     "sys.unraisablehook; the collection goes on.",
     NULL},
    {"destroyed", (getter)Heap_get_destroyed, NULL, "True once destroy() ran.",
     NULL},
    {"busy", (getter)Heap_get_busy, NULL,
     "True while rcgc code runs on this heap (seen from a finalizer or\n"
     "callback).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef own_methods[] = {
    {"destroy", (PyCFunction)Heap_destroy, METH_NOARGS, destroy_doc},
    {"__enter__", (PyCFunction)Heap_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nEnter a with block: returns the heap."},
    {"__exit__", (PyCFunction)Heap_exit, METH_VARARGS,
     "__exit__($self, /, *exc)\n--\n\nLeave a with block: destroy the heap."},
    {NULL, NULL, 0, NULL},
};

/* tp_methods and tp_getset gather the tables of several files. */
static PyMethodDef heap_methods[64];
static PyGetSetDef heap_getset[32];

static size_t
append_methods(size_t n, const PyMethodDef *src)
{
    for (; src->ml_name != NULL; src++) {
        heap_methods[n++] = *src;
    }
    return n;
}

static size_t
append_getset(size_t n, const PyGetSetDef *src)
{
    for (; src->name != NULL; src++) {
        heap_getset[n++] = *src;
    }
    return n;
}

int
heap_type_init(void)
{
    size_t n = 0;
    n = append_methods(n, own_methods);
    n = append_methods(n, heap_gc_methods);
    n = append_methods(n, heap_lab_methods);
    n = append_methods(n, heap_builder_methods);
    if (n >= sizeof heap_methods / sizeof heap_methods[0]) {
        Py_FatalError("rcgc: heap_methods too small");
    }
    size_t g = append_getset(0, own_getset);
    g = append_getset(g, heap_gc_getset);
    g = append_getset(g, heap_lab_getset);
    if (g >= sizeof heap_getset / sizeof heap_getset[0]) {
        Py_FatalError("rcgc: heap_getset too small");
    }
    return 0;
}

PyDoc_STRVAR(
    Heap_doc,
    "Heap()\n"
    "--\n"
    "\n"
    "An rcgc heap: its own allocator (objalloc), objects (refcount) and\n"
    "three-generation cycle collector (cyclegc), independent of every "
    "other\n"
    "heap and of CPython's memory.  Its collector API has the names of\n"
    "Python's gc module (collect, enable, get_threshold, callbacks, "
    "freeze,\n"
    "garbage, ...); beyond gc it offers allocator statistics, the event "
    "log\n"
    "of past collections, why_alive(), and graph builders written in C.\n"
    "\n"
    "Use it as a context manager, or call destroy(), to release its memory\n"
    "at once; otherwise it goes when the Heap and all its handles are "
    "gone.");

PyTypeObject Heap_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rcgc.Heap",
    .tp_basicsize = sizeof(HeapObject),
    .tp_dealloc = (destructor)Heap_dealloc,
    .tp_repr = (reprfunc)Heap_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = Heap_doc,
    .tp_traverse = (traverseproc)Heap_traverse,
    .tp_clear = (inquiry)Heap_clear,
    .tp_weaklistoffset = offsetof(HeapObject, weakreflist),
    .tp_methods = heap_methods,
    .tp_getset = heap_getset,
    .tp_new = Heap_new,
};
