/* SPDX-License-Identifier: MIT */
/* gcapi.c - the Heap methods named after Python's gc module.
 *
 * Each method checks that the heap is alive, converts its arguments
 * (nodes through node_arg: a live Node of this heap), calls cyclegc
 * between heap_enter/heap_leave when the call can run Python code
 * (collect, freeze... anything that may free objects), and converts the
 * result: RcObject pointers become Node handles (node_list), and objects
 * that are not nodes (rcgc's own weak reference objects) are left out.
 *
 * Lists of pointers come from cyclegc's "fill up to cap, return the
 * count" functions: ask for the count with cap 0, allocate, ask again.
 * Nothing runs between the two calls, so the count does not change.
 */
#include "pyext/internal.h"

#define ALIVE_OR_NULL(self)                                                   \
    if (heap_check_alive(self) < 0) {                                         \
        return NULL;                                                          \
    }

PyDoc_STRVAR(collect_doc,
             "collect($self, /, generation=2)\n--\n\n-> int\n\n"
             "Run a collection of the given generation (0, 1 or 2; 2 is a "
             "full\n"
             "collection) and return the number of unreachable objects "
             "found\n"
             "(collected + uncollectable).  Returns 0 without collecting "
             "when\n"
             "called during a collection (from a finalizer or callback).\n"
             "ValueError for an invalid generation.");

static PyObject *
Heap_collect(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"generation", NULL};
    int gen = GC_NGENERATIONS - 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|i:collect", kwlist, &gen)) {
        return NULL;
    }
    ALIVE_OR_NULL(self);
    if (gen < 0 || gen >= GC_NGENERATIONS) {
        PyErr_SetString(PyExc_ValueError, "invalid generation");
        return NULL;
    }
    heap_enter(self);
    long n = gc_collect(self->gc, gen);
    heap_leave(self);
    if (n < 0) {
        const char *why = gc_error(self->gc);
        PyErr_Format(PyExc_RuntimeError, "rcgc: collect failed: %s",
                     why != NULL ? why : "unknown error");
        return NULL;
    }
    return PyLong_FromLong(n);
}

static PyObject *
Heap_enable(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    gc_enable(self->gc);
    Py_RETURN_NONE;
}

static PyObject *
Heap_disable(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    gc_disable(self->gc);
    Py_RETURN_NONE;
}

static PyObject *
Heap_isenabled(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    return PyBool_FromLong(gc_isenabled(self->gc));
}

static PyObject *
Heap_get_count(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    long c[GC_NGENERATIONS];
    gc_get_count(self->gc, c);
    return Py_BuildValue("(lll)", c[0], c[1], c[2]);
}

static PyObject *
Heap_get_threshold(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    long t[GC_NGENERATIONS];
    gc_get_threshold(self->gc, t);
    return Py_BuildValue("(lll)", t[0], t[1], t[2]);
}

PyDoc_STRVAR(
    set_threshold_doc,
    "set_threshold($self, threshold0, threshold1=None, threshold2=None, "
    "/)\n--\n\n"
    "Set the collection thresholds; omitted ones keep their value. "
    " A\n"
    "threshold0 of 0 turns automatic collection off.  Negative "
    "values\n"
    "raise ValueError.");

/* An optional threshold: None (or omitted) keeps *t; else an int. */
static int
threshold_arg(PyObject *arg, long *t)
{
    if (arg == NULL || arg == Py_None) {
        return 0;
    }
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    *t = v;
    return 0;
}

static PyObject *
Heap_set_threshold(HeapObject *self, PyObject *args)
{
    ALIVE_OR_NULL(self);
    long t[GC_NGENERATIONS];
    gc_get_threshold(self->gc, t);
    PyObject *t1 = NULL, *t2 = NULL;
    if (!PyArg_ParseTuple(args, "l|OO:set_threshold", &t[0], &t1, &t2) ||
        threshold_arg(t1, &t[1]) < 0 || threshold_arg(t2, &t[2]) < 0) {
        return NULL;
    }
    if (t[0] < 0 || t[1] < 0 || t[2] < 0) {
        PyErr_SetString(PyExc_ValueError, "thresholds must be >= 0");
        return NULL;
    }
    if (gc_set_threshold(self->gc, t[0], t[1], t[2]) < 0) {
        const char *why = gc_error(self->gc);
        PyErr_SetString(PyExc_ValueError,
                        why != NULL ? why : "invalid threshold");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Heap_get_stats(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    GcGenStats st[GC_NGENERATIONS];
    gc_get_stats(self->gc, st);
    PyObject *list = PyList_New(GC_NGENERATIONS);
    if (list == NULL) {
        return NULL;
    }
    for (int g = 0; g < GC_NGENERATIONS; g++) {
        PyObject *d = Py_BuildValue(
            "{s:K,s:K,s:K,s:l,s:K,s:K}", "collections",
            (unsigned long long)st[g].collections, "collected",
            (unsigned long long)st[g].collected, "uncollectable",
            (unsigned long long)st[g].uncollectable, "threshold",
            st[g].threshold, "bytes", (unsigned long long)st[g].bytes,
            "skipped", (unsigned long long)st[g].skipped);
        if (d == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, g, d);
    }
    return list;
}

static const char *const pacing_names[] = {"fixed", "adaptive"};

PyDoc_STRVAR(set_pacing_doc,
             "set_pacing($self, mode, /)\n--\n\n"
             "Choose when collections run: 'fixed' (the thresholds as "
             "set, the\n"
             "default) or 'adaptive' (after a generation-0 collection that "
             "found\n"
             "under 1/8 garbage, the next 3 times generation 0 is due it "
             "moves to\n"
             "generation 1 unexamined; full collections move threshold2 "
             "within\n"
             "1x..8x of the one set, up when they find under 1/8 garbage, "
             "down\n"
             "over 1/2).  Either resets the thresholds in force.  "
             "ValueError for\n"
             "another mode.");

static PyObject *
Heap_set_pacing(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError,
                     "set_pacing: mode must be 'fixed' or 'adaptive', not %s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    for (int m = 0; m < 2; m++) {
        if (PyUnicode_CompareWithASCIIString(arg, pacing_names[m]) == 0) {
            gc_set_pacing(self->gc, (GcPacing)m);
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError,
                 "set_pacing: mode must be 'fixed' or 'adaptive', not %R",
                 arg);
    return NULL;
}

static PyObject *
Heap_get_pacing(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    return PyUnicode_FromString(pacing_names[gc_get_pacing(self->gc)]);
}

static PyObject *
Heap_freeze(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    heap_enter(self);
    gc_freeze(self->gc);
    heap_leave(self);
    Py_RETURN_NONE;
}

static PyObject *
Heap_unfreeze(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    heap_enter(self);
    gc_unfreeze(self->gc);
    heap_leave(self);
    Py_RETURN_NONE;
}

static PyObject *
Heap_get_freeze_count(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    return PyLong_FromSize_t(gc_get_freeze_count(self->gc));
}

PyDoc_STRVAR(get_objects_doc,
             "get_objects($self, /, generation=None)\n--\n\n-> list\n\n"
             "The nodes the collector tracks, in one generation (0..2) or "
             "in all\n"
             "(None).  Each is its node's one handle (new handles hold a "
             "count).");

static PyObject *
Heap_get_objects(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"generation", NULL};
    PyObject *genobj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:get_objects", kwlist,
                                     &genobj)) {
        return NULL;
    }
    ALIVE_OR_NULL(self);
    int gen = -1;
    if (genobj != Py_None) {
        long g = PyLong_AsLong(genobj);
        if (g == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (g < 0 || g >= GC_NGENERATIONS) {
            PyErr_SetString(PyExc_ValueError,
                            "generation must be in range(3) or None");
            return NULL;
        }
        gen = (int)g;
    }
    size_t n = gc_get_objects(self->gc, gen, NULL, 0);
    if (n == (size_t)-1) {
        PyErr_SetString(PyExc_ValueError, "invalid generation");
        return NULL;
    }
    RcObject **buf = PyMem_Malloc((n ? n : 1) * sizeof *buf);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    size_t m = gc_get_objects(self->gc, gen, buf, n);
    PyObject *list = node_list(self, buf, m < n ? m : n);
    PyMem_Free(buf);
    return list;
}

/* Convert a tuple of nodes to an array of pointers (PyMem_Free it). */
static RcObject **
node_array(HeapObject *self, PyObject *args, Py_ssize_t *n)
{
    *n = PyTuple_GET_SIZE(args);
    RcObject **arr = PyMem_Malloc((*n ? (size_t)*n : 1) * sizeof *arr);
    if (arr == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        arr[i] = node_arg(self, PyTuple_GET_ITEM(args, i));
        if (arr[i] == NULL) {
            PyMem_Free(arr);
            return NULL;
        }
    }
    return arr;
}

static PyObject *
referrers_or_referents(HeapObject *self, PyObject *args, int referrers)
{
    ALIVE_OR_NULL(self);
    Py_ssize_t n;
    RcObject **objs = node_array(self, args, &n);
    if (objs == NULL) {
        return NULL;
    }
    size_t count = referrers
                       ? gc_get_referrers(self->gc, objs, (size_t)n, NULL, 0)
                       : gc_get_referents(objs, (size_t)n, NULL, 0);
    RcObject **buf = PyMem_Malloc((count ? count : 1) * sizeof *buf);
    if (buf == NULL) {
        PyMem_Free(objs);
        return PyErr_NoMemory();
    }
    size_t m = referrers
                   ? gc_get_referrers(self->gc, objs, (size_t)n, buf, count)
                   : gc_get_referents(objs, (size_t)n, buf, count);
    PyObject *list = node_list(self, buf, m < count ? m : count);
    PyMem_Free(buf);
    PyMem_Free(objs);
    return list;
}

static PyObject *
Heap_get_referrers(HeapObject *self, PyObject *args)
{
    return referrers_or_referents(self, args, 1);
}

static PyObject *
Heap_get_referents(HeapObject *self, PyObject *args)
{
    return referrers_or_referents(self, args, 0);
}

static PyObject *
Heap_is_tracked(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    RcObject *op = node_arg(self, arg);
    return op == NULL ? NULL : PyBool_FromLong(gc_is_tracked(op));
}

static PyObject *
Heap_is_finalized(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    RcObject *op = node_arg(self, arg);
    return op == NULL ? NULL : PyBool_FromLong(gc_is_finalized(op));
}

/* Heap.garbage is one list per heap, as gc.garbage is one list: the
 * collector's garbage list is moved into it (as handles, each owning a
 * count of its node, as gc.garbage's references do) at the end of every
 * collection (heap.c's callback) and whenever it is read, and the C list
 * is emptied.  Clearing the Python list (del g[:],
 * g.clear()) therefore releases the nodes.  The handles are all made
 * before anything moves, so a MemoryError leaves both lists as they were. */
int
garbage_sync(HeapObject *self)
{
    if (self->garbage == NULL && (self->garbage = PyList_New(0)) == NULL) {
        return -1;
    }
    size_t n = gc_garbage_count(self->gc);
    if (n == 0) {
        return 0;
    }
    RcObject **buf = PyMem_Malloc(n * sizeof *buf);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = gc_garbage_get(self->gc, i);
    }
    PyObject *fresh = node_list(self, buf, n);
    PyMem_Free(buf);
    Py_ssize_t end = PyList_GET_SIZE(self->garbage);
    if (fresh == NULL || PyList_SetSlice(self->garbage, end, end, fresh) < 0) {
        Py_XDECREF(fresh);
        return -1;
    }
    Py_DECREF(fresh);
    /* The handles hold the nodes now: dropping the C list's counts frees
     * nothing. */
    heap_enter(self);
    gc_garbage_clear(self->gc);
    heap_leave(self);
    return 0;
}

static PyObject *
Heap_get_garbage(HeapObject *self, void *c)
{
    (void)c;
    ALIVE_OR_NULL(self);
    if (garbage_sync(self) < 0) {
        return NULL;
    }
    return Py_NewRef(self->garbage);
}

static PyObject *
Heap_clear_garbage(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    heap_enter(self);
    gc_garbage_clear(self->gc);
    heap_leave(self);
    /* Outside rcgc: the nodes die here as after del heap.garbage[:]. */
    if (self->garbage != NULL &&
        PyList_SetSlice(self->garbage, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(set_debug_doc,
             "set_debug($self, flags, /)\n--\n\n"
             "Set the debugging flags (DEBUG_STATS, DEBUG_COLLECTABLE,\n"
             "DEBUG_UNCOLLECTABLE, DEBUG_SAVEALL, DEBUG_LEAK).  Their lines "
             "go to\n"
             "the C stderr (file descriptor 2), not to sys.stderr.");

static PyObject *
Heap_set_debug(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    long flags = PyLong_AsLong(arg);
    if (flags == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (flags < 0 || flags > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "invalid debug flags");
        return NULL;
    }
    gc_set_debug(self->gc, (int)flags, NULL);
    Py_RETURN_NONE;
}

static PyObject *
Heap_get_debug(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    return PyLong_FromLong(gc_get_debug(self->gc));
}

/* ---- the pause-bounded mode ------------------------------------------ */

PyDoc_STRVAR(
    set_pause_budget_doc,
    "set_pause_budget($self, microseconds, /)\n--\n\n"
    "Collect the old generation in increments that each stay within\n"
    "this pause budget (0: stop-the-world, the default).  collect(2)\n"
    "still runs a complete collection.  ValueError for a negative\n"
    "budget or one over 10 s.");

static PyObject *
Heap_set_pause_budget(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    long long us = PyLong_AsLongLong(arg);
    if (us == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (us < 0) {
        PyErr_Format(PyExc_ValueError,
                     "pause budget must be >= 0 microseconds (got %lld)", us);
        return NULL;
    }
    if (gc_set_pause_budget(self->gc, (uint64_t)us) < 0) {
        const char *why = gc_error(self->gc);
        PyErr_SetString(PyExc_ValueError,
                        why != NULL ? why : "invalid pause budget");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Heap_get_pause_budget(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    return PyLong_FromUnsignedLongLong(gc_get_pause_budget(self->gc));
}

static PyObject *
Heap_set_increment_work(HeapObject *self, PyObject *arg)
{
    ALIVE_OR_NULL(self);
    Py_ssize_t w = PyLong_AsSsize_t(arg);
    if (w == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (w < 0) {
        PyErr_Format(PyExc_ValueError, "increment work must be >= 0 (got %zd)",
                     w);
        return NULL;
    }
    gc_set_increment_work(self->gc, (size_t)w);
    Py_RETURN_NONE;
}

static PyObject *
Heap_collect_increment(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    heap_enter(self);
    long n = gc_collect_increment(self->gc);
    heap_leave(self);
    if (n < 0) {
        const char *why = gc_error(self->gc);
        PyErr_Format(PyExc_RuntimeError, "rcgc: collect_increment failed: %s",
                     why != NULL ? why : "unknown error");
        return NULL;
    }
    return PyLong_FromLong(n);
}

static PyObject *
Heap_get_incremental_stats(HeapObject *self, PyObject *unused)
{
    (void)unused;
    ALIVE_OR_NULL(self);
    GcIncStats st;
    gc_get_incremental_stats(self->gc, &st);
    int on = st.budget_us != 0 || st.work_limit != 0;
    return Py_BuildValue("{s:s,s:K,s:K,s:O,s:K,s:K,s:K,s:K,s:K,s:K,s:K}",
                         "mode", on ? "pause-bounded" : "stop-the-world",
                         "budget_us", (unsigned long long)st.budget_us,
                         "work_limit", (unsigned long long)st.work_limit,
                         "pass_running", st.pass_running ? Py_True : Py_False,
                         "passes", (unsigned long long)st.passes, "abandoned",
                         (unsigned long long)st.abandoned, "increments",
                         (unsigned long long)st.increments, "work",
                         (unsigned long long)st.work, "max_pause_ns",
                         (unsigned long long)st.max_pause_ns, "candidates",
                         (unsigned long long)st.candidates, "collected",
                         (unsigned long long)st.collected);
}

#define KW    (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction)(void (*)(void))(f))

PyMethodDef heap_gc_methods[] = {
    {"collect", FN(Heap_collect), KW, collect_doc},
    {"enable", FN(Heap_enable), METH_NOARGS,
     "enable($self, /)\n--\n\nEnable automatic collection."},
    {"disable", FN(Heap_disable), METH_NOARGS,
     "disable($self, /)\n--\n\nDisable automatic collection (collect() still "
     "works)."},
    {"isenabled", FN(Heap_isenabled), METH_NOARGS,
     "isenabled($self, /)\n--\n\n-> bool\n\nTrue if automatic collection is "
     "enabled."},
    {"get_count", FN(Heap_get_count), METH_NOARGS,
     "get_count($self, /)\n--\n\n-> (count0, count1, count2)\n\n"
     "Allocations minus deallocations since generation 0 was collected,\n"
     "and collections of the younger generation since 1 and 2 were."},
    {"get_threshold", FN(Heap_get_threshold), METH_NOARGS,
     "get_threshold($self, /)\n--\n\n"
     "-> (threshold0, threshold1, threshold2)\n\n"
     "The collection thresholds (default (2000, 10, 10))."},
    {"set_threshold", FN(Heap_set_threshold), METH_VARARGS, set_threshold_doc},
    {"get_stats", FN(Heap_get_stats), METH_NOARGS,
     "get_stats($self, /)\n--\n\n-> list of dict\n\n"
     "Per generation, as gc.get_stats(): collections, collected and\n"
     "uncollectable since the heap was made; threshold (in force now,\n"
     "see set_pacing), bytes (payload bytes accounted, heap-wide) and\n"
     "skipped (generation 0: passes moved on unexamined)."},
    {"set_pacing", FN(Heap_set_pacing), METH_O, set_pacing_doc},
    {"get_pacing", FN(Heap_get_pacing), METH_NOARGS,
     "get_pacing($self, /)\n--\n\n"
     "The pacing mode: 'fixed' or 'adaptive'."},
    {"set_pause_budget", FN(Heap_set_pause_budget), METH_O,
     set_pause_budget_doc},
    {"get_pause_budget", FN(Heap_get_pause_budget), METH_NOARGS,
     "get_pause_budget($self, /)\n--\n\n-> int\n\nThe pause budget in "
     "microseconds (0: stop-the-world mode)."},
    {"set_increment_work", FN(Heap_set_increment_work), METH_O,
     "set_increment_work($self, work, /)\n--\n\nCap the work of one "
     "increment (objects visited plus references\nfollowed; 0: no cap).  "
     "A cap alone turns the pause-bounded mode on\nwith deterministic "
     "increments."},
    {"collect_increment", FN(Heap_collect_increment), METH_NOARGS,
     "collect_increment($self, /)\n--\n\n-> int\n\nRun one increment of "
     "the old-generation pass now (starting one\nif none runs); the "
     "unreachable objects it found (only the last\nincrement of a pass "
     "finds any).  With neither a budget nor a cap\nit runs a whole pass."},
    {"get_incremental_stats", FN(Heap_get_incremental_stats), METH_NOARGS,
     "get_incremental_stats($self, /)\n--\n\n-> dict\n\n"
     "The mode ('stop-the-world' or 'pause-bounded'), budget_us,\n"
     "work_limit, pass_running, passes, abandoned, increments, work,\n"
     "max_pause_ns, candidates and collected."},
    {"freeze", FN(Heap_freeze), METH_NOARGS,
     "freeze($self, /)\n--\n\nMove every tracked node to the permanent "
     "generation, which\ncollections ignore, and set every generation's "
     "count to 0 (as\ngc.freeze())."},
    {"unfreeze", FN(Heap_unfreeze), METH_NOARGS,
     "unfreeze($self, /)\n--\n\nMove the permanent generation back into the "
     "oldest "
     "one."},
    {"get_freeze_count", FN(Heap_get_freeze_count), METH_NOARGS,
     "get_freeze_count($self, /)\n--\n\n-> int\n\nObjects in the permanent "
     "generation."},
    {"get_objects", FN(Heap_get_objects), KW, get_objects_doc},
    {"get_referrers", FN(Heap_get_referrers), METH_VARARGS,
     "get_referrers($self, /, *nodes)\n--\n\n-> list\n\n"
     "Tracked nodes that have a slot referring to any of the nodes."},
    {"get_referents", FN(Heap_get_referents), METH_VARARGS,
     "get_referents($self, /, *nodes)\n--\n\n-> list\n\n"
     "The nodes the given nodes' slots refer to."},
    {"is_tracked", FN(Heap_is_tracked), METH_O,
     "is_tracked($self, node, /)\n--\n\n-> bool\n\nTrue if the collector "
     "tracks the node."},
    {"is_finalized", FN(Heap_is_finalized), METH_O,
     "is_finalized($self, node, /)\n--\n\n-> bool\n\nTrue once the node was "
     "finalized."},
    {"clear_garbage", FN(Heap_clear_garbage), METH_NOARGS,
     "clear_garbage($self, /)\n--\n\nEmpty Heap.garbage (its nodes may "
     "then die); the same as\ndel heap.garbage[:]."},
    {"set_debug", FN(Heap_set_debug), METH_O, set_debug_doc},
    {"get_debug", FN(Heap_get_debug), METH_NOARGS,
     "get_debug($self, /)\n--\n\n-> int\n\nThe debugging flags."},
    {NULL, NULL, 0, NULL},
};

PyGetSetDef heap_gc_getset[] = {
    {"garbage", (getter)Heap_get_garbage, NULL,
     "The uncollectable legacy nodes (every unreachable node with\n"
     "DEBUG_SAVEALL), like gc.garbage: what a legacy node reaches is\n"
     "uncollectable and counted, but not listed.  One list per heap, to\n"
     "which each collection appends; it holds its nodes until they are\n"
     "removed from it (del heap.garbage[:], or clear_garbage()).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
