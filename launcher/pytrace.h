/* SPDX-License-Identifier: MIT */
/* pytrace.h - record CPython's allocation calls into a trace file.
 *
 * rcgc-python with RCGC_TRACE=<file> runs on CPython's own allocator
 * (pymalloc, or what PYTHONMALLOC chose) with a recording hook on top of
 * the MEM and OBJ domains: every malloc, calloc, realloc and free is
 * forwarded unchanged and appended to <file> in the format of
 * bench/trace_io.h, which rcgc-bench replays against every allocator.
 * objalloc is not installed while recording.
 *
 * The file is complete when the process exits normally (atexit); a
 * process killed by a signal leaves a file without its end record, which
 * the reader rejects.  Child processes do not record: the variable is
 * removed from the environment, and a forked child drops its copy of the
 * writer.
 */
#ifndef RCGC_LAUNCHER_PYTRACE_H
#define RCGC_LAUNCHER_PYTRACE_H

/* Install the recording hooks over MEM and OBJ, writing to path.  Call
 * after Py_PreInitialize and before Py_Initialize.  0, or -1 with a
 * message on stderr naming the file. */
int pytrace_start(const char *path);

#endif /* RCGC_LAUNCHER_PYTRACE_H */
