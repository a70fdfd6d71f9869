/* SPDX-License-Identifier: MIT */
/* switch.c - rcgc.use_objalloc(): this interpreter's object domain on
 * objalloc, from a running interpreter (issue 8's opt-in).
 *
 * The glue is pyalloc/pyalloc.c (shared with rcgc-python); its header
 * explains why switching a running CPython 3.11 is safe and under which
 * conditions.  Here: one OaHeap for the rest of the process (never
 * destroyed: the interpreter may free its blocks until exit), installed
 * for PYMEM_DOMAIN_OBJ only (PyObject_Malloc, where pymalloc serves), with
 * every earlier pointer forwarded to the allocator that made it.
 * stop_objalloc() gives the domain back, or drains while blocks are live.
 */
#include "pyext/internal.h"
#include "pyalloc/pyalloc.h"

#include <string.h>

static OaHeap *served; /* the process-lifetime heap, once switched */

PyObject *
rcgc_use_objalloc(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    if (pyalloc_is_installed(PYALLOC_OBJ)) {
        Py_RETURN_FALSE; /* already serving */
    }
    if (served == NULL) {
        served = oa_heap_new();
        if (served == NULL) {
            return PyErr_NoMemory();
        }
    }
    if (pyalloc_install_running(served, PYALLOC_OBJ) != 0) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_RuntimeError, "rcgc.use_objalloc: %s",
                         pyalloc_error() ? pyalloc_error() : "refused");
        }
        return NULL;
    }
    Py_RETURN_TRUE;
}

PyObject *
rcgc_stop_objalloc(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    if (!pyalloc_is_installed(PYALLOC_OBJ)) {
        Py_RETURN_FALSE;
    }
    /* 0: the previous allocator is back; 1: draining (blocks live). */
    if (pyalloc_uninstall(PYALLOC_OBJ) < 0) {
        PyErr_Format(PyExc_RuntimeError, "rcgc.stop_objalloc: %s",
                     pyalloc_error() ? pyalloc_error() : "refused");
        return NULL;
    }
    Py_RETURN_TRUE;
}

PyObject *
rcgc_objalloc_status(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    PyAllocCounts c;
    pyalloc_counts(&c);
    OaStats st;
    memset(&st, 0, sizeof st);
    if (served != NULL) {
        oa_heap_stats(served, &st);
    }
    return Py_BuildValue(
        "{s:O,s:O,s:K,s:K,s:K,s:K,s:n,s:n}", "installed",
        (c.installed & PYALLOC_OBJ) ? Py_True : Py_False, "draining",
        (c.draining & PYALLOC_OBJ) ? Py_True : Py_False, "live_blocks",
        (unsigned long long)c.live, "forwarded_frees",
        (unsigned long long)c.nforeign_free, "forwarded_reallocs",
        (unsigned long long)c.nforeign_realloc, "moved_out",
        (unsigned long long)c.nmoved_out, "arenas", (Py_ssize_t)st.arenas,
        "bytes_mapped", (Py_ssize_t)st.bytes_mapped);
}
