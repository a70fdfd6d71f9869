/* SPDX-License-Identifier: MIT */
/* rcgcmodule.c - the module rcgc._rcgc: init, exceptions, constants, and
 * the helpers every file of the extension shares.
 *
 * What it does: creates the module, readies the types Heap, Node and
 * WeakRef (their methods live in heap.c, gcapi.c, labapi.c, builders.c,
 * node.c, weakref.c), defines rcgc.HeapError and the DEBUG_* constants.
 *
 * The busy / release discipline (see internal.h, rule 4):
 *   heap_enter(h)      h->busy++
 *   ... rcgc call; Python code it runs may call heap_release(h, obj),
 *       which appends obj to h->release instead of dropping it ...
 *   heap_leave(h)      h->busy--; at 0, empty h->release (dropping each
 *                      reference, which may run Python code and even
 *                      re-enter: the loop runs until the list is empty).
 * Invariant: h->busy == 0 whenever no rcgc call on h is in progress, and
 * then h->release is empty.
 */
#include "pyext/internal.h"

PyObject *HeapError;

void
heap_enter(HeapObject *heap)
{
    heap->busy++;
}

static void
drain_release(HeapObject *heap)
{
    /* Dropping a reference may park more: loop until empty.  The slice
     * deletion moves the items out before it decrefs them. */
    while (heap->release != NULL && PyList_GET_SIZE(heap->release) > 0) {
        Py_ssize_t n = PyList_GET_SIZE(heap->release);
        heap->busy++;
        if (PyList_SetSlice(heap->release, 0, n, NULL) < 0) {
            PyErr_WriteUnraisable(heap->release);
        }
        heap->busy--;
        if (heap->busy != 0) {
            break;
        }
    }
}

void
heap_leave(HeapObject *heap)
{
    if (--heap->busy == 0) {
        ExcState st;
        exc_save(&st);
        drain_release(heap);
        exc_restore(&st);
    }
}

void
heap_release(HeapObject *heap, PyObject *obj)
{
    if (obj == NULL) {
        return;
    }
    if (heap->busy > 0 && heap->release != NULL) {
        ExcState st;
        exc_save(&st);
        int rc = PyList_Append(heap->release, obj);
        if (rc < 0) {
            PyErr_Clear();
        }
        exc_restore(&st);
        if (rc == 0) {
            Py_DECREF(obj); /* the list holds it now */
            return;
        }
    }
    Py_DECREF(obj);
}

int
heap_check_alive(HeapObject *heap)
{
    if (heap->gc == NULL) {
        PyErr_SetString(HeapError, "the heap has been destroyed");
        return -1;
    }
    return 0;
}

void
exc_save(ExcState *st)
{
#if PY_VERSION_HEX >= 0x030C0000
    st->exc = PyErr_GetRaisedException();
#else
    PyErr_Fetch(&st->type, &st->value, &st->tb);
#endif
}

void
exc_restore(ExcState *st)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(st->exc);
#else
    PyErr_Restore(st->type, st->value, st->tb);
#endif
}

/* The version, from the file VERSION (setup.py defines it). */
#ifndef RCGC_PYEXT_VERSION
#error "RCGC_PYEXT_VERSION: build the extension with setup.py"
#endif

PyDoc_STRVAR(module_doc,
             "Low-level half of the rcgc package (see help(rcgc)).\n"
             "\n"
             "Heap, Node and WeakRef are implemented here, in C, on top of\n"
             "the rcgc library's three layers: objalloc (allocator),\n"
             "refcount (objects) and cyclegc (cycle collector).");

PyDoc_STRVAR(use_objalloc_doc,
             "use_objalloc($module, /)\n"
             "--\n"
             "\n"
             "-> bool\n"
             "\n"
             "Serve this interpreter's object domain (PyObject_Malloc) from\n"
             "an objalloc heap from now on; blocks allocated before keep\n"
             "going to the allocator that made them.  Returns False when\n"
             "already switched.  Refused (RuntimeError) while tracemalloc\n"
             "is tracing.  See pyalloc/pyalloc.h for why this is safe.");
PyDoc_STRVAR(stop_objalloc_doc,
             "stop_objalloc($module, /)\n"
             "--\n"
             "\n"
             "-> bool\n"
             "\n"
             "Give the object domain back to the previous allocator; while\n"
             "objalloc blocks are still live the switch drains instead (new\n"
             "requests go to the previous allocator, ours still come back).\n"
             "Returns False when not switched.");
PyDoc_STRVAR(objalloc_status_doc,
             "objalloc_status($module, /)\n"
             "--\n"
             "\n"
             "-> dict\n"
             "\n"
             "installed, draining, live_blocks, forwarded_frees,\n"
             "forwarded_reallocs, moved_out, arenas, bytes_mapped.");

static PyMethodDef module_methods[] = {
    {"use_objalloc", rcgc_use_objalloc, METH_NOARGS, use_objalloc_doc},
    {"stop_objalloc", rcgc_stop_objalloc, METH_NOARGS, stop_objalloc_doc},
    {"objalloc_status", rcgc_objalloc_status, METH_NOARGS,
     objalloc_status_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rcgc_module = {
    PyModuleDef_HEAD_INIT, .m_name = "rcgc._rcgc",      .m_doc = module_doc,
    .m_size = -1,          .m_methods = module_methods,
};

/* The module's integer constants (gc debug flags, generations, the event
 * log's size, node and allocator limits), from one table; 0, or -1 with
 * an exception set. */
static int
add_constants(PyObject *m)
{
    struct {
        const char *name;
        long value;
    } consts[] = {
        {"DEBUG_STATS", GC_DEBUG_STATS},
        {"DEBUG_COLLECTABLE", GC_DEBUG_COLLECTABLE},
        {"DEBUG_UNCOLLECTABLE", GC_DEBUG_UNCOLLECTABLE},
        {"DEBUG_SAVEALL", GC_DEBUG_SAVEALL},
        {"DEBUG_LEAK", GC_DEBUG_LEAK},
        {"NGENERATIONS", GC_NGENERATIONS},
        {"EVENT_LOG_SIZE", GC_EVENT_LOG},
        {"MAX_SLOTS", NODE_MAX_SLOTS},
        {"MAX_PAYLOAD", NODE_MAX_PAYLOAD},
        {"SMALL_MAX", OA_SMALL_MAX},
        {"POOL_SIZE", OA_POOL_SIZE},
        {"ARENA_SIZE", OA_ARENA_SIZE},
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
        if (PyModule_AddIntConstant(m, consts[i].name, consts[i].value) < 0) {
            return -1;
        }
        /* The Heap class carries the DEBUG_* flags too, as gc does. */
        if (strncmp(consts[i].name, "DEBUG_", 6) == 0) {
            PyObject *v = PyLong_FromLong(consts[i].value);
            if (v == NULL || PyDict_SetItemString(Heap_Type.tp_dict,
                                                  consts[i].name, v) < 0) {
                Py_XDECREF(v);
                return -1;
            }
            Py_DECREF(v);
        }
    }
    return 0;
}

static int
add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0) {
        return -1;
    }
    Py_INCREF(t);
    if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(heaperror_doc,
             "Raised on an operation that the heap's state forbids: using a\n"
             "destroyed heap or a node of one, or destroying a heap while\n"
             "rcgc code is running on it (from a finalizer or callback).");

PyMODINIT_FUNC
PyInit__rcgc(void)
{
    PyObject *m = PyModule_Create(&rcgc_module);
    if (m == NULL) {
        return NULL;
    }
    if (heap_type_init() < 0 || add_type(m, &Heap_Type, "Heap") < 0 ||
        add_type(m, &Node_Type, "Node") < 0 ||
        add_type(m, &WeakRef_Type, "WeakRef") < 0) {
        goto fail;
    }
    HeapError = PyErr_NewExceptionWithDoc("rcgc.HeapError", heaperror_doc,
                                          PyExc_RuntimeError, NULL);
    if (HeapError == NULL) {
        goto fail;
    }
    Py_INCREF(HeapError);
    if (PyModule_AddObject(m, "HeapError", HeapError) < 0) {
        Py_DECREF(HeapError);
        goto fail;
    }
    if (add_constants(m) < 0 ||
        PyModule_AddStringConstant(m, "__version__", RCGC_PYEXT_VERSION) < 0) {
        goto fail;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
