# SPDX-License-Identifier: MIT
"""rcgc's collector against CPython's own gc on the same graph shapes.

Each shape is built twice with the same parameters: in an rcgc heap (by
the C builders) and in CPython from Python lists (a node is a list of
slot references, the natural GC-tracked container).  Then one full
collection of each is timed with the automatic collectors off:
gc.collect() for CPython (minus the time of a gc.collect() with no graph,
so that the interpreter's own objects do not count) and heap.collect()
for rcgc (wall clock around the call; the event log's pause agrees).

The random graphs use different generators (splitmix64 in C, Python's
random in Python) with the same construction rule, so they are equal in
distribution, not edge for edge.

Each shape is measured --samples times (default 5), CPython and rcgc
alternating; a sample's ratio is CPython's time over rcgc's in the same
round.  Reported: the median of each, with min and max.

Output: rcgc_vs_cpython.csv (shape, nodes, cpython_ns, rcgc_ns,
cpython_over_rcgc, each with _min and _max) and rcgc_vs_cpython.png (bars
of the median ratio, min-max error bars).
"""

import gc
import os
import random
import time

import common
import rcgc


def py_rings(count, length):
    for _ in range(count):
        ring = [[None] for _ in range(length)]
        for i in range(length):
            ring[i][0] = ring[(i + 1) % length]
    return []


def py_tree(depth, fanout):
    total = sum(fanout ** i for i in range(depth + 1))
    nodes = [[None] * fanout for _ in range(total)]
    for i in range(total):
        for j in range(1, fanout + 1):
            if i * fanout + j < total:
                nodes[i][j - 1] = nodes[i * fanout + j]
    return [nodes[0]]


def py_random(n, degree, seed, fraction):
    rng = random.Random(seed)
    garbage = int(n * fraction + 0.5)
    live = n - garbage
    nodes = [[None] * degree for _ in range(n)]
    for i in range(live):
        for s in range(degree):
            to = i + 1 if s == 0 and i + 1 < live else rng.randrange(live)
            nodes[i][s] = nodes[to]
    for i in range(live, n):
        for s in range(degree):
            nodes[i][s] = nodes[live + rng.randrange(garbage)]
    return [nodes[0]] if live else []


def time_cpython(build, baseline):
    gc.collect()
    roots = build()
    t0 = time.perf_counter_ns()
    gc.collect()
    t = time.perf_counter_ns() - t0
    del roots
    gc.collect()
    return max(0, t - baseline)


def time_rcgc(build):
    with rcgc.Heap() as heap:
        heap.disable()
        roots = build(heap)
        nodes = heap.live_nodes
        t0 = time.perf_counter_ns()
        heap.collect()
        t = time.perf_counter_ns() - t0
        del roots
        return t, nodes


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    n = 50000 if args.quick else 1000000
    depth = 14 if args.quick else 19          # binary tree ~ 2^(depth+1)
    shapes = [
        ("rings-garbage", lambda: py_rings(n // 8, 8),
         lambda h: h.rings(n // 8, 8) and []),
        ("tree-live", lambda: py_tree(depth, 2), lambda h: h.tree(depth, 2)),
        ("random-live", lambda: py_random(n, 3, 1, 0.0),
         lambda h: h.random_graph(n, 3, seed=1)),
        ("random-half-garbage", lambda: py_random(n, 3, 1, 0.5),
         lambda h: h.random_graph(n, 3, seed=1, garbage_fraction=0.5)),
    ]
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        base = min(_timed(gc.collect) for _ in range(5))
        rows = []
        for name, pybuild, rcbuild in shapes:
            cps, rcs = [], []
            for _ in range(args.samples):
                cps.append(time_cpython(pybuild, base))
                rc, nodes = time_rcgc(rcbuild)
                rcs.append(rc)
            row = {"shape": name, "nodes": nodes}
            common.add_spread(row, "cpython_ns", cps)
            common.add_spread(row, "rcgc_ns", rcs)
            common.add_spread(row, "cpython_over_rcgc",
                              [c / r for c, r in zip(cps, rcs) if r], 2)
            rows.append(row)
            print("%-20s %8d nodes: CPython %9.3f ms, rcgc %9.3f ms, "
                  "ratio %s (%s-%s)" % (
                      name, nodes, row["cpython_ns"] / 1e6,
                      row["rcgc_ns"] / 1e6, row["cpython_over_rcgc"],
                      row["cpython_over_rcgc_min"],
                      row["cpython_over_rcgc_max"]))
    finally:
        if was:
            gc.enable()
    common.write_csv(os.path.join(args.out, "rcgc_vs_cpython.csv"),
                     ["shape", "nodes"] +
                     common.with_spread("cpython_ns", "rcgc_ns",
                                        "cpython_over_rcgc"), rows)
    plt = common.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    med = [r["cpython_over_rcgc"] for r in rows]
    ax.bar([r["shape"] for r in rows], med,
           yerr=[[m - r["cpython_over_rcgc_min"] for m, r in zip(med, rows)],
                 [r["cpython_over_rcgc_max"] - m for m, r in zip(med, rows)]],
           capsize=4)
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_ylabel("CPython gc time / rcgc time (higher: rcgc faster)")
    ax.set_title("Full collection, same shapes, %d nodes (median of %d, "
                 "min-max)" % (n, args.samples))
    plt.setp(ax.get_xticklabels(), rotation=15)
    common.save_png(fig, os.path.join(args.out, "rcgc_vs_cpython.png"))


def _timed(fn):
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


if __name__ == "__main__":
    main()
