/* SPDX-License-Identifier: MIT */
/* demo_cpython.c - the demo's workload on CPython's own objects.
 *
 * The same steps as demo.c from the same seed: a frame is a list, a string
 * is a bytes object, a closure is a list [code, env], the module table a
 * list; CPython's collector runs automatically with the thresholds set to
 * rcgc's defaults (2000, 10, 10).  Built only when libpython3.11 is found
 * (DEMO_HAVE_PYTHON); otherwise demo_cpython_run reports "not available".
 */
#ifdef DEMO_HAVE_PYTHON
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first: it sets the feature macros */
#endif
#include "demo.h"

#ifdef DEMO_HAVE_PYTHON

#include <string.h>
#include <time.h>

static double
seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* list[i] = value, stealing value (PyList_SetItem releases the old). */
static void
put(PyObject *list, Py_ssize_t i, PyObject *value)
{
    PyList_SetItem(list, i, value);
}

static PyObject *
new_list(Py_ssize_t n)
{
    PyObject *l = PyList_New(n);
    for (Py_ssize_t i = 0; l != NULL && i < n; i++) {
        PyList_SET_ITEM(l, i, Py_NewRef(Py_None));
    }
    return l;
}

static int
step(PyObject *module, PyObject *code, uint64_t *seed)
{
    DemoStep st;
    demo_draw(seed, &st);
    PyObject *frame = new_list(st.nslots);
    if (frame == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < st.nstrings; i++) {
        PyObject *s = PyBytes_FromStringAndSize(NULL, st.strlen_);
        if (s == NULL) {
            Py_DECREF(frame);
            return -1;
        }
        memset(PyBytes_AS_STRING(s), (int)i, st.strlen_);
        put(frame, i % st.nslots, s);
    }
    PyObject *last = NULL;
    for (unsigned j = 0; j < st.nclosures; j++) {
        PyObject *c = PyList_New(2);
        if (c == NULL) {
            Py_DECREF(frame);
            return -1;
        }
        PyList_SET_ITEM(c, 0, Py_NewRef(code));
        PyList_SET_ITEM(c, 1, Py_NewRef(frame));
        put(frame, (st.nstrings + j) % st.nslots, c);
        last = c;
    }
    if (st.keep && last != NULL) {
        put(module, st.keep_slot, Py_NewRef(last));
    }
    PyObject *a = PyList_GET_ITEM(module, st.link_a);
    PyObject *b = PyList_GET_ITEM(module, st.link_b);
    if (a != Py_None && b != Py_None) {
        PyObject *env = PyList_GET_ITEM(a, 1);
        put(env, PyList_GET_SIZE(env) - 1, Py_NewRef(b));
    }
    Py_DECREF(frame);
    return 0;
}

/* Collections CPython has run so far, all generations. */
static long
collections_so_far(void)
{
    long total = 0;
    PyObject *gcmod = PyImport_ImportModule("gc");
    PyObject *stats =
        gcmod ? PyObject_CallMethod(gcmod, "get_stats", NULL) : NULL;
    for (Py_ssize_t g = 0; stats != NULL && g < PyList_Size(stats); g++) {
        PyObject *n =
            PyDict_GetItemString(PyList_GET_ITEM(stats, g), "collections");
        total += n ? PyLong_AsLong(n) : 0;
    }
    Py_XDECREF(stats);
    Py_XDECREF(gcmod);
    PyErr_Clear();
    return total;
}

double
demo_cpython_run(uint64_t seed, long steps, long *collections)
{
    Py_Initialize();
    if (PyRun_SimpleString("import gc; gc.collect(); "
                           "gc.set_threshold(2000, 10, 10)") != 0) {
        return -1.0;
    }
    PyObject *module = new_list(DEMO_MODULE_SLOTS);
    PyObject *code = PyBytes_FromStringAndSize(NULL, 64);
    if (module == NULL || code == NULL) {
        return -1.0;
    }
    memset(PyBytes_AS_STRING(code), 'c', 64);
    long before = collections_so_far();
    double t0 = seconds_now();
    for (long i = 0; i < steps; i++) {
        if (step(module, code, &seed) != 0) {
            PyErr_Print();
            return -1.0;
        }
    }
    double t = seconds_now() - t0;
    *collections = collections_so_far() - before;
    Py_DECREF(module);
    Py_DECREF(code);
    Py_FinalizeEx();
    return t;
}

#else

double
demo_cpython_run(uint64_t seed, long steps, long *collections)
{
    (void)seed;
    (void)steps;
    *collections = 0;
    return -1.0;
}

#endif
