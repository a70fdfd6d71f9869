/* SPDX-License-Identifier: MIT */
/* weakref.c - rcgc.WeakRef: a Python handle on an rcgc weak reference.
 *
 * Data: a WeakRefObject owns the one count of an rcgc weak reference
 * object (rc_weakref_new), a strong reference to its Heap and to its
 * Python callback, and sits in the heap's list `weakrefs` so that
 * destroy() can detach it.  The rcgc weak reference's ctx is the
 * WeakRefObject itself (borrowed: the Python object outlives the rcgc one,
 * since it holds its only count).
 *
 * Callback: when the target dies, refcount clears the weak reference and
 * calls wr_callback(wr, ctx) (with a temporary count on wr); we call
 * callback(weakref_handle) with the exception state saved, report an
 * exception to sys.unraisablehook, and park our temporary Python
 * reference on the heap's release list.
 *
 * Invariant: self->wr != NULL exactly while the heap is alive and the
 * handle has not been deallocated; ctx of self->wr == self.
 */
#include "pyext/internal.h"

static void
wr_callback(RcObject *wr, void *ctx)
{
    (void)wr;
    WeakRefObject *self = ctx;
    if (self->callback == NULL) {
        return;
    }
    HeapObject *heap = self->heap;
    ExcState st;
    exc_save(&st);
    Py_INCREF(heap);
    Py_INCREF(self);
    PyObject *cb = Py_NewRef(self->callback);
    PyObject *r = PyObject_CallOneArg(cb, (PyObject *)self);
    if (r == NULL) {
        PyErr_WriteUnraisable(cb);
    }
    Py_XDECREF(r);
    heap_release(heap, cb);
    heap_release(heap, (PyObject *)self);
    exc_restore(&st);
    Py_DECREF(heap); /* never the last: the rcgc caller holds it */
}

static void
list_remove(WeakRefObject *self)
{
    HeapObject *heap = self->heap;
    if (self->prev != NULL) {
        self->prev->next = self->next;
    }
    else if (heap->weakrefs == self) {
        heap->weakrefs = self->next;
    }
    if (self->next != NULL) {
        self->next->prev = self->prev;
    }
    self->prev = self->next = NULL;
}

/* A WeakRef to target, with an rcgc weakref under it (whose callback is
 * wr_callback only if the Python one is given), linked into the heap's
 * list of weakrefs.  NULL with TypeError for a bad callback, MemoryError
 * naming rcgc's reason if the rcgc weakref cannot be made. */
PyObject *
weakref_new(HeapObject *heap, RcObject *target, PyObject *callback)
{
    if (callback == Py_None) {
        callback = NULL;
    }
    if (callback != NULL && !PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "the callback must be callable");
        return NULL;
    }
    WeakRefObject *self = PyObject_GC_New(WeakRefObject, &WeakRef_Type);
    if (self == NULL) {
        return NULL;
    }
    self->heap = (HeapObject *)Py_NewRef((PyObject *)heap);
    self->callback = Py_XNewRef(callback);
    self->prev = NULL;
    self->next = NULL;
    heap_enter(heap);
    /* Without a Python callback the rcgc weakref has none either: the
     * collector clears such weakrefs after the finalizers (CPython 3.14),
     * and those with a callback before them. */
    self->wr = rc_weakref_new(
        heap->rc, target, callback != NULL ? wr_callback : NULL, self, NULL);
    heap_leave(heap);
    if (self->wr == NULL) {
        const char *why = rc_heap_error(heap->rc);
        PyErr_Format(PyExc_MemoryError,
                     "rcgc: cannot make a weak reference: %s",
                     why != NULL ? why : "out of memory");
        Py_DECREF(self);
        return NULL;
    }
    self->next = heap->weakrefs;
    if (heap->weakrefs != NULL) {
        heap->weakrefs->prev = self;
    }
    heap->weakrefs = self;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

void
weakrefs_detach_all(HeapObject *heap)
{
    while (heap->weakrefs != NULL) {
        WeakRefObject *w = heap->weakrefs;
        heap->weakrefs = w->next;
        w->prev = w->next = NULL;
        w->wr = NULL;
    }
}

static void
WeakRef_dealloc(WeakRefObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->wr != NULL) {
        HeapObject *heap = self->heap;
        RcObject *wr = self->wr;
        list_remove(self);
        self->wr = NULL;
        heap_enter(heap);
        rc_decref(wr);
        heap_leave(heap);
    }
    Py_CLEAR(self->callback);
    Py_CLEAR(self->heap);
    PyObject_GC_Del(self);
}

static int
WeakRef_traverse(WeakRefObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->heap);
    Py_VISIT(self->callback);
    return 0;
}

static int
WeakRef_clear(WeakRefObject *self)
{
    Py_CLEAR(self->callback);
    return 0;
}

static PyObject *
WeakRef_call(WeakRefObject *self, PyObject *args, PyObject *kw)
{
    if (!PyArg_ParseTupleAndKeywords(args, kw, ":__call__",
                                     (char *[]){NULL})) {
        return NULL;
    }
    if (self->wr == NULL) {
        if (heap_check_alive(self->heap) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    RcObject *target = rc_weakref_get(self->wr);
    if (target == NULL) {
        Py_RETURN_NONE;
    }
    return node_handle(self->heap, target);
}

static PyObject *
WeakRef_get_alive(WeakRefObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->wr != NULL &&
                           rc_weakref_get(self->wr) != NULL);
}

static PyObject *
WeakRef_get_callback(WeakRefObject *self, void *c)
{
    (void)c;
    return Py_NewRef(self->callback != NULL ? self->callback : Py_None);
}

static PyObject *
WeakRef_repr(WeakRefObject *self)
{
    RcObject *t = self->wr != NULL ? rc_weakref_get(self->wr) : NULL;
    if (t == NULL) {
        return PyUnicode_FromFormat("<rcgc.WeakRef at %p; dead>", self);
    }
    return PyUnicode_FromFormat("<rcgc.WeakRef at %p; to node at %p>", self,
                                (void *)t);
}

static PyGetSetDef WeakRef_getset[] = {
    {"alive", (getter)WeakRef_get_alive, NULL,
     "True while the target node lives.", NULL},
    {"callback", (getter)WeakRef_get_callback, NULL,
     "The callback given at creation, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(WeakRef_doc,
             "A weak reference to an rcgc node (make one with "
             "Node.weakref()).\n"
             "\n"
             "Calling it returns the node, or None once the node died.  The "
             "callback,\n"
             "if any, is called as callback(weakref) after the node died "
             "(only if\n"
             "this WeakRef is still alive then); its exceptions go to\n"
             "sys.unraisablehook.  In a collection, as in CPython 3.14, a "
             "WeakRef with\n"
             "a callback is cleared before any finalizer runs, one without "
             "still\n"
             "returns its node to the finalizers and is cleared after them.");

PyTypeObject WeakRef_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rcgc.WeakRef",
    .tp_basicsize = sizeof(WeakRefObject),
    .tp_dealloc = (destructor)WeakRef_dealloc,
    .tp_repr = (reprfunc)WeakRef_repr,
    .tp_call = (ternaryfunc)WeakRef_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = WeakRef_doc,
    .tp_traverse = (traverseproc)WeakRef_traverse,
    .tp_clear = (inquiry)WeakRef_clear,
    .tp_getset = WeakRef_getset,
};
