/* rcgc.h - the whole library: allocator, objects, collector. */
#ifndef RCGC_H
#define RCGC_H
#include "objalloc/objalloc.h"
#include "refcount/refcount.h"
#include "cyclegc/cyclegc.h"
#endif
