/* SPDX-License-Identifier: MIT */
/* preload_impl.c - librcgc-pyalloc-impl.so: objalloc + the hooks + the
 * _rcgc_python module, for the stock python3.11 binary.
 *
 * Loaded only by librcgc-pyalloc.so (preload.c), from its constructor,
 * after it made sure the process is the stock CPython 3.11 interpreter
 * (Py_BytesMain in the main program).  Its Python API calls resolve to the
 * interpreter's exported symbols (the library links no libpython), and it
 * exports one symbol: the entry point below.  Everything else is hidden,
 * so objalloc is called directly, not through the PLT.
 */
#include "launcher/start.h"

/* Called before main(): the same steps as rcgc-python before its
 * Py_BytesMain (start.c); python3.11's main() then runs Py_BytesMain. */
__attribute__((visibility("default"))) int
rcgc_pyalloc_preload_start(int argc, char **argv)
{
    return rcgc_python_start(argc, argv, "preload");
}
