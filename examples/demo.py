# SPDX-License-Identifier: MIT
"""The Python half of `make demo`: rcgc from Python, next to CPython's gc.

Builds a random graph of the same size, degree (2 references per node)
and garbage share (10%) as rcgc nodes and as Python objects, collects both, and prints what each found
and how long it took.  Run with the extension built in place:
    python3 setup.py build_ext --inplace && PYTHONPATH=pyext python3 examples/demo.py
"""

import gc
import random
import time

import rcgc

N, DEGREE, SEED, GARBAGE = 200_000, 2, 7, 0.1


class PyNode:
    __slots__ = ("a", "b", "__weakref__")


def python_graph():
    rnd = random.Random(SEED)
    nodes = [PyNode() for _ in range(N)]
    live = int(N * (1 - GARBAGE))
    for i, n in enumerate(nodes):
        lo, hi = (0, live) if i < live else (live, N)
        n.a, n.b = nodes[rnd.randrange(lo, hi)], nodes[rnd.randrange(lo, hi)]
    return nodes[:live]          # every live node held from outside


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t


def main():
    with rcgc.Heap() as heap:
        heap.disable()               # as gc.disable() on the CPython side
        roots = heap.random_graph(N, DEGREE, seed=SEED,
                                  garbage_fraction=GARBAGE)
        found, t_rc = timed(lambda: heap.collect())
        ev = heap.events()[-1]
        print(f"rcgc:    {N} nodes, {len(roots)} roots; full collection found "
              f"{found} unreachable in {t_rc * 1e3:.1f} ms "
              f"(event log: examined {ev['examined']}, pause "
              f"{ev['pause_ns'] / 1e6:.1f} ms)")
        st = heap.alloc_stats()
        print(f"         {st['arenas']} arenas mapped, "
              f"{heap.live_nodes} nodes live")
        del roots

    gc.disable()
    gc.collect()
    live = python_graph()
    found, t_py = timed(lambda: gc.collect())
    print(f"CPython: the same shape in Python objects; gc.collect() found "
          f"{found} unreachable in {t_py * 1e3:.1f} ms")
    print(f"rcgc's full collection took {t_rc / t_py:.2f}x CPython's time")
    del live
    gc.enable()


if __name__ == "__main__":
    main()
