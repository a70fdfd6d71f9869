/* SPDX-License-Identifier: MIT */
/* py_backend.c - CPython 3.11 as a benchmark backend, through its C API.
 *
 * The node type is what a C extension writes for a container with two
 * references, and what CPython's own containers do:
 *   - a static PyTypeObject with Py_TPFLAGS_HAVE_GC, basicsize 32 (16
 *     bytes of header, two PyObject* slots) plus CPython's 16-byte
 *     PyGC_Head: 48 bytes per node from pymalloc;
 *   - tp_traverse visits both slots, tp_clear drops them;
 *   - tp_dealloc untracks (PyObject_GC_UnTrack), then releases the slots
 *     inside Py_TRASHCAN_BEGIN/END (so that dropping the head of a long
 *     chain does not overflow the C stack), then PyObject_GC_Del.
 * The interpreter is initialised once (Py_InitializeEx(0)); its startup
 * objects are moved to the permanent generation (gc.freeze()) so that
 * collections see only the bench's nodes, and automatic collection is off
 * except where a bench turns it on.  Explicit collections go through
 * gc.collect(generation), the same entry point a Python program uses.
 * Pauses are recorded by a C function appended to gc.callbacks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "bench/backend.h"
#include "bench/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct PyNode {
    PyObject_HEAD PyObject *slot[2];
} PyNode;

static PyObject *gc_module, *gc_collect_fn, *gc_callbacks, *pause_cb;
static PauseLog *pause_log;
static long live_nodes;

static int
pynode_traverse(PyObject *op, visitproc visit, void *arg)
{
    PyNode *n = (PyNode *)op;
    Py_VISIT(n->slot[0]);
    Py_VISIT(n->slot[1]);
    return 0;
}

static int
pynode_clear(PyObject *op)
{
    PyNode *n = (PyNode *)op;
    Py_CLEAR(n->slot[0]);
    Py_CLEAR(n->slot[1]);
    return 0;
}

static void
pynode_dealloc(PyObject *op)
{
    PyNode *n = (PyNode *)op;
    PyObject_GC_UnTrack(op);
    Py_TRASHCAN_BEGIN(op, pynode_dealloc) Py_CLEAR(n->slot[0]);
    Py_CLEAR(n->slot[1]);
    live_nodes--;
    PyObject_GC_Del(op);
    Py_TRASHCAN_END
}

static PyTypeObject PyNode_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rcgcbench.Node",
    .tp_basicsize = sizeof(PyNode),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = pynode_traverse,
    .tp_clear = pynode_clear,
    .tp_dealloc = pynode_dealloc,
};

static void *
py_node_new(void)
{
    PyNode *n = PyObject_GC_New(PyNode, &PyNode_Type);
    if (n == NULL) {
        fprintf(stderr, "bench: CPython out of memory\n");
        exit(1);
    }
    n->slot[0] = NULL;
    n->slot[1] = NULL;
    live_nodes++;
    PyObject_GC_Track(n);
    return n;
}

static void
py_set_slot(void *node, int i, void *target)
{
    PyNode *n = node;
    PyObject *old = n->slot[i];
    Py_INCREF((PyObject *)target);
    n->slot[i] = target;
    Py_XDECREF(old);
}

static void
py_decref(void *node)
{
    Py_DECREF((PyObject *)node);
}

static void
fail(const char *what)
{
    fprintf(stderr, "bench: CPython: %s failed\n", what);
    PyErr_Print();
    exit(1);
}

static long
py_collect(int generation)
{
    PyObject *r = PyObject_CallFunction(gc_collect_fn, "i", generation);
    if (r == NULL) {
        fail("gc.collect");
    }
    long n = PyLong_AsLong(r);
    Py_DECREF(r);
    return n;
}

static void
py_auto_gc(int on)
{
    if (on) {
        PyGC_Enable();
    }
    else {
        PyGC_Disable();
    }
}

static void
py_set_threshold(long t0, long t1, long t2)
{
    PyObject *r =
        PyObject_CallMethod(gc_module, "set_threshold", "lll", t0, t1, t2);
    if (r == NULL) {
        fail("gc.set_threshold");
    }
    Py_DECREF(r);
}

/* gc.callbacks entry: (phase, info) with phase "start" or "stop". */
static PyObject *
pause_callback(PyObject *self, PyObject *args)
{
    PyObject *phase, *info;
    (void)self;
    if (!PyArg_ParseTuple(args, "UO", &phase, &info)) {
        return NULL;
    }
    if (pause_log != NULL) {
        if (PyUnicode_CompareWithASCIIString(phase, "start") == 0) {
            pause_log->t0 = bench_now();
        }
        else {
            uint64_t ns = bench_now() - pause_log->t0;
            PyObject *g = PyDict_GetItemString(info, "generation");
            PyObject *c = PyDict_GetItemString(info, "collected");
            PyObject *u = PyDict_GetItemString(info, "uncollectable");
            long found =
                (c ? PyLong_AsLong(c) : 0) + (u ? PyLong_AsLong(u) : 0);
            pauselog_add(pause_log, g ? (int)PyLong_AsLong(g) : 0, ns, found);
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef pause_def = {"rcgcbench_pause", pause_callback,
                                METH_VARARGS, NULL};

static void
py_pauses_start(PauseLog *log)
{
    pause_log = log;
    if (PyList_Append(gc_callbacks, pause_cb) < 0) {
        fail("gc.callbacks.append");
    }
}

static void
py_pauses_stop(void)
{
    PyObject *r = PyObject_CallMethod(gc_callbacks, "remove", "O", pause_cb);
    if (r == NULL) {
        fail("gc.callbacks.remove");
    }
    Py_DECREF(r);
    pause_log = NULL;
}

static double
py_node_bytes(void)
{
    /* pymalloc rounds to 16 bytes; the GC head (PyGC_Head, internal in
     * 3.11: two words) sits before the object. */
    size_t n = 2 * sizeof(uintptr_t) + (size_t)PyNode_Type.tp_basicsize;
    return (double)((n + 15) & ~(size_t)15);
}

static void *
py_blob_new(size_t bytes)
{
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bytes);
    if (b == NULL) {
        fprintf(stderr, "bench: CPython out of memory\n");
        exit(1);
    }
    memset(PyBytes_AS_STRING(b), 0x5a, bytes);
    return b;
}

static long
py_live(void)
{
    return live_nodes;
}

static void
py_setup(void)
{}

static void
py_teardown(void)
{
    py_collect(2);
}

void
py_backend_init(Backend *b)
{
    if (Py_IsInitialized()) {
        return;
    }
    Py_InitializeEx(0);
    if (PyType_Ready(&PyNode_Type) < 0) {
        fail("PyType_Ready");
    }
    gc_module = PyImport_ImportModule("gc");
    if (gc_module == NULL) {
        fail("import gc");
    }
    gc_collect_fn = PyObject_GetAttrString(gc_module, "collect");
    gc_callbacks = PyObject_GetAttrString(gc_module, "callbacks");
    pause_cb = PyCFunction_New(&pause_def, NULL);
    if (gc_collect_fn == NULL || gc_callbacks == NULL || pause_cb == NULL) {
        fail("gc module lookup");
    }
    PyGC_Disable();
    py_collect(2);
    PyObject *r = PyObject_CallMethod(gc_module, "freeze", NULL);
    if (r == NULL) {
        fail("gc.freeze");
    }
    Py_DECREF(r);
    *b = (Backend){
        .name = "CPython",
        .available = 1,
        .has_collector = 1,
        .setup = py_setup,
        .teardown = py_teardown,
        .node_new = py_node_new,
        .set_slot = py_set_slot,
        .decref = py_decref,
        .collect = py_collect,
        .auto_gc = py_auto_gc,
        .set_threshold = py_set_threshold,
        .pauses_start = py_pauses_start,
        .pauses_stop = py_pauses_stop,
        .node_bytes = py_node_bytes,
        .live = py_live,
        .blob_new = py_blob_new,
    };
    snprintf(b->why, sizeof b->why, "%s", "");
}
