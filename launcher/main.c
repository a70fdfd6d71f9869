/* SPDX-License-Identifier: MIT */
/* main.c - rcgc-python: the stock CPython interpreter running on objalloc.
 *
 * What it does: behaves exactly like `python3` (same arguments, same
 * environment variables, same exit status) except that PyMem_Malloc and
 * PyObject_Malloc (domains MEM and OBJ) are served by an objalloc heap:
 * rcgc_python_start() (start.c: pre-initialise, install, register
 * _rcgc_python), then Py_BytesMain(argc, argv).
 *
 * PYTHONMALLOC and -X dev therefore choose the *previous* allocator (and
 * the RAW domain's), not the MEM/OBJ one: under PYTHONMALLOC=malloc or
 * =debug the objects still come from objalloc (the debug hooks are not
 * re-installed on top, see pyalloc.h point 5).
 *
 * Environment: RCGC_OBJALLOC=0 (plain python3, same libpython, for A/B
 * comparisons), RCGC_MALLOCSTATS=1, RCGC_HEAPCHECK=1: see start.c.
 */
#include "pyalloc/pyalloc.h"
#include "launcher/start.h"

int
main(int argc, char **argv)
{
    rcgc_python_start(argc, argv, "launcher");
    return Py_BytesMain(argc, argv);
}
