# SPDX-License-Identifier: MIT
"""rcgc from Python: a laboratory for memory-management experiments.

Build object graphs in an rcgc heap -- its own pymalloc-style allocator
(objalloc), reference-counted objects (refcount) and three-generation cycle
collector (cyclegc) -- link and unlink them, run collections, and read every
statistic: the collector's (under the names of Python's gc module), the
allocator's, and a log of every collection with its pause.

    >>> import rcgc
    >>> with rcgc.Heap() as heap:
    ...     a, b = heap.node(slots=1), heap.node(slots=1)
    ...     a[0], b[0] = b, a          # a reference cycle
    ...     del a, b                   # only the cycle holds them now
    ...     heap.collect()
    2

Graph builders written in C make big shapes fast: heap.chain(n),
heap.rings(count, length), heap.tree(depth, fanout),
heap.random_graph(n, out_degree, seed, garbage_fraction).

Ownership rules (how the two worlds meet):

* A Node handle holds one reference count of its node; the node lives at
  least as long as the handle.  There is one handle per node at a time,
  so `is`, == and hash() follow the node, and heap.get_objects() returns
  the same handles you hold.
* A node's slots hold counts of other nodes of the same heap.  Python
  objects a node holds (its finalizer, its value) are released when the
  node dies or its heap is destroyed.
* Each heap is independent: a node can only refer to nodes of its own
  heap (ValueError otherwise); a handle keeps its Heap object alive.
* rcgc's collector sees Python handles as references from outside (so a
  node you hold is never garbage); CPython's collector sees what handles,
  heaps and weak references hold.  A reference cycle that goes from
  Python into an rcgc node and back to Python through a node's finalizer
  or value is collected by CPython only when the handle is that node's
  sole owner; a cycle that passes through several rcgc nodes is seen by
  neither collector and lives until the heap is destroyed.  Prefer
  finalizers that use their argument (the node) over closures that
  capture handles.
* destroy() (or leaving a `with` block) releases every node at once
  without running finalizers; the heap's handles then raise HeapError.
  A heap cannot be destroyed from its own finalizers or callbacks.
* Python code runs inside rcgc operations (finalizers, weak reference and
  collector callbacks).  Their exceptions go to sys.unraisablehook and
  the operation continues; collect() called from them returns 0.

Limits: a heap is used by one thread at a time (the GIL sees to it);
Node.generation is O(heap size); set_debug() output goes to the C stderr.
"""

from ._rcgc import (  # noqa: F401
    DEBUG_COLLECTABLE,
    DEBUG_LEAK,
    DEBUG_SAVEALL,
    DEBUG_STATS,
    DEBUG_UNCOLLECTABLE,
    ARENA_SIZE,
    EVENT_LOG_SIZE,
    MAX_PAYLOAD,
    MAX_SLOTS,
    NGENERATIONS,
    POOL_SIZE,
    SMALL_MAX,
    Heap,
    HeapError,
    Node,
    WeakRef,
    __version__,
    objalloc_status,
    stop_objalloc,
    use_objalloc,
)

__all__ = [
    "Heap", "Node", "WeakRef", "HeapError", "census",
    "DEBUG_STATS", "DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE",
    "DEBUG_SAVEALL", "DEBUG_LEAK", "NGENERATIONS", "EVENT_LOG_SIZE",
    "MAX_SLOTS", "MAX_PAYLOAD", "SMALL_MAX", "POOL_SIZE", "ARENA_SIZE",
    "use_objalloc", "stop_objalloc", "objalloc_status",
]


def census(heap):
    """Return (nodes, edges) over the nodes the collector tracks in heap.

    Counts every tracked node and every non-empty slot.  O(heap size) and
    it makes a handle per node: meant for tests and small experiments.
    """
    nodes = heap.get_objects()
    edges = sum(1 for n in nodes for s in n.slots() if s is not None)
    return len(nodes), edges
